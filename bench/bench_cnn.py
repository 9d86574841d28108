"""Training throughput of a MNIST-shaped CNN: chainrule vs PyTorch vs hand NumPy.

The network (batch 64, float32, 1×28×28 inputs, 10 classes):
conv 1→32 3×3 pad 1 + ReLU + maxpool 2, conv 32→64 3×3 pad 1 + ReLU + maxpool 2,
Linear 3136→128 + ReLU, Linear 128→10, softmax cross-entropy, plain SGD.
One step = forward, loss, backward, update, on synthetic data (fixed seed):

* ``chainrule``: the public API as a user writes it (``nn.Sequential`` of ``nn.Conv2d``,
  ``nn.ReLU``, ``nn.MaxPool2d``, ``nn.Flatten``, ``nn.Linear``; ``F.cross_entropy``;
  ``optim.SGD``);
* ``torch``: the same in PyTorch CPU eager (oneDNN convolutions);
* ``numpy``: the same network written by hand in NumPy the usual way: NCHW arrays,
  im2col through ``sliding_window_view`` + one GEMM per convolution, col2im by
  slice-adds, max pooling by reshape with a mask for the backward pass.

Two sequence models, chainrule vs PyTorch only (the same code builds both: the APIs
match), as in the issue: ``lstm``: LSTM(32 → 128) over 50 steps, batch 32, a Linear head
on the last hidden state; ``transformer``: one TransformerEncoderLayer (d 128, 4 heads,
feed-forward 512, no dropout, batch_first) over 64 positions, batch 32, mean-pooled into
a Linear head. Cross-entropy and SGD as above.

Each framework runs in its own worker process (so its peak RSS is its own); the parent
interleaves them round by round and prints medians and ratios. Before timing, the
workers train a few steps from the same weights on the same batches and their losses
are compared.

    python bench/bench_cnn.py                 # cnn, 1 and 2 BLAS threads, ~1-2 minutes
    python bench/bench_cnn.py --models cnn,lstm,transformer
    python bench/bench_cnn.py --quick         # smoke run
    python bench/bench_cnn.py --threads 1 --profile
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mlp import Worker, _sender, current_rss_mb, peak_rss_mb, set_threads, training_closures

FRAMEWORKS = ("chainrule", "torch", "numpy")
SHAPES = {  # parameter name -> shape, PyTorch's layout and Sequential indices
    "0.weight": (32, 1, 3, 3), "0.bias": (32,),
    "3.weight": (64, 32, 3, 3), "3.bias": (64,),
    "7.weight": (128, 3136), "7.bias": (128,),
    "9.weight": (10, 128), "9.bias": (10,),
}


def make_data(batch: int, n_batches: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_batches * batch, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, n_batches * batch).astype(np.int64)
    return [(x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch])
            for i in range(n_batches)]


def make_weights(seed: int) -> dict:
    """PyTorch's default init ranges, U(±1/√fan_in), drawn with NumPy."""
    rng = np.random.default_rng(seed + 1)
    out = {}
    for name, shape in SHAPES.items():
        layer = name.split(".")[0]
        fan_in = int(np.prod(SHAPES[layer + ".weight"][1:]))
        bound = 1.0 / np.sqrt(fan_in)
        out[name] = rng.uniform(-bound, bound, shape).astype(np.float32)
    return out


# ---------------------------------------------------------------------------
# the three implementations: each returns (set_weights, wrap, step, to_float)
# ---------------------------------------------------------------------------
def build_chainrule(lr: float):
    sys.path.insert(0, str(ROOT / "src"))
    import chainrule as cr
    from chainrule import nn, optim
    from chainrule.nn import functional as F

    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = optim.SGD(model.parameters(), lr=lr)

    def set_weights(weights):
        model.load_state_dict(weights)

    return (set_weights, *training_closures(model, opt, F.cross_entropy, cr.tensor))


def build_torch(lr: float):
    import torch
    from torch import nn

    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def set_weights(weights):
        model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})

    return (set_weights,
            *training_closures(model, opt, torch.nn.functional.cross_entropy, torch.from_numpy))


def build_numpy(lr: float):
    """The CNN by hand, NCHW, the way a careful NumPy programmer writes it."""
    from numpy.lib.stride_tricks import sliding_window_view

    p: dict[str, np.ndarray] = {}

    def set_weights(weights):
        p.clear()
        p.update({k: v.copy() for k, v in weights.items()})

    def conv_forward(x, w, b):
        n, c, h, wd = x.shape
        o = w.shape[0]
        xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        win = sliding_window_view(xp, (3, 3), axis=(2, 3))  # (N, C, H, W, 3, 3)
        cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * wd, c * 9)
        out = cols @ w.reshape(o, c * 9).T
        out += b
        return out.reshape(n, h, wd, o).transpose(0, 3, 1, 2), cols

    def conv_backward(g, cols, w, x_shape, need_dx):
        n, c, h, wd = x_shape
        o = w.shape[0]
        g2 = g.transpose(0, 2, 3, 1).reshape(-1, o)
        # colsᵀ g rather than gᵀ cols: the same product, a faster OpenBLAS kernel here
        dw = (cols.T @ g2).T.reshape(w.shape)
        db = g2.sum(axis=0)
        dx = None
        if need_dx:
            # dcols with the channel last, so that each tap's slice-add reads contiguous
            # runs; accumulate in NHWC and hand back the NCHW view
            w_taps = w.transpose(0, 2, 3, 1).reshape(o, 9 * c)
            dcols = (g2 @ w_taps).reshape(n, h, wd, 3, 3, c)
            dxp = np.zeros((n, h + 2, wd + 2, c), dtype=g.dtype)
            for i in range(3):
                for j in range(3):
                    dxp[:, i:i + h, j:j + wd, :] += dcols[:, :, :, i, j, :]
            dx = dxp[:, 1:-1, 1:-1, :].transpose(0, 3, 1, 2)
        return dx, dw, db

    def pool_forward(x):
        # the four taps of each 2×2 window as strided views; the mask per tap marks
        # where it holds the window's maximum
        taps = [x[:, :, i::2, j::2] for i in (0, 1) for j in (0, 1)]
        out = np.maximum(np.maximum(taps[0], taps[1]), np.maximum(taps[2], taps[3]))
        return out, [t == out for t in taps]

    def pool_backward(g, masks):
        n, c, h2, w2 = g.shape
        gx = np.empty((n, c, 2 * h2, 2 * w2), dtype=g.dtype)
        for (i, j), m in zip(((0, 0), (0, 1), (1, 0), (1, 1)), masks):
            np.multiply(g, m, out=gx[:, :, i::2, j::2])
        return gx

    def wrap(batch):
        return batch

    def step(batch):
        x, y = batch
        n = x.shape[0]
        z1, cols1 = conv_forward(x, p["0.weight"], p["0.bias"])
        a1 = np.maximum(z1, 0)
        h1, m1 = pool_forward(a1)
        z2, cols2 = conv_forward(h1, p["3.weight"], p["3.bias"])
        a2 = np.maximum(z2, 0)
        h2, m2 = pool_forward(a2)
        f = h2.reshape(n, -1)
        z3 = f @ p["7.weight"].T
        z3 += p["7.bias"]
        a3 = np.maximum(z3, 0)
        logits = a3 @ p["9.weight"].T
        logits += p["9.bias"]
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        s = e.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = float(np.log(s).mean() - logits[rows, y].mean())
        g = e / s
        g[rows, y] -= 1.0
        g *= np.float32(1.0 / n)
        grads = {"9.weight": g.T @ a3, "9.bias": g.sum(axis=0)}
        g = g @ p["9.weight"]
        g *= z3 > 0
        grads["7.weight"], grads["7.bias"] = g.T @ f, g.sum(axis=0)
        g = (g @ p["7.weight"]).reshape(h2.shape)
        g = pool_backward(g, m2) * (z2 > 0)
        g, grads["3.weight"], grads["3.bias"] = conv_backward(g, cols2, p["3.weight"],
                                                              h1.shape, True)
        g = pool_backward(g, m1) * (z1 > 0)
        _, grads["0.weight"], grads["0.bias"] = conv_backward(g, cols1, p["0.weight"],
                                                              x.shape, False)
        for k, gk in grads.items():
            p[k] -= np.float32(lr) * gk
        return loss

    return set_weights, wrap, step, float


BUILDERS = {"chainrule": build_chainrule, "torch": build_torch, "numpy": build_numpy}

# ---------------------------------------------------------------------------
# the sequence models: one definition, built on chainrule.nn or torch.nn
# ---------------------------------------------------------------------------
SEQ = {  # model -> (shape of one batch of inputs given the batch size, classes)
    "lstm": (lambda b: (50, b, 32), 10),
    "transformer": (lambda b: (b, 64, 128), 10),
}


def make_seq_model(nn, kind: str):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            if kind == "lstm":
                self.rnn = nn.LSTM(32, 128)
            else:
                self.enc = nn.TransformerEncoderLayer(128, 4, 512, dropout=0.0,
                                                      batch_first=True)
            self.head = nn.Linear(128, 10)

        def forward(self, x):
            if kind == "lstm":
                _, (h, _) = self.rnn(x)
                return self.head(h[-1])
            return self.head(self.enc(x).mean(1))

    return Net()


def make_seq_data(kind: str, batch: int, n_batches: int, seed: int):
    rng = np.random.default_rng(seed)
    shape = SEQ[kind][0](batch)
    return [(rng.standard_normal(shape, dtype=np.float32),
             rng.integers(0, SEQ[kind][1], batch).astype(np.int64)) for _ in range(n_batches)]


def make_seq_weights(kind: str, seed: int) -> dict:
    """U(±1/√fan_in) for every parameter of the model (shapes read from a chainrule
    instance), the same arrays for both frameworks."""
    sys.path.insert(0, str(ROOT / "src"))
    from chainrule import nn

    rng = np.random.default_rng(seed + 1)
    out = {}
    for name, p in make_seq_model(nn, kind).state_dict().items():
        fan_in = p.shape[-1] if len(p.shape) > 1 else p.shape[0]
        bound = 1.0 / np.sqrt(fan_in)
        out[name] = rng.uniform(-bound, bound, p.shape).astype(np.float32)
    return out


def build_seq(framework: str, kind: str, lr: float):
    if framework == "torch":
        import torch as lib
        from torch import nn, optim

        def tensor(a):
            return lib.from_numpy(a)

        loss_fn = lib.nn.functional.cross_entropy
    elif framework == "chainrule":
        sys.path.insert(0, str(ROOT / "src"))
        import chainrule as lib
        from chainrule import nn, optim

        tensor = lib.tensor
        loss_fn = nn.functional.cross_entropy
    else:
        raise ValueError(f"no hand-written {framework} version of the {kind} model")
    model = make_seq_model(nn, kind)
    opt = optim.SGD(model.parameters(), lr=lr)

    def set_weights(weights):
        model.load_state_dict({k: tensor(v.copy()) for k, v in weights.items()})

    return (set_weights, *training_closures(model, opt, loss_fn, tensor))


# ---------------------------------------------------------------------------
# worker process: one framework, driven by JSON lines on stdin
# ---------------------------------------------------------------------------
def worker(framework: str, model: str, lr: float, seed: int, n_batches: int) -> None:
    send = _sender()
    try:
        if model == "cnn":
            set_weights, wrap, step, to_float = BUILDERS[framework](lr)
            weights = make_weights(seed)
        else:
            set_weights, wrap, step, to_float = build_seq(framework, model, lr)
            weights = make_seq_weights(model, seed)
    except Exception as e:  # noqa: BLE001 - torch missing: report, do not crash
        send({"error": f"{type(e).__name__}: {e}"})
        return
    set_weights(weights)
    data: dict[int, list] = {}
    send({"ready": True, "rss_mb": current_rss_mb()})
    for line in sys.stdin:
        cmd = json.loads(line)
        batch = cmd.get("batch")
        if batch is not None and batch not in data:
            raw = make_data(batch, n_batches, seed) if model == "cnn" else \
                make_seq_data(model, batch, n_batches, seed)
            data[batch] = [wrap(b) for b in raw]
        if cmd["cmd"] == "check":
            set_threads(framework, cmd["threads"])
            set_weights(weights)
            losses = [to_float(step(b)) for b in data[batch][: cmd["steps"]]]
            set_weights(weights)
            send({"losses": losses})
        elif cmd["cmd"] == "run":
            set_threads(framework, cmd["threads"])
            batches = data[batch]
            for k in range(cmd["warmup"]):
                step(batches[k % n_batches])
            steps, k = 0, 0
            c0, t0 = time.process_time(), time.perf_counter()
            deadline = t0 + cmd["seconds"]
            while steps < cmd["min_steps"] or time.perf_counter() < deadline:
                step(batches[k])
                k = (k + 1) % n_batches
                steps += 1
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            send({"samples_per_s": steps * batch / elapsed,
                  "samples_per_cpu_s": steps * batch / cpu if cpu > 0 else float("nan")})
        elif cmd["cmd"] == "profile":
            import cProfile
            import io
            import pstats

            set_threads(framework, cmd["threads"])
            prof = cProfile.Profile()
            prof.enable()
            for k in range(cmd["steps"]):
                step(data[batch][k % n_batches])
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(cmd["top"])
            send({"text": out.getvalue()})
        elif cmd["cmd"] == "exit":
            send({"peak_rss_mb": peak_rss_mb()})
            return


TITLES = {
    "cnn": "CNN conv32-pool-conv64-pool-fc128-fc10 on 1×28×28",
    "lstm": "LSTM 32→128 over 50 steps + Linear 128→10",
    "transformer": "TransformerEncoderLayer d128, 4 heads, ff 512, 64 positions + Linear",
}


def bench_model(model: str, batch: int, threads: list, frameworks: list, args) -> None:
    if model != "cnn":
        frameworks = [f for f in frameworks if f != "numpy"]
    print(f"\n== {TITLES[model]}, batch {batch}, SGD lr={args.lr}, float32; "
          f"{args.repeats} rounds × {args.seconds}s; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at start")
    workers = {f: Worker(f, [sys.executable, __file__, "--worker", f, "--models", model,
                             "--lr", str(args.lr), "--seed", str(args.seed),
                             "--n-batches", str(args.n_batches)])
               for f in frameworks}
    for f, w in workers.items():
        if w.error:
            print(f"  {f}: not measured ({w.error})")
    b = batch
    losses = {f: w.ask(cmd="check", batch=b, threads=threads[0], steps=3)
              for f, w in workers.items() if not w.error}
    ref = next((r["losses"] for f, r in losses.items() if "losses" in r and f != "chainrule"),
               None)
    for f, r in losses.items():
        if "losses" in r and ref and not np.allclose(r["losses"], ref, rtol=1e-3):
            print(f"  WARNING: {f} losses {r['losses']} differ from {ref}")
    print("  check: loss after 3 steps from the same weights: " + ", ".join(
        f"{f} {r['losses'][-1]:.5f}" for f, r in losses.items() if "losses" in r))

    results: dict[tuple, list[float]] = {}
    cpu_rates: dict[tuple, list[float]] = {}
    for _ in range(args.repeats):
        for t in threads:
            for f, w in workers.items():
                r = w.ask(cmd="run", batch=b, threads=t, seconds=args.seconds,
                          warmup=args.warmup, min_steps=2)
                if "samples_per_s" in r:
                    results.setdefault((t, f), []).append(r["samples_per_s"])
                    cpu_rates.setdefault((t, f), []).append(r["samples_per_cpu_s"])
    profile = None
    if args.profile and "chainrule" in workers and not workers["chainrule"].error:
        profile = workers["chainrule"].ask(cmd="profile", batch=b, threads=threads[0],
                                           steps=20, top=25).get("text")
    rss = {f: w.close() for f, w in workers.items()}

    print(f"{'threads':>7}  {'framework':<10} {'samples/s':>10} {'spread':>6} {'vs torch':>8} "
          f"{'vs numpy':>8}  {'per CPU-s':>10} {'vs torch':>8} {'vs numpy':>8}")
    for t in threads:
        med = {f: statistics.median(results[(t, f)]) for f in frameworks if (t, f) in results}
        cmed = {f: statistics.median(cpu_rates[(t, f)]) for f in med}
        for f in frameworks:
            if f not in med:
                print(f"{t:>7}  {f:<10} {'n/a':>10}")
                continue
            runs = results[(t, f)]
            spread = (max(runs) - min(runs)) / med[f] if len(runs) > 1 else 0.0

            def ratio(d, other, f=f):
                return f"{d[f] / d[other]:.2f}x" if other in d else "-"

            print(f"{t:>7}  {f:<10} {med[f]:>10,.0f} {spread:>6.0%} {ratio(med, 'torch'):>8} "
                  f"{ratio(med, 'numpy'):>8}  {cmed[f]:>10,.0f} {ratio(cmed, 'torch'):>8} "
                  f"{ratio(cmed, 'numpy'):>8}")
    print("peak RSS (VmHWM) per framework process: " + ", ".join(
        f"{f} {v:.0f} MiB" for f, v in rss.items()))
    if rss.get("torch", float("nan")) == rss.get("torch") and "chainrule" in rss:
        print(f"  chainrule / torch = {rss['chainrule'] / rss['torch']:.2f}")
    if profile:
        print(f"\ncProfile of 20 chainrule steps, {threads[0]} thread(s):\n{profile}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: one short round")
    ap.add_argument("--models", default="cnn", help="cnn, lstm, transformer (comma list)")
    ap.add_argument("--batch", type=int, default=64, help="the cnn's batch size")
    ap.add_argument("--seq-batch", type=int, default=32, help="the sequence models' batch")
    ap.add_argument("--threads", default=None, help="BLAS thread counts, e.g. 1,2 (default)")
    ap.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    ap.add_argument("--repeats", type=int, default=5, help="timed rounds (median)")
    ap.add_argument("--seconds", type=float, default=1.0, help="length of one timed block")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-batches", type=int, default=8, help="distinct batches cycled")
    ap.add_argument("--profile", action="store_true", help="cProfile of chainrule's step")
    ap.add_argument("--worker", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    models = [m.strip() for m in args.models.split(",")]
    for m in models:
        if m not in TITLES:
            ap.error(f"unknown model {m!r}; expected cnn, lstm or transformer")
    if args.worker:
        worker(args.worker, models[0], args.lr, args.seed, args.n_batches)
        return 0
    if args.quick:
        args.repeats, args.seconds, args.warmup = 1, 0.05, 1
    threads = (args.threads or ("1" if args.quick else "1,2")).split(",")
    frameworks = [f.strip() for f in args.frameworks.split(",")]
    for m in models:
        bench_model(m, args.batch if m == "cnn" else args.seq_batch, threads, frameworks, args)
    print("\nsamples/s: wall clock, median of the rounds; per CPU-s: samples per second of "
          "the process's CPU time (less sensitive to other load on a shared machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
