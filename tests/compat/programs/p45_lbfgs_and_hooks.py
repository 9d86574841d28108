# ruff: noqa - written as PyTorch user code is written
# Full-batch optimization with LBFGS (plain and strong-Wolfe line search, closures that
# count their calls), optimizer step hooks, zero_grad(set_to_none=False), implementation
# switches passed through (foreach/fused/capturable), a learning rate given as a tensor,
# and reading the optimizer state between steps.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(45)
X = torch.from_numpy(rng.standard_normal((30, 3)).astype(np.float64))
w_true = torch.tensor([[1.5], [-2.0], [0.5]], dtype=torch.float64)
Y = torch.tanh(X @ w_true) + 0.05 * torch.from_numpy(rng.standard_normal((30, 1)))


def fit(line_search_fn, history_size):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, 0.5, tuple(p.shape))))
    opt = torch.optim.LBFGS(model.parameters(), lr=0.8, max_iter=10, history_size=history_size,
                            line_search_fn=line_search_fn, tolerance_grad=1e-9,
                            tolerance_change=1e-12)
    calls = []

    def closure():
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(X), Y)
        loss.backward()
        calls.append(loss.item())
        return loss

    losses = [opt.step(closure).item() for _ in range(4)]
    state = opt.state[opt._params[0]]
    return {"losses": losses, "calls": calls, "n_iter": state["n_iter"],
            "func_evals": state["func_evals"],
            "params": [p.detach().clone() for p in model.parameters()]}


plain = fit(None, 5)
wolfe = fit("strong_wolfe", 3)

model = nn.Linear(3, 1).double()
with torch.no_grad():
    model.weight.fill_(0.1)
    model.bias.fill_(-0.2)
opt = torch.optim.Adam(model.parameters(), lr=torch.tensor(0.05), foreach=False,
                       capturable=False, fused=None)
seen = []
pre = opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(("pre", len(o.state))))
post = opt.register_step_post_hook(lambda o, args, kwargs: seen.append(("post", len(o.state))))
grads_kept = []
for step in range(4):
    opt.zero_grad(set_to_none=False)
    grads_kept.append(None if model.weight.grad is None else model.weight.grad.clone())
    nn.functional.mse_loss(model(X), Y).backward()
    opt.step()
pre.remove()
post.remove()
opt.zero_grad()
exp_avg = opt.state[model.weight]["exp_avg"].clone()
RESULT = {"plain": plain, "wolfe": wolfe, "seen": seen, "grads_kept": grads_kept,
          "after_zero": model.weight.grad is None, "exp_avg": exp_avg,
          "step": float(opt.state[model.weight]["step"]),
          "adam_params": [p.detach().clone() for p in model.parameters()]}
