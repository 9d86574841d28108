# ruff: noqa - written as PyTorch user code is written
# The Module API a model-building codebase leans on: containers, buffers (persistent or
# not), named_modules / children / apply, weight tying, freezing with requires_grad_,
# state_dict round trips (strict=False), hooks, zero_grad(set_to_none), train/eval.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(30)


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.gate = nn.Parameter(torch.ones(dim))
        self.register_buffer("scale", torch.full((dim,), 0.5))
        self.register_buffer("cache", torch.zeros(dim), persistent=False)

    def forward(self, x):
        self.cache = x.detach().mean(0)
        return x + torch.sigmoid(self.gate) * self.proj(x) * self.scale


class Model(nn.Module):
    def __init__(self, vocab=11, dim=6):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList([Block(dim) for _ in range(2)])
        self.heads = nn.ModuleDict({"lm": nn.Linear(dim, vocab, bias=False),
                                    "value": nn.Sequential(nn.Linear(dim, 4), nn.ReLU(),
                                                           nn.Linear(4, 1))})
        self.heads["lm"].weight = self.embed.weight  # tied
        self.mix = nn.ParameterList([nn.Parameter(torch.tensor(0.5)),
                                     nn.Parameter(torch.tensor(1.5))])
        self.extra = nn.ParameterDict({"bias": nn.Parameter(torch.zeros(vocab))})

    def forward(self, tokens):
        h = self.embed(tokens)
        for i, block in enumerate(self.blocks):
            h = block(h) * self.mix[i]
        return self.heads["lm"](h) + self.extra["bias"], self.heads["value"](h)


def init_weights(m):
    if isinstance(m, nn.Linear):
        with torch.no_grad():
            m.weight.copy_(torch.from_numpy(rng.normal(0, 0.3, tuple(m.weight.shape))
                                            .astype(np.float32)))
            if m.bias is not None:
                m.bias.fill_(0.01)
    elif isinstance(m, nn.Embedding):
        with torch.no_grad():
            m.weight.copy_(torch.from_numpy(rng.normal(0, 0.5, tuple(m.weight.shape))
                                            .astype(np.float32)))


model = Model()
model.apply(init_weights)
seen = []
handle = model.blocks[0].register_forward_hook(
    lambda mod, inp, out: seen.append(out.detach().abs().mean().item()))
pre = model.heads["value"].register_forward_pre_hook(
    lambda mod, inp: (inp[0] * 2,))
grads_seen = []
bh = model.blocks[1].proj.register_full_backward_hook(
    lambda mod, gin, gout: grads_seen.append(gout[0].detach().norm().item()))

tokens = torch.from_numpy(rng.integers(0, 11, (4, 5)))
targets = torch.from_numpy(rng.integers(0, 11, (4, 5)))
values = torch.from_numpy(rng.standard_normal((4, 5, 1)).astype(np.float32))
model.blocks[0].requires_grad_(False)
opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1,
                      momentum=0.9)
losses = []
for step in range(4):
    opt.zero_grad(set_to_none=True)
    logits, value = model(tokens)
    loss = nn.functional.cross_entropy(logits.reshape(-1, 11), targets.reshape(-1)) + \
        nn.functional.mse_loss(value, values)
    loss.backward()
    opt.step()
    losses.append(loss.item())
handle.remove()
pre.remove()
bh.remove()
model(tokens)

state = model.state_dict()
clone = Model()
missing, unexpected = clone.load_state_dict({k: v for k, v in state.items()
                                             if not k.startswith("extra")}, strict=False)
RESULT = {
    "losses": losses, "seen": seen, "grads_seen": grads_seen,
    "keys": list(state.keys()),
    "buffers": [n for n, _ in model.named_buffers()],
    "modules": [n for n, _ in model.named_modules()],
    "children": [type(c).__name__ for c in model.children()],
    "n_params": sum(p.numel() for p in model.parameters()),
    "n_trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
    "tied": model.heads["lm"].weight is model.embed.weight,
    "frozen_grad": [p.grad is None for p in model.blocks[0].parameters()],
    "missing": list(missing), "unexpected": list(unexpected),
    "clone_out": clone(tokens)[1], "embed": model.embed.weight, "mix": list(model.mix),
    "cache": model.blocks[1].cache, "train_flags": [m.training for m in model.eval().modules()],
    "param_names": [n for n, p in model.named_parameters()],
    "sub": model.get_submodule("heads.value.0").weight,
    "param": model.get_parameter("blocks.1.gate"),
}
