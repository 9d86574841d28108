"""Collectives on Tensors (and NumPy arrays), in place, with PyTorch's names.

Every rank must call the same collectives in the same order with tensors of the same
shape and dtype, as in MPI and PyTorch. Each call runs on the whole tensor as one MPI
message: no Python loop over elements, no copy when the tensor's array is contiguous
and writeable.
"""

from __future__ import annotations

import ast
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
    BAND = "band"  # bitwise, on integer and bool tensors
    BOR = "bor"
    BXOR = "bxor"


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
        if data.dtype == np.bool_:  # 0/1 bytes: MIN and BAND are "and", MAX and BOR "or"
            return data.astype(np.uint8)
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
                     f"(SUM, AVG, PRODUCT, MIN, MAX, BAND, BOR, BXOR), got {op!r}")


def _check_op_dtype(name: str, dtype: np.dtype, caller: str) -> None:
    if name == "avg" and dtype.kind not in "fc":
        raise TypeError(f"{caller}: ReduceOp.AVG needs a floating tensor, got dtype {dtype}; "
                        "reduce with SUM and divide by get_world_size()")
    if name in ("band", "bor", "bxor") and dtype.kind not in "biu":
        raise TypeError(f"{caller}: ReduceOp.{name.upper()} is bitwise: it needs an integer or "
                        f"bool tensor, got dtype {dtype}")


def _agree(world: Any, caller: str, data: np.ndarray | None = None, **settings: Any) -> None:
    """Every rank must make the same call with tensors of the same shape and dtype (and
    the same op or root): compare them across the ranks first (one small message), so
    that a mismatch is an error naming both sides on every rank, not an MPI abort, a
    hang or reinterpreted bytes."""
    if world.size == 1:
        return
    mine = (caller, None if data is None else (tuple(int(n) for n in data.shape),
                                               data.dtype.str), sorted(settings.items()))
    everyone = world.allgather_object(mine)
    for rank, theirs in enumerate(everyone):
        if theirs != everyone[0]:
            raise ValueError(
                f"{caller}: the ranks disagree: rank 0 {_describe_call(everyone[0])}, rank "
                f"{rank} {_describe_call(theirs)}; every rank must make the same call, in the "
                "same order, with tensors of the same shape and dtype")


def _describe_call(entry: tuple) -> str:
    name, tensor, settings = entry
    text = f"called {name}"
    if tensor is not None:
        text += f" with shape {tensor[0]} {np.dtype(tensor[1])}"
    if settings:
        text += " (" + ", ".join(f"{k}={v}" for k, v in settings) + ")"
    return text


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
    world = _joined(caller, group)
    name = _op_name(op, caller)
    data = _array_of(tensor, caller)
    _check_op_dtype(name, data.dtype, caller)
    try:
        buf = _working_buffer(data, reducing=True)
    except TypeError as e:
        raise TypeError(f"all_reduce: {e} (shape {data.shape})") from None
    mpi_op = "sum" if name == "avg" else name
    _agree(world, caller, data, op=name)

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
    world = _joined(caller, group, dst=dst)
    name = _op_name(op, caller)
    data = _array_of(tensor, caller)
    _check_op_dtype(name, data.dtype, caller)
    try:
        buf = _working_buffer(data, reducing=True)
    except TypeError as e:
        raise TypeError(f"reduce: {e} (shape {data.shape})") from None
    _agree(world, caller, data, op=name, dst=int(dst))
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
    world = _joined(caller, group, src=src)
    data = _array_of(tensor, caller)
    _agree(world, caller, data, src=int(src))
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
    world = _joined(caller, group)
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
    _agree(world, caller, data)
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
    world = _joined("all_gather_object", group)
    if not isinstance(object_list, list) or len(object_list) != world.size:
        raise ValueError(f"all_gather_object: object_list must be a list of "
                         f"{world.size} entries, one per rank")
    _agree(world, "all_gather_object")
    object_list[:] = world.allgather_object(obj)


def broadcast_object_list(object_list: list, src: int = 0, group: Any = None) -> None:
    """Replace the entries of ``object_list`` on every rank by rank ``src``'s."""
    world = _joined("broadcast_object_list", group, src=src)
    _agree(world, "broadcast_object_list", src=int(src))
    object_list[:] = world.bcast_object(list(object_list), src)


def _joined(caller: str, group: Any, **roots: Any):
    """The world, once ``group`` is the default one and each root (``src=``, ``dst=``) a
    rank of it: how every collective starts."""
    _check_group(group, caller)
    world = _world(caller)
    for what, rank in roots.items():
        _check_rank(rank, world.size, caller, what)
    return world


def _check_rank(rank: Any, size: int, caller: str, what: str) -> None:
    if not isinstance(rank, (int, np.integer)) or not 0 <= rank < size:
        raise ValueError(f"{caller}: {what}={rank!r} is not a rank of this world "
                         f"(0 … {size - 1})")


def _same_tensors(tensors: Any, count: int, like: np.ndarray, caller: str, what: str
                  ) -> list[np.ndarray]:
    """The arrays of ``tensors``, a list of ``count`` tensors of ``like``'s shape and
    dtype (what a rank sends to or receives from each rank)."""
    if not isinstance(tensors, (list, tuple)) or len(tensors) != count:
        got = len(tensors) if isinstance(tensors, (list, tuple)) else type(tensors).__name__
        raise ValueError(f"{caller}: {what} must be a list of {count} tensors (one per rank), "
                         f"got {got}")
    arrays = [_array_of(t, caller) for t in tensors]
    for r, a in enumerate(arrays):
        if a.shape != like.shape or a.dtype != like.dtype:
            raise ValueError(f"{caller}: {what}[{r}] has shape {a.shape} and dtype {a.dtype}; "
                             f"expected {like.shape} {like.dtype} (every rank's part alike)")
    return arrays


def _as_bytes(data: np.ndarray) -> np.ndarray:
    """A contiguous byte view (a copy where needed) of ``data`` for a message that moves
    values without combining them, whatever their dtype."""
    return np.ascontiguousarray(data).reshape(-1).view(np.uint8)


def gather(tensor: Any, gather_list: list | None = None, dst: int = 0, group: Any = None,
           async_op: bool = False) -> Work | None:
    """Every rank's ``tensor`` into ``gather_list[r]`` on rank ``dst`` (a list of
    world-size tensors of ``tensor``'s shape and dtype there; ``None`` elsewhere)."""
    caller = "gather"
    world = _joined(caller, group, dst=dst)
    data = _array_of(tensor, caller)
    outs = _same_tensors(gather_list, world.size, data, caller, "gather_list") \
        if world.rank == dst else None
    _agree(world, caller, data, dst=int(dst))
    send = _as_bytes(data)
    recv = np.empty((world.size, send.size), dtype=np.uint8) if world.rank == dst else None
    world.gather(send, recv, dst)
    if outs is not None:
        for r, out in enumerate(gather_list):
            _store(out, recv[r].view(data.dtype).reshape(data.shape))
    return Work(_Finished()) if async_op else None


def scatter(tensor: Any, scatter_list: list | None = None, src: int = 0, group: Any = None,
            async_op: bool = False) -> Work | None:
    """Rank ``src``'s ``scatter_list[r]`` into rank r's ``tensor``, in place (the list
    holds world-size tensors of ``tensor``'s shape and dtype on ``src``)."""
    caller = "scatter"
    world = _joined(caller, group, src=src)
    data = _array_of(tensor, caller)
    _agree(world, caller, data, src=int(src))
    send = None
    if world.rank == src:
        parts = _same_tensors(scatter_list, world.size, data, caller, "scatter_list")
        send = np.stack([_as_bytes(a) for a in parts])
    recv = np.empty(data.size * data.dtype.itemsize, dtype=np.uint8)
    world.scatter(send, recv, src)
    _store(tensor, recv.view(data.dtype).reshape(data.shape))
    return Work(_Finished()) if async_op else None


def _reduce_scatter_into(output: Any, parts: np.ndarray, op: Any, caller: str) -> None:
    """``output`` on rank r <- the ranks' ``parts[r]`` combined with ``op``."""
    world = _world(caller)
    name = _op_name(op, caller)
    out = _array_of(output, caller)
    _check_op_dtype(name, out.dtype, caller)
    try:
        send = _working_buffer(np.ascontiguousarray(parts), reducing=True)
    except TypeError as e:
        raise TypeError(f"{caller}: {e} (shape {parts.shape})") from None
    _agree(world, caller, out, op=name)
    recv = np.empty(send.shape[1:], dtype=send.dtype)
    world.reduce_scatter(send, recv, "sum" if name == "avg" else name)
    if name == "avg":
        np.divide(recv, world.size, out=recv)
    _store(output, recv.astype(out.dtype, copy=False).reshape(out.shape))


def reduce_scatter(output: Any, input_list: list, op: ReduceOp = ReduceOp.SUM,
                   group: Any = None, async_op: bool = False) -> Work | None:
    """Rank r's ``output`` <- every rank's ``input_list[r]`` combined with ``op`` (the
    list holds world-size tensors of ``output``'s shape and dtype)."""
    caller = "reduce_scatter"
    world = _joined(caller, group)
    like = _array_of(output, caller)
    parts = _same_tensors(input_list, world.size, like, caller, "input_list")
    _reduce_scatter_into(output, np.stack(parts), op, caller)
    return Work(_Finished()) if async_op else None


def _one_per_rank(part: Any, whole: Any, caller: str, whole_name: str, part_name: str):
    """(world, part's array, whole's array) once ``whole`` is checked to hold one
    ``part`` per rank (concatenated along dimension 0 or stacked), of the same dtype."""
    world = _world(caller)
    small, big = _array_of(part, caller), _array_of(whole, caller)
    if big.dtype != small.dtype or big.size != world.size * small.size:
        raise ValueError(f"{caller}: {whole_name} has shape {big.shape} and dtype {big.dtype}; "
                         f"expected {world.size} × the {part_name}'s {small.shape} {small.dtype}")
    return world, small, big


def reduce_scatter_tensor(output: Any, input: Any, op: ReduceOp = ReduceOp.SUM,
                          group: Any = None, async_op: bool = False) -> Work | None:
    """``reduce_scatter`` with the parts concatenated along dimension 0 of ``input``
    (world size × ``output``'s length), or stacked (shape (world size, *output.shape))."""
    caller = "reduce_scatter_tensor"
    _check_group(group, caller)
    world, out, data = _one_per_rank(output, input, caller, "input", "output")
    _reduce_scatter_into(output, data.reshape(world.size, *out.shape), op, caller)
    return Work(_Finished()) if async_op else None


def all_gather_into_tensor(output_tensor: Any, input_tensor: Any, group: Any = None,
                           async_op: bool = False) -> Work | None:
    """Every rank's ``input_tensor`` into one ``output_tensor``: concatenated along
    dimension 0 (world size × its length) or stacked (shape (world size, *shape))."""
    caller = "all_gather_into_tensor"
    _check_group(group, caller)
    world, data, out = _one_per_rank(input_tensor, output_tensor, caller, "output", "input")
    _agree(world, caller, data)
    send = _as_bytes(data)
    recv = np.empty((world.size, send.size), dtype=np.uint8)
    world.allgather(send, recv)
    _store(output_tensor, recv.view(data.dtype).reshape(out.shape))
    return Work(_Finished()) if async_op else None


def all_to_all(output_tensor_list: list, input_tensor_list: list, group: Any = None,
               async_op: bool = False) -> Work | None:
    """Rank r's ``input_tensor_list[s]`` into rank s's ``output_tensor_list[r]``, for
    every pair (tensors of one shape and dtype)."""
    caller = "all_to_all"
    world = _joined(caller, group)
    if not input_tensor_list:
        raise ValueError(f"{caller}: input_tensor_list is empty")
    like = _array_of(input_tensor_list[0], caller)
    parts = _same_tensors(input_tensor_list, world.size, like, caller, "input_tensor_list")
    _same_tensors(output_tensor_list, world.size, like, caller, "output_tensor_list")
    _agree(world, caller, like)
    send = np.stack([_as_bytes(a) for a in parts])
    recv = np.empty_like(send)
    world.alltoall(send, recv)
    for r, out in enumerate(output_tensor_list):
        _store(out, recv[r].view(like.dtype).reshape(like.shape))
    return Work(_Finished()) if async_op else None


def all_to_all_single(output: Any, input: Any, output_split_sizes: Any = None,
                      input_split_sizes: Any = None, group: Any = None,
                      async_op: bool = False) -> Work | None:
    """``all_to_all`` on one tensor split into world-size equal parts along dimension
    0 (uneven split sizes are not supported)."""
    caller = "all_to_all_single"
    world = _joined(caller, group)
    if output_split_sizes is not None or input_split_sizes is not None:
        raise ValueError(f"{caller}: uneven split sizes are not supported; give tensors whose "
                         f"dimension 0 divides into {world.size} equal parts")
    out, data = _array_of(output, caller), _array_of(input, caller)
    if out.shape != data.shape or out.dtype != data.dtype or \
            (data.ndim and data.shape[0] % world.size):
        raise ValueError(f"{caller}: input {data.shape} {data.dtype} and output {out.shape} "
                         f"{out.dtype} must match, dimension 0 divisible by {world.size}")
    _agree(world, caller, data)
    send = _as_bytes(data).reshape(world.size, -1)
    recv = np.empty_like(send)
    world.alltoall(send, recv)
    _store(output, recv.view(data.dtype).reshape(data.shape))
    return Work(_Finished()) if async_op else None


def gather_object(obj: Any, object_gather_list: list | None = None, dst: int = 0,
                  group: Any = None) -> None:
    """Every rank's picklable ``obj`` into ``object_gather_list`` on rank ``dst`` (a list
    of world-size entries there; ``None`` elsewhere)."""
    caller = "gather_object"
    world = _joined(caller, group, dst=dst)
    if world.rank == dst and (not isinstance(object_gather_list, list)
                              or len(object_gather_list) != world.size):
        raise ValueError(f"{caller}: object_gather_list must be a list of {world.size} "
                         "entries on the destination rank")
    _agree(world, caller, dst=int(dst))
    gathered = world.gather_object(obj, dst)
    if world.rank == dst:
        object_gather_list[:] = gathered


def scatter_object_list(scatter_object_output_list: list,
                        scatter_object_input_list: list | None = None, src: int = 0,
                        group: Any = None) -> None:
    """Rank ``src``'s ``scatter_object_input_list[r]`` into rank r's
    ``scatter_object_output_list[0]``."""
    caller = "scatter_object_list"
    world = _joined(caller, group, src=src)
    if not isinstance(scatter_object_output_list, list) or not scatter_object_output_list:
        raise ValueError(f"{caller}: scatter_object_output_list must be a list of at least "
                         "one entry (it receives this rank's object)")
    if world.rank == src and (not isinstance(scatter_object_input_list, (list, tuple))
                              or len(scatter_object_input_list) != world.size):
        raise ValueError(f"{caller}: scatter_object_input_list must hold {world.size} "
                         "objects on the source rank")
    _agree(world, caller, src=int(src))
    objs = list(scatter_object_input_list) if world.rank == src else None
    scatter_object_output_list[0] = world.scatter_object(objs, src)


def _any_peer(caller: str) -> None:
    """``src=None`` (any rank) needs another rank to exist."""
    if _world(caller).size == 1:
        raise ValueError(f"{caller}: a world of one process has no other rank to receive "
                         "from")


def _peer(rank: Any, caller: str, what: str) -> int:
    world = _world(caller)
    _check_rank(rank, world.size, caller, what)
    if rank == world.rank:
        raise ValueError(f"{caller}: {what}={rank} is this process's own rank; point-to-point "
                         "messages go to another rank")
    return int(rank)


# A point-to-point message carries its tensor's shape and dtype in front of the values, so
# that a receiver with a tensor of another shape or dtype gets an error saying both, never
# reinterpreted bytes or a partly filled tensor.
_HEADER = 256


def _message(data: np.ndarray, caller: str) -> np.ndarray:
    header = repr((data.dtype.str, tuple(int(n) for n in data.shape))).encode()
    if len(header) > _HEADER:
        raise ValueError(f"{caller}: a tensor of {data.ndim} dimensions is too many to send")
    message = np.zeros(_HEADER + data.nbytes, dtype=np.uint8)
    message[:len(header)] = np.frombuffer(header, dtype=np.uint8)
    message[_HEADER:] = _as_bytes(data)
    return message


def _unpack_message(message: np.ndarray, tensor: Any, sender: Any, caller: str) -> None:
    data = _array_of(tensor, caller)
    try:
        dtype, shape = ast.literal_eval(bytes(message[:_HEADER]).rstrip(b"\0").decode())
    except (ValueError, SyntaxError, UnicodeDecodeError):
        raise ValueError(f"{caller}: the message from rank {sender} was not sent by "
                         "chainrule.distributed.send/isend") from None
    if np.dtype(dtype) != data.dtype or tuple(shape) != data.shape:
        raise ValueError(f"{caller}: rank {sender} sent a tensor of shape {tuple(shape)} and "
                         f"dtype {np.dtype(dtype)}, but the receiving tensor has shape "
                         f"{data.shape} and dtype {data.dtype}")
    _store(tensor, message[_HEADER:].view(data.dtype).reshape(data.shape))


def send(tensor: Any, dst: int, group: Any = None, tag: int = 0) -> None:
    """Send ``tensor`` to rank ``dst``, which receives it with ``recv`` into a tensor of
    the same shape and dtype (anything else is an error there, naming both)."""
    world = _joined("send", group)
    message = _message(_array_of(tensor, "send"), "send")
    world.send(message, _peer(dst, "send", "dst"), int(tag))


def recv(tensor: Any, src: int | None = None, group: Any = None, tag: int = 0) -> int:
    """Receive into ``tensor`` from rank ``src`` (any rank when ``None``); returns the
    sender's rank."""
    world = _joined("recv", group)
    _array_of(tensor, "recv")
    if src is None:
        _any_peer("recv")
    message, source = world.recv(None if src is None else _peer(src, "recv", "src"), int(tag))
    _unpack_message(message, tensor, source, "recv")
    return source


def isend(tensor: Any, dst: int, group: Any = None, tag: int = 0) -> Work:
    """``send`` started in the background; ``wait()`` on the returned Work."""
    world = _joined("isend", group)
    message = _message(_array_of(tensor, "isend"), "isend")
    work = Work(world.isend(message, _peer(dst, "isend", "dst"), int(tag)))
    work._keep = message  # the buffer must live until the send completes
    return work


class _Receiving:
    """An ``irecv`` in flight: a request whose completion checks the message's shape and
    dtype against the receiving tensor."""

    def __init__(self, world, tensor: Any, src: int | None, tag: int) -> None:
        data = _array_of(tensor, "irecv")
        self._tensor, self._src = tensor, src
        self._message = np.empty(_HEADER + data.nbytes, dtype=np.uint8)
        self._status = world.status()
        self._world = world
        self._mpi_error = world.MPI.Exception
        self._completed = False
        self._request = world.irecv(self._message, src, tag)

    def _longer(self, error: Exception) -> ValueError:
        data = _array_of(self._tensor, "irecv")
        sender = "another rank" if self._src is None else f"rank {self._src}"
        return ValueError(f"irecv: {sender} sent more than the receiving tensor's "
                          f"{data.nbytes} bytes (shape {data.shape}, dtype {data.dtype}): "
                          f"{str(error).splitlines()[0]}")

    def Wait(self) -> None:
        if not self._completed:
            try:
                self._request.Wait(self._status)
            except self._mpi_error as e:  # MPI's truncation error: say it with the tensor
                raise self._longer(e) from None
            self._completed = True
        self._finish()

    def Test(self) -> bool:
        if not self._completed:
            try:
                self._completed = bool(self._request.Test(self._status))
            except self._mpi_error as e:
                raise self._longer(e) from None
        return self._completed

    def _finish(self) -> None:
        sender = self._status.Get_source()
        if self._world.byte_count(self._status) < _HEADER:
            raise ValueError(f"irecv: the message from rank {sender} was not sent by "
                             "chainrule.distributed.send/isend")
        _unpack_message(self._message, self._tensor, sender, "irecv")  # checks the header


def irecv(tensor: Any, src: int | None = None, group: Any = None, tag: int = 0) -> Work:
    """``recv`` started in the background; ``tensor`` holds the message after
    ``wait()`` (which raises when the message does not fit the tensor)."""
    world = _joined("irecv", group)
    if src is None:
        _any_peer("irecv")
    receiving = _Receiving(world, tensor, None if src is None else _peer(src, "irecv", "src"),
                           int(tag))
    return Work(receiving)


class P2POp:
    """One point-to-point operation for ``batch_isend_irecv``: ``op`` is ``isend`` or
    ``irecv`` (the functions of this module), as PyTorch's ``P2POp``."""

    def __init__(self, op: Callable, tensor: Any, peer: int | None = None, group: Any = None,
                 tag: int = 0, group_peer: int | None = None) -> None:
        if op not in (isend, irecv):
            raise ValueError("P2POp: op must be chainrule.distributed.isend or "
                             f"chainrule.distributed.irecv, got {op!r}")
        if peer is None:
            peer = group_peer
        if peer is None:
            raise ValueError("P2POp: give the peer's rank (peer=...)")
        self.op, self.tensor, self.peer, self.group, self.tag = op, tensor, peer, group, tag


def batch_isend_irecv(p2p_op_list: list) -> list[Work]:
    """Start every operation of ``p2p_op_list`` (``P2POp``s) and return their ``Work``s,
    to be waited for: sends and receives posted together cannot deadlock each other."""
    if not isinstance(p2p_op_list, (list, tuple)) or not all(
            isinstance(op, P2POp) for op in p2p_op_list):
        raise TypeError("batch_isend_irecv: expected a list of P2POp")
    return [op.op(op.tensor, op.peer, group=op.group, tag=op.tag) for op in p2p_op_list]


def broadcast_flat(tensors: list, world, src: int = 0) -> None:
    """Rank ``src``'s values of ``tensors`` into every rank's, one broadcast per dtype (for
    DistributedDataParallel and ZeroRedundancyOptimizer; ``world`` is a process group's
    world, not a PyTorch group argument)."""
    if world.size == 1 or not tensors:
        return
    by_dtype: dict = {}
    for t in tensors:
        by_dtype.setdefault(np.dtype(t.array.dtype), []).append(t)
    for dtype, group in by_dtype.items():
        flat = np.concatenate([np.ravel(t.array) for t in group]).astype(dtype, copy=False)
        buf = flat.view(np.uint8)
        world.bcast(buf, src)
        if world.rank != src:
            start = 0
            for t in group:
                n = int(np.size(t.array))
                value = flat[start:start + n].reshape(np.shape(t.array))
                t._buffer()[...] = value
                t._version += 1
                start += n
