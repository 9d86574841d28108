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
    python bench/bench_ddp.py --paired-only --paired-rounds 30   # the paired job alone

A last job measures the MLP at K = 1 and 2 in one job of two ranks, in alternating
blocks a fraction of a second apart (see ``paired_worker``): the efficiency least moved
by a shared machine's drift.

Rows:
* ``chainrule``: ``nn.parallel.DistributedDataParallel`` with 25 MB buckets (one bucket
  for either model), summed through shared memory when backward ends (all ranks are on
  this machine: see ``chainrule/distributed/bucket_sum.py``); for the MLP also with
  ``gradient_as_bucket_view=True`` (one bucket for the whole run instead of a new one
  when a ``.grad`` is kept; either way each ``.grad`` becomes a view of the averages);
* ``chainrule MPI all-reduce``: the same with ``CHAINRULE_DDP_SHARED_MEMORY=0``, MPI's
  ``Allreduce`` (the way between machines); and with small buckets (0.25 MB: the first
  ones reduced with ``Iallreduce`` while backward goes on: the overlap; the CNN's fully
  connected weights, 95% of its bytes, are the first gradients backward makes);
* ``torch``: ``torch.nn.parallel.DistributedDataParallel``, gloo backend;
* ``numpy``: the MLP by hand, its gradients written into one flat array, one
  ``MPI.Allreduce`` per step: what data parallelism over MPI costs at the least;
* ``... no communication``: K processes that each train their own plain model and never
  communicate (barriers between timed blocks only). Their efficiency is what the machine
  itself allows K processes at that moment (shared caches and memory, a virtual
  machine's cores that its host may place on one physical core): the ceiling of every
  other row at K.

At K = 1 each framework runs its plain model (no wrapper): that is the baseline of the
efficiency. ``comm ms`` is the time per step the step spends in the gradient reduction
after backward (waiting for it and unpacking the averages), where the framework lets us
measure it.
"""

from __future__ import annotations

import argparse
import contextlib
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
# per-rank batch and input shape of each model: the MLP as bench_mlp.py, the CNN
# (conv32-pool-conv64-pool-fc128-fc10 on 1×28×28) as bench_cnn.py
MODELS = {"mlp": (128, (784,)), "cnn": (64, (1, 28, 28))}


def make_batches(rank: int, model: str, n_batches: int = 8) -> list:
    batch, shape = MODELS[model]
    rng = np.random.default_rng(1000 + rank)
    return [(rng.standard_normal((batch, *shape), dtype=np.float32),
             rng.integers(0, 10, batch).astype(np.int64)) for _ in range(n_batches)]


def layers_of(nn, model: str) -> list:
    """The layers of ``model`` in chainrule's or torch's ``nn`` (the same names)."""
    if model == "cnn":
        return [nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10)]
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(SIZES)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(SIZES) - 2:
            layers.append(nn.ReLU())
    return layers


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


def build_chainrule(model_name: str, lr: float, bucket_mb: float, bucket_view: bool = False,
                    independent: bool = False, mpi_all_reduce: bool = False):
    if mpi_all_reduce:  # not through shared memory (see chainrule/distributed/bucket_sum.py)
        os.environ["CHAINRULE_DDP_SHARED_MEMORY"] = "0"
    sys.path.insert(0, str(ROOT / "src"))
    import chainrule as cr
    import chainrule.distributed as dist
    from chainrule import nn
    from chainrule.nn import functional as F

    cr.set_num_threads(1)
    dist.init_process_group(backend="mpi")
    cr.manual_seed(0)  # DDP copies rank 0's weights to the others anyway
    model = nn.Sequential(*layers_of(nn, model_name))
    world = dist.get_world_size()
    net = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=bucket_mb,
                                              gradient_as_bucket_view=bucket_view) \
        if world > 1 and not independent else model
    opt = cr.optim.SGD(net.parameters(), lr=lr)
    batches = [(cr.tensor(x), cr.tensor(y)) for x, y in make_batches(dist.get_rank(),
                                                                      model_name)]

    def step(k: int) -> None:
        x, y = batches[k % len(batches)]
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()

    def comm_seconds() -> float:
        return getattr(net, "communication_seconds", 0.0)

    return step, dist.barrier, comm_seconds if net is not model else None, dist.get_rank(), \
        world


def build_torch(model_name: str, lr: float, bucket_mb: float, rendezvous: str):
    import torch
    import torch.distributed as tdist

    torch.set_num_threads(1)
    rank, size = launcher_rank_size()
    tdist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank,
                             world_size=size)
    torch.manual_seed(0)
    model = torch.nn.Sequential(*layers_of(torch.nn, model_name))
    net = torch.nn.parallel.DistributedDataParallel(model, bucket_cap_mb=bucket_mb) \
        if size > 1 else model
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    batches = [(torch.from_numpy(x), torch.from_numpy(y))
               for x, y in make_batches(rank, model_name)]

    def step(k: int) -> None:
        x, y = batches[k % len(batches)]
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()

    return step, tdist.barrier, None, rank, size


def build_numpy(model_name: str, lr: float, bucket_mb: float, independent: bool = False):
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
    batches = make_batches(rank, "mlp")
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
        if size > 1 and not independent:
            t = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, flat)
            spent[0] += time.perf_counter() - t
        for (w, b), (gw, gb) in zip(params, grads):
            w -= lr * gw
            b -= lr * gb

    return step, comm.Barrier, None if independent else (lambda: spent[0]), rank, size


def sums_worker(args) -> None:
    """One bucket of each model's gradient size summed across the ranks, alone: MPI's
    in-place ``Allreduce`` against chainrule's shared-memory sum (what DDP uses on one
    machine). Each rank rewrites its contribution before each sum, as backward does."""
    from threadpoolctl import threadpool_limits

    sys.path.insert(0, str(ROOT / "src"))
    import chainrule.distributed as dist
    from chainrule.distributed.bucket_sum import bucket_summers

    threadpool_limits(limits=1)
    dist.init_process_group(backend="mpi")
    world = dist.process_group._state.world
    comm, mpi = world.comm, world.MPI
    result = {}
    for model in args.models.split(","):
        n = model_bytes(model) // 4
        source = np.random.default_rng(world.rank).standard_normal(n).astype(np.float32)
        out = np.empty(n, np.float32)
        summer = bucket_summers(world, [(n, np.float32)], owner=out)[0]

        def mpi_sum(source=source, out=out):
            out[...] = source
            comm.Barrier()
            t = time.perf_counter()
            comm.Allreduce(mpi.IN_PLACE, out)
            return time.perf_counter() - t

        def shared_sum(source=source, out=out, summer=summer):
            summer.staging(out)[...] = source
            comm.Barrier()
            t = time.perf_counter()
            summer.sum_into(out)
            return time.perf_counter() - t

        times: dict = {"mpi": [], "shared": []}
        for _ in range(args.steps * 5):
            times["mpi"].append(mpi_sum())
            times["shared"].append(shared_sum())
        result[model] = {k: 1e3 * statistics.median(v[20:]) for k, v in times.items()}
        result[model]["shared_path"] = summer.shared
    if world.rank == 0:
        print(json.dumps(result), flush=True)


def paired_chainrule(model_name: str, lr: float):
    """chainrule's three ways to step in one process: its own plain model (K = 1, and K = 2
    without communication) and a DDP-wrapped one. The wrapper is made for each of its
    blocks and dropped after: its gradient hooks make every backward of the process
    order its nodes for them, which would slow the plain model's steps too."""
    sys.path.insert(0, str(ROOT / "src"))
    import gc

    import chainrule as cr
    import chainrule.distributed as dist
    from chainrule import nn
    from chainrule.nn import functional as F

    cr.set_num_threads(1)
    dist.init_process_group(backend="mpi")
    cr.manual_seed(0)
    plain = nn.Sequential(*layers_of(nn, model_name))
    synced = nn.Sequential(*layers_of(nn, model_name))
    batches = [(cr.tensor(x), cr.tensor(y)) for x, y in make_batches(dist.get_rank(),
                                                                      model_name)]

    def stepper(net):
        opt = cr.optim.SGD(net.parameters(), lr=lr)

        def step(k: int) -> None:
            x, y = batches[k % len(batches)]
            opt.zero_grad()
            F.cross_entropy(net(x), y).backward()
            opt.step()
        return step

    @contextlib.contextmanager
    def plain_steps():
        yield stepper(plain)

    @contextlib.contextmanager
    def ddp_steps():
        net = nn.parallel.DistributedDataParallel(synced)
        try:
            yield stepper(net)
        finally:
            del net
            gc.collect()

    return plain_steps, ddp_steps


def paired_numpy(model_name: str, lr: float):
    """The hand-written floor's plain and all-reduced steps, two sets of weights."""
    plain = build_numpy(model_name, lr, 25.0, independent=True)[0]
    synced = build_numpy(model_name, lr, 25.0)[0]
    return (lambda: contextlib.nullcontext(plain)), (lambda: contextlib.nullcontext(synced))


PAIRED_MODES = ("alone", "synced", "lockstep", "independent")


def paired_worker(args) -> None:
    """K = 1 and K = 2 measured in one job of two ranks, in alternating blocks of steps:
    ``alone``: rank 0 steps its plain model while rank 1 sleeps at a barrier (one
    process's speed, K = 1); ``synced``: both ranks train data-parallel (gradients
    averaged); ``lockstep``: both ranks step their own plain models and meet at a barrier
    after every step (what synchronizing alone costs, no data moved); ``independent``:
    both ranks step their own models and never meet (the machine's ceiling). A shared
    machine's speed drifts by 10-20% within minutes; blocks a fraction of a second apart
    see the same machine, so their ratio, taken round by round, is the efficiency."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    plain_steps, synced_steps = (paired_chainrule if args.paired == "chainrule"
                                 else paired_numpy)(args.model, args.lr)

    @contextlib.contextmanager
    def lockstep_steps():
        with plain_steps() as step:
            def step_and_meet(k: int) -> None:
                step(k)
                comm.Barrier()
            yield step_and_meet

    contexts = {"alone": plain_steps, "synced": synced_steps, "lockstep": lockstep_steps,
                "independent": plain_steps}

    def sleeping_barrier() -> None:
        # (a millisecond between tests: the rank left out of an 'alone' block wakes
        # seldom, and no timed interval ends at this barrier)
        request = comm.Ibarrier()
        while not request.Test():
            time.sleep(1e-3)

    def block(mode: str, k0: int) -> float:
        """Seconds per step of one block of ``mode`` (on rank 0)."""
        alone = mode == "alone"
        with contexts[mode]() as step:
            for k in range(args.warmup):
                step(k0 + k)
            sleeping_barrier()
            t = time.perf_counter()
            if rank == 0 or not alone:
                for k in range(args.steps):
                    step(k0 + k)
            if not alone:
                comm.Barrier()
            elapsed = time.perf_counter() - t
            sleeping_barrier()
            del step  # (so that a DDP wrapper is freed when its context ends)
        return elapsed / args.steps

    modes = PAIRED_MODES
    times: dict = {m: [] for m in modes}
    for r in range(args.rounds):
        for i in range(len(modes)):  # each round starts with another mode
            mode = modes[(r + i) % len(modes)]
            times[mode].append(block(mode, r * args.steps))
    if rank == 0:
        print(json.dumps(times), flush=True)


def worker(args) -> None:
    if args.worker == "sums":
        sums_worker(args)
        return
    if args.worker == "paired":
        paired_worker(args)
        return
    if args.worker == "chainrule":
        step, barrier, comm, rank, size = build_chainrule(args.model, args.lr, args.bucket_mb,
                                                          args.bucket_view, args.independent,
                                                          args.mpi_all_reduce)
    elif args.worker == "torch":
        step, barrier, comm, rank, size = build_torch(args.model, args.lr, args.bucket_mb,
                                                      args.rendezvous)
    else:
        step, barrier, comm, rank, size = build_numpy(args.model, args.lr, args.bucket_mb,
                                                      args.independent)
    batch = MODELS[args.model][0]
    for k in range(args.warmup):
        step(k)
    rates, comm_ms, step_ms, cpu_ms = [], [], [], []
    k = 0
    for _ in range(args.blocks):
        barrier()
        c0 = comm() if comm else 0.0
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step(k)
            k += 1
        barrier()
        elapsed = time.perf_counter() - t0
        cpu_ms.append(1e3 * (time.process_time() - cpu0) / args.steps)
        rates.append(size * batch * args.steps / elapsed)
        step_ms.append(1e3 * elapsed / args.steps)
        if comm:
            comm_ms.append(1e3 * (comm() - c0) / args.steps)
    if rank == 0:
        print(json.dumps({"samples_per_s": statistics.median(rates), "best": max(rates),
                          "step_ms": statistics.median(step_ms),
                          "cpu_ms": statistics.median(cpu_ms),
                          "comm_ms": statistics.median(comm_ms) if comm_ms else None}),
              flush=True)


# ---------------------------------------------------------------------------
# the parent
# ---------------------------------------------------------------------------
def mpiexec() -> str:
    sys.path.insert(0, str(ROOT / "src"))
    from chainrule.distributed.process_group import mpiexec_path

    return mpiexec_path() or "mpiexec"


def run_worker(k: int, worker_args: list) -> dict:
    """This script's worker under ``mpiexec -n k`` with 1 BLAS thread per rank: rank 0's
    JSON line, or ``{"error": ...}``."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    command = [mpiexec(), "-n", str(k), sys.executable, __file__, *worker_args]
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


def launch(framework: str, model: str, k: int, variant: tuple, args) -> dict:
    steps = args.steps if model == "mlp" else max(2, args.steps // 6)
    with tempfile.TemporaryDirectory() as tmp:
        return run_worker(k, ["--worker", framework, "--model", model, *variant,
                              "--steps", str(steps), "--blocks", str(args.blocks),
                              "--warmup", str(args.warmup), "--lr", str(args.lr),
                              "--rendezvous", os.path.join(tmp, "rendezvous")])


def launch_paired(framework: str, args) -> dict:
    """One two-rank job of ``paired_worker``: lists of seconds per step by mode."""
    return run_worker(2, ["--worker", "paired", "--paired", framework, "--model", "mlp",
                          "--rounds", str(args.paired_rounds), "--steps",
                          str(args.paired_steps), "--warmup", "5", "--lr", str(args.lr)])


def print_paired(runs: dict) -> dict:
    """The paired jobs' table; returns each framework's median efficiency."""
    print("\nMLP, K = 1 and K = 2 in one job of two ranks, in alternating blocks (each "
          "efficiency is the median over the rounds of (step time alone) / (step time at "
          "K = 2), both measured within a second of each other): 'averaged' trains "
          "data-parallel, 'lockstep' meets at a barrier after every step and moves no "
          "data, 'independent' never meets")
    print(f"{'framework':<12}{'rounds':>7}{'alone ms':>10}{'averaged ms':>13}"
          f"{'efficiency':>12}{'lockstep eff':>14}{'independent eff':>17}")
    effs = {}
    for fw, times in runs.items():
        if "error" in times:
            print(f"{fw:<12}  failed: {times['error']}")
            continue
        alone = times["alone"]
        eff = {mode: statistics.median(a / t for a, t in zip(alone, times[mode]))
               for mode in PAIRED_MODES}
        effs[fw] = eff["synced"]
        print(f"{fw:<12}{len(alone):>7}{1e3 * statistics.median(alone):>10.2f}"
              f"{1e3 * statistics.median(times['synced']):>13.2f}{eff['synced']:>12.2f}"
              f"{eff['lockstep']:>14.2f}{eff['independent']:>17.2f}")
    return effs


def launch_sums(args) -> dict:
    return run_worker(2, ["--worker", "sums", "--models", args.models,
                          "--steps", str(args.steps)])


def print_sums(runs: list, models: list) -> None:
    print("\nOne bucket summed across K = 2 ranks, alone (median ms per sum, medians over "
          "the rounds; each rank rewrites its contribution before each sum, as backward "
          "does): MPI's Allreduce against chainrule DDP's shared-memory sum")
    print(f"{'gradients':<12}{'MB':>6}{'MPI ms':>9}{'shared ms':>11}{'MPI / shared':>14}")
    for model in models:
        done = [r[model] for r in runs if model in r]
        if not done:
            print(f"{model.upper():<12}  failed")
            continue
        mpi_ms = statistics.median(r["mpi"] for r in done)
        shared_ms = statistics.median(r["shared"] for r in done)
        path = "" if all(r["shared_path"] for r in done) else "  (no shared memory here)"
        print(f"{model.upper():<12}{model_bytes(model) / 1e6:>6.2f}{mpi_ms:>9.3f}"
              f"{shared_ms:>11.3f}{mpi_ms / shared_ms:>14.1f}{path}")


def torch_available() -> bool:
    try:
        import torch.distributed as tdist
    except ImportError:
        return False
    return tdist.is_available() and tdist.is_gloo_available()


def model_bytes(model: str) -> int:
    """float32 bytes of the model's gradients: what every step all-reduces."""
    if model == "mlp":
        return 4 * sum(a * b + b for a, b in itertools.pairwise(SIZES))
    return 4 * ((1 * 9 * 32 + 32) + (32 * 9 * 64 + 64) + (3136 * 128 + 128) + (128 * 10 + 10))


RING_SIZES = (2, 4, 8, 16, 32, 64, 128, 256)
NETWORKS = ((10, 10e-6), (100, 2e-6))  # Gbit/s, per-message latency assumed (TCP, RDMA)


def cost_model(model: str, compute_s: float) -> None:
    """Ring all-reduce: each rank sends and receives 2(K−1)/K × M bytes per step, in
    2(K−1) messages. Efficiency without overlap = compute / (compute + communication)."""
    m = model_bytes(model)
    print(f"\nCost model, {model.upper()}: M = {m / 1e6:.2f} MB of gradients per step, "
          f"compute {compute_s * 1e3:.2f} ms per step (processor time of a step at K = 1, "
          "measured above). Ring "
          "all-reduce time = 2(K−1)/K·M/bandwidth + 2(K−1)·latency (latency 10 µs at "
          "10 Gbit/s TCP, 2 µs at 100 Gbit/s RDMA, assumed).")
    header = f"{'K':>5}{'MB/rank':>9}"
    for gbit, _ in NETWORKS:
        header += f"{f'{gbit}G ms':>10}{f'{gbit}G eff':>10}"
    print(header)
    for k in RING_SIZES:
        sent = 2 * (k - 1) / k * m
        row = f"{k:>5}{sent / 1e6:>9.2f}"
        for gbit, latency in NETWORKS:
            t = sent / (gbit * 1e9 / 8) + 2 * (k - 1) * latency
            row += f"{t * 1e3:>10.2f}{compute_s / (compute_s + t):>10.2f}"
        print(row)
    for gbit, latency in NETWORKS:
        bound = [k for k in RING_SIZES
                 if 2 * (k - 1) / k * m / (gbit * 1e9 / 8) + 2 * (k - 1) * latency > compute_s]
        where = f"from K = {bound[0]}" if bound else "at no K up to 256"
        print(f"  {gbit} Gbit/s: communication exceeds compute {where}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    ap.add_argument("--steps", type=int, default=60, help="MLP steps per timed block "
                    "(the CNN runs a sixth of them)")
    ap.add_argument("--blocks", type=int, default=3, help="timed blocks per launch")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--paired-rounds", type=int, default=20,
                    help="rounds of the MLP's paired job (K = 1 and 2 in one job)")
    ap.add_argument("--paired-steps", type=int, default=100,
                    help="steps per block of the paired job")
    ap.add_argument("--paired-only", action="store_true",
                    help="run only the MLP's paired job (chainrule and the NumPy floor)")
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--frameworks", default="chainrule,torch,numpy")
    ap.add_argument("--models", default="mlp,cnn")
    ap.add_argument("--worker", choices=("chainrule", "torch", "numpy", "sums", "paired"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--paired", default="chainrule", choices=("chainrule", "numpy"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--model", default="mlp", choices=tuple(MODELS), help=argparse.SUPPRESS)
    ap.add_argument("--bucket-mb", type=float, default=25.0, help=argparse.SUPPRESS)
    ap.add_argument("--bucket-view", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--independent", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--mpi-all-reduce", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--rendezvous", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    if args.quick:
        args.rounds, args.steps, args.blocks, args.warmup = 1, 12, 1, 2
        args.paired_rounds, args.paired_steps = 2, 6
    if args.paired_only:
        effs = print_paired({fw: launch_paired(fw, args) for fw in ("chainrule", "numpy")})
        return 0 if effs else 1
    frameworks = args.frameworks.split(",")
    if "torch" in frameworks and not torch_available():
        print("torch.distributed (gloo) is not available here: the torch rows are left out")
        frameworks.remove("torch")
    configs = []  # (model, label, framework, k, extra worker arguments)
    for model in args.models.split(","):
        for fw in frameworks:
            if fw == "numpy" and model != "mlp":
                continue  # the hand-written floor exists for the MLP only
            configs.append((model, fw, fw, 1, ()))
            configs.append((model, fw, fw, 2, ()))
            if fw == "chainrule":
                configs.append((model, "chainrule MPI all-reduce", fw, 2,
                                ("--mpi-all-reduce",)))
                configs.append((model, "chainrule MPI, 0.25 MB buckets", fw, 2,
                                ("--mpi-all-reduce", "--bucket-mb", "0.25")))
            if fw == "chainrule" and model == "mlp":
                configs.append((model, "chainrule bucket views", fw, 2, ("--bucket-view",)))
            if fw in ("chainrule", "numpy"):
                configs.append((model, f"{fw} no communication", fw, 2, ("--independent",)))
    results: dict = {c: [] for c in configs}
    load_before = os.getloadavg()[0]
    for _ in range(args.rounds):
        for config in configs:
            model, _, fw, k, variant = config
            results[config].append(launch(fw, model, k, variant, args))
    sums = [launch_sums(args) for _ in range(args.rounds)]
    paired = {fw: launch_paired(fw, args) for fw in ("chainrule", "numpy")
              if fw in frameworks and "mlp" in args.models.split(",")}
    load_after = os.getloadavg()[0]

    def median(config, key):
        values = [r[key] for r in results[config] if "error" not in r and r.get(key) is not None]
        return statistics.median(values) if values else None

    def best(config):
        values = [r["best"] for r in results[config] if "error" not in r]
        return max(values) if values else None

    print(f"\nData parallel over MPI, float32, SGD, 1 BLAS thread per rank; {args.rounds} "
          f"round(s) × {args.blocks} block(s), medians. Load average {load_before:.1f} "
          f"before, {load_after:.1f} after ({os.cpu_count()} cores). 'best-block eff': the "
          "fastest timed block at K over the fastest at K = 1, what the least disturbed "
          "moments of a shared machine show.")
    summary = {}
    for model in args.models.split(","):
        batch = MODELS[model][0]
        print(f"\n{model.upper()}, per-rank batch {batch}")
        print(f"{'framework':<32}{'K':>3}{'samples/s':>12}{'step ms':>9}{'comm ms':>9}"
              f"{'efficiency':>12}{'vs torch':>10}{'best-block eff':>16}")
        for config in [c for c in configs if c[0] == model]:
            _, label, fw, k, _ = config
            errors = [r["error"] for r in results[config] if "error" in r]
            rate = median(config, "samples_per_s")
            if rate is None:
                print(f"{label:<32}{k:>3}  failed: {errors[0] if errors else '?'}")
                continue
            base = median((model, fw, fw, 1, ()), "samples_per_s")
            step_ms = median(config, "step_ms")
            comm = median(config, "comm_ms")
            eff = rate / (k * base) if base else None
            base_best = best((model, fw, fw, 1, ()))
            eff_best = best(config) / (k * base_best) if base_best else None
            torch_rate = median((model, "torch", "torch", k, ()), "samples_per_s") \
                if "torch" in frameworks else None
            summary[(model, label, k)] = {"rate": rate, "eff": eff, "comm": comm,
                                          "step": step_ms, "cpu": median(config, "cpu_ms")}
            print(f"{label:<32}{k:>3}{rate:>12,.0f}{step_ms:>9.2f}"
                  f"{(f'{comm:.2f}' if comm is not None and k > 1 else '-'):>9}"
                  f"{(f'{eff:.2f}' if eff is not None else '-'):>12}"
                  f"{(f'{rate / torch_rate:.2f}' if torch_rate else '-'):>10}"
                  f"{(f'{eff_best:.2f}' if eff_best is not None else '-'):>16}")
        two = summary.get((model, "chainrule", 2))
        if two and two["eff"] is not None:
            target = " (target 0.85)" if model == "mlp" else ""
            print(f"chainrule DDP scaling efficiency at K = 2: {two['eff']:.2f}{target}; "
                  f"communication {two['comm']:.2f} ms of a {two['step']:.2f} ms step")
            ceiling = summary.get((model, "chainrule no communication", 2))
            if ceiling and ceiling["eff"]:
                print(f"two chainrule processes that never communicate: {ceiling['eff']:.2f} "
                      "(what the machine allows now); DDP keeps "
                      f"{two['eff'] / ceiling['eff']:.2f} of it")
    effs = print_paired(paired)
    if "chainrule" in effs:
        print(f"chainrule DDP scaling efficiency at K = 2 measured this way: "
              f"{effs['chainrule']:.2f} (target 0.85)"
              + (f"; the hand-written NumPy + MPI floor: {effs['numpy']:.2f}"
                 if "numpy" in effs else ""))
    print_sums(sums, args.models.split(","))
    for model in args.models.split(","):
        one = summary.get((model, "chainrule", 1))
        if one:
            # the processor time of a step at K = 1: what the step costs without waiting
            # for a core, which a shared machine's wall clock adds
            compute = min(one["step"], one["cpu"] or one["step"])
            cost_model(model, compute / 1e3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
