"""Training throughput of a 784-256-128-10 ReLU MLP: chainrule vs PyTorch vs hand NumPy.

One training step = forward, softmax cross-entropy, backward, plain SGD update, in
float32, on synthetic data (fixed seed). Three implementations, measured in the same run:

* ``chainrule``: the public API as a user writes it (``nn.Sequential`` of
  ``nn.Linear``/``nn.ReLU``, ``nn.functional.cross_entropy``, ``optim.SGD``);
* ``torch``: the same in PyTorch CPU eager (skipped when torch is not installed);
* ``numpy``: the same MLP written by hand in NumPy with an efficient hand-derived
  backward pass: the floor, since a step cannot beat its own matrix products.

Each implementation runs in its own worker process, so that the peak RSS reported is its
own. The parent drives the workers in turn (only one computes at any time) and
interleaves them: every round times each (batch size, BLAS threads) configuration once
per framework, so slow drifts of a shared machine hit all of them alike. The table shows
medians over the rounds. Before timing, the workers train a few steps from the same
initial weights on the same batches and their losses are compared (a correctness check
that the three compute the same thing).

    python bench/bench_mlp.py                    # full run (about a minute)
    python bench/bench_mlp.py --quick            # smoke run
    python bench/bench_mlp.py --threads 1 --batch-sizes 32 --profile   # + cProfile of chainrule

BLAS threads: ``--threads 1,2`` runs every configuration with the BLAS pool limited to 1
and to 2 threads (threadpoolctl; ``torch.set_num_threads`` for PyTorch); ``default``
leaves each library's own setting alone.

Which thread count chainrule should use for matrices this small: **1**. Measured on the
2-core development machine (OpenBLAS 0.3.31, best of 30 interleaved runs): 2 threads
speed up the largest product (batch x 784 x 256) 1.5-1.6x, but the batch-32 weight
gradient not at all (0.95x) and the 256x128 layer barely (1.0-1.3x); and whenever the
cores are shared (load average 4-5 here, normal for this machine), 2-thread runs of all
three frameworks collapsed 10-100x (BLAS workers spin waiting for a descheduled
partner), while 1-thread runs only lose their share of the CPU. One thread is the
predictable choice; more threads pay only for products of roughly 10^8 multiply-adds
and up, on a machine with idle cores.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("chainrule", "torch", "numpy")


# ---------------------------------------------------------------------------
# shared set-up: data and initial weights, identical in every worker
# ---------------------------------------------------------------------------
def make_data(sizes, batch: int, n_batches: int, seed: int):
    """``n_batches`` batches of standard-normal inputs and uniform class labels."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_batches * batch, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], n_batches * batch).astype(np.int64)
    return [(x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch])
            for i in range(n_batches)]


def make_weights(sizes, seed: int):
    """(W, b) per layer, W of shape (out, in) as nn.Linear, PyTorch's default init range."""
    rng = np.random.default_rng(seed + 1)
    layers = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = 1.0 / np.sqrt(fan_in)
        w = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        b = rng.uniform(-bound, bound, fan_out).astype(np.float32)
        layers.append((w, b))
    return layers


def _proc_status_mb(field: str) -> float | None:
    """A memory figure of this process from /proc/self/status (``VmHWM``, ``VmRSS``), in
    MiB; None where there is no /proc."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """Peak resident set size of this process (VmHWM), in MiB."""
    peak = _proc_status_mb("VmHWM")
    if peak is not None:
        return peak
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def current_rss_mb() -> float:
    rss = _proc_status_mb("VmRSS")
    return float("nan") if rss is None else rss


# ---------------------------------------------------------------------------
# the three implementations: each returns (set_weights, step) closures
# ---------------------------------------------------------------------------
def training_closures(model, opt, loss_fn, to_tensor):
    """``wrap`` (a batch's arrays as the framework's tensors, done once outside the timed
    loop), ``step`` (one optimizer step, returning the loss) and ``to_float``, for a
    framework with PyTorch's API: chainrule and torch share them, here and in bench_cnn."""

    def wrap(batch):
        return to_tensor(batch[0]), to_tensor(batch[1])

    def step(batch):
        x, y = batch
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return wrap, step, lambda loss: float(loss.item())


def build_chainrule(sizes, lr: float):
    sys.path.insert(0, str(ROOT / "src"))
    import chainrule as cr
    from chainrule import nn, optim
    from chainrule.nn import functional as F

    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    linears = [m for m in layers if isinstance(m, nn.Linear)]
    opt = optim.SGD(model.parameters(), lr=lr)

    def set_weights(weights):
        with cr.no_grad():
            for layer, (w, b) in zip(linears, weights):
                layer.weight.copy_(w)
                layer.bias.copy_(b)

    return (set_weights, *training_closures(model, opt, F.cross_entropy, cr.tensor))


def build_torch(sizes, lr: float):
    import torch

    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    linears = [m for m in layers if isinstance(m, torch.nn.Linear)]
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.functional.cross_entropy

    def set_weights(weights):
        with torch.no_grad():
            for layer, (w, b) in zip(linears, weights):
                layer.weight.copy_(torch.from_numpy(w))
                layer.bias.copy_(torch.from_numpy(b))

    return (set_weights, *training_closures(model, opt, loss_fn, torch.from_numpy))


def build_numpy(sizes, lr: float):
    """The MLP by hand: forward, softmax cross-entropy and backward written out, in place
    wherever the formulas allow (ReLU on its own output, the softmax turned into its
    gradient in place, SGD as W -= lr·dW right after each dW is computed).

    Weights are stored as (in, out), C-contiguous, and used as ``h @ W``: with OpenBLAS
    that is 30% faster at batch 32 than ``h @ Wᵀ`` on (out, in) weights (its
    transposed-B kernel is slow for few rows), and a careful hand-writer picks it. The
    floor should be the fastest honest version, not the most literal one.
    """
    n_layers = len(sizes) - 1
    params: list[list[np.ndarray]] = []

    def set_weights(weights):  # given as (out, in), like nn.Linear
        params[:] = [[np.ascontiguousarray(w.T), b.copy()] for w, b in weights]

    def wrap(batch):
        return batch

    def step(batch):
        x, y = batch
        n = x.shape[0]
        # forward: h_l = relu(h_{l-1} W_l + b_l); the last layer gives the logits
        acts = [x]
        h = x
        for i, (w, b) in enumerate(params):
            z = h @ w
            z += b
            if i < n_layers - 1:
                np.maximum(z, 0, out=z)
            acts.append(z)
            h = z
        # softmax cross-entropy, mean over the batch; p becomes dL/dlogits in place
        logits = acts[-1]
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        s = p.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = float(np.log(s).mean() - logits[rows, y].mean())
        p /= s
        p[rows, y] -= 1.0
        p *= np.float32(1.0 / n)
        # backward and SGD: dW = h_{l-1}ᵀ g, db = Σ g, g_{l-1} = (g Wᵀ) ⊙ [h_{l-1} > 0]
        g = p
        for i in range(n_layers - 1, -1, -1):
            w, b = params[i]
            h_prev = acts[i]
            dw = h_prev.T @ g
            db = g.sum(axis=0)
            if i > 0:
                g = g @ w.T  # before w changes
                g *= h_prev > 0
            dw *= lr
            w -= dw
            db *= lr
            b -= db
        return loss

    return set_weights, wrap, step, float


BUILDERS = {"chainrule": build_chainrule, "torch": build_torch, "numpy": build_numpy}


# ---------------------------------------------------------------------------
# worker: one framework in its own process, driven by JSON lines on stdin
# ---------------------------------------------------------------------------
def set_threads(framework: str, threads: str):
    """Limit the BLAS pool (and torch's intra-op pool) to ``threads``; 'default' = as is."""
    if threads == "default":
        return
    n = int(threads)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n)
    if framework == "torch":
        import torch

        torch.set_num_threads(n)


def worker(framework: str, sizes, lr: float, seed: int, n_batches: int) -> None:
    send = _sender()
    try:
        set_weights, wrap, step, to_float = BUILDERS[framework](sizes, lr)
    except Exception as e:  # noqa: BLE001 - torch or cr.nn missing: report, do not crash
        send({"error": f"{type(e).__name__}: {e}"})
        return
    weights = make_weights(sizes, seed)
    set_weights(weights)
    data: dict[int, list] = {}
    send({"ready": True, "rss_mb": current_rss_mb()})
    for line in sys.stdin:
        cmd = json.loads(line)
        batch = cmd.get("batch")
        if batch is not None and batch not in data:
            data[batch] = [wrap(b) for b in make_data(sizes, batch, n_batches, seed)]
        if cmd["cmd"] == "check":  # a few steps from the shared weights: the losses
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
            c0 = time.process_time()
            t0 = time.perf_counter()
            deadline = t0 + cmd["seconds"]
            while True:
                step(batches[k])
                k = (k + 1) % n_batches
                steps += 1
                if steps >= cmd["min_steps"] and time.perf_counter() >= deadline:
                    break
            elapsed = time.perf_counter() - t0
            cpu = time.process_time() - c0
            send({"samples_per_s": steps * batch / elapsed, "steps": steps,
                  "samples_per_cpu_s": steps * batch / cpu if cpu > 0 else float("nan")})
        elif cmd["cmd"] == "profile":
            import cProfile
            import io
            import pstats

            set_threads(framework, cmd["threads"])
            batches = data[batch]
            for k in range(5):
                step(batches[k % n_batches])
            prof = cProfile.Profile()
            prof.enable()
            for k in range(cmd["steps"]):
                step(batches[k % n_batches])
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(cmd["top"])
            send({"text": out.getvalue()})
        elif cmd["cmd"] == "exit":
            send({"peak_rss_mb": peak_rss_mb()})
            return


def _sender():
    out = sys.stdout

    def send(msg):
        out.write(json.dumps(msg) + "\n")
        out.flush()

    return send


class Worker:
    """The parent's handle on one worker process (started with ``cmd``), which answers one
    JSON line per JSON command; bench_cnn.py drives its workers with it too."""

    def __init__(self, framework: str, cmd: list[str]) -> None:
        self.framework = framework
        self.error: str | None = None
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        hello = self._read()
        if "error" in hello:
            self.error = hello["error"]
            self.proc.wait()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            return {"error": f"worker exited with code {self.proc.returncode}"}
        return json.loads(line)

    def ask(self, **cmd) -> dict:
        if self.error:
            return {"error": self.error}
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        reply = self._read()
        if "error" in reply:
            self.error = reply["error"]
        return reply

    def close(self) -> float:
        if self.error:
            return float("nan")
        reply = self.ask(cmd="exit")
        self.proc.wait()
        return reply.get("peak_rss_mb", float("nan"))


# ---------------------------------------------------------------------------
# the parent: drive the workers, print the table
# ---------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: one short round, 1 thread")
    ap.add_argument("--sizes", default="784,256,128,10", help="layer sizes")
    ap.add_argument("--batch-sizes", default="128,32")
    ap.add_argument("--threads", default=None,
                    help="BLAS thread counts to compare, e.g. 1,2 (the default; 1 with "
                         "--quick); 'default' = each library's own setting")
    ap.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    ap.add_argument("--repeats", type=int, default=5, help="timed rounds (median)")
    ap.add_argument("--seconds", type=float, default=0.5, help="length of one timed block")
    ap.add_argument("--warmup", type=int, default=10, help="untimed steps before each block")
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-batches", type=int, default=16, help="distinct batches cycled")
    ap.add_argument("--profile", action="store_true",
                    help="also print a cProfile of chainrule's step (by own time)")
    ap.add_argument("--worker", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.worker:
        worker(args.worker, sizes, args.lr, args.seed, args.n_batches)
        return 0
    if args.quick:
        args.repeats, args.seconds, args.warmup = 1, 0.05, 2
    if args.threads is None:
        args.threads = "1" if args.quick else "1,2"
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    threads = [t.strip() for t in args.threads.split(",")]
    frameworks = [f.strip() for f in args.frameworks.split(",")]

    print(f"MLP {'-'.join(map(str, sizes))}, ReLU, softmax cross-entropy, SGD lr={args.lr}, "
          f"float32; {args.repeats} rounds x {args.seconds}s per configuration; "
          f"{os.cpu_count()} CPUs")
    workers = {f: Worker(f, [sys.executable, __file__, "--worker", f, "--sizes", args.sizes,
                             "--lr", str(args.lr), "--seed", str(args.seed),
                             "--n-batches", str(args.n_batches)])
               for f in frameworks}
    for f, w in workers.items():
        if w.error:
            print(f"  {f}: not measured ({w.error})")

    # correctness: same weights, same batches -> same losses
    for b in batch_sizes:
        losses = {f: w.ask(cmd="check", batch=b, threads=threads[0], steps=3)
                  for f, w in workers.items() if not w.error}
        ref = losses.get("numpy", {}).get("losses")
        for f, r in losses.items():
            if "losses" in r and ref and not np.allclose(r["losses"], ref, rtol=1e-3):
                print(f"  WARNING batch {b}: {f} losses {r['losses']} != numpy {ref}")
        shown = ", ".join(f"{f} {r['losses'][-1]:.5f}" for f, r in losses.items()
                          if "losses" in r)
        print(f"  check, batch {b}: loss after 3 steps from the same weights: {shown}")

    results: dict[tuple, list[float]] = {}  # wall-clock samples/s per round
    cpu_rates: dict[tuple, list[float]] = {}  # samples per CPU-second (process time)
    for _ in range(args.repeats):
        for b in batch_sizes:
            for t in threads:
                for f, w in workers.items():
                    r = w.ask(cmd="run", batch=b, threads=t, seconds=args.seconds,
                              warmup=args.warmup, min_steps=3)
                    if "samples_per_s" in r:
                        results.setdefault((b, t, f), []).append(r["samples_per_s"])
                        cpu_rates.setdefault((b, t, f), []).append(r["samples_per_cpu_s"])

    profiles = []
    if args.profile and "chainrule" in workers and not workers["chainrule"].error:
        for b in batch_sizes:
            r = workers["chainrule"].ask(cmd="profile", batch=b, threads=threads[0],
                                         steps=200, top=25)
            profiles.append((b, r.get("text", r.get("error"))))
    rss = {f: w.close() for f, w in workers.items()}

    print()
    print(f"{'batch':>5} {'threads':>7}  {'framework':<10} {'samples/s':>10} {'spread':>6} "
          f"{'vs torch':>8} {'vs numpy':>8}  {'per CPU-s':>10} {'vs torch':>8} {'vs numpy':>8}")
    for b in batch_sizes:
        for t in threads:
            med = {f: statistics.median(results[(b, t, f)]) for f in frameworks
                   if (b, t, f) in results}
            cmed = {f: statistics.median(cpu_rates[(b, t, f)]) for f in med}
            for f in frameworks:
                if f not in med:
                    print(f"{b:>5} {t:>7}  {f:<10} {'n/a':>10}")
                    continue
                runs = results[(b, t, f)]
                spread = (max(runs) - min(runs)) / med[f] if len(runs) > 1 else 0.0

                def ratio(d, other, f=f):
                    return f"{d[f] / d[other]:.2f}x" if other in d else "-"

                print(f"{b:>5} {t:>7}  {f:<10} {med[f]:>10,.0f} {spread:>6.0%} "
                      f"{ratio(med, 'torch'):>8} {ratio(med, 'numpy'):>8}  "
                      f"{cmed[f]:>10,.0f} {ratio(cmed, 'torch'):>8} {ratio(cmed, 'numpy'):>8}")
    if len(threads) > 1:  # each framework at its own best thread count
        print()
        print("best thread count per framework (by wall-clock median):")
        for b in batch_sizes:
            best = {}
            for f in frameworks:
                cands = [(statistics.median(results[(b, t, f)]), t) for t in threads
                         if (b, t, f) in results]
                if cands:
                    best[f] = max(cands)
            parts = [f"{f} {v:,.0f} ({t} thr)" for f, (v, t) in best.items()]
            line = f"  batch {b}: " + ", ".join(parts)
            if "chainrule" in best:
                c = best["chainrule"][0]
                line += "".join(f"; chainrule/{o} {c / best[o][0]:.2f}x"
                                for o in ("torch", "numpy") if o in best)
            print(line)
    print("samples/s: wall clock, median of the rounds; spread: (max - min) / median;")
    print("per CPU-s: samples per second of this process's CPU time (robust to other load "
          "on a shared machine at 1 thread; sums the threads at 2)")
    print()
    print("peak RSS (VmHWM) per framework process: " + ", ".join(
        f"{f} {v:.0f} MiB" for f, v in rss.items()))
    if "chainrule" in rss and "torch" in rss and rss["torch"] == rss["torch"]:
        print(f"  chainrule / torch = {rss['chainrule'] / rss['torch']:.2f}")
    for b, text in profiles:
        print(f"\ncProfile of 200 chainrule steps, batch {b}, threads {threads[0]}:\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
