"""Optimizer steps and DataLoader batches: chainrule against PyTorch, in the same run.

Two tables, medians over interleaved rounds (every round times each framework once, so
slow drifts of a shared machine hit both alike):

* **optimizer step**: one ``opt.step()`` over the parameters of the 784-256-128-10 MLP
  (six float32 arrays, 235k weights) with fixed gradients, for every optimizer both
  libraries have. PyTorch runs its default CPU path (one loop over the parameters; its
  multi-tensor ``foreach`` kernels are for GPUs). LBFGS is left out: a step is a
  closure-driven loop, not an update.
* **loader epoch**: one pass of ``DataLoader(TensorDataset(x, y), batch_size)`` over
  60,000 MNIST-sized rows (float32 784 features, int64 labels), shuffled, with 0 and 2
  workers: the cost of producing the batches alone, per batch.

Before timing, both libraries take the same steps from the same start and their
parameters are compared (a correctness check that they compute the same update).

    python bench/bench_optim.py            # about a minute
    python bench/bench_optim.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import chainrule as cr

SHAPES = [(256, 784), (256,), (128, 256), (128,), (10, 128), (10,)]
OPTIMIZERS = [
    ("SGD", {"lr": 0.01}),
    ("SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 1e-3}),
    ("AdamW", {"lr": 1e-3, "weight_decay": 0.01}),
    ("NAdam", {"lr": 1e-3}),
    ("RAdam", {"lr": 1e-3}),
    ("Adamax", {"lr": 1e-3}),
    ("Adadelta", {}),
    ("Adagrad", {"lr": 1e-2}),
    ("RMSprop", {"lr": 1e-3, "momentum": 0.9}),
]


def _setup(lib, name, kwargs, rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    arrays = [rng.standard_normal(s).astype(np.float32) * 0.05 for s in SHAPES]
    grads = [rng.standard_normal(s).astype(np.float32) * 0.01 for s in SHAPES]
    params = [lib.tensor(a, requires_grad=True) for a in arrays]
    for p, g in zip(params, grads):
        p.grad = lib.tensor(g)
    return params, getattr(lib.optim, name)(params, **kwargs)


def _check_same(torch, name, kwargs, steps=5) -> float:
    pc, oc = _setup(cr, name, kwargs)
    pt, ot = _setup(torch, name, kwargs)
    for _ in range(steps):
        oc.step()
        ot.step()
    return max(float(np.max(np.abs(a.numpy() - b.detach().numpy()))) for a, b in zip(pc, pt))


def _time(fn, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def bench_steps(torch, rounds: int, repeat: int) -> list[tuple]:
    rows = []
    for name, kwargs in OPTIMIZERS:
        diff = _check_same(torch, name, kwargs) if torch is not None else float("nan")
        _, oc = _setup(cr, name, kwargs)
        ot = _setup(torch, name, kwargs)[1] if torch is not None else None
        times = {"chainrule": [], "torch": []}
        for _ in range(rounds):
            times["chainrule"].append(_time(oc.step, repeat))
            if ot is not None:
                times["torch"].append(_time(ot.step, repeat))
        label = name + ("(" + ", ".join(f"{k}={v}" for k, v in kwargs.items()
                                        if k != "lr") + ")" if len(kwargs) > 1 else "")
        c = statistics.median(times["chainrule"])
        t = statistics.median(times["torch"]) if times["torch"] else float("nan")
        rows.append((label, c * 1e6, t * 1e6, c / t, diff))
    return rows


def bench_loader(torch, rounds: int, n: int, batch_sizes) -> list[tuple]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 784)).astype(np.float32)
    y = rng.integers(0, 10, n)
    rows = []
    for batch in batch_sizes:
        for workers in (0, 2):
            ours = cr.data.DataLoader(cr.data.TensorDataset(x, y), batch_size=batch,
                                      shuffle=True, seed=0, num_workers=workers)
            theirs = None
            if torch is not None:
                tds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
                theirs = torch.utils.data.DataLoader(tds, batch_size=batch, shuffle=True,
                                                     num_workers=workers,
                                                     persistent_workers=workers > 0)
                list(theirs)  # start the worker processes before timing
            times = {"chainrule": [], "torch": []}
            for _ in range(rounds):
                times["chainrule"].append(_time(lambda loader=ours: sum(1 for _ in loader), 1))
                if theirs is not None:
                    times["torch"].append(_time(lambda loader=theirs: sum(1 for _ in loader),
                                                1))
            n_batches = len(ours)
            c = statistics.median(times["chainrule"]) / n_batches
            t = statistics.median(times["torch"]) / n_batches if times["torch"] else float("nan")
            rows.append((batch, workers, c * 1e6, t * 1e6, c / t))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
        print("(torch is not installed: chainrule's figures only)")
    cr.set_num_threads(1)
    rounds = 2 if args.quick else args.rounds
    repeat = 3 if args.quick else 30
    print("optimizer step, 784-256-128-10 MLP parameters (235,146 float32 weights), "
          "1 thread, median µs")
    print(f"{'optimizer':<40} {'chainrule':>10} {'torch':>10} {'ratio':>7} {'max |Δθ|':>10}")
    for label, c, t, ratio, diff in bench_steps(torch, rounds, repeat):
        print(f"{label:<40} {c:>10.1f} {t:>10.1f} {ratio:>7.2f} {diff:>10.2e}")
    n = 6_000 if args.quick else 60_000
    print()
    print(f"loader: one shuffled epoch of TensorDataset({n}x784 float32, labels), "
          "median µs per batch")
    print(f"{'batch':>6} {'workers':>8} {'chainrule':>10} {'torch':>10} {'ratio':>7}")
    for batch, workers, c, t, ratio in bench_loader(torch, max(rounds // 2, 2), n,
                                                    (32, 128) if not args.quick else (128,)):
        print(f"{batch:>6} {workers:>8} {c:>10.1f} {t:>10.1f} {ratio:>7.2f}")
    print("(ratio = chainrule / torch: below 1 is faster)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
