"""Programs that tests/test_distributed.py runs under ``mpiexec -n K``.

``python tests/mpi_scenarios.py NAME [ARGS]`` runs scenario NAME on every rank. A
scenario checks its results with ``assert`` on every rank; a failed check is an
uncaught exception, which aborts the whole job (see chainrule.distributed), so the
test sees a non-zero exit status and the traceback. Rank 0 prints ``NAME ok`` at the
end.
"""

from __future__ import annotations

import os
import sys
import time
import warnings

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule.data.distributed import DistributedSampler
from chainrule.nn.parallel import DistributedDataParallel

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


def rank_data(rank: int, shape, dtype) -> np.ndarray:
    """The values rank ``rank`` contributes; every rank can rebuild every rank's."""
    values = np.random.default_rng(100 + rank).standard_normal(shape) * 4
    if np.dtype(dtype).kind in "iu":
        values = np.round(values) + (0 if np.dtype(dtype).kind == "i" else 20)
    return values.astype(dtype)


@scenario
def collectives() -> None:
    rank, size = dist.get_rank(), dist.get_world_size()
    everyone = lambda shape, dtype: np.stack(
        [rank_data(r, shape, dtype) for r in range(size)])
    reference = {"SUM": lambda a: a.sum(0), "PRODUCT": lambda a: a.prod(0),
                 "MIN": lambda a: a.min(0), "MAX": lambda a: a.max(0),
                 "AVG": lambda a: a.sum(0) / size}
    for dtype in (np.float32, np.float64, np.int32, np.int64, np.uint8):
        for name, fn in reference.items():
            if name == "AVG" and np.dtype(dtype).kind != "f":
                t = cr.tensor(rank_data(rank, (3,), dtype))
                try:
                    dist.all_reduce(t, op=dist.ReduceOp.AVG)
                except TypeError as e:
                    assert "AVG needs a floating tensor" in str(e)
                else:
                    raise AssertionError("AVG on integers must raise")
                continue
            op = getattr(dist.ReduceOp, name)
            expected = fn(everyone((4, 5), dtype)).astype(dtype)
            t = cr.tensor(rank_data(rank, (4, 5), dtype))
            before = t._version
            assert dist.all_reduce(t, op=op) is None
            assert t.dtype == dtype and t.shape == (4, 5)
            assert t._version > before
            np.testing.assert_allclose(t.numpy(), expected, rtol=1e-6, err_msg=f"{name} {dtype}")
            # reduce: only dst gets the result, the others keep their values
            t = cr.tensor(rank_data(rank, (4, 5), dtype))
            dist.reduce(t, dst=size - 1, op=op)
            want = expected if rank == size - 1 else rank_data(rank, (4, 5), dtype)
            np.testing.assert_allclose(t.numpy(), want, rtol=1e-6, err_msg=f"reduce {name}")
    # a non-contiguous tensor (a transposed view), a 0-d tensor, float16, a NumPy array
    base = rank_data(rank, (3, 4), np.float64)
    view = cr.tensor(base.copy()).T
    dist.all_reduce(view)
    np.testing.assert_allclose(view.numpy(), everyone((3, 4), np.float64).sum(0).T)
    scalar = cr.tensor(float(rank + 1))
    dist.all_reduce(scalar, op=dist.ReduceOp.MAX)
    assert scalar.item() == size
    half = cr.tensor(rank_data(rank, (6,), np.float16))
    dist.all_reduce(half)
    assert half.dtype == np.float16
    np.testing.assert_allclose(half.numpy(), everyone((6,), np.float16).astype(np.float32)
                               .sum(0), rtol=2e-3)
    array = rank_data(rank, (5,), np.float64)
    dist.all_reduce(array)
    np.testing.assert_allclose(array, everyone((5,), np.float64).sum(0))
    # asynchronous
    t = cr.tensor(rank_data(rank, (7,), np.float64))
    work = dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True)
    work.wait()
    assert work.is_completed()
    np.testing.assert_allclose(t.numpy(), everyone((7,), np.float64).mean(0))
    # broadcast from the last rank, every dtype, bool included
    for dtype in (np.float32, np.int64, np.bool_, np.float16):
        t = cr.tensor(rank_data(rank, (2, 3), np.float64).astype(dtype))
        dist.broadcast(t, src=size - 1)
        np.testing.assert_array_equal(t.numpy(), rank_data(size - 1, (2, 3), np.float64)
                                      .astype(dtype))
    # all_gather into a list of tensors
    outs = [cr.zeros(2, 2, dtype=cr.float64) for _ in range(size)]
    dist.all_gather(outs, cr.tensor(rank_data(rank, (2, 2), np.float64)))
    for r, out in enumerate(outs):
        np.testing.assert_array_equal(out.numpy(), rank_data(r, (2, 2), np.float64))
    try:
        dist.all_gather(outs[:1] if size > 1 else [], cr.zeros(2, 2))
    except ValueError as e:
        assert f"list of {size} tensors" in str(e)
    else:
        raise AssertionError("a tensor_list of the wrong length must raise")
    objects = [None] * size
    dist.all_gather_object(objects, {"rank": rank})
    assert objects == [{"rank": r} for r in range(size)]
    box = [f"from {rank}"]
    dist.broadcast_object_list(box, src=0)
    assert box == ["from 0"]
    assert [r for r, _, _ in dist.describe_world()] == list(range(size))
    dist.barrier()
    # the sampler with the group's rank and size
    sampler = DistributedSampler(list(range(23)), shuffle=True, seed=5)
    sampler.set_epoch(3)
    shards = [None] * size
    dist.all_gather_object(shards, list(sampler))
    total = [i for shard in shards for i in shard]
    assert len(total) == sampler.total_size and set(total) == set(range(23))
    assert all(len(s) == len(sampler) for s in shards)


@scenario
def more_collectives() -> None:
    """The rest of torch.distributed's collectives and point-to-point messages, against
    NumPy; the launcher's rank in torchrun's variables; groups and backends."""
    rank, size = dist.get_rank(), dist.get_world_size()
    assert os.environ["RANK"] == str(rank) and os.environ["WORLD_SIZE"] == str(size)
    assert int(os.environ["LOCAL_RANK"]) == rank  # one machine
    everyone = lambda shape, dtype: np.stack(
        [rank_data(r, shape, dtype) for r in range(size)])
    # gather to the last rank; scatter from it
    for dtype in (np.float32, np.int64, np.bool_):
        mine = cr.tensor(rank_data(rank, (2, 3), np.float64).astype(dtype))
        outs = [cr.zeros(2, 3, dtype=mine.dtype) for _ in range(size)] \
            if rank == size - 1 else None
        dist.gather(mine, outs, dst=size - 1)
        if outs is not None:
            for r, out in enumerate(outs):
                np.testing.assert_array_equal(
                    out.numpy(), rank_data(r, (2, 3), np.float64).astype(dtype))
        parts = [cr.tensor(rank_data(10 + r, (4,), np.float64).astype(dtype))
                 for r in range(size)] if rank == size - 1 else None
        got = cr.zeros(4, dtype=mine.dtype)
        dist.scatter(got, parts, src=size - 1)
        np.testing.assert_array_equal(got.numpy(),
                                      rank_data(10 + rank, (4,), np.float64).astype(dtype))
    # reduce_scatter: rank r gets part r combined over the ranks
    contributions = np.stack([rank_data(r, (size, 3), np.float64) for r in range(size)])
    for name, fn in {"SUM": lambda a: a.sum(0), "MAX": lambda a: a.max(0),
                     "AVG": lambda a: a.mean(0)}.items():
        out = cr.zeros(3, dtype=cr.float64)
        mine = rank_data(rank, (size, 3), np.float64)
        dist.reduce_scatter(out, [cr.tensor(row) for row in mine],
                            op=getattr(dist.ReduceOp, name))
        np.testing.assert_allclose(out.numpy(), fn(contributions)[rank], err_msg=name)
        out = cr.zeros(3, dtype=cr.float64)
        dist.reduce_scatter_tensor(out, cr.tensor(mine.reshape(-1)),
                                   op=getattr(dist.ReduceOp, name))
        np.testing.assert_allclose(out.numpy(), fn(contributions)[rank], err_msg=name)
    # all_gather into one tensor, concatenated and stacked
    cat = cr.zeros(2 * size, 3, dtype=cr.float32)
    dist.all_gather_into_tensor(cat, cr.tensor(rank_data(rank, (2, 3), np.float32)))
    np.testing.assert_array_equal(cat.numpy(),
                                  everyone((2, 3), np.float32).reshape(2 * size, 3))
    stacked = cr.zeros(size, 2, 3, dtype=cr.float32)
    dist.all_gather_into_tensor(stacked, cr.tensor(rank_data(rank, (2, 3), np.float32)))
    np.testing.assert_array_equal(stacked.numpy(), everyone((2, 3), np.float32))
    # all_to_all: rank r's part s lands in rank s's slot r
    sent = rank_data(rank, (size, 2), np.float64)
    outs = [cr.zeros(2, dtype=cr.float64) for _ in range(size)]
    dist.all_to_all(outs, [cr.tensor(row) for row in sent])
    for r, out in enumerate(outs):
        np.testing.assert_array_equal(out.numpy(), rank_data(r, (size, 2), np.float64)[rank])
    single = cr.zeros(size, 2, dtype=cr.float64)
    dist.all_to_all_single(single, cr.tensor(sent))
    np.testing.assert_array_equal(single.numpy(), np.stack(
        [rank_data(r, (size, 2), np.float64)[rank] for r in range(size)]))
    # objects
    gathered = [None] * size if rank == 0 else None
    dist.gather_object({"rank": rank}, gathered, dst=0)
    if rank == 0:
        assert gathered == [{"rank": r} for r in range(size)]
    box = [None]
    dist.scatter_object_list(box, [f"to {r}" for r in range(size)] if rank == 0 else None,
                             src=0)
    assert box == [f"to {rank}"]
    # point to point around the ring, blocking and not
    right, left = (rank + 1) % size, (rank - 1) % size
    incoming = cr.zeros(3, dtype=cr.float64)
    work = dist.irecv(incoming, src=left, tag=7)
    dist.isend(cr.tensor(rank_data(rank, (3,), np.float64)), dst=right, tag=7).wait()
    work.wait()
    np.testing.assert_array_equal(incoming.numpy(), rank_data(left, (3,), np.float64))
    if rank == 0:
        dist.send(cr.tensor([1.5, 2.5]), dst=1)
    elif rank == 1:
        got = cr.zeros(2)
        assert dist.recv(got) == 0
        np.testing.assert_array_equal(got.numpy(), [1.5, 2.5])
    try:
        dist.send(cr.zeros(1), dst=rank)
    except ValueError as e:
        assert "own rank" in str(e)
    else:
        raise AssertionError("sending to oneself must raise")
    # bitwise reductions on integers and bools, as gloo
    bits = everyone((5,), np.int64)
    for name, fn in {"BAND": np.bitwise_and, "BOR": np.bitwise_or,
                     "BXOR": np.bitwise_xor}.items():
        t = cr.tensor(rank_data(rank, (5,), np.int64))
        dist.all_reduce(t, op=getattr(dist.ReduceOp, name))
        np.testing.assert_array_equal(t.numpy(), fn.reduce(bits, axis=0), err_msg=name)
        flags = cr.tensor(np.array([rank == 0, True, False, rank == 1]))
        dist.all_reduce(flags, op=getattr(dist.ReduceOp, name))
        assert flags.dtype == cr.bool
        expected = fn.reduce(np.array([[r == 0, True, False, r == 1] for r in range(size)]))
        np.testing.assert_array_equal(flags.numpy(), expected, err_msg=f"bool {name}")
    try:
        dist.all_reduce(cr.ones(2), op=dist.ReduceOp.BAND)
    except TypeError as e:
        assert "BAND is bitwise: it needs an integer or bool tensor" in str(e)
    else:
        raise AssertionError("a bitwise reduction of floats must raise")
    # several messages posted together
    incoming = [cr.zeros(2, dtype=cr.float64) for _ in range(2)]
    works = dist.batch_isend_irecv(
        [dist.P2POp(dist.irecv, incoming[0], left, tag=11),
         dist.P2POp(dist.irecv, incoming[1], right, tag=12),
         dist.P2POp(dist.isend, cr.tensor(rank_data(rank, (2,), np.float64)), right, tag=11),
         dist.P2POp(dist.isend, cr.tensor(rank_data(rank, (2,), np.float64)), left, tag=12)])
    for work in works:
        work.wait()
    np.testing.assert_array_equal(incoming[0].numpy(), rank_data(left, (2,), np.float64))
    np.testing.assert_array_equal(incoming[1].numpy(), rank_data(right, (2,), np.float64))
    assert dist.get_node_local_rank() == rank
    # groups and names
    assert dist.new_group() == dist.group.WORLD == dist.new_group(list(range(size)))
    try:
        dist.new_group([0])
    except dist.DistributedError as e:
        assert "not supported" in str(e)
    else:
        raise AssertionError("a group of some of the ranks must raise")
    assert dist.get_process_group_ranks(dist.group.WORLD) == list(range(size))
    assert dist.get_global_rank(None, size - 1) == size - 1
    assert dist.Backend("GLOO") == dist.Backend.GLOO == "gloo"
    assert dist.is_gloo_available() and not dist.is_nccl_available()
    import datetime

    dist.monitored_barrier(timeout=datetime.timedelta(seconds=30), wait_all_ranks=True)


def _raises(fn, *fragments: str) -> None:
    try:
        fn()
    except ValueError as e:
        for fragment in fragments:
            assert fragment in str(e), (fragment, str(e))
    else:
        raise AssertionError(f"expected a ValueError saying {fragments}")


@scenario
def mismatched_calls() -> None:
    """Ranks that call collectives with different shapes, dtypes, roots or collectives,
    and messages that do not fit the receiving tensor: errors naming both sides (on
    every rank, for the collectives), never MPI's abort, a hang or wrong values."""
    rank = dist.get_rank()
    _raises(lambda: dist.all_reduce(cr.ones(2 if rank == 0 else 3)),
            "all_reduce: the ranks disagree: rank 0 called all_reduce with shape (2,) "
            "float32 (op=sum), rank 1 called all_reduce with shape (3,) float32 (op=sum)")
    _raises(lambda: dist.all_reduce(cr.ones(2, dtype=cr.float32 if rank else cr.float64)),
            "rank 0 called all_reduce with shape (2,) float64", "(2,) float32")
    _raises(lambda: dist.broadcast(cr.ones(2), src=rank),  # each rank thinks it is the root
            "rank 0 called broadcast with shape (2,) float32 (src=0), rank 1 called "
            "broadcast with shape (2,) float32 (src=1)")
    _raises(lambda: dist.all_reduce(cr.ones(2)) if rank == 0 else dist.broadcast(cr.ones(2)),
            "rank 0 called all_reduce", "rank 1 called broadcast")
    t = cr.ones(2)
    dist.all_reduce(t)  # the ranks are still in step after all that
    assert t.tolist() == [2.0, 2.0]
    if rank == 0:
        dist.send(cr.tensor([1.0, 2.0], dtype=cr.float64), dst=1)
        dist.send(cr.tensor([1.0, 2.0, 3.0, 4.0]), dst=1, tag=3)
        dist.isend(cr.arange(10.0), dst=1, tag=4).wait()
    elif rank == 1:
        _raises(lambda: dist.recv(cr.zeros(3, dtype=cr.float64), src=0),
                "recv: rank 0 sent a tensor of shape (2,) and dtype float64, but the "
                "receiving tensor has shape (3,) and dtype float64")
        _raises(lambda: dist.recv(cr.zeros(2, dtype=cr.float64), src=0, tag=3),
                "shape (4,) and dtype float32", "shape (2,) and dtype float64")
        _raises(lambda: dist.irecv(cr.zeros(3), src=0, tag=4).wait(),
                "irecv: rank 0 sent more than the receiving tensor's 12 bytes")
    dist.barrier()


@scenario
def missing_at_barrier() -> None:
    """Rank 1 never reaches the monitored barrier: rank 0 names it."""
    import datetime

    if dist.get_rank() == 1:
        time.sleep(600)
    dist.monitored_barrier(timeout=datetime.timedelta(seconds=2))


def _batches(seed: int, n_steps: int, size: int, per_rank: int):
    """The same global batches on every rank: step s, rank r gets rows r·B … (r+1)·B."""
    g = np.random.default_rng(seed)
    xs = g.standard_normal((n_steps, size * per_rank, 6))
    ys = g.integers(0, 3, (n_steps, size * per_rank))
    return xs, ys


def _model(seed: int) -> cr.nn.Module:
    cr.manual_seed(seed)
    return cr.nn.Sequential(cr.nn.Linear(6, 16), cr.nn.Tanh(), cr.nn.Linear(16, 8),
                            cr.nn.ReLU(), cr.nn.Linear(8, 3)).double()


def _optimizer(name: str, params):
    if name == "sgd":
        return cr.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-3)
    return cr.optim.Adam(params, lr=0.01)


@scenario
def equivalence(optimizer: str = "sgd", bucket_cap_mb: str = "25", view: str = "0") -> None:
    """K ranks × batch B with DDP = one process with batch K·B on the union; each .grad
    is a view of a bucket, and (without gradient_as_bucket_view) a .grad kept from the
    first step keeps its values through the later ones."""
    rank, size = dist.get_rank(), dist.get_world_size()
    per_rank, steps = 5, 6
    xs, ys = _batches(7, steps, size, per_rank)
    model = _model(seed=1000 + rank)  # different starting weights on every rank
    ddp = DistributedDataParallel(model, bucket_cap_mb=float(bucket_cap_mb),
                                  gradient_as_bucket_view=view == "1")
    if float(bucket_cap_mb) < 0.001:
        assert len(ddp._buckets) > 2, len(ddp._buckets)
    reference = _model(seed=1000)  # rank 0's starting weights
    for (name, p), (_, q) in zip(model.named_parameters(), reference.named_parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=f"broadcast {name}")
    opt, ref_opt = _optimizer(optimizer, ddp.parameters()), \
        _optimizer(optimizer, reference.parameters())
    loss_fn = cr.nn.CrossEntropyLoss()
    for s in range(steps):
        mine = slice(rank * per_rank, (rank + 1) * per_rank)
        opt.zero_grad()
        loss_fn(ddp(cr.tensor(xs[s, mine])), cr.tensor(ys[s, mine])).backward()
        if s == 0:
            kept = [p.grad for p in model.parameters()]
            kept_values = [g.numpy().copy() for g in kept]
        opt.step()
        ref_opt.zero_grad()
        loss_fn(reference(cr.tensor(xs[s])), cr.tensor(ys[s])).backward()
        ref_opt.step()
    for (name, p), (_, q) in zip(model.named_parameters(), reference.named_parameters()):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"{optimizer} {name}")
        assert any(np.shares_memory(p.grad.array, b.flat) for b in ddp._buckets), name
    changed = [not np.array_equal(g.numpy(), v) for g, v in zip(kept, kept_values)]
    assert any(changed) if view == "1" else not any(changed), changed
    assert ddp.synchronized_steps == steps
    expected = os.environ.get("EXPECT_SUM_PATH")  # how the buckets travel: see bucket_sum
    if expected:
        paths = {"shared" if b.summer.shared else "message" for b in ddp._buckets}
        assert paths == {expected}, (paths, expected)
        said = "shared memory" if expected == "shared" else "MPI all-reduce"
        assert f"summed through {said}" in repr(ddp).splitlines()[1], repr(ddp)


class _TwoPrecisions(cr.nn.Module):
    """A float32 branch and a float64 branch: DDP makes one bucket per dtype."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        cr.manual_seed(seed)
        self.single = cr.nn.Linear(6, 3)
        self.double = cr.nn.Linear(6, 3).double()

    def forward(self, x):  # two separate outputs: no float32 rounding in the float64 part
        return self.single(x.float()), self.double(x)


@scenario
def two_precisions() -> None:
    """float32 and float64 parameters side by side (a bucket each, aligned regions of
    one window): DDP = one process on the union, to each dtype's round-off."""
    rank, size = dist.get_rank(), dist.get_world_size()
    per_rank, steps = 4, 4
    xs, ys = _batches(3, steps, size, per_rank)
    model, reference = _TwoPrecisions(seed=10 + rank), _TwoPrecisions(seed=10)
    ddp = DistributedDataParallel(model, bucket_cap_mb=1)
    assert sorted(str(b.dtype) for b in ddp._buckets) == ["float32", "float64"]
    opt = cr.optim.SGD(ddp.parameters(), lr=0.1)
    ref_opt = cr.optim.SGD(reference.parameters(), lr=0.1)
    for s in range(steps):
        mine = slice(rank * per_rank, (rank + 1) * per_rank)
        for net, optimizer, x, y in ((ddp, opt, xs[s, mine], ys[s, mine]),
                                     (reference, ref_opt, xs[s], ys[s])):
            optimizer.zero_grad()
            single, double = net(cr.tensor(x))
            target = cr.tensor(np.eye(3)[y])
            (cr.nn.functional.mse_loss(single, target.float())
             + cr.nn.functional.mse_loss(double, target)).backward()
            optimizer.step()
    for (name, p), (_, q) in zip(model.named_parameters(), reference.named_parameters()):
        tol = 1e-5 if p.dtype == cr.float32 else 1e-12
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=tol, atol=tol, err_msg=name)


@scenario
def shared_pool() -> None:
    """DDP's shared-memory windows come back to the pool when a wrapper dies and are
    reused; ranks whose wrappers died at different moments still agree on a window."""
    rank = dist.get_rank()
    pool = dist.process_group._state.world.shared_pool()
    assert pool is not None
    x, y = cr.tensor(np.full((4, 6), rank + 1.0)), cr.tensor(np.array([0, 1, 2, 0]))

    def wrap_and_step(seed: int, width: int = 16):
        cr.manual_seed(seed)
        model = cr.nn.Sequential(cr.nn.Linear(6, width), cr.nn.Tanh(),
                                 cr.nn.Linear(width, 3)).double()
        ddp = DistributedDataParallel(model)
        for _ in range(3):  # both parities of the windows
            ddp.zero_grad()
            cr.nn.functional.cross_entropy(ddp(x), y).backward()
        grads = np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])
        everyone = dist.process_group._state.world.allgather_object(grads)
        np.testing.assert_array_equal(everyone[0], everyone[-1])
        return ddp

    first = wrap_and_step(1)
    assert len(pool.windows) == 1 and pool.windows[0].leased
    if rank == 0:
        del first  # rank 0's wrapper dies now, the others' later
    second = wrap_and_step(2)
    assert len(pool.windows) == 2, "the ranks disagreed on a free window: a new one"
    first = None  # (deleted already on rank 0)
    del second
    third = wrap_and_step(3)  # reuses a window free everywhere; the other is freed
    assert len(pool.windows) == 1 and pool.windows[0].leased
    wider = wrap_and_step(4, width=64)  # more than any free window holds
    assert len(pool.windows) == 2
    del third, wider
    # wrappers that die at different moments on different ranks, again and again: the
    # pool stays small (it grew by one window per wrapper when the ranks' smallest free
    # windows differed)
    held = wrap_and_step(5)
    for seed in range(6, 12):
        if rank == 0:
            held = None  # rank 0 drops its wrapper before making the next one
        made = wrap_and_step(seed)
        held = made
        assert len(pool.windows) <= 3, [w.number for w in pool.windows]
    del held, made


@scenario
def accumulation() -> None:
    """no_sync over micro-batches, then one synchronized backward = one big step; and a
    parameter unused on one rank (or on all) is handled."""
    rank, size = dist.get_rank(), dist.get_world_size()
    micro, per_micro = 3, 4
    xs, ys = _batches(11, micro, size, per_micro)
    model = _model(seed=5)
    ddp = DistributedDataParallel(model, bucket_cap_mb=0.0005)
    reference = _model(seed=5)
    loss_fn = cr.nn.CrossEntropyLoss()
    mine = slice(rank * per_micro, (rank + 1) * per_micro)
    with ddp.no_sync():
        for m in range(micro - 1):
            (loss_fn(ddp(cr.tensor(xs[m, mine])), cr.tensor(ys[m, mine])) / micro).backward()
    w = model[0].weight
    local = w.grad.numpy().copy()
    (loss_fn(ddp(cr.tensor(xs[-1, mine])), cr.tensor(ys[-1, mine])) / micro).backward()
    for m in range(micro):
        (loss_fn(reference(cr.tensor(xs[m])), cr.tensor(ys[m])) / micro).backward()
    for (name, p), (_, q) in zip(model.named_parameters(), reference.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"accumulated {name}")
    assert not np.allclose(local, w.grad.numpy())  # the no_sync grads stayed local

    class TwoHeads(cr.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = cr.nn.Linear(3, 4)
            self.head_a = cr.nn.Linear(4, 1)
            self.head_b = cr.nn.Linear(4, 1)  # used by rank 0 only
            self.never = cr.nn.Linear(4, 1)  # used by nobody

        def forward(self, x, use_b):
            h = self.body(x)
            return self.head_b(h) if use_b else self.head_a(h)

    cr.manual_seed(3)
    net = TwoHeads().double()
    ddp = DistributedDataParallel(net, find_unused_parameters=True)
    x = cr.tensor(np.full((2, 3), rank + 1.0))
    ddp(x, use_b=(rank == 0)).sum().backward()
    assert net.never.weight.grad is None  # unused everywhere: no gradient, as one process
    grads = [None] * size
    dist.all_gather_object(grads, net.head_b.weight.grad.numpy())
    assert all(np.array_equal(grads[0], g) for g in grads)  # identical on every rank
    # a backward that bypassed the wrapper is not averaged: say so, once
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net(x, use_b=True).sum().backward()
        net(x, use_b=True).sum().backward()
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "not averaged across the ranks" in messages[0], messages
    # the first wrapper is gone (``ddp`` was rebound): its hooks went with it
    import gc

    from chainrule.autograd import _post_accumulate_hooks

    gc.collect()
    assert not any(id(p) in _post_accumulate_hooks for p in model.parameters())


@scenario
def uneven(divide: str = "1") -> None:
    """Rank r trains on r + 2 batches inside ddp.join(): the same weights on every rank as
    one process that sums, at each step, the gradients of the ranks still training and
    divides by the world size (or by their number); and with throw_on_early_termination
    every rank raises when the first one runs out."""
    rank, size = dist.get_rank(), dist.get_world_size()
    steps = [r + 2 for r in range(size)]
    data = {r: _batches(50 + r, steps[r], 1, 4) for r in range(size)}
    model, reference = _model(seed=1000 + rank), _model(seed=1000)
    ddp = DistributedDataParallel(model, bucket_cap_mb=0.0005)
    opt = cr.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    ref_opt = cr.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    loss_fn = cr.nn.CrossEntropyLoss()
    with ddp.join(divide_by_initial_world_size=divide == "1"):
        xs, ys = data[rank]
        for s in range(steps[rank]):
            opt.zero_grad()
            loss_fn(ddp(cr.tensor(xs[s])), cr.tensor(ys[s])).backward()
            opt.step()
    for s in range(max(steps)):
        active = [r for r in range(size) if s < steps[r]]
        divisor = size if divide == "1" else len(active)
        ref_opt.zero_grad()
        for r in active:
            xs, ys = data[r]
            (loss_fn(reference(cr.tensor(xs[s])), cr.tensor(ys[s])) / divisor).backward()
        ref_opt.step()
    for (name, p), (_, q) in zip(model.named_parameters(), reference.named_parameters()):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"join {name}")
    try:
        with ddp.join(throw_on_early_termination=True):
            for _ in range(steps[rank]):
                opt.zero_grad()
                loss_fn(ddp(cr.tensor(data[rank][0][0])),
                        cr.tensor(data[rank][1][0])).backward()
                opt.step()
    except RuntimeError as e:
        assert "ran out of inputs" in str(e), str(e)
    else:
        raise AssertionError("throw_on_early_termination must raise on every rank")


@scenario
def sync_batchnorm() -> None:
    """SyncBatchNorm under DDP on K shards = BatchNorm in one process on their union:
    outputs, gradients, steps and running statistics."""
    rank, size = dist.get_rank(), dist.get_world_size()
    per_rank = 4
    xs, ys = _batches(13, 3, size, per_rank)

    def build(norm):
        cr.manual_seed(21)
        return cr.nn.Sequential(cr.nn.Linear(6, 5), norm(5), cr.nn.ReLU(),
                                cr.nn.Linear(5, 3)).double()

    model = cr.nn.SyncBatchNorm.convert_sync_batchnorm(build(cr.nn.BatchNorm1d))
    assert isinstance(model[1], cr.nn.SyncBatchNorm)
    ddp = DistributedDataParallel(model)
    reference = build(cr.nn.BatchNorm1d)
    opt = cr.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    ref_opt = cr.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    loss_fn = cr.nn.CrossEntropyLoss()
    mine = slice(rank * per_rank, (rank + 1) * per_rank)
    for s in range(3):
        opt.zero_grad()
        out = ddp(cr.tensor(xs[s, mine]))
        loss_fn(out, cr.tensor(ys[s, mine])).backward()
        ref_opt.zero_grad()
        ref_out = reference(cr.tensor(xs[s]))
        loss_fn(ref_out, cr.tensor(ys[s])).backward()
        np.testing.assert_allclose(out.numpy(), ref_out.numpy()[mine], rtol=1e-10, atol=1e-12)
        for (name, p), (_, q) in zip(model.named_parameters(), reference.named_parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12,
                                       err_msg=f"gradient of {name}, step {s}")
        opt.step()
        ref_opt.step()
    for (name, b), (_, c) in zip(model.named_buffers(), reference.named_buffers()):
        np.testing.assert_allclose(b.numpy(), c.numpy(), rtol=1e-10, err_msg=name)
    model.eval()
    reference.eval()
    np.testing.assert_allclose(model(cr.tensor(xs[0])).numpy(),
                               reference(cr.tensor(xs[0])).numpy(), rtol=1e-10)


@scenario
def mismatch() -> None:
    rank = dist.get_rank()
    hidden = 8 if rank == 0 else 9
    model = cr.nn.Sequential(cr.nn.Linear(4, hidden), cr.nn.Linear(hidden, 2))
    try:
        DistributedDataParallel(model)
    except RuntimeError as e:
        message = str(e)
        assert "rank 1: parameter '0.weight' has shape (9, 4), rank 0 has (8, 4)" in message, \
            message
    else:
        raise AssertionError("mismatched models must be detected")


@scenario
def fail(how: str = "raise", rank_to_fail: str = "1") -> None:
    """Train a little, then rank ``rank_to_fail`` fails; the others are in a collective."""
    rank = dist.get_rank()
    model = DistributedDataParallel(_model(seed=1))
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    x, y = cr.tensor(np.ones((4, 6))), cr.tensor(np.zeros(4, dtype=np.int64))
    for step in range(1000):
        if step == 3 and rank == int(rank_to_fail):
            if how == "raise":
                with open("/proc/self/maps") as maps:  # MPICH's files in /dev/shm
                    mapped = {ln.split()[-1] for ln in maps if "/dev/shm/mpich_shm_" in ln}
                print("mapped:", " ".join(sorted(mapped)), flush=True)
                raise ValueError("a bug on this rank")
            if how == "kill":
                os.kill(os.getpid(), 9)
            if how == "exit":
                sys.exit(3)
            if how == "stuck":  # busy in its own work, never reaching the next collective
                time.sleep(600)
        opt.zero_grad()
        cr.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        time.sleep(0.01)


@scenario
def uneven_steps(ending: str = "barrier") -> None:
    """The last rank has one batch more than the others and no ``ddp.join()``: it waits
    in the gradients' all-reduce that no other rank will make, while they wait in the
    program's last barrier (``ending="barrier"``) or have left it (``"exit"``). The job
    must stop within seconds, naming what each rank waits in, not after the timeout."""
    rank, size = dist.get_rank(), dist.get_world_size()
    model = DistributedDataParallel(_model(seed=1))
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    x, y = cr.tensor(np.ones((4, 6))), cr.tensor(np.zeros(4, dtype=np.int64))
    for _ in range(3 + (rank == size - 1)):
        opt.zero_grad()
        cr.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    if ending == "barrier":
        dist.barrier()
    else:
        sys.exit(0)


@scenario
def slow_ranks() -> None:
    """Long waits that are no mistake end normally: a rank waits several seconds at a
    barrier for a rank that computes (writes a checkpoint), and at the end of the
    program for a rank that is still busy."""
    rank = dist.get_rank()
    if rank == 0:
        time.sleep(6)
    dist.barrier()
    t = cr.ones(3)
    dist.all_reduce(t)
    assert t.tolist() == [2.0] * 3
    if rank == 1:
        time.sleep(6)


def main() -> None:
    name, args = sys.argv[1], sys.argv[2:]
    timeout = float(os.environ.get("SCENARIO_TIMEOUT", "0") or 0)
    import datetime

    dist.init_process_group(backend="mpi", **(
        {"timeout": datetime.timedelta(seconds=timeout)} if timeout else {}))
    if os.environ.get("PRETEND_FULL_SHM_ON_RANK") == str(dist.get_rank()):
        from chainrule.distributed import bucket_sum  # one rank's /dev/shm has no room

        bucket_sum._room_for = lambda nbytes: False
    if os.environ.get("NO_SHARED_MEMORY_ON_RANK") == str(dist.get_rank()):
        os.environ["CHAINRULE_DDP_SHARED_MEMORY"] = "0"  # set on one rank only
    SCENARIOS[name](*args)
    dist.barrier()
    if dist.get_rank() == 0:
        print(f"{name} ok", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
