"""Collectives on Tensors (and NumPy arrays), in place, with PyTorch's names.

Every rank must call the same collectives in the same order with tensors of the same
shape and dtype, as in MPI and PyTorch. Each call runs on the whole tensor as one MPI
message: no Python loop over elements, no copy when the tensor's array is contiguous
and writeable.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import numpy as np

from .._tensor import Tensor
from .process_group import _check_group, _world


class ReduceOp(enum.Enum):
    """How ``all_reduce`` and ``reduce`` combine the ranks' values, elementwise."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


# dtypes MPI reduces natively through mpi4py's buffer mapping
_NATIVE = {np.dtype(t) for t in (np.float32, np.float64, np.int8, np.int16, np.int32,
                                 np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
                                 np.complex64, np.complex128)}


def _array_of(tensor: Any, caller: str) -> np.ndarray:
    if isinstance(tensor, Tensor):
        data = tensor.array
    elif isinstance(tensor, np.ndarray):
        data = tensor
    else:
        raise TypeError(f"{caller}: expected a chainrule Tensor (or a NumPy array), got "
                        f"{type(tensor).__name__}")
    if not isinstance(data, np.ndarray):
        if isinstance(data, np.generic):
            return np.asarray(data)
        raise TypeError(f"{caller}: the tensor's data is a {type(data).__name__}; collectives "
                        "work on arrays in host memory (move the tensor to the CPU first)")
    return data


def _store(tensor: Any, result: np.ndarray) -> None:
    """Put ``result`` into ``tensor`` in place (its own array when it can hold it) and
    bump the version, so backward notices values that changed under a recorded graph."""
    if isinstance(tensor, np.ndarray):
        if result is not tensor:
            tensor[...] = result
        return
    data = tensor.array
    if isinstance(data, np.ndarray) and data.flags.writeable:
        if result is not data:
            data[...] = result
    else:
        tensor.array = np.array(result, dtype=result.dtype)
    tensor._version += 1


def _working_buffer(data: np.ndarray, reducing: bool) -> np.ndarray:
    """The array MPI reads and writes: ``data`` itself when it is contiguous, writeable
    and of a dtype MPI knows, else a contiguous copy (float16 reduced as float32, bool
    moved as bytes)."""
    if reducing and data.dtype not in _NATIVE:
        if data.dtype == np.float16:
            return data.astype(np.float32)
        raise TypeError(f"reduction of dtype {data.dtype} is not supported")
    if not reducing and data.dtype not in _NATIVE:
        return np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    if data.flags.c_contiguous and data.flags.writeable:
        return data
    return np.array(data, order="C")


def _op_name(op: Any, caller: str) -> str:
    if isinstance(op, ReduceOp):
        return op.value
    if isinstance(op, str) and op.lower() in {o.value for o in ReduceOp}:
        return op.lower()
    raise ValueError(f"{caller}: op must be a chainrule.distributed.ReduceOp "
                     f"(SUM, AVG, PRODUCT, MIN, MAX), got {op!r}")


class Work:
    """A collective started with ``async_op=True``: ``wait()`` finishes it."""

    def __init__(self, request: Any, finish: Callable[[], None] | None = None) -> None:
        self._request = request
        self._finish = finish
        self._done = False

    def wait(self, timeout: Any = None) -> bool:
        if not self._done:
            self._request.Wait()
            if self._finish is not None:
                self._finish()
            self._done = True
        return True

    def is_completed(self) -> bool:
        if not self._done and self._request.Test():
            self.wait()
        return self._done


class _Finished:
    def Wait(self) -> None:
        pass

    def Test(self) -> bool:
        return True


def all_reduce(tensor: Any, op: ReduceOp = ReduceOp.SUM, group: Any = None,
               async_op: bool = False) -> Work | None:
    """Combine ``tensor`` across all ranks with ``op``; every rank gets the result, in
    place.

    ``AVG`` divides the sum by the world size (floating tensors only). With
    ``async_op=True`` the reduction is started and a ``Work`` is returned; the tensor
    holds the result after ``work.wait()``.

    >>> import chainrule as cr, chainrule.distributed as dist
    >>> dist.init_process_group()
    >>> t = cr.tensor([1.0, 2.0])
    >>> dist.all_reduce(t, op=dist.ReduceOp.SUM)
    >>> t.tolist()
    [1.0, 2.0]
    >>> dist.destroy_process_group()
    """
    caller = "all_reduce"
    _check_group(group, caller)
    world = _world(caller)
    name = _op_name(op, caller)
    data = _array_of(tensor, caller)
    if name == "avg" and data.dtype.kind not in "fc":
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating tensor, got dtype "
                        f"{data.dtype}; reduce with SUM and divide by get_world_size()")
    try:
        buf = _working_buffer(data, reducing=True)
    except TypeError as e:
        raise TypeError(f"all_reduce: {e} (shape {data.shape})") from None
    mpi_op = "sum" if name == "avg" else name

    def finish() -> None:
        result = buf
        if name == "avg":
            result = np.divide(buf, world.size, out=buf)
        _store(tensor, result.astype(data.dtype, copy=False))

    if async_op:
        return Work(world.iallreduce(buf, mpi_op), finish)
    world.allreduce(buf, mpi_op)
    finish()
    return None


def reduce(tensor: Any, dst: int = 0, op: ReduceOp = ReduceOp.SUM, group: Any = None,
           async_op: bool = False) -> Work | None:
    """Combine ``tensor`` across all ranks with ``op`` into rank ``dst``'s tensor, in
    place; the other ranks' tensors are left as they were."""
    caller = "reduce"
    _check_group(group, caller)
    world = _world(caller)
    _check_rank(dst, world.size, caller, "dst")
    name = _op_name(op, caller)
    data = _array_of(tensor, caller)
    if name == "avg" and data.dtype.kind not in "fc":
        raise TypeError(f"reduce: ReduceOp.AVG needs a floating tensor, got dtype {data.dtype}")
    try:
        buf = _working_buffer(data, reducing=True)
    except TypeError as e:
        raise TypeError(f"reduce: {e} (shape {data.shape})") from None
    world.reduce(buf, "sum" if name == "avg" else name, dst)
    if world.rank == dst:
        if name == "avg":
            np.divide(buf, world.size, out=buf)
        _store(tensor, buf.astype(data.dtype, copy=False))
    return Work(_Finished()) if async_op else None


def broadcast(tensor: Any, src: int = 0, group: Any = None, async_op: bool = False
              ) -> Work | None:
    """Copy rank ``src``'s tensor into every rank's tensor, in place (same shape and
    dtype on every rank)."""
    caller = "broadcast"
    _check_group(group, caller)
    world = _world(caller)
    _check_rank(src, world.size, caller, "src")
    data = _array_of(tensor, caller)
    buf = _working_buffer(data, reducing=False)
    world.bcast(buf, src)
    if world.rank != src:
        _store(tensor, buf.view(data.dtype).reshape(data.shape))
    return Work(_Finished()) if async_op else None


def all_gather(tensor_list: list, tensor: Any, group: Any = None, async_op: bool = False
               ) -> Work | None:
    """Every rank's ``tensor`` into ``tensor_list[r]`` on every rank, in place
    (``tensor_list`` holds world-size tensors of ``tensor``'s shape and dtype)."""
    caller = "all_gather"
    _check_group(group, caller)
    world = _world(caller)
    data = _array_of(tensor, caller)
    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != world.size:
        got = len(tensor_list) if isinstance(tensor_list, (list, tuple)) else \
            type(tensor_list).__name__
        raise ValueError(f"all_gather: tensor_list must be a list of {world.size} tensors "
                         f"(one per rank), got {got}")
    for r, out in enumerate(tensor_list):
        out_data = _array_of(out, caller)
        if out_data.shape != data.shape or out_data.dtype != data.dtype:
            raise ValueError(f"all_gather: tensor_list[{r}] has shape {out_data.shape} and "
                             f"dtype {out_data.dtype}; expected {data.shape} {data.dtype} "
                             "like the input")
    send = _working_buffer(data, reducing=False)
    recv = np.empty((world.size,) + send.shape, dtype=send.dtype)
    world.allgather(send, recv)
    for r, out in enumerate(tensor_list):
        _store(out, recv[r].view(data.dtype).reshape(data.shape))
    return Work(_Finished()) if async_op else None


def all_gather_object(object_list: list, obj: Any, group: Any = None) -> None:
    """Every rank's picklable ``obj`` into ``object_list[r]`` (a list of world-size
    entries), as PyTorch. The objects travel as pickles between the job's own
    processes."""
    _check_group(group, "all_gather_object")
    world = _world("all_gather_object")
    if not isinstance(object_list, list) or len(object_list) != world.size:
        raise ValueError(f"all_gather_object: object_list must be a list of "
                         f"{world.size} entries, one per rank")
    object_list[:] = world.allgather_object(obj)


def broadcast_object_list(object_list: list, src: int = 0, group: Any = None) -> None:
    """Replace the entries of ``object_list`` on every rank by rank ``src``'s."""
    _check_group(group, "broadcast_object_list")
    world = _world("broadcast_object_list")
    _check_rank(src, world.size, "broadcast_object_list", "src")
    object_list[:] = world.bcast_object(list(object_list), src)


def _check_rank(rank: Any, size: int, caller: str, what: str) -> None:
    if not isinstance(rank, (int, np.integer)) or not 0 <= rank < size:
        raise ValueError(f"{caller}: {what}={rank!r} is not a rank of this world "
                         f"(0 … {size - 1})")
