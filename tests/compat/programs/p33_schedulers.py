# ruff: noqa - written as PyTorch user code is written
# Learning-rate schedules, stepped per epoch or per batch, read with get_last_lr() and
# from the optimizer; combined schedules; ReduceLROnPlateau on a validation loss;
# a scheduler's state_dict restored into a new one mid-run.
import math

import numpy as np
import torch
import torch.nn as nn
from torch.optim import lr_scheduler

w = nn.Parameter(torch.zeros(3))


def sgd(lr=0.1, **kw):
    return torch.optim.SGD([w], lr=lr, momentum=0.9, **kw)


def trace(sched, opt, steps=25, metric=None):
    lrs = []
    for epoch in range(steps):
        opt.step()
        if metric is None:
            sched.step()
        else:
            sched.step(metric(epoch))
        lrs.append([g["lr"] for g in opt.param_groups])
    last = sched.get_last_lr() if hasattr(sched, "get_last_lr") else None
    return {"lrs": lrs, "last": last}


out = {}
o = sgd(); out["step"] = trace(lr_scheduler.StepLR(o, step_size=4, gamma=0.5), o)
o = sgd(); out["multistep"] = trace(lr_scheduler.MultiStepLR(o, milestones=[3, 7, 7, 12], gamma=0.3), o)
o = sgd(); out["exp"] = trace(lr_scheduler.ExponentialLR(o, gamma=0.9), o)
o = sgd(); out["cosine"] = trace(lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.01), o)
o = sgd(); out["warm_restarts"] = trace(lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2, eta_min=0.001), o)
o = sgd(); out["onecycle"] = trace(lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=25), o)
o = sgd(); out["onecycle_linear"] = trace(lr_scheduler.OneCycleLR(
    o, max_lr=0.5, epochs=5, steps_per_epoch=5, anneal_strategy="linear", pct_start=0.4,
    three_phase=True, cycle_momentum=True), o)
o = sgd(); out["lambda"] = trace(lr_scheduler.LambdaLR(o, lr_lambda=lambda e: 1 / (1 + e)), o)
o = sgd(); out["multiplicative"] = trace(lr_scheduler.MultiplicativeLR(o, lambda e: 0.95), o)
o = sgd(); out["linear"] = trace(lr_scheduler.LinearLR(o, start_factor=0.2, total_iters=6), o)
o = sgd(); out["constant"] = trace(lr_scheduler.ConstantLR(o, factor=0.5, total_iters=4), o)
o = sgd(); out["poly"] = trace(lr_scheduler.PolynomialLR(o, total_iters=10, power=2.0), o)
o = sgd()
warmup = lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=5)
decay = lr_scheduler.CosineAnnealingLR(o, T_max=20)
out["sequential"] = trace(lr_scheduler.SequentialLR(o, [warmup, decay], milestones=[5]), o)
o = sgd()
out["chained"] = trace(lr_scheduler.ChainedScheduler(
    [lr_scheduler.ConstantLR(o, factor=0.5, total_iters=3), lr_scheduler.ExponentialLR(o, gamma=0.9)]), o)
o = sgd()
out["cyclic"] = trace(lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                            mode="triangular2"), o)
o = sgd()
val = [1.0, 0.9, 0.95, 0.96, 0.97, 0.8, 0.85, 0.86, 0.9, 0.91, 0.92, 0.93] * 2 + [0.5]
out["plateau"] = trace(lr_scheduler.ReduceLROnPlateau(o, mode="min", factor=0.5, patience=2,
                                                      threshold=0.01, cooldown=1, min_lr=0.02),
                       o, metric=lambda e: val[e])
o = sgd()
out["plateau_max"] = trace(lr_scheduler.ReduceLROnPlateau(o, mode="max", factor=0.1, patience=0,
                                                          threshold_mode="abs", threshold=0.05),
                           o, metric=lambda e: val[e])

# two param groups: a list of lambdas and per-group min lrs
o = torch.optim.Adam([{"params": [w]}, {"params": [nn.Parameter(torch.ones(2))], "lr": 0.01}],
                     lr=0.1)
out["groups_lambda"] = trace(lr_scheduler.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: e + 1]), o, 6)

# resume a schedule from its state_dict
o = sgd()
s = lr_scheduler.StepLR(o, step_size=3, gamma=0.1)
for _ in range(4):
    o.step(); s.step()
saved_sched, saved_opt = s.state_dict(), o.state_dict()
o2 = sgd()
o2.load_state_dict(saved_opt)
s2 = lr_scheduler.StepLR(o2, step_size=3, gamma=0.1)
s2.load_state_dict(saved_sched)
resumed = []
for _ in range(5):
    o2.step(); s2.step(); resumed.append(s2.get_last_lr()[0])
out["resumed"] = {"lrs": resumed, "last": [s2.last_epoch]}
out["initial_lr"] = {"lrs": [o2.param_groups[0]["initial_lr"]], "last": None}
RESULT = out
