# ruff: noqa - written as PyTorch user code is written
# Resuming a run that uses randomness (dropout, a shuffling DataLoader, noise added to
# inputs) bit-identically, as careful training scripts do: the checkpoint holds the model,
# optimizer, scheduler and GradScaler states, the epoch, torch.get_rng_state() and the
# DataLoader generator's get_state(); the resumed run restores them with set_rng_state /
# set_state and must end exactly where the uninterrupted run ends. The random streams of
# the two libraries differ, so the trained numbers are compared within each run (resumed
# vs. straight) and only what does not depend on the stream is compared across them: the
# learning rates of a CosineAnnealingWarmRestarts stepped with fractional epochs, the
# saved step counts, the RNG state's dtype, a fork_rng block leaving the stream alone.
import os

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(103)
X = torch.from_numpy(rng.standard_normal((48, 6)).astype(np.float32))
Y = torch.from_numpy((rng.standard_normal(48) > 0).astype(np.int64))
start = {k: torch.from_numpy(rng.normal(0, 0.3, s).astype(np.float32))
         for k, s in [("0.weight", (16, 6)), ("0.bias", (16,)), ("3.weight", (2, 16)),
                      ("3.bias", (2,))]}
EPOCHS, SPLIT = 6, 3


def build(seed):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.25), nn.Linear(16, 2))
    model.load_state_dict(start)
    opt = torch.optim.SGD([{"params": model[0].parameters(), "lr": 0.1},
                           {"params": model[3].parameters(), "lr": 0.05}],
                          momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2,
                                                                 eta_min=1e-3)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    gen = torch.Generator()
    gen.manual_seed(seed + 1)
    loader = DataLoader(TensorDataset(X, Y), batch_size=12, shuffle=True, generator=gen)
    return model, opt, sched, scaler, gen, loader


def run_epoch(epoch, model, opt, sched, scaler, loader, lrs):
    model.train()
    iters = len(loader)
    total = 0.0
    for i, (xb, yb) in enumerate(loader):
        xb = xb + 0.05 * torch.randn_like(xb)
        with torch.autocast("cpu", enabled=False):
            loss = nn.functional.cross_entropy(model(xb), yb)
        opt.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        sched.step(epoch + i / iters)
        lrs.append([g["lr"] for g in opt.param_groups])
        total += loss.item()
    return total / iters


# the uninterrupted run
model, opt, sched, scaler, gen, loader = build(7)
straight_lrs, straight = [], []
for epoch in range(EPOCHS):
    straight.append(run_epoch(epoch, model, opt, sched, scaler, loader, straight_lrs))
straight_final = [p.detach().clone() for p in model.parameters()]

# the interrupted run
model, opt, sched, scaler, gen, loader = build(7)
lrs, history = [], []
for epoch in range(SPLIT):
    history.append(run_epoch(epoch, model, opt, sched, scaler, loader, lrs))
path = os.path.join(TMP, "ckpt.pt")
torch.save({"epoch": SPLIT, "model": model.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(), "scaler": scaler.state_dict(),
            "rng": torch.get_rng_state(), "loader_rng": gen.get_state(),
            "history": history, "lrs": lrs}, path)
# the process "dies": draw more random numbers so that nothing is carried over by chance
torch.rand(100)
del model, opt, sched, scaler, gen, loader

model, opt, sched, scaler, gen, loader = build(12345)
ckpt = torch.load(path, weights_only=False)
model.load_state_dict(ckpt["model"])
opt.load_state_dict(ckpt["optimizer"])
sched.load_state_dict(ckpt["scheduler"])
scaler.load_state_dict(ckpt["scaler"])
torch.set_rng_state(ckpt["rng"])
gen.set_state(ckpt["loader_rng"])
history, lrs = list(ckpt["history"]), list(ckpt["lrs"])
for epoch in range(ckpt["epoch"], EPOCHS):
    history.append(run_epoch(epoch, model, opt, sched, scaler, loader, lrs))

# fork_rng leaves the global stream where it was
before = torch.get_rng_state()
with torch.random.fork_rng():
    torch.manual_seed(0)
    torch.rand(5)
after = torch.get_rng_state()

state = opt.state_dict()
RESULT = {"losses_same": history == straight,
          "params_same": [bool(torch.equal(a, b)) for a, b in zip(model.parameters(),
                                                                  straight_final)],
          "lrs": lrs, "lrs_same": lrs == straight_lrs,
          "initial_lr": [g["initial_lr"] for g in state["param_groups"]],
          "sched_last_epoch": sched.last_epoch, "T_i": sched.T_i, "T_cur": sched.T_cur,
          "momentum_keys": sorted(state["state"][0].keys()),
          "rng_dtype": str(ckpt["rng"].dtype), "rng_dim": ckpt["rng"].dim(),
          "fork_rng_kept": bool(torch.equal(before, after)),
          "epoch": ckpt["epoch"], "n_batches": len(loader)}
