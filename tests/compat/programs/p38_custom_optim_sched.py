# ruff: noqa - written as PyTorch user code is written
# Research-code habits: a hand-written optimizer (Optimizer subclass with defaults, per-
# parameter state and a closure), a hand-written schedule (LRScheduler subclass with
# get_lr), gradient accumulation over micro-batches, model.double(), add_module /
# register_module, and printing the model.
import numpy as np
import torch
import torch.nn as nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler


class SignMomentum(Optimizer):
    """Lion-like: update with the sign of an interpolated momentum."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.99), weight_decay=0.0):
        if lr <= 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        defaults = dict(lr=lr, betas=betas, weight_decay=weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["exp_avg"] = torch.zeros_like(p)
                    state["step"] = 0
                state["step"] += 1
                exp_avg = state["exp_avg"]
                p.mul_(1 - group["lr"] * group["weight_decay"])
                update = exp_avg * beta1 + p.grad * (1 - beta1)
                p.add_(torch.sign(update), alpha=-group["lr"])
                exp_avg.mul_(beta2).add_(p.grad, alpha=1 - beta2)
        return loss


class WarmupInverseSqrt(LRScheduler):
    def __init__(self, optimizer, warmup, last_epoch=-1):
        self.warmup = warmup
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        step = max(self.last_epoch, 1)
        scale = min(step / self.warmup, (self.warmup / step) ** 0.5)
        return [base * scale for base in self.base_lrs]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.add_module("inp", nn.Linear(3, 8))
        self.register_module("out", nn.Linear(8, 2))
        self.act = nn.SiLU()

    def forward(self, x):
        return self.out(self.act(self.inp(x)))


rng = np.random.default_rng(38)
net = Net()
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.5, tuple(p.shape)).astype(np.float32)))
net = net.double()
X = torch.from_numpy(rng.standard_normal((16, 3)))
Y = torch.from_numpy(rng.standard_normal((16, 2)))
opt = SignMomentum(net.parameters(), lr=0.02, weight_decay=0.1)
sched = WarmupInverseSqrt(opt, warmup=3)
losses, lrs = [], []
for step in range(8):
    opt.zero_grad()
    total = 0.0
    for k in range(4):  # accumulate over micro-batches
        loss = nn.functional.mse_loss(net(X[4 * k:4 * k + 4]), Y[4 * k:4 * k + 4]) / 4
        loss.backward()
        total += loss.item()
    opt.step()
    sched.step()
    losses.append(total)
    lrs.append(sched.get_last_lr()[0])


def closure():
    opt.zero_grad()
    loss = nn.functional.mse_loss(net(X), Y)
    loss.backward()
    return loss


closure_loss = opt.step(closure).item()
state = opt.state_dict()
RESULT = {"losses": losses, "lrs": lrs, "closure_loss": closure_loss,
          "params": [p.detach().clone() for p in net.parameters()],
          "dtype": str(net.inp.weight.dtype), "steps": [s["step"] for s in state["state"].values()],
          "group_keys": sorted(state["param_groups"][0].keys()),
          "repr": repr(net), "seq_repr": repr(nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4),
                                                          nn.ReLU(inplace=True), nn.MaxPool2d(2),
                                                          nn.Flatten(), nn.Dropout(0.3), nn.Linear(4, 10)))}
