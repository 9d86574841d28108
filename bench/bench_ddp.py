"""Data-parallel training over MPI: throughput at K = 1 and 2 processes, scaling
efficiency, and time per step spent communicating; chainrule's DistributedDataParallel
beside PyTorch's DDP (gloo backend, CPU) and a hand-written NumPy + mpi4py floor.

The model is the 784-256-128-10 ReLU MLP of bench_mlp.py (float32, plain SGD, softmax
cross-entropy) at a per-rank batch of 128, each rank with 1 BLAS thread and its own
synthetic batches. Every rank runs the same number of steps (collectives need that);
rank 0 times blocks of steps between barriers. Global throughput = K × per-rank batch ×
steps / time; scaling efficiency = throughput at K / (K × throughput of one plain
process). The parent launches each configuration with ``mpiexec -n K``, several rounds
interleaved (a shared machine drifts; every configuration sees the drift alike), and
prints medians.

    python bench/bench_ddp.py              # full run (a few minutes)
    python bench/bench_ddp.py --quick      # smoke run

Rows:
* ``chainrule``: ``nn.parallel.DistributedDataParallel`` with 25 MB buckets (one bucket
  for this model, reduced when backward ends) and with small buckets (0.25 MB: three
  buckets, the first two reduced with ``Iallreduce`` while backward goes on);
* ``torch``: ``torch.nn.parallel.DistributedDataParallel``, gloo backend;
* ``numpy``: the MLP by hand, its gradients written into one flat array, one
  ``MPI.Allreduce`` per step: what data parallelism over MPI costs at the least.

At K = 1 each framework runs its plain model (no wrapper): that is the baseline of the
efficiency. ``comm ms`` is the time per step the step spends in the gradient reduction
after backward (waiting for it and unpacking the averages), where the framework lets us
measure it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SIZES = (784, 256, 128, 10)


def make_batches(rank: int, batch: int, n_batches: int = 8) -> list:
    rng = np.random.default_rng(1000 + rank)
    return [(rng.standard_normal((batch, SIZES[0]), dtype=np.float32),
             rng.integers(0, SIZES[-1], batch).astype(np.int64)) for _ in range(n_batches)]


def make_weights(seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    out = []
    for fan_in, fan_out in itertools.pairwise(SIZES):
        bound = 1.0 / np.sqrt(fan_in)
        out.append((rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                    rng.uniform(-bound, bound, fan_out).astype(np.float32)))
    return out


# ---------------------------------------------------------------------------
# workers: run under mpiexec; each returns (step, barrier, comm_seconds, rank, size)
# ---------------------------------------------------------------------------
def launcher_rank_size() -> tuple[int, int]:
    return int(os.environ.get("PMI_RANK", "0")), int(os.environ.get("PMI_SIZE", "1"))


def build_chainrule(lr: float, bucket_mb: float, lr_scale: bool = False):
    sys.path.insert(0, str(ROOT / "src"))
    import chainrule as cr
    import chainrule.distributed as dist
    from chainrule import nn
    from chainrule.nn import functional as F

    cr.set_num_threads(1)
    dist.init_process_group(backend="mpi")
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(SIZES)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(SIZES) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    with cr.no_grad():
        for layer, (w, b) in zip([m for m in layers if isinstance(m, nn.Linear)],
                                 make_weights()):
            layer.weight.copy_(w)
            layer.bias.copy_(b)
    world = dist.get_world_size()
    net = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=bucket_mb) \
        if world > 1 else model
    opt = cr.optim.SGD(net.parameters(), lr=lr)
    batches = [(cr.tensor(x), cr.tensor(y)) for x, y in make_batches(dist.get_rank(), 128)]

    def step(k: int) -> None:
        x, y = batches[k % len(batches)]
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()

    def comm_seconds() -> float:
        return getattr(net, "communication_seconds", 0.0)

    return step, dist.barrier, comm_seconds, dist.get_rank(), world


def build_torch(lr: float, bucket_mb: float, rendezvous: str):
    import torch
    import torch.distributed as tdist

    torch.set_num_threads(1)
    rank, size = launcher_rank_size()
    tdist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank,
                             world_size=size)
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(SIZES)):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for layer, (w, b) in zip([m for m in layers if isinstance(m, torch.nn.Linear)],
                                 make_weights()):
            layer.weight.copy_(torch.from_numpy(w))
            layer.bias.copy_(torch.from_numpy(b))
    net = torch.nn.parallel.DistributedDataParallel(model, bucket_cap_mb=bucket_mb) \
        if size > 1 else model
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in make_batches(rank, 128)]

    def step(k: int) -> None:
        x, y = batches[k % len(batches)]
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()

    return step, tdist.barrier, None, rank, size


def build_numpy(lr: float, bucket_mb: float):
    """The MLP by hand; its gradients land in views of one flat array, which one
    ``Allreduce`` averages across the ranks before the SGD update."""
    from mpi4py import MPI
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    params = [[np.ascontiguousarray(w.T), b.copy()] for w, b in make_weights()]
    flat = np.zeros(sum(w.size + b.size for w, b in params), dtype=np.float32)
    grads, start = [], 0
    for w, b in params:
        gw = flat[start:start + w.size].reshape(w.shape)
        start += w.size
        gb = flat[start:start + b.size]
        start += b.size
        grads.append((gw, gb))
    batches = make_batches(rank, 128)
    n_layers = len(params)
    spent = [0.0]

    def step(k: int) -> None:
        x, y = batches[k % len(batches)]
        n = x.shape[0]
        acts, h = [x], x
        for i, (w, b) in enumerate(params):
            z = h @ w
            z += b
            if i < n_layers - 1:
                np.maximum(z, 0, out=z)
            acts.append(z)
            h = z
        p = acts[-1]
        p -= p.max(axis=1, keepdims=True)
        np.exp(p, out=p)
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(n), y] -= 1.0
        p *= np.float32(1.0 / (n * size))  # the mean over the global batch
        g = p
        for i in range(n_layers - 1, -1, -1):
            gw, gb = grads[i]
            np.matmul(acts[i].T, g, out=gw)
            np.sum(g, axis=0, out=gb)
            if i > 0:
                g = g @ params[i][0].T
                g *= acts[i] > 0
        if size > 1:
            t = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, flat)
            spent[0] += time.perf_counter() - t
        for (w, b), (gw, gb) in zip(params, grads):
            w -= lr * gw
            b -= lr * gb

    return step, comm.Barrier, lambda: spent[0], rank, size


def worker(args) -> None:
    if args.worker == "chainrule":
        step, barrier, comm, rank, size = build_chainrule(args.lr, args.bucket_mb)
    elif args.worker == "torch":
        step, barrier, comm, rank, size = build_torch(args.lr, args.bucket_mb,
                                                      args.rendezvous)
    else:
        step, barrier, comm, rank, size = build_numpy(args.lr, args.bucket_mb)
    for k in range(args.warmup):
        step(k)
    rates, comm_ms, step_ms = [], [], []
    k = 0
    for _ in range(args.blocks):
        barrier()
        c0 = comm() if comm else 0.0
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step(k)
            k += 1
        barrier()
        elapsed = time.perf_counter() - t0
        rates.append(size * 128 * args.steps / elapsed)
        step_ms.append(1e3 * elapsed / args.steps)
        if comm:
            comm_ms.append(1e3 * (comm() - c0) / args.steps)
    if rank == 0:
        print(json.dumps({"samples_per_s": statistics.median(rates),
                          "step_ms": statistics.median(step_ms),
                          "comm_ms": statistics.median(comm_ms) if comm_ms else None}),
              flush=True)


# ---------------------------------------------------------------------------
# the parent
# ---------------------------------------------------------------------------
def mpiexec() -> str:
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else "mpiexec"


def launch(framework: str, k: int, bucket_mb: float, args) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        command = [mpiexec(), "-n", str(k), sys.executable, __file__, "--worker", framework,
                   "--bucket-mb", str(bucket_mb), "--steps", str(args.steps),
                   "--blocks", str(args.blocks), "--warmup", str(args.warmup),
                   "--lr", str(args.lr), "--rendezvous", os.path.join(tmp, "rendezvous")]
        try:
            result = subprocess.run(command, capture_output=True, text=True, env=env,
                                    timeout=600, check=False)
        except subprocess.TimeoutExpired:
            return {"error": "timed out"}
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("{")]
    if result.returncode != 0 or not lines:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {result.returncode}: {tail[0][:120]}"}
    return json.loads(lines[-1])


def torch_available() -> bool:
    try:
        import torch.distributed as tdist
    except ImportError:
        return False
    return tdist.is_available() and tdist.is_gloo_available()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    ap.add_argument("--steps", type=int, default=60, help="steps per timed block")
    ap.add_argument("--blocks", type=int, default=3, help="timed blocks per launch")
    ap.add_argument("--warmup", type=int, default=15)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--frameworks", default="chainrule,torch,numpy")
    ap.add_argument("--worker", choices=("chainrule", "torch", "numpy"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--bucket-mb", type=float, default=25.0, help=argparse.SUPPRESS)
    ap.add_argument("--rendezvous", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    if args.quick:
        args.rounds, args.steps, args.blocks, args.warmup = 1, 10, 1, 3
    frameworks = args.frameworks.split(",")
    if "torch" in frameworks and not torch_available():
        print("torch.distributed (gloo) is not available here: the torch rows are left out")
        frameworks.remove("torch")
    configs = []  # (label, framework, k, bucket_mb)
    for fw in frameworks:
        configs.append((fw, fw, 1, 25.0))
        configs.append((fw, fw, 2, 25.0))
        if fw == "chainrule":
            configs.append(("chainrule 0.25 MB buckets", fw, 2, 0.25))
    results: dict = {c: [] for c in configs}
    load_before = os.getloadavg()[0]
    for _ in range(args.rounds):
        for config in configs:
            results[config].append(launch(config[1], config[2], config[3], args))
    load_after = os.getloadavg()[0]

    def median(config, key):
        values = [r[key] for r in results[config] if "error" not in r and r.get(key) is not None]
        return statistics.median(values) if values else None

    print(f"\nData-parallel MLP {'-'.join(map(str, SIZES))}, float32, SGD, per-rank batch "
          f"128, 1 BLAS thread per rank; {args.rounds} round(s) × {args.blocks} block(s) of "
          f"{args.steps} steps, medians. Load average {load_before:.1f} before, "
          f"{load_after:.1f} after (2-core machine).\n")
    print(f"{'framework':<28}{'K':>3}{'samples/s':>12}{'step ms':>9}{'comm ms':>9}"
          f"{'efficiency':>12}{'vs torch':>10}")
    base = {fw: median((fw, fw, 1, 25.0), "samples_per_s") for fw in frameworks}
    summary = {}
    for config in configs:
        label, fw, k, _ = config
        errors = [r["error"] for r in results[config] if "error" in r]
        rate = median(config, "samples_per_s")
        if rate is None:
            print(f"{label:<28}{k:>3}  failed: {errors[0] if errors else '?'}")
            continue
        step_ms = median(config, "step_ms")
        comm = median(config, "comm_ms")
        eff = rate / (k * base[fw]) if base.get(fw) else None
        torch_rate = median(("torch", "torch", k, 25.0), "samples_per_s") \
            if "torch" in frameworks else None
        summary[(label, k)] = {"rate": rate, "eff": eff, "comm": comm, "step": step_ms}
        print(f"{label:<28}{k:>3}{rate:>12,.0f}{step_ms:>9.2f}"
              f"{(f'{comm:.2f}' if comm is not None and k > 1 else '-'):>9}"
              f"{(f'{eff:.2f}' if eff is not None else '-'):>12}"
              f"{(f'{rate / torch_rate:.2f}' if torch_rate else '-'):>10}")
    cr2 = summary.get(("chainrule", 2))
    if cr2:
        verdict = "meets" if cr2["eff"] >= 0.85 else "misses"
        print(f"\nchainrule DDP scaling efficiency at K = 2: {cr2['eff']:.2f} ({verdict} the "
              f"0.85 target); communication {cr2['comm']:.2f} ms of a {cr2['step']:.2f} ms "
              "step.")
    one = summary.get(("chainrule", 1))
    if one:
        print(f"Compute time per step at K = 1 (for the cost model in docs/distributed.md): "
              f"{one['step']:.2f} ms; model {sum(a * b + b for a, b in itertools.pairwise(SIZES)) * 4 / 1e6:.2f} MB "
              "of float32 gradients.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
