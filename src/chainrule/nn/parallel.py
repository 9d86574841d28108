"""Data parallel training: ``DistributedDataParallel``, PyTorch's name and behaviour.

Each rank runs the same model on its own shard of every batch. The wrapper makes the
ranks start from rank 0's weights and, after every backward, replaces each gradient by
its average over the ranks, so that an optimizer step is the same on every rank and
equals one step on the union of the shards:

    ∇θ (1/K) Σ_r L_r(θ) = (1/K) Σ_r ∇θ L_r(θ)

The gradients travel in a few flat buckets (about 25 MB each, PyTorch's default), one
sum per bucket, not one per parameter. When every rank runs on one machine the buckets
are summed through shared memory when backward ends (distributed/bucket_sum.py);
across machines each bucket's MPI all-reduce is started (``Iallreduce``) as soon as
backward has produced all of its gradients, so it can proceed while backward computes
the gradients of earlier layers, and the last one is waited for when backward ends.
"""

from __future__ import annotations

import contextlib
import sys
import time
import warnings
import weakref
from collections.abc import Iterator
from typing import Any, Self

import numpy as np

from .._tensor import is_grad_enabled, wrap
from ..autograd import queue_callback
from ..distributed.bucket_sum import sum_shared
from ..distributed.collectives import broadcast_flat
from .data_parallel import DataParallel
from .module import Module, Parameter, StateDictError

__all__ = ["DataParallel", "DistributedDataParallel", "consume_prefix_in_state_dict_if_present"]

_MB = 1024 * 1024


class _Bucket:
    """Gradients of a few parameters packed into one flat array, summed as one.

    ``flat`` holds each parameter's gradient at its offset, followed by one slot per
    parameter that counts the ranks that had a gradient for it, so a parameter unused on
    every rank keeps ``grad = None``, as in a single process. After the reduction each
    ``.grad`` becomes a view of its stretch of ``flat``: the averages are never copied.
    """

    __slots__ = ("counts", "dtype", "flat", "params", "ready", "references", "request",
                 "shapes", "spans", "stage_counts", "stage_views", "staged", "summer",
                 "total", "views")

    def __init__(self, params: list, dtype: np.dtype) -> None:
        self.params = params
        self.dtype = dtype
        self.shapes = [p.array.shape for p in params]
        self.spans = []
        total = 0
        for p in params:
            self.spans.append((total, total + p.array.size))
            total += p.array.size
        self.total = total
        self.flat = self.counts = self.request = self.summer = None
        self.views = self.stage_views = []
        self.stage_counts = None
        self.staged: dict = {}  # id(staging array) -> (its views, its count slots)
        self.references = ()
        self.ready = 0

    def length(self) -> int:
        """Elements of ``flat``: the gradients, then one count per parameter."""
        return self.total + len(self.params)

    def allocate(self) -> None:
        """A new ``flat`` for this step's gradients (the ``.grad`` views of earlier steps
        keep their values), with its counts at zero."""
        self.flat = np.empty(self.length(), dtype=self.dtype)
        self.counts = self.flat[self.total:]
        self.views = self._views_of(self.flat)
        # (no local name for the array here: it would count as one more holder)
        self.references = self._references()

    def _views_of(self, flat: np.ndarray) -> list:
        return [flat[a:b].reshape(shape) for (a, b), shape in zip(self.spans, self.shapes)]

    def _references(self) -> tuple:
        return (sys.getrefcount(self.flat),) + tuple(sys.getrefcount(v) for v in self.views)

    def renew(self, keep: bool) -> None:
        """Ready for the next step: the same ``flat`` when ``keep`` (one bucket for the
        run) or when nothing outside the bucket still holds it or a view of it (every
        ``.grad`` of the last step dropped, as ``zero_grad()`` does), else a new one. The
        same memory step after step is cheaper for MPI (its shared-memory transfers map
        an address once) and for the caches. Then this step's staging array: where the
        gradients are packed for the summer (``flat`` itself, or this rank's window of
        shared memory), its counts at zero."""
        if self.flat is None or not (keep or self._references() == self.references):
            self.allocate()
        stage = self.summer.staging(self.flat)
        if stage is self.flat:
            self.stage_views, self.stage_counts = self.views, self.counts
        else:
            known = self.staged.get(id(stage))
            if known is None:
                known = self.staged[id(stage)] = (self._views_of(stage), stage[self.total:])
            self.stage_views, self.stage_counts = known
        self.stage_counts[...] = 0


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the ranks of the process group.

    At construction the ranks' models are compared (every rank must hold the same
    parameter names, shapes and dtypes; a difference is an error naming the parameter
    and the ranks) and rank 0's parameters and buffers are copied to every rank. Then
    each forward in training mode arms a gradient reduction that runs during backward:
    every parameter's ``.grad`` becomes the average over the ranks.

    Args:
        module: the model; it stays reachable as ``ddp.module``.
        broadcast_buffers: copy rank 0's buffers (running statistics) to every rank at
            the start of a forward that follows one with gradient averaging (a training
            step's), as PyTorch: not after a forward under ``no_grad`` or ``no_sync``.
        bucket_cap_mb: size of a gradient bucket in MB (25, PyTorch's default). Smaller
            buckets start their reduction earlier in backward.
        gradient_as_bucket_view: keep one bucket per group of parameters for the whole
            run (PyTorch's memory saving). Each ``.grad`` is a view of its averaged
            stretch of a bucket either way (no copy back). By default a synchronized
            backward reuses the last step's bucket only when nothing holds its values
            any more (``zero_grad()`` dropped every ``.grad``), else packs into a new
            one, so a ``.grad`` kept from an earlier step keeps its values; with
            ``True`` the next synchronized backward overwrites them.
        find_unused_parameters: accepted for PyTorch code; parameters that get no
            gradient on some ranks are always handled (they count as zeros there, and a
            parameter no rank used keeps ``grad = None``).
        device_ids, output_device, dim, process_group, static_graph: PyTorch's arguments;
            chainrule's DDP runs on host arrays in the default group, so they must be left
            at their defaults.

    ``state_dict()`` keys carry the prefix ``module.`` (as PyTorch, because the model is
    the child ``module``); save ``ddp.module.state_dict()`` for a checkpoint that loads
    into the bare model, or strip the prefix with
    ``consume_prefix_in_state_dict_if_present(sd, "module.")``.

    >>> import chainrule as cr, chainrule.distributed as dist
    >>> dist.init_process_group()
    >>> model = cr.nn.parallel.DistributedDataParallel(cr.nn.Linear(3, 2))
    >>> loss = model(cr.ones(4, 3)).sum()
    >>> loss.backward()
    >>> model.module.weight.grad.shape, list(model.state_dict())
    ((2, 3), ['module.weight', 'module.bias'])
    >>> dist.destroy_process_group()
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True, process_group: Any = None,
                 bucket_cap_mb: float | None = 25.0, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False) -> None:
        from ..distributed.bucket_sum import bucket_summers
        from ..distributed.process_group import _check_group, _world

        super().__init__()
        name = "DistributedDataParallel"
        if not isinstance(module, Module):
            raise TypeError(f"{name}: expected a chainrule.nn.Module, got "
                            f"{type(module).__name__}")
        if device_ids not in (None, [], ()) or output_device is not None:
            raise ValueError(f"{name}: device_ids/output_device place a module on GPUs; "
                             "chainrule's DDP runs on host arrays: leave them as None")
        if dim != 0:
            raise ValueError(f"{name}: dim={dim} is not supported; each rank feeds its own "
                             "batch, split along dimension 0 by the data loader")
        _check_group(process_group, name)
        if not any(p.requires_grad for p in module.parameters()):
            count = len(list(module.parameters()))
            held = f"its {count} parameters are all frozen" if count else "it has none"
            raise RuntimeError(
                f"{name}: the wrapped {type(module).__name__} has no parameter that requires "
                f"a gradient ({held}), so there is nothing to average; use the module "
                "without the wrapper (PyTorch refuses it too)")
        world = _world(name).internal_view()  # a communicator of its own
        if bucket_cap_mb is None:
            bucket_cap_mb = 25.0
        if not bucket_cap_mb > 0:
            raise ValueError(f"{name}: bucket_cap_mb must be positive, got {bucket_cap_mb!r}")
        self.module = module
        d = self.__dict__  # bookkeeping, not registered as parameters/buffers
        d["_world"] = world
        d["broadcast_buffers"] = bool(broadcast_buffers)
        d["bucket_cap_mb"] = float(bucket_cap_mb)
        d["gradient_as_bucket_view"] = bool(gradient_as_bucket_view)
        d["find_unused_parameters"] = bool(find_unused_parameters)
        d["static_graph"] = bool(static_graph)
        d["require_backward_grad_sync"] = True
        d["require_forward_param_sync"] = True
        d["_armed"] = False
        d["_finalize_queued"] = False
        d["_local_pass"] = False  # a forward ran under no_sync since the last reduction
        d["_warned_unsynced"] = False
        d["communication_seconds"] = 0.0  # time spent waiting for reductions, in total
        d["synchronized_steps"] = 0
        _verify_same_model(module, world)
        # buffers are broadcast before every forward; a model that has none when wrapped
        # skips the walk over its modules (as PyTorch, which lists them once, here)
        d["_has_buffers"] = next(iter(module.buffers()), None) is not None
        self._broadcast_state()
        params = [p for p in module.parameters() if p.requires_grad]
        d["_buckets"] = _make_buckets(params, self.bucket_cap_mb * _MB)
        summers = bucket_summers(world, [(b.length(), b.dtype) for b in self._buckets], self)
        for bucket, summer in zip(self._buckets, summers):
            bucket.summer = summer
        d["_shared_memory"] = bool(summers) and summers[0].shared
        d["_slot"] = {}  # id(param) -> (bucket index, position in bucket)
        for b, bucket in enumerate(self._buckets):
            for i, p in enumerate(bucket.params):
                self._slot[id(p)] = (b, i)
        d["_next_launch"] = 0
        d["_scale"] = 1.0 / world.size
        d["_joining"] = None  # the join() block this rank is in, if any
        # in a world of one every gradient already is the average: no hooks, no copies.
        # The hooks hold the wrapper weakly and go away with it, so a model wrapped anew
        # (or unwrapped) does not keep reducing for a wrapper nobody uses.
        if world.size > 1:
            me = weakref.ref(self)

            def grad_ready(param: Parameter) -> None:
                ddp = me()
                if ddp is not None:
                    ddp._grad_ready(param)

            handles = [p.register_post_accumulate_grad_hook(grad_ready) for p in params]
            weakref.finalize(self, _remove_hooks, handles)

    # -- construction ---------------------------------------------------------------
    def _broadcast_state(self) -> None:
        """Copy rank 0's parameters and buffers to every rank, one message per dtype."""
        tensors = list(self.module.parameters()) + list(self.module.buffers())
        broadcast_flat(tensors, self._world)

    def _sync_buffers(self) -> None:
        buffers = list(self.module.buffers())
        if buffers:
            broadcast_flat(buffers, self._world)

    # -- forward ----------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        world = self._world
        joining = self._joining
        if joining is not None and world.size > 1 and is_grad_enabled() \
                and self.require_backward_grad_sync:
            joining.step_of_active_rank()
        if world.size > 1 and self._has_buffers and self.broadcast_buffers \
                and self.require_forward_param_sync:
            self._sync_buffers()
        synchronizing = is_grad_enabled() and self.require_backward_grad_sync
        if world.size > 1 and is_grad_enabled():
            if synchronizing:
                self._arm()  # (in a world of one every gradient is already the average)
            else:
                self.__dict__["_local_pass"] = True  # no_sync: the next backward stays local
        # as PyTorch: the next forward copies rank 0's buffers only when this one will
        # average gradients (whatever train()/eval() says), so the first evaluation
        # after training runs on rank 0's running statistics on every rank
        self.__dict__["require_forward_param_sync"] = synchronizing
        return self.module(*inputs, **kwargs)

    def _arm(self) -> None:
        if self._armed:
            if self._finalize_queued:
                raise RuntimeError(
                    "DistributedDataParallel: the previous backward pass stopped before its "
                    "gradients were averaged (an exception during backward?); the ranks are "
                    "out of step: restart the job")
            return
        keep = self.gradient_as_bucket_view
        for bucket in self._buckets:
            bucket.renew(keep)
            bucket.ready = 0
            bucket.request = None
        d = self.__dict__
        d["_armed"] = True
        d["_finalize_queued"] = False
        d["_next_launch"] = 0
        d["_ready_ids"] = set()

    def join(self, divide_by_initial_world_size: bool = True, enable: bool = True,
             throw_on_early_termination: bool = False) -> _Join:
        """Train on uneven inputs, as PyTorch's ``ddp.join()``: ranks may run different
        numbers of steps inside ``with ddp.join():``. A rank that has run out of batches
        leaves the loop and, at the end of the ``with`` block, takes part in the others'
        gradient reductions with zeros until every rank is done; then every rank gets
        the weights of a rank that trained to the end.

            with ddp.join():
                for x, y in loader:        # a different number of batches per rank
                    opt.zero_grad()
                    loss_fn(ddp(x), y).backward()
                    opt.step()

        Args:
            divide_by_initial_world_size: divide the summed gradients by the world size
                (the finished ranks count as zeros, PyTorch's default), or by the number
                of ranks still training.
            enable: ``False`` makes the block a plain one.
            throw_on_early_termination: instead, every rank raises a RuntimeError as soon
                as one has run out of batches.

        Inside the block each training forward (one per backward) makes one small
        all-reduce to count the ranks still training. Collectives of the program's own
        between the steps, ``no_sync`` and SyncBatchNorm are not shadowed by a finished
        rank, as in PyTorch.
        """
        return _Join(self, divide_by_initial_world_size, enable, throw_on_early_termination)

    def _count_active(self, active: bool) -> int:
        flag = np.array([1 if active else 0], dtype=np.int64)
        self._world.allreduce(flag, "sum")
        return int(flag[0])

    def _shadow_step(self) -> None:
        """A finished rank's part of one step of the ranks still training: the same
        collectives in the same order (buffers, then every bucket), with zeros."""
        if self._has_buffers and self.broadcast_buffers and self.require_forward_param_sync:
            self._sync_buffers()
        sums = [np.zeros(b.length(), dtype=b.dtype) for b in self._buckets]
        for bucket, buf in zip(self._buckets, sums):
            bucket.summer.staging(buf)[...] = 0
        self._sum_buckets(0, sums)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward passes of forwards run inside leave their gradients local (they
        accumulate in ``.grad``); the first synchronized backward after it averages the
        accumulated sums. For gradient accumulation over several micro-batches:

            with ddp.no_sync():
                for x, y in micro_batches[:-1]:
                    loss_fn(ddp(x), y).backward()
            loss_fn(ddp(x_last), y_last).backward()   # averages across ranks
        """
        previous = self.require_backward_grad_sync
        self.__dict__["require_backward_grad_sync"] = False
        try:
            yield
        finally:
            self.__dict__["require_backward_grad_sync"] = previous

    # -- backward: called by the engine ---------------------------------------------------
    def _grad_ready(self, param: Parameter) -> None:
        """A parameter's gradient is final for this backward: pack it into its bucket."""
        if not self._armed:
            if not self._local_pass and not self._warned_unsynced:
                self.__dict__["_warned_unsynced"] = True
                warnings.warn(
                    "DistributedDataParallel: a backward pass reached the wrapped model's "
                    "parameters without a forward through the wrapper (ddp(x), not "
                    "ddp.module(x)) or ran twice after one forward: these gradients are "
                    "not averaged across the ranks, whose weights will drift apart",
                    RuntimeWarning, stacklevel=2)
            return
        if not self._finalize_queued:
            queue_callback(self._finish_reduction)
            self.__dict__["_finalize_queued"] = True
        key = id(param)
        if key in self._ready_ids:
            return
        self._ready_ids.add(key)
        b, i = self._slot[key]
        bucket = self._buckets[b]
        self._pack(bucket, i)
        bucket.ready += 1
        if bucket.ready == len(bucket.params) and b == self._next_launch:
            self._launch_ready()
        elif self._next_launch:
            # MPICH moves a non-blocking reduction forward only inside MPI calls: give the
            # ones in flight a push between the layers' backward steps
            for started in self._buckets[:self._next_launch]:
                if started.request is not None:
                    started.request.Test()

    def _pack(self, bucket: _Bucket, i: int) -> None:
        """Copy one gradient into the bucket, already divided by the world size (the one
        pass over the gradients' memory that the wrapper adds)."""
        grad = bucket.params[i].grad
        out = bucket.stage_views[i]
        if grad is None:
            out[...] = 0
            return
        np.multiply(grad.array, self._scale, out=out, casting="unsafe")
        bucket.stage_counts[i] = 1

    def _launch_ready(self) -> None:
        """Start the reductions of complete buckets, strictly in bucket order: every rank
        must issue its collectives in the same order."""
        if self._shared_memory:
            return  # summed together when backward ends (see bucket_sum.sum_shared)
        buckets = self._buckets
        # the last bucket completes when backward ends: the end-of-backward callback
        # reduces it with a blocking Allreduce, MPICH's faster call for it
        while self._next_launch < len(buckets) - 1:
            bucket = buckets[self._next_launch]
            if bucket.ready < len(bucket.params):
                break
            bucket.request = bucket.summer.start(bucket.flat)
            self.__dict__["_next_launch"] += 1

    def _finish_reduction(self) -> None:
        """End of backward: pack what never got a gradient, reduce the rest, unpack."""
        if not self._armed:
            return
        started = time.perf_counter()
        for bucket in self._buckets[self._next_launch:]:
            if bucket.ready < len(bucket.params):
                for i, p in enumerate(bucket.params):
                    if id(p) not in self._ready_ids:
                        self._pack(bucket, i)  # accumulated under no_sync, or zeros
                bucket.ready = len(bucket.params)
        first = self._next_launch
        self._sum_buckets(first, [b.flat for b in self._buckets[first:]])
        for bucket in self._buckets:
            self._unpack(bucket)
        d = self.__dict__
        d["_armed"] = False
        d["_local_pass"] = False
        d["communication_seconds"] += time.perf_counter() - started
        d["synchronized_steps"] += 1

    def _sum_buckets(self, first: int, outs: list) -> None:
        """Sum the buckets from ``first`` on into ``outs`` (their ``flat``, or a finished
        rank's zeros), and wait for the ones started earlier in backward."""
        buckets = self._buckets[first:]
        if self._shared_memory:
            sum_shared([(b.summer, out) for b, out in zip(buckets, outs)])
            return
        requests = [b.request for b in self._buckets[:first] if b.request is not None]
        for i, (bucket, out) in enumerate(zip(buckets, outs)):
            if i == len(buckets) - 1:
                # nothing left to overlap with: a blocking all-reduce is the cheaper call
                bucket.summer.sum_into(out)
            else:
                requests.append(bucket.summer.start(out))
        self._world.waitall(requests)

    @staticmethod
    def _unpack(bucket: _Bucket) -> None:
        """Each ``.grad`` becomes the view of its averaged stretch of the bucket. The
        engine made every ``.grad`` a new Tensor during this backward, so nobody holds
        the one replaced; without ``gradient_as_bucket_view`` each step's bucket is new,
        so a ``.grad`` kept from an earlier step keeps its values."""
        for p, averaged, count in zip(bucket.params, bucket.views, bucket.counts.tolist()):
            if count:  # no rank had a gradient: leave grad as it is (None)
                p.grad = wrap(averaged)

    # -- state ----------------------------------------------------------------------
    def load_state_dict(self, state_dict, strict: bool = True):
        keys = list(state_dict.keys()) if hasattr(state_dict, "keys") else []
        if keys and not any(str(k).startswith("module.") for k in keys):
            own = set(self.module.state_dict())
            if set(keys) & own:
                raise StateDictError(
                    "DistributedDataParallel.load_state_dict: the keys have no 'module.' "
                    f"prefix (e.g. '{keys[0]}'): this is the wrapped model's state_dict. "
                    "Load it with ddp.module.load_state_dict(...), as in PyTorch")
        return super().load_state_dict(state_dict, strict=strict)

    def __getattr__(self, name: str):
        reason = _NOT_SUPPORTED.get(name)
        if reason is not None:
            raise AttributeError(f"DistributedDataParallel.{name} (PyTorch's) is not part of "
                                 f"chainrule: {reason}")
        raise AttributeError(f"'DistributedDataParallel' object has no attribute '{name}'")

    def extra_repr(self) -> str:
        text = (f"world_size={self._world.size}, buckets={len(self._buckets)}, "
                f"bucket_cap_mb={self.bucket_cap_mb:g}")
        if self._world.size > 1:  # how the gradients travel (see distributed/bucket_sum.py)
            text += ", summed through " + ("shared memory" if self._shared_memory
                                           else "MPI all-reduce")
        return text

    def _short_name(self) -> str:
        return "DistributedDataParallel"


class _Join:
    """The ``with ddp.join():`` block (see DistributedDataParallel.join)."""

    def __init__(self, ddp: DistributedDataParallel, divide_by_initial_world_size: bool,
                 enable: bool, throw_on_early_termination: bool) -> None:
        self.ddp = ddp
        self.divide_by_initial = bool(divide_by_initial_world_size)
        self.enable = bool(enable) and ddp._world.size > 1
        self.throw = bool(throw_on_early_termination)

    def __enter__(self) -> Self:
        if self.enable:
            if self.ddp._joining is not None:
                raise RuntimeError("DistributedDataParallel.join: already inside a join block")
            self.ddp.__dict__["_joining"] = self
        return self

    def step_of_active_rank(self) -> None:
        ddp = self.ddp
        active = ddp._count_active(True)
        size = ddp._world.size
        if self.throw and active < size:
            raise RuntimeError(
                f"DistributedDataParallel.join: {size - active} of {size} ranks ran out of "
                "inputs (throw_on_early_termination=True)")
        ddp.__dict__["_scale"] = 1.0 / (size if self.divide_by_initial else active)

    def __exit__(self, exc_type, exc, tb) -> bool:
        ddp = self.ddp
        if not self.enable:
            return False
        try:
            if exc_type is not None:
                return False  # an error of the loop's own: the job ends (see distributed)
            shadowed = 0
            while ddp._count_active(False):
                if self.throw:
                    raise RuntimeError("DistributedDataParallel.join: this rank ran out of "
                                       "inputs before the others "
                                       "(throw_on_early_termination=True)")
                ddp._shadow_step()
                shadowed += 1
            # a rank that trained to the end (the highest such) hands its weights to all
            world = ddp._world
            last = np.array([world.rank if shadowed == 0 else -1], dtype=np.int64)
            world.allreduce(last, "max")
            tensors = list(ddp.module.parameters()) + list(ddp.module.buffers())
            broadcast_flat(tensors, world, src=int(last[0]))
        finally:
            ddp.__dict__["_joining"] = None
            ddp.__dict__["_scale"] = 1.0 / ddp._world.size
        return False


# PyTorch DDP methods chainrule's does not have, and why
_NOT_SUPPORTED = {
    "join_hook": "ddp.join() runs the shadow steps itself",
    "register_comm_hook": "gradients are averaged in their own dtype, one all-reduce per "
                          "bucket; there are no communication hooks",
}


def _remove_hooks(handles: list) -> None:
    for handle in handles:
        handle.remove()


def _make_buckets(params: list, cap_bytes: float) -> list:
    """Parameters in reverse order of registration (backward produces the last layers'
    gradients first), cut into buckets of about ``cap_bytes`` of one dtype each."""
    buckets, current, size, dtype = [], [], 0, None
    for p in reversed(params):
        nbytes = p.array.size * p.array.dtype.itemsize
        if current and (p.array.dtype != dtype or size + nbytes > cap_bytes):
            buckets.append(_Bucket(current, dtype))
            current, size = [], 0
        current.append(p)
        size += nbytes
        dtype = p.array.dtype
    if current:
        buckets.append(_Bucket(current, dtype))
    return buckets


def _signature(module: Module) -> list:
    entries = [("parameter", name, tuple(p.shape), str(p.dtype), bool(p.requires_grad))
               for name, p in module.named_parameters()]
    entries += [("buffer", name, tuple(b.shape), str(b.dtype), False)
                for name, b in module.named_buffers()]
    return entries


def _verify_same_model(module: Module, world) -> None:
    """Every rank must wrap the same architecture; say where the first difference is."""
    mine = _signature(module)
    signatures = world.allgather_object(mine)
    reference = signatures[0]
    problems = []
    for rank, theirs in enumerate(signatures[1:], start=1):
        if theirs == reference:
            continue
        problems.append(f"rank {rank}: {_first_difference(reference, theirs)}")
    if problems:
        raise RuntimeError(
            "DistributedDataParallel: the ranks wrap different models (every rank must "
            "build the same architecture); compared with rank 0, " + "; ".join(problems))


def _first_difference(reference: list, theirs: list) -> str:
    ref = {(kind, name): rest for kind, name, *rest in reference}
    got = {(kind, name): rest for kind, name, *rest in theirs}
    for key, rest in ref.items():
        kind, name = key
        if key not in got:
            return f"{kind} '{name}' is missing (rank 0 has shape {rest[0]})"
        if got[key] != rest:
            (shape0, dtype0, grad0), (shape, dtype, grad) = rest, got[key]
            if shape != shape0:
                return f"{kind} '{name}' has shape {shape}, rank 0 has {shape0}"
            if dtype != dtype0:
                return f"{kind} '{name}' has dtype {dtype}, rank 0 has {dtype0}"
            return f"{kind} '{name}' has requires_grad={grad}, rank 0 has {grad0}"
    extra = [name for (kind, name) in got if (kind, name) not in ref]
    if extra:
        return f"extra entries {extra[:3]} that rank 0 does not have"
    return "the parameters are registered in a different order than on rank 0"


def consume_prefix_in_state_dict_if_present(state_dict: dict, prefix: str) -> None:
    """Strip ``prefix`` (e.g. ``"module."``) from the keys that start with it, in place,
    as PyTorch's function of the same name: a DDP state_dict loads into the bare model.

    >>> from collections import OrderedDict
    >>> sd = OrderedDict([("module.weight", 1), ("module.bias", 2)])
    >>> consume_prefix_in_state_dict_if_present(sd, "module.")
    >>> list(sd)
    ['weight', 'bias']
    """
    keys = list(state_dict.keys())
    for key in keys:
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        for key in list(metadata.keys()):
            if key == prefix.rstrip(".") or key.startswith(prefix):
                metadata[key[len(prefix):] if key.startswith(prefix) else ""] = \
                    metadata.pop(key)

