"""Whole training programs in the style of PyTorch tutorials, written once and run with
both libraries: the same losses, learning rates and final weights.

Each program takes the library's namespaces (``torch``, ``nn``, ``F``, ``data``) so the
text is the same for both; initial weights are copied through NumPy where the random
streams differ. These cover optimizers, schedules, losses, hooks and the DataLoader
together (tests/compat runs programs with ``import chainrule as torch`` itself).
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

LIBS = {
    "torch": (torch, torch.nn, torch.nn.functional, torch.utils.data),
    "chainrule": (cr, cr.nn, cr.nn.functional, cr.data),
}


def _copy_in(model, seed: int, torch_lib) -> None:
    rng = np.random.default_rng(seed)
    with torch_lib.no_grad():
        for p in model.parameters():
            p.copy_(torch_lib.tensor((rng.standard_normal(tuple(p.shape)) * 0.3)
                                     .astype(np.float32)))


def regression_sgd_steplr(torch, nn, F, data):
    """Fit a small MLP to a sine: SGD with Nesterov momentum, StepLR, MSE."""
    x = np.linspace(-2, 2, 64, dtype=np.float32).reshape(-1, 1)
    y = np.sin(2 * x).astype(np.float32)
    model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
    _copy_in(model, 0, torch)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                          weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=20, gamma=0.5)
    xs, ys = torch.tensor(x), torch.tensor(y)
    losses, lrs = [], []
    for _ in range(60):
        opt.zero_grad()
        loss = F.mse_loss(model(xs), ys)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        lrs.append(sched.get_last_lr()[0])
    return losses, lrs, [p.detach().numpy().copy() for p in model.parameters()]


def classifier_adamw_onecycle(torch, nn, F, data):
    """A 3-class classifier: DataLoader batches, CrossEntropyLoss with label smoothing,
    AdamW, OneCycleLR per batch, gradient clipping."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((90, 4)).astype(np.float32)
    y = (x[:, 0] + 2 * x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1).astype(np.int64)
    loader = data.DataLoader(data.TensorDataset(torch.tensor(x), torch.tensor(y)),
                             batch_size=16)
    model = nn.Sequential(nn.Linear(4, 12), nn.ReLU(), nn.Linear(12, 3))
    _copy_in(model, 1, torch)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, epochs=4,
                                                steps_per_epoch=len(loader))
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    losses, norms = [], []
    for _ in range(4):
        for xb, yb in loader:
            opt.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            norms.append(float(nn.utils.clip_grad_norm_(model.parameters(), 0.5)))
            opt.step()
            sched.step()
            losses.append(loss.item())
    return losses, norms, [p.detach().numpy().copy() for p in model.parameters()]


def embeddings_triplet_radam(torch, nn, F, data):
    """Metric learning: an encoder trained with TripletMarginLoss and
    CosineEmbeddingLoss, RAdam, a linear warm-up then cosine decay (SequentialLR)."""
    rng = np.random.default_rng(2)
    a, p, n = (rng.standard_normal((12, 5)).astype(np.float32) for _ in range(3))
    pairs = rng.choice([-1.0, 1.0], size=12).astype(np.float32)
    enc = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    _copy_in(enc, 2, torch)
    opt = torch.optim.RAdam(enc.parameters(), lr=0.02, betas=(0.9, 0.9))
    S = torch.optim.lr_scheduler
    sched = S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.2, total_iters=5),
                                 S.CosineAnnealingLR(opt, T_max=15)], milestones=[5])
    triplet = nn.TripletMarginLoss(margin=0.5, p=2)
    cosine = nn.CosineEmbeddingLoss(margin=0.1)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        ea, ep, en = enc(torch.tensor(a)), enc(torch.tensor(p)), enc(torch.tensor(n))
        loss = triplet(ea, ep, en) + cosine(ea, en, torch.tensor(pairs))
        loss = loss + 0.1 * (1 - F.cosine_similarity(ea, ep)).mean()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses, sched.get_last_lr(), [q.detach().numpy().copy() for q in enc.parameters()]


def likelihoods_nadam_restarts(torch, nn, F, data):
    """A mean-and-variance regressor (GaussianNLLLoss) plus a distribution matched with
    KLDivLoss, NAdam, CosineAnnealingWarmRestarts."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((32, 2)).astype(np.float32)
    target = (x[:, :1] * 1.5 + rng.standard_normal((32, 1)) * 0.3).astype(np.float32)
    probs = rng.dirichlet(np.ones(4), size=32).astype(np.float32)
    net = nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 6))
    _copy_in(net, 3, torch)
    opt = torch.optim.NAdam(net.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=2)
    gauss, kl = nn.GaussianNLLLoss(), nn.KLDivLoss(reduction="batchmean")
    losses = []
    for _ in range(25):
        opt.zero_grad()
        out = net(torch.tensor(x))
        mean, raw_var, logits = out[:, :1], out[:, 1:2], out[:, 2:]
        loss = gauss(mean, torch.tensor(target), F.softplus(raw_var)) + \
            kl(F.log_softmax(logits, dim=1), torch.tensor(probs))
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses, sched.get_last_lr(), [q.detach().numpy().copy() for q in net.parameters()]


def curve_fit_lbfgs(torch, nn, F, data):
    """Fit y = a·exp(−b x) + c with L-BFGS and a strong-Wolfe line search (closure)."""
    x = np.linspace(0, 3, 40)
    y = 2.0 * np.exp(-1.3 * x) + 0.5
    params = torch.tensor(np.array([1.0, 0.5, 0.0]), requires_grad=True)
    opt = torch.optim.LBFGS([params], lr=1, max_iter=25, line_search_fn="strong_wolfe")
    xs, ys = torch.tensor(x), torch.tensor(y)

    def closure():
        opt.zero_grad()
        pred = params[0] * torch.exp(-params[1] * xs) + params[2]
        loss = ((pred - ys) ** 2).mean()
        loss.backward()
        return loss

    losses = [float(opt.step(closure)) for _ in range(3)]
    return losses, [], [params.detach().numpy().copy()]


def hooks_and_containers(torch, nn, F, data):
    """Forward hooks collect activations, a full backward hook halves the gradient
    flowing into a layer, a ModuleDict holds two heads, Rprop trains it."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(3, 6)
            self.heads = nn.ModuleDict({"a": nn.Linear(6, 2), "b": nn.Linear(6, 1)})

        def forward(self, x):
            h = F.relu(self.body(x))
            return self.heads["a"](h), self.heads["b"](h)

    net = Net()
    _copy_in(net, 4, torch)
    seen = []
    handle = net.body.register_forward_hook(lambda m, args, out: seen.append(out.sum().item()))
    net.heads["a"].register_full_backward_hook(
        lambda m, gin, gout: tuple(None if g is None else g * 0.5 for g in gin))
    opt = torch.optim.Rprop(net.parameters(), lr=0.01)
    rng = np.random.default_rng(4)
    x = torch.tensor(rng.standard_normal((10, 3)).astype(np.float32))
    t = torch.tensor(rng.standard_normal((10, 2)).astype(np.float32))
    losses = []
    for step in range(8):
        if step == 4:
            handle.remove()
        opt.zero_grad()
        a, b = net(x)
        loss = F.smooth_l1_loss(a, t) + (b ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, seen, [q.detach().numpy().copy() for q in net.parameters()]


PROGRAMS = [regression_sgd_steplr, classifier_adamw_onecycle, embeddings_triplet_radam,
            likelihoods_nadam_restarts, curve_fit_lbfgs, hooks_and_containers]


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.__name__ for p in PROGRAMS])
def test_program_gives_the_same_numbers(program):
    want = program(*LIBS["torch"])
    got = program(*LIBS["chainrule"])
    for part, (g, w) in enumerate(zip(got, want)):
        assert len(g) == len(w), (program.__name__, part)
        for k, (a, b) in enumerate(zip(g, w)):
            np.testing.assert_allclose(np.asarray(a, dtype=np.float64),
                                       np.asarray(b, dtype=np.float64), rtol=2e-4, atol=2e-5,
                                       err_msg=f"{program.__name__}: part {part}, item {k}")
