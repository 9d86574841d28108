"""The rest of PyTorch's tensor surface: indexing ops (gather, scatter, index_select, ...),
shape ops (flip, roll, repeat, tril, ...), products (mm, bmm, einsum, addmm), scans
(cumsum, cumprod, prod), sorting ((values, indices) results), norms and the
non-differentiable helpers (nonzero, unique, bincount, multinomial, ...).

Each differentiable building block is one registry entry with gradient-check ``cases``
(tests/test_registry.py checks first and second order); the others are composites of
registered ops (``expose``) or return plain, unrecorded tensors.
"""

from __future__ import annotations

import builtins
import itertools
import math
import numbers

import numpy as np

from .._tensor import Size, Tensor, as_dtype, as_tensor, record, wrap
from . import composite as C
from . import primitives as P
from .registry import EXPOSED, Op, binary, case, expose, unary

_MISSING = object()


def _dim(dim, ndim: int, op: str) -> int:
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    if not -builtins.max(ndim, 1) <= dim < builtins.max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dims")
    return int(dim) % builtins.max(ndim, 1)


def _index_array(index, op: str) -> np.ndarray:
    arr = index.array if isinstance(index, Tensor) else np.asarray(index)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got dtype {arr.dtype}")
    return np.asarray(arr)


def _plain(op: str, array) -> Tensor:
    """A result that is not on the graph (indices, masks, counts)."""
    return record(array, Op(op, register=False), ())


# ---------------------------------------------------------------------------
# clone
# ---------------------------------------------------------------------------
CLONE = Op("clone", lambda F, g, ans, ctx, x: (g,), reads=(), formula="1", method=True,
           function=True, cases=[case((3, 2)), case(())])


@CLONE.define
def clone(x, memory_format=None) -> Tensor:
    x = as_tensor(x)
    return record(np.array(x.array, copy=True)[()] if x.ndim == 0 else x.array.copy(), CLONE,
                  (x,))


# ---------------------------------------------------------------------------
# gather / scatter_add / scatter / index_select / index_add / masked_fill
# ---------------------------------------------------------------------------
def _along(index: np.ndarray, dim: int):
    """The fancy index that picks ``a[..., index[...], ...]`` along ``dim`` with the other
    coordinates those of ``index``'s own positions (PyTorch's gather/scatter rule)."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def _index_case(shape, dim, n_index, high):
    def make(rng):
        idx_shape = list(shape)
        idx_shape[dim] = n_index
        return ((rng.uniform(-1, 1, shape),),
                {"dim": dim, "index": rng.integers(0, high, idx_shape)})
    return make


def _gather_vjp(F, g, ans, ctx, x):
    # zeros of x's shape with g added at the index; not x * 0, which is NaN where x is
    # ±inf (masked logits: Categorical(logits=l.masked_fill(mask, -inf)).log_prob)
    dim, index = ctx
    return (F.scatter_add(g, x.shape, _along(index, dim)),)


GATHER = Op("gather", _gather_vjp, reads=(), formula="1 at the index", method=True,
            function=True, cases=[_index_case((3, 4), 1, 2, 4), _index_case((3, 4), 0, 5, 3)])


@GATHER.define
def gather(x, dim: int, index, *, sparse_grad: bool = False) -> Tensor:
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "gather")
    idx = _index_array(index, "gather")
    if idx.ndim != x.ndim:
        raise ValueError(f"gather: index has {idx.ndim} dims but the input has {x.ndim} "
                         f"(shape {x.shape}); they must match")
    if idx.size and (idx.min() < -x.shape[d] or idx.max() >= x.shape[d]):
        raise IndexError(f"gather: index out of range for dim {d} of size {x.shape[d]} "
                         f"(values {idx.min()}..{idx.max()})")
    return record(x.array[_along(idx, d)], GATHER, (x,), (d, idx))


def _scatter_add_along_vjp(F, g, ans, ctx, x, src):
    dim, index = ctx
    return g, F.gather(g, dim, index)


def _scatter_case(shape, dim, n_index):
    def make(rng):
        idx_shape = list(shape)
        idx_shape[dim] = n_index
        return ((rng.uniform(-1, 1, shape), dim, rng.integers(0, shape[dim], idx_shape),
                 rng.uniform(-1, 1, idx_shape)), {})
    return make


def _scatter_operands(x, dim: int, index, src, op: str) -> tuple:
    """(x, src, dim, index array) of a scatter along ``dim``, checked to have one number of
    dims."""
    x = as_tensor(x)
    src = as_tensor(src, x)
    d = _dim(dim, x.ndim, op)
    idx = _index_array(index, op)
    if idx.ndim != x.ndim or src.ndim != x.ndim:
        raise ValueError(f"{op}: input {x.shape}, index {idx.shape} and src "
                         f"{src.shape} must have the same number of dims")
    return x, src, d, idx


SCATTER_ADD_ALONG = Op(
    "scatter_add_along", _scatter_add_along_vjp, reads=(), formula=("1", "1 at the index"),
    method="scatter_add", function="scatter_add", cases=[_scatter_case((3, 4), 1, 3)],
    doc="PyTorch's ``scatter_add(input, dim, index, src)``: input with src added at index.")


@SCATTER_ADD_ALONG.define
def scatter_add_along(x, dim: int, index, src) -> Tensor:
    x, src, d, idx = _scatter_operands(x, dim, index, src, "scatter_add")
    out = np.array(x.array, copy=True)
    np.add.at(out, _along(idx, d), src.array[tuple(slice(0, n) for n in idx.shape)])
    return record(out, SCATTER_ADD_ALONG, (x, src), (d, idx))


def _scatter_vjp(F, g, ans, ctx, x, src):
    dim, index = ctx
    keep = F.scatter_fill(g, dim, index, 0.0)  # overwritten positions get no gradient
    return keep, (F.gather(g, dim, index) if src is not None else None)


SCATTER = Op("scatter", _scatter_vjp, reads=(), formula=("1 where kept", "1 at the index"),
             method=True, function=True, cases=[_scatter_case((3, 4), 1, 1)])


@SCATTER.define
def scatter(x, dim: int, index, src=None, *, value=None, reduce=None) -> Tensor:
    """``x`` with ``src`` (a tensor, or the number ``value``) written at ``index`` along
    ``dim``. Where an index repeats, the value written last wins (as PyTorch on the CPU)."""
    if reduce is not None:
        return _scatter_with_reduce(x, dim, index, src if src is not None else value, reduce)
    if src is None and value is None:
        raise TypeError("scatter: give src (a tensor) or value (a number)")
    if src is not None and not isinstance(src, Tensor):
        return scatter_fill(x, dim, index, src)
    if src is None:
        return scatter_fill(x, dim, index, value)
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "scatter")
    idx = _index_array(index, "scatter")
    out = np.array(x.array, copy=True)
    out[_along(idx, d)] = src.array[tuple(slice(0, n) for n in idx.shape)]
    return record(out, SCATTER, (x, src), (d, idx))


SCATTER_FILL = Op("scatter_fill", lambda F, g, ans, ctx, x: (F.scatter_fill(g, ctx[0], ctx[1],
                                                                            0.0),),
                  reads=(), formula="1 where kept", method=False, function=False,
                  cases=[lambda rng: ((rng.uniform(-1, 1, (3, 4)),),
                                      {"dim": 1, "index": rng.integers(0, 4, (3, 2)),
                                       "value": 2.0})])


@SCATTER_FILL.define
def scatter_fill(x, dim: int, index, value) -> Tensor:
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "scatter")
    idx = _index_array(index, "scatter")
    out = np.array(x.array, copy=True)
    out[_along(idx, d)] = value
    return record(out, SCATTER_FILL, (x,), (d, idx))


def _index_select_vjp(F, g, ans, ctx, x):
    dim, index = ctx  # (zeros of x's shape, not x * 0: see _gather_vjp)
    return (F.scatter_add(g, x.shape, (slice(None),) * dim + (index,)),)


INDEX_SELECT = Op("index_select", _index_select_vjp, reads=(), formula="1 at the index",
                  method=True, function=True,
                  cases=[lambda rng: ((rng.uniform(-1, 1, (4, 3)),),
                                      {"dim": 0, "index": np.array([3, 0, 3])}),
                         lambda rng: ((rng.uniform(-1, 1, (2, 5)),),
                                      {"dim": 1, "index": np.array([1, 4])})])


@INDEX_SELECT.define
def index_select(x, dim: int, index) -> Tensor:
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "index_select")
    idx = _index_array(index, "index_select").reshape(-1)
    if idx.size and (idx.min() < -x.shape[d] or idx.max() >= x.shape[d]):
        raise IndexError(f"index_select: index out of range for dim {d} of size {x.shape[d]}")
    return record(np.take(x.array, idx, axis=d), INDEX_SELECT, (x,), (d, idx))


def _index_add_vjp(F, g, ans, ctx, x, src):
    dim, index, alpha = ctx
    return g, F.index_select(g, dim, index) * alpha


INDEX_ADD = Op("index_add", _index_add_vjp, reads=(), formula=("1", "α at the index"),
               method=True, function=True,
               cases=[lambda rng: ((rng.uniform(-1, 1, (4, 3)), 0, np.array([3, 0, 3]),
                                    rng.uniform(-1, 1, (3, 3))), {})])


@INDEX_ADD.define
def index_add(x, dim: int, index, source, *, alpha=1) -> Tensor:
    x = as_tensor(x)
    source = as_tensor(source, x)
    d = _dim(dim, x.ndim, "index_add")
    idx = _index_array(index, "index_add").reshape(-1)
    out = np.array(x.array, copy=True)
    moved = np.moveaxis(out, d, 0)
    np.add.at(moved, idx, np.moveaxis(source.array, d, 0) * alpha)
    return record(out, INDEX_ADD, (x, source), (d, idx, alpha))


@expose
def masked_fill(x, mask, value) -> Tensor:
    """``x`` with ``value`` where ``mask`` is true (mask broadcasts against x)."""
    x = as_tensor(x)
    m = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: expected a bool mask, got dtype {m.dtype}")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise ValueError("masked_fill: value must be a number or a 0-d tensor")
    fill = as_tensor(value, x)
    if fill.dtype != x.dtype:  # as PyTorch: the value takes x's dtype (2.5 in int64 is 2)
        fill = P.cast(fill, x.dtype)
    return P.where(wrap(np.broadcast_to(m, np.broadcast_shapes(m.shape, x.shape))), fill, x)


@expose
def masked_select(x, mask) -> Tensor:
    x = as_tensor(x)
    m = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    shape = np.broadcast_shapes(m.shape, x.shape)
    if shape != x.shape:
        x = P.broadcast_to(x, shape)
    return P.getitem(x, wrap(np.broadcast_to(m, shape)))


# ---------------------------------------------------------------------------
# shape ops
# ---------------------------------------------------------------------------
def _flip_vjp(F, g, ans, dims, x):
    return (F.flip(g, dims),)


FLIP = Op("flip", _flip_vjp, reads=(), formula="1", method=True, function=True,
          cases=[case((3, 4), dims=(1,)), case((2, 3, 2), dims=(0, 2))])


@FLIP.define
def flip(x, dims, *more_dims) -> Tensor:
    """``x`` reversed along ``dims`` (a dim, a sequence, or several: ``x.flip(0, 2)``)."""
    x = as_tensor(x)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    dims += tuple(more_dims)
    axes = tuple(_dim(d, x.ndim, "flip") for d in dims)
    return record(np.flip(x.array, axes).copy(), FLIP, (x,), axes)


def _roll_vjp(F, g, ans, ctx, x):
    shifts, dims = ctx
    return (F.roll(g, tuple(-s for s in shifts), dims),)


ROLL = Op("roll", _roll_vjp, reads=(), formula="1", method=True, function=True,
          cases=[case((3, 4), shifts=1, dims=1), case((5,), shifts=-2, dims=0),
                 case((2, 3), shifts=(1, 2), dims=(0, 1))])


@ROLL.define
def roll(x, shifts, dims=None) -> Tensor:
    x = as_tensor(x)
    if dims is None:  # PyTorch: roll the flattened tensor, then restore the shape
        flat = P.reshape(x, (-1,))
        return P.reshape(roll(flat, shifts, 0), x.shape)
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(dims)} dims")
    axes = tuple(_dim(d, x.ndim, "roll") for d in dims)
    return record(np.roll(x.array, shifts, axes), ROLL, (x,), (shifts, axes))


def _triangle(name: str, np_fn):
    def vjp(F, g, ans, diagonal, x):
        return (getattr(F, name)(g, diagonal),)

    op = Op(name, vjp, reads=(), formula="1 inside the triangle", method=True, function=True,
            cases=[case((4, 3)), case((3, 4), diagonal=1), case((2, 3, 3), diagonal=-1)])

    def fn(x, diagonal: int = 0) -> Tensor:
        x = as_tensor(x)
        if x.ndim < 2:
            raise ValueError(f"{name}: expected a tensor with at least 2 dims, got shape "
                             f"{x.shape}")
        return record(np_fn(x.array, diagonal), op, (x,), diagonal)

    fn.__name__ = fn.__qualname__ = name
    return op.define(fn)


tril = _triangle("tril", np.tril)
triu = _triangle("triu", np.triu)


def _cum_vjp(F, g, ans, dim, x):
    # d cumsum: the reversed cumulative sum of the adjoint
    return (F.flip(F.cumsum(F.flip(g, (dim,)), dim), (dim,)),)


CUMSUM = Op("cumsum", _cum_vjp, reads=(), formula="1 for every later position", method=True,
            function=True, cases=[case((5,), dim=0), case((3, 4), dim=1), case((3, 4), dim=-2)])


@CUMSUM.define
def cumsum(x, dim: int, *, dtype=None) -> Tensor:
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "cumsum")
    data = x.array if x.ndim else np.reshape(x.array, (1,))
    if dtype is None and data.dtype == np.float16:  # accumulate in float32, as PyTorch
        out = np.cumsum(data, axis=d, dtype=np.float32).astype(np.float16)
    else:
        out = np.cumsum(data, axis=d, dtype=None if dtype is None else as_dtype(dtype))
    if x.array.dtype.kind in "biu" and dtype is None:
        out = out.astype(np.int64)
    return record(out.reshape(x.shape), CUMSUM, (x,), d)


@expose
def cumprod(x, dim: int, *, dtype=None) -> Tensor:
    """Cumulative product; differentiable as a chain of products (exact at zeros)."""
    x = as_tensor(x)
    if dtype is not None:
        x = P.cast(x, dtype)
    d = _dim(dim, x.ndim, "cumprod")
    if x.array.dtype.kind not in "fc" or not x.requires_grad:
        out = np.cumprod(x.array if x.ndim else np.reshape(x.array, (1,)), axis=d)
        if x.array.dtype.kind in "biu":
            out = out.astype(np.int64)
        return _plain("cumprod", out.reshape(x.shape))
    if x.ndim == 0:
        return x
    running, outs = None, []
    for piece in unbind(x, d):
        running = piece if running is None else P.mul(running, piece)
        outs.append(running)
    return C.stack(outs, d)


@expose
def prod(x, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product of the elements (over ``dim``); differentiable, exact with zeros; ``dtype``
    casts the input first."""
    x = as_tensor(x)
    if dtype is not None:
        x = P.cast(x, dtype)
    if x.array.dtype.kind not in "fc" or not x.requires_grad:
        out = np.prod(x.array, axis=dim, keepdims=keepdim)
        if x.array.dtype.kind in "biu":
            out = np.asarray(out, dtype=np.int64)
        return _plain("prod", out)
    if dim is None:
        flat = P.reshape(x, (-1,))
        out = cumprod(flat, 0)[-1] if flat.shape[0] else as_tensor(1.0, x)
        return P.reshape(out, (1,) * x.ndim) if keepdim else out
    d = _dim(dim, x.ndim, "prod")
    last = P.getitem(cumprod(x, d), (slice(None),) * d + (-1,))
    return C.unsqueeze(last, d) if keepdim else last


# ---------------------------------------------------------------------------
# composites on the registered shape ops
# ---------------------------------------------------------------------------
@expose
def t(x) -> Tensor:
    x = as_tensor(x)
    if x.ndim > 2:
        raise ValueError(f"t: expects a tensor with <= 2 dims, got shape {x.shape}; use "
                         "transpose(dim0, dim1) or .mT")
    return P.transpose(x) if x.ndim == 2 else x


@expose
def contiguous(x, memory_format=None) -> Tensor:
    """``x`` itself if its memory is in row-major order, else a row-major copy (on the
    graph, as clone)."""
    x = as_tensor(x)
    if getattr(getattr(x.array, "flags", None), "c_contiguous", True):
        return x
    return clone(x)


@expose(function=False)
def is_contiguous(x, memory_format=None) -> bool:
    arr = x.array
    return bool(getattr(getattr(arr, "flags", None), "c_contiguous", True))


@expose(function=False)
def view_as(x, other) -> Tensor:
    return P.reshape(x, tuple(other.shape))


@expose(function=False)
def expand_as(x, other) -> Tensor:
    return C.expand(x, tuple(other.shape))


@expose(function=False)
def reshape_as(x, other) -> Tensor:
    return P.reshape(x, tuple(other.shape))


@expose
def repeat(x, *sizes) -> Tensor:
    """Tile ``x`` (PyTorch's ``repeat``: ``x.repeat(2, 1)``)."""
    x = as_tensor(x)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: {len(sizes)} repeat counts for a tensor with {x.ndim} dims "
                         "(give at least one per dim)")
    lead = len(sizes) - x.ndim
    x = P.reshape(x, (1,) * lead + tuple(x.shape))
    # broadcast each dim into a new axis in front of it, then merge: differentiable
    inter, final = [], []
    for n, r in zip(x.shape, sizes):
        inter += [r, n]
        final.append(r * n)
    expanded = P.broadcast_to(P.reshape(x, tuple(v for n in x.shape for v in (1, n))),
                              tuple(inter))
    return P.reshape(expanded, tuple(final))


@expose
def repeat_interleave(x, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Each element (or slice along ``dim``) repeated ``repeats`` times; with ``x`` alone,
    a 1-D tensor of counts, the indices 0, 1, ... each repeated its count (PyTorch's
    one-argument form)."""
    if repeats is None:
        counts = as_tensor(x).array
        if counts.ndim != 1 or counts.dtype.kind not in "iu":
            raise ValueError(f"repeat_interleave: the one-argument form takes a 1-D integer "
                             f"tensor of counts, got dtype {counts.dtype} shape {counts.shape}")
        return _plain("repeat_interleave", np.repeat(np.arange(len(counts)), counts))
    x = as_tensor(x)
    if dim is None:
        x, dim = P.reshape(x, (-1,)), 0
    d = _dim(dim, x.ndim, "repeat_interleave")
    reps = repeats.array if isinstance(repeats, Tensor) else repeats
    index = np.repeat(np.arange(x.shape[d]), reps)
    return index_select(x, d, index)


@expose
def unflatten(x, dim: int, sizes) -> Tensor:
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "unflatten")
    sizes = tuple(sizes)
    shape = tuple(x.shape[:d]) + sizes + tuple(x.shape[d + 1:])
    return P.reshape(x, shape)


@expose
def unbind(x, dim: int = 0) -> tuple:
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "unbind")
    lead = (slice(None),) * d
    return tuple(P.getitem(x, lead + (i,)) for i in range(x.shape[d]))


@expose
def narrow(x, dim: int, start: int, length: int) -> Tensor:
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "narrow")
    start = int(start)
    if start < 0:
        start += x.shape[d]
    if not 0 <= start <= start + length <= x.shape[d]:
        raise IndexError(f"narrow: start {start} + length {length} exceeds dim {d} of size "
                         f"{x.shape[d]}")
    return P.getitem(x, (slice(None),) * d + (slice(start, start + length),))


@expose(method=False)
def hstack(tensors) -> Tensor:
    tensors = [as_tensor(t) for t in tensors]
    axis = 0 if builtins.all(t.ndim == 1 for t in tensors) else 1
    return P.concatenate([C.unsqueeze(t, 0) if t.ndim == 0 else t for t in tensors], axis)


@expose(method=False)
def vstack(tensors) -> Tensor:
    tensors = [as_tensor(t) for t in tensors]
    return P.concatenate([P.reshape(t, (1, -1)) if t.ndim < 2 else t for t in tensors], 0)


@expose
def mm(a, b) -> Tensor:
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"mm: expected two 2-D tensors, got shapes {a.shape} and {b.shape}")
    return P.matmul(a, b)


@expose
def bmm(a, b) -> Tensor:
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: expected two 3-D tensors with the same batch size, got shapes "
                         f"{a.shape} and {b.shape}")
    return P.matmul(a, b)


@expose(method=False)
def chain_matmul(*matrices, out=None) -> Tensor:
    """PyTorch's deprecated ``chain_matmul``: ``linalg.multi_dot`` of the matrices."""
    from .linalg_ops import multi_dot

    if out is not None:
        raise TypeError("chain_matmul: out= is not supported; assign the result")
    return multi_dot(list(matrices))


@expose
def mv(a, v) -> Tensor:
    return P.matmul(as_tensor(a), as_tensor(v))


@expose
def addmm(x, a, b, *, beta=1, alpha=1) -> Tensor:
    return _scaled_sum(x, P.matmul(a, b), beta, alpha)


@expose
def baddbmm(x, a, b, *, beta=1, alpha=1) -> Tensor:
    return addmm(x, a, b, beta=beta, alpha=alpha)


def _scaled_sum(x, prod, beta, alpha) -> Tensor:
    """``beta * x + alpha * prod`` (PyTorch's add-products: beta = 0 ignores x's values)."""
    scaled = prod if alpha == 1 else P.mul(prod, alpha)
    if beta == 0:  # x's values (nan and inf too) are not read, only its shape
        shape = np.broadcast_shapes(as_tensor(x, prod).shape, prod.shape)
        return scaled if shape == scaled.shape else P.broadcast_to(scaled, shape)
    return P.add(x if beta == 1 else P.mul(x, beta), scaled)


@expose
def addmv(x, mat, vec, *, beta=1, alpha=1) -> Tensor:
    """``beta * x + alpha * (mat @ vec)``."""
    mat, vec = as_tensor(mat), as_tensor(vec)
    if mat.ndim != 2 or vec.ndim != 1:
        raise ValueError(f"addmv: expected a matrix and a vector, got shapes {mat.shape} and "
                         f"{vec.shape}")
    return _scaled_sum(x, P.matmul(mat, vec), beta, alpha)


@expose
def addr(x, vec1, vec2, *, beta=1, alpha=1) -> Tensor:
    """``beta * x + alpha * outer(vec1, vec2)``."""
    return _scaled_sum(x, C.outer(vec1, vec2), beta, alpha)


@expose
def addbmm(x, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    """``beta * x + alpha * Σ_b batch1[b] @ batch2[b]``."""
    batch1, batch2 = as_tensor(batch1), as_tensor(batch2)
    if batch1.ndim != 3 or batch2.ndim != 3:
        raise ValueError(f"addbmm: expected two 3-D tensors, got shapes {batch1.shape} and "
                         f"{batch2.shape}")
    return _scaled_sum(x, P.sum(bmm(batch1, batch2), axis=0), beta, alpha)


@expose
def kron(a, b) -> Tensor:
    """The Kronecker product: every element of ``a`` times the whole of ``b``."""
    a, b = as_tensor(a), as_tensor(b)
    n = builtins.max(a.ndim, b.ndim)
    a = P.reshape(a, (1,) * (n - a.ndim) + a.shape)
    b = P.reshape(b, (1,) * (n - b.ndim) + b.shape)
    # interleave: a's dims as (a0, 1, a1, 1, ...), b's as (1, b0, 1, b1, ...)
    pa = P.reshape(a, tuple(d for size in a.shape for d in (size, 1)))
    pb = P.reshape(b, tuple(d for size in b.shape for d in (1, size)))
    return P.reshape(P.mul(pa, pb), tuple(x * y for x, y in zip(a.shape, b.shape)))


@expose
def tensordot(a, b, dims=2) -> Tensor:
    """Sum of products over ``dims``: an int (a's last dims with b's first) or two lists of
    dims, as a matrix product of the reshaped operands."""
    a, b = as_tensor(a), as_tensor(b)
    if isinstance(dims, (int, np.integer)):
        if not 0 <= dims <= builtins.min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: dims={dims} is out of range for shapes {a.shape} "
                             f"and {b.shape}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, (int, np.integer)) else list(da)
        db = [db] if isinstance(db, (int, np.integer)) else list(db)
        da = [_dim(d, a.ndim, "tensordot") for d in da]
        db = [_dim(d, b.ndim, "tensordot") for d in db]
    if len(da) != len(db) or any(a.shape[i] != b.shape[j] for i, j in zip(da, db)):
        raise ValueError(f"tensordot: contracted dims {da} of {a.shape} and {db} of {b.shape} "
                         "must pair up with equal sizes")
    free_a = [i for i in range(a.ndim) if i not in da]
    free_b = [j for j in range(b.ndim) if j not in db]
    k = int(np.prod([a.shape[i] for i in da]))
    am = P.reshape(P.transpose(a, tuple(free_a + da)), (-1, k))
    bm = P.reshape(P.transpose(b, tuple(db + free_b)), (k, -1))
    return P.reshape(P.matmul(am, bm), tuple(a.shape[i] for i in free_a)
                     + tuple(b.shape[j] for j in free_b))


@expose
def inner(a, b) -> Tensor:
    """Sum of products over the last dim of both (a scalar times a tensor for 0-d)."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        return P.mul(a, b)
    return tensordot(a, b, ([-1], [-1]))


@expose
def cross(a, b, dim=None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (the first dim of size 3 if None, as
    torch.cross; torch.linalg.cross uses the last)."""
    a, b = as_tensor(a), as_tensor(b)
    shape = np.broadcast_shapes(a.shape, b.shape)
    if dim is None:
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise ValueError(f"cross: no dim of size 3 in shape {shape}")
    d = _dim(dim, len(shape), "cross")
    if shape[d] != 3:
        raise ValueError(f"cross: dim {d} has size {shape[d]}; the cross product needs 3")
    a, b = P.broadcast_to(a, shape), P.broadcast_to(b, shape)
    # (a × b)_i = a_{i+1} b_{i+2} - a_{i+2} b_{i+1}
    return P.sub(P.mul(roll(a, -1, d), roll(b, -2, d)), P.mul(roll(a, -2, d), roll(b, -1, d)))


@expose
def diag_embed(x, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Each last-dim vector of ``x`` on the diagonal of a matrix (the last two dims)."""
    x = as_tensor(x)
    if (dim1, dim2) not in ((-2, -1), (x.ndim - 1, x.ndim)):
        raise NotImplementedError("diag_embed: only dim1=-2, dim2=-1 (the default) is in "
                                  "chainrule; move the dims with movedim afterwards")
    n = x.shape[-1] + abs(offset)
    rows = np.arange(x.shape[-1]) + builtins.max(0, -offset)
    zero = wrap(np.zeros(x.shape[:-1] + (n, n), x.array.dtype))
    return index_put(zero, (Ellipsis, rows, rows + offset), x)


@expose(method=False)
def block_diag(*tensors) -> Tensor:
    """The tensors (0-, 1- or 2-D) as blocks on a diagonal, zeros elsewhere."""
    mats = []
    for t in tensors:
        t = as_tensor(t)
        if t.ndim > 2:
            raise ValueError(f"block_diag: expected tensors of at most 2 dims, got {t.shape}")
        mats.append(P.reshape(t, (1,) * (2 - t.ndim) + t.shape) if t.ndim < 2 else t)
    rows = builtins.sum(m.shape[0] for m in mats)
    cols = builtins.sum(m.shape[1] for m in mats)
    dtype = np.result_type(*[m.array.dtype for m in mats]) if mats else np.float32
    out = wrap(np.zeros((rows, cols), dtype))
    r = c = 0
    for m in mats:
        out = index_put(out, (slice(r, r + m.shape[0]), slice(c, c + m.shape[1])), m)
        r, c = r + m.shape[0], c + m.shape[1]
    return out


@expose(method=False)
def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    r, c = np.tril_indices(row, offset, col)
    return _plain("tril_indices", np.stack([r, c]).astype(as_dtype(dtype or "int64")))


@expose(method=False)
def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    r, c = np.triu_indices(row, offset, col)
    return _plain("triu_indices", np.stack([r, c]).astype(as_dtype(dtype or "int64")))


def _sublist_equation(args: tuple) -> tuple:
    """PyTorch's ``einsum(op1, sublist1, op2, sublist2, ..., [out_sublist])`` as an
    equation string and the operands (sublists of ints 0-51, or Ellipsis)."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def term(sub) -> str:
        out = ""
        for k in sub:
            if k is Ellipsis:
                out += "..."
            elif isinstance(k, (int, np.integer)) and 0 <= k < len(letters):
                out += letters[int(k)]
            else:
                raise ValueError(f"einsum: sublist entries must be ints in [0, 52) or "
                                 f"Ellipsis, got {k!r}")
        return out

    operands, terms = [], []
    pairs = list(args)
    out_term = None
    if len(pairs) % 2 == 1:
        out_term = term(pairs.pop())
    for op, sub in zip(pairs[::2], pairs[1::2]):
        operands.append(op)
        terms.append(term(sub))
    equation = ",".join(terms) + ("" if out_term is None else "->" + out_term)
    return equation, tuple(operands)


@expose(method=False)
def einsum(equation: str, *operands) -> Tensor:
    """``einsum`` as products and sums of registered ops: each operand's letters are moved
    to one shared order, broadcast-multiplied, and the letters not in the output summed."""
    if not isinstance(equation, str):  # the sublist form: einsum(x, [0, 1], y, [1], [0])
        equation, operands = _sublist_equation((equation,) + tuple(operands))
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: {len(terms)} terms in {equation!r} but {len(operands)} "
                         "operands")
    ellipsis = ""
    if "..." in eq:  # '...' stands for the leading (broadcast) dims: give them letters
        spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in eq]
        counts = [builtins.max(as_tensor(x).ndim - (len(t) - 3), 0) if "..." in t else 0
                  for t, x in zip(terms, operands)]
        ellipsis = "".join(spare[:builtins.max(counts, default=0)])
        terms = [t.replace("...", ellipsis[len(ellipsis) - n:] if n else "")
                 for t, n in zip(terms, counts)]
        rhs = rhs.replace("...", ellipsis)
    if not arrow:
        counts = {}
        for ch in "".join(terms):
            counts[ch] = counts.get(ch, 0) + 1
        rhs = ellipsis + "".join(sorted(ch for ch, n in counts.items()
                                        if n == 1 and ch not in ellipsis))
    letters = []
    for ch in "".join(terms) + rhs:
        if ch not in letters:
            letters.append(ch)
    sizes: dict = {}
    product = None
    for term, x in zip(terms, operands):
        x = as_tensor(x)
        if len(term) != x.ndim:
            raise ValueError(f"einsum: term {term!r} has {len(term)} letters but its operand "
                             f"has shape {x.shape}")
        while len(set(term)) != len(term):  # a repeated letter: take that diagonal first
            ch = next(c for c in term if term.count(c) > 1)
            p1 = term.index(ch)
            p2 = term.index(ch, p1 + 1)
            if x.shape[p1] != x.shape[p2]:
                raise ValueError(f"einsum: letter {ch!r} repeats in {term!r} over dims of "
                                 f"sizes {x.shape[p1]} and {x.shape[p2]}; they must match")
            x = diagonal(x, 0, p1, p2)
            term = term[:p1] + term[p1 + 1:p2] + term[p2 + 1:] + ch
        for ch, n in zip(term, x.shape):
            if sizes.setdefault(ch, n) != n and n != 1 and sizes[ch] != 1:
                raise ValueError(f"einsum: letter {ch!r} is {sizes[ch]} in one operand and "
                                 f"{n} in another")
            sizes[ch] = builtins.max(sizes[ch], n)
        order = [term.index(ch) for ch in letters if ch in term]
        moved = P.transpose(x, *order) if order != list(range(x.ndim)) else x
        shape = tuple(x.shape[term.index(ch)] if ch in term else 1 for ch in letters)
        moved = P.reshape(moved, shape)
        product = moved if product is None else P.mul(product, moved)
    summed = tuple(i for i, ch in enumerate(letters) if ch not in rhs)
    out = P.sum(product, axis=summed) if summed else product
    kept = [ch for ch in letters if ch in rhs]
    order = [kept.index(ch) for ch in rhs]
    return P.transpose(out, *order) if order != list(range(len(order))) else out


@expose
def lerp(start, end, weight) -> Tensor:
    start = as_tensor(start)
    return P.add(start, P.mul(weight, P.sub(end, start)))


@expose
def clamp_min(x, min) -> Tensor:
    return P.clip(x, min, None)


@expose
def clamp_max(x, max) -> Tensor:
    return P.clip(x, None, max)


@expose
def norm(x, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Vector p-norm over ``dim`` (all elements by default); 'fro' = 2, inf = max |x|."""
    x = as_tensor(x)
    if p == "nuc" or (p == "fro" and isinstance(dim, (tuple, list)) and len(dim) == 2):
        from .linalg_ops import matrix_norm

        return matrix_norm(x, p, (-2, -1) if dim is None else tuple(dim), keepdim)
    if p == 0:
        return P.sum(P.cast(C.ne(x, 0), x.dtype), axis=dim, keepdims=keepdim)
    if p in ("fro", 2, 2.0):  # the gradient at the origin is 0, as PyTorch's
        return P.sqrt_masked(P.sum(P.mul(x, x), axis=dim, keepdims=keepdim))
    if p in (math.inf, "inf"):
        return P.amax(P.abs(x), axis=dim, keepdims=keepdim)
    if p in (-math.inf, "-inf"):
        return P.amin(P.abs(x), axis=dim, keepdims=keepdim)
    if p == 1:
        return P.sum(P.abs(x), axis=dim, keepdims=keepdim)
    if isinstance(p, str):
        raise TypeError(f"norm: unknown p={p!r} (expected a number, 'fro' or inf; "
                         "or 'nuc')")
    return P.pow(P.sum(P.pow(P.abs(x), p), axis=dim, keepdims=keepdim), 1.0 / p)


@expose
def var(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None,
        axis=None, keepdims=None) -> Tensor:
    """Variance, as torch.var: Bessel's correction unless ``unbiased=False`` or
    ``correction=0``."""
    return C.var(x, dim if axis is None else axis,
                 keepdim if keepdims is None else keepdims, _correction(unbiased, correction))


@expose
def std(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None,
        axis=None, keepdims=None) -> Tensor:
    return C.std(x, dim if axis is None else axis,
                 keepdim if keepdims is None else keepdims, _correction(unbiased, correction))


def _correction(unbiased, correction) -> int:
    if isinstance(unbiased, (int, np.integer)) and not isinstance(unbiased, bool) \
            and correction is None:
        raise TypeError("var/std: the third positional argument is unbiased (a bool), as in "
                        "PyTorch; pass keepdim= by name")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


@expose
def nan_to_num(x, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:
    x = as_tensor(x)
    arr = x.array
    bad = ~np.isfinite(arr)
    if not bad.any():
        return x
    fill = np.nan_to_num(arr, nan=nan, posinf=posinf, neginf=neginf)
    return P.where(wrap(bad), as_tensor(fill, x), x)


# ---------------------------------------------------------------------------
# sorting and order statistics: (values, indices) as PyTorch
# ---------------------------------------------------------------------------
ValuesIndices = C.ValuesIndices


def _take(x, dim: int, order: np.ndarray) -> Tensor:
    return gather(x, dim, order) if x.requires_grad else wrap(
        np.take_along_axis(x.array, order, axis=dim))


@expose
def sort(x, dim: int = -1, descending: bool = False, stable: bool = False) -> ValuesIndices:
    x = as_tensor(x)
    if x.ndim == 0:
        return ValuesIndices(x, wrap(np.int64(0)))
    d = _dim(dim, x.ndim, "sort")
    arr = np.asarray(x.array)
    order = _descending_order(arr, d) if descending else np.argsort(arr, axis=d, kind="stable")
    return ValuesIndices(_take(x, d, order), _plain("sort_indices", order.astype(np.int64)))


def _descending_order(arr: np.ndarray, d: int) -> np.ndarray:
    """Indices that sort ``arr`` along ``d`` from the largest, equal values in their
    original order, nan counted as the largest (first), as PyTorch."""
    if arr.dtype.kind == "f":
        nan = np.isnan(arr)
        return np.lexsort((-np.where(nan, 0, arr), ~nan), axis=d)
    if arr.dtype.kind in "bu":
        arr = arr.astype(np.int64)  # negating an unsigned value would wrap around
    return np.argsort(-arr, axis=d, kind="stable")


@expose
def argsort(x, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    return sort(x, dim, descending, stable).indices


@expose
def msort(x) -> Tensor:
    return sort(x, 0).values


@expose
def topk(x, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "topk")
    if not 0 <= k <= x.shape[d]:
        raise ValueError(f"topk: k={k} is out of range for dim {d} of size {x.shape[d]}")
    arr = np.asarray(x.array)
    order = _descending_order(arr, d) if largest else np.argsort(arr, axis=d, kind="stable")
    order = np.take(order, np.arange(k), axis=d)
    return ValuesIndices(_take(x, d, order), _plain("topk_indices", order.astype(np.int64)))


@expose
def kthvalue(x, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "kthvalue")
    if not 1 <= k <= x.shape[d]:
        raise ValueError(f"kthvalue: k={k} is out of range for dim {d} of size {x.shape[d]}")
    order = np.take(np.argsort(x.array, axis=d, kind="stable"), [k - 1], axis=d)
    values, idx = _take(x, d, order), order.astype(np.int64)
    if not keepdim:
        values, idx = C.squeeze(values, d), np.squeeze(idx, d)
    return ValuesIndices(values, _plain("kthvalue_indices", idx))


@expose
def median(x, dim=None, keepdim: bool = False):
    """The lower median (as PyTorch: no averaging of the two middle values); with ``dim``
    a (values, indices) pair."""
    x = as_tensor(x)
    if x.array.dtype.kind == "f" and np.isnan(x.array).any():
        return _median_with_nan(x, dim, keepdim)
    if dim is None:
        flat = P.reshape(x, (-1,))
        value = kthvalue(flat, (flat.shape[0] + 1) // 2, 0).values
        if x.requires_grad and x.array.dtype.kind == "f":
            # over everything, PyTorch shares the gradient among the elements equal to the
            # median: amax of x masked to them gives the same value and that rule
            ties = np.asarray(x.array == value.array)
            return P.amax(P.where(ties, x, -np.inf))
        return value
    d = _dim(dim, x.ndim, "median")
    return kthvalue(x, (x.shape[d] + 1) // 2, d, keepdim)


@expose
def mode(x, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """The most frequent value along ``dim`` (the smallest among ties) and the index of
    its last occurrence, as PyTorch on the CPU."""
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "mode")
    arr = np.moveaxis(np.asarray(x.array), d, -1)
    flat = arr.reshape(-1, arr.shape[-1]) if arr.ndim else arr.reshape(1, 1)
    values = np.empty(flat.shape[0], dtype=arr.dtype)
    indices = np.empty(flat.shape[0], dtype=np.int64)
    for r, row in enumerate(flat):
        uniq, counts = np.unique(row, return_counts=True)
        v = uniq[np.argmax(counts)]
        values[r] = v
        indices[r] = np.flatnonzero(row == v)[-1]
    shape = arr.shape[:-1]
    values, indices = values.reshape(shape), indices.reshape(shape)
    if x.ndim and x.requires_grad:  # the values are picked elements: gather's gradient
        picked = gather(x, d, np.expand_dims(indices, d))
        out = picked if keepdim else P.reshape(picked, shape)
        return ValuesIndices(out, _plain("mode_indices", np.expand_dims(indices, d)
                                         if keepdim else indices))
    if keepdim:
        values, indices = np.expand_dims(values, d), np.expand_dims(indices, d)
    return ValuesIndices(_plain("mode", values), _plain("mode_indices", indices))


def _median_with_nan(x, dim, keepdim: bool):
    """median where nan is present: nan propagates (the first nan is the index), as
    PyTorch; slices without nan get their lower median."""
    arr = np.asarray(x.array)
    if dim is None:
        first = int(np.flatnonzero(np.isnan(arr.reshape(-1)))[0])
        return P.getitem(P.reshape(x, (-1,)), first)
    d = _dim(dim, x.ndim, "median")
    n = arr.shape[d]
    ordered = np.argsort(arr, axis=d, kind="stable")  # nan last
    middle = np.take(ordered, [(n - 1) // 2], axis=d)
    has_nan = np.isnan(arr).any(axis=d, keepdims=True)
    first_nan = np.expand_dims(np.argmax(np.isnan(arr), axis=d), d)
    index = np.where(has_nan, first_nan, middle)
    values = _take(x, d, index)
    if not keepdim:
        values, index = C.squeeze(values, d), np.squeeze(index, d)
    return ValuesIndices(values, _plain("median_indices", index.astype(np.int64)))


# ---------------------------------------------------------------------------
# not differentiable: indices, masks, counts, sampling
# ---------------------------------------------------------------------------
@expose
def nonzero(x, *, as_tuple: bool = False):
    arr = as_tensor(x).array
    if as_tuple:
        return tuple(_plain("nonzero", i.astype(np.int64)) for i in np.nonzero(arr))
    return _plain("nonzero", np.argwhere(arr).astype(np.int64))


@expose
def argwhere(x) -> Tensor:
    return _plain("argwhere", np.argwhere(as_tensor(x).array).astype(np.int64))


@expose
def count_nonzero(x, dim=None) -> Tensor:
    return _plain("count_nonzero", np.asarray(np.count_nonzero(as_tensor(x).array, axis=dim),
                                              dtype=np.int64))


@expose
def unique(x, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim=None):
    arr = as_tensor(x).array
    out = np.unique(arr, return_inverse=return_inverse, return_counts=return_counts, axis=dim)
    if not (return_inverse or return_counts):
        return _plain("unique", out)
    parts = [_plain("unique", out[0])]
    if return_inverse:  # one index per element, or per slice along dim
        shape = arr.shape if dim is None else (arr.shape[dim],)
        parts.append(_plain("unique_inverse", out[1].reshape(shape).astype(np.int64)))
    if return_counts:
        parts.append(_plain("unique_counts", out[-1].astype(np.int64)))
    return tuple(parts)


@expose(method=False)
def isin(elements, test_elements, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """Whether each element of ``elements`` occurs in ``test_elements`` (a bool tensor of
    ``elements``' shape; either may be a number)."""
    a = np.asarray(elements.array if isinstance(elements, Tensor) else elements)
    b = np.asarray(test_elements.array if isinstance(test_elements, Tensor) else test_elements)
    return _plain("isin", np.isin(a, b, assume_unique=assume_unique, invert=invert))


@expose
def bincount(x, weights=None, minlength: int = 0) -> Tensor:
    arr = as_tensor(x).array
    if arr.ndim != 1 or arr.dtype.kind not in "iu" or (arr.size and arr.min() < 0):
        raise ValueError("bincount: expected a 1-D tensor of non-negative integers")
    w = None if weights is None else as_tensor(weights).array
    out = np.bincount(arr, w, minlength)
    if w is None:
        return _plain("bincount", out.astype(np.int64))
    # PyTorch: float weights keep their dtype; integer weights give float64
    return _plain("bincount", out.astype(w.dtype if w.dtype.kind == "f" else np.float64))


@expose
def isclose(a, b, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    a, b = P._pair(a, b)
    return _plain("isclose", np.isclose(a.array, b.array, rtol, atol, equal_nan))


@expose
def equal(a, b) -> bool:
    a, b = as_tensor(a), as_tensor(b)
    return a.shape == b.shape and bool(np.array_equal(a.array, b.array))


@expose
def isinf(x) -> Tensor:
    return _plain("isinf", np.isinf(as_tensor(x).array))


@expose(method=False)
def where(condition, input=_MISSING, other=_MISSING) -> Tensor:
    """``where(cond, a, b)``: a where cond else b (differentiable); ``where(cond)``: the
    indices of the true elements, one tensor per dim (as ``nonzero(as_tuple=True)``)."""
    if input is _MISSING and other is _MISSING:
        return nonzero(condition, as_tuple=True)
    if input is _MISSING or other is _MISSING:
        raise TypeError("where: give a condition alone, or a condition and two values")
    return P.where(condition, input, other)


@expose(function=False, name="where")
def _where_method(x, condition, other) -> Tensor:
    return P.where(condition, x, other)


@expose
def multinomial(probs, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """Draw indices from the rows of ``probs`` (non-negative weights, not necessarily
    normalized). The stream is chainrule's own: the same seed gives other samples than
    PyTorch's."""
    from ..random import numpy_generator

    p = np.asarray(as_tensor(probs).array, dtype=np.float64)
    rows = p.reshape(-1, p.shape[-1]) if p.ndim else None
    if rows is None or p.ndim > 2:
        raise ValueError(f"multinomial: expected a 1-D or 2-D tensor, got shape {p.shape}")
    if (rows < 0).any() or not np.isfinite(rows).all() or (rows.sum(1) <= 0).any():
        raise ValueError("multinomial: probabilities must be finite, non-negative and not all "
                         "zero in a row")
    if not replacement and num_samples > rows.shape[1]:
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement "
                         f"from {rows.shape[1]} categories")
    rng = numpy_generator(generator)
    out = np.stack([_draw_categories(rng, row, num_samples, replacement)
                    for row in rows]).astype(np.int64)
    return _plain("multinomial", out.reshape(p.shape[:-1] + (num_samples,)))


def _draw_categories(rng, weights: np.ndarray, n: int, replacement: bool) -> np.ndarray:
    positive = np.flatnonzero(weights > 0)
    if replacement or n <= positive.size:
        return rng.choice(weights.size, n, replace=replacement, p=weights / weights.sum())
    # more draws without replacement than categories of positive weight: as PyTorch, all
    # of those (in a weighted order), then categories of weight 0 in a random order
    first = rng.choice(weights.size, positive.size, replace=False, p=weights / weights.sum())
    rest = rng.permutation(np.flatnonzero(weights == 0))[:n - positive.size]
    return np.concatenate([first, rest])


@expose(method=False)
def poisson(rates, generator=None) -> Tensor:
    """Counts drawn from Poisson distributions with the given rates (the rates' dtype; not
    differentiable). The stream is chainrule's own: other draws than PyTorch's."""
    from ..random import numpy_generator

    rates = as_tensor(rates)
    if (rates.array < 0).any() or np.isnan(rates.array).any():
        raise ValueError("poisson: rates must be non-negative and not NaN")
    draws = numpy_generator(generator).poisson(rates.array)
    return _plain("poisson", draws.astype(rates.dtype))


@expose
def bernoulli(x, p=None, *, generator=None) -> Tensor:
    from ..random import numpy_generator

    x = as_tensor(x)
    probs = x.array if p is None else np.full(x.shape, p)
    draws = numpy_generator(generator).random(np.shape(probs)) < probs
    return _plain("bernoulli", draws.astype(x.dtype))


@expose(method=False)
def normal(mean, std=1.0, size=None, *, generator=None) -> Tensor:
    from ..random import numpy_generator

    m = mean.array if isinstance(mean, Tensor) else mean
    s = std.array if isinstance(std, Tensor) else std
    shape = size if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    dt = mean.dtype if isinstance(mean, Tensor) else (
        std.dtype if isinstance(std, Tensor) else np.float32)
    return wrap(np.asarray(numpy_generator(generator).normal(m, s, shape), dtype=dt))


# ---------------------------------------------------------------------------
# new_* constructors (methods only)
# ---------------------------------------------------------------------------
def _new_kwargs(x, dtype):
    return as_dtype(dtype) if dtype is not None else x.dtype


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


@expose(function=False)
def new_zeros(x, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_size(size), _new_kwargs(x, dtype)), requires_grad=requires_grad)


@expose(function=False)
def new_ones(x, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_size(size), _new_kwargs(x, dtype)), requires_grad=requires_grad)


@expose(function=False)
def new_empty(x, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_size(size), _new_kwargs(x, dtype)), requires_grad=requires_grad)


@expose(function=False)
def new_full(x, size, fill_value, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    return Tensor(np.full(tuple(size), fill_value, _new_kwargs(x, dtype)),
                  requires_grad=requires_grad)


@expose(function=False)
def new_tensor(x, data, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A copy of ``data`` with ``x``'s dtype (unless ``dtype`` is given), as PyTorch."""
    arr = np.array(data.array if isinstance(data, Tensor) else data)
    return Tensor(arr.astype(as_dtype(dtype) if dtype is not None else x.dtype),
                  requires_grad=requires_grad)


# ---------------------------------------------------------------------------
# % and // and the bitwise operators (on integer and bool tensors)
# ---------------------------------------------------------------------------
def _remainder_vjp(F, g, ans, ctx, a, b):
    return g, -g * F.floor(a / b)


remainder = binary("remainder", np.remainder, _remainder_vjp, formula=("1", "-⌊{a}/{b}⌋"),
                   domain=[(0.1, 0.9), (1.1, 2.0)],
                   hint="a division by zero (x % 0 is nan)")


def _fmod_vjp(F, g, ans, ctx, a, b):
    return g, -g * F.trunc(a / b)


fmod = binary("fmod", np.fmod, _fmod_vjp, formula=("1", "-trunc({a}/{b})"),
              domain=[(0.1, 0.9), (1.1, 2.0)], hint="a division by zero (fmod(x, 0) is nan)")


@expose
def floor_divide(a, b) -> Tensor:
    """``a // b`` (rounded down, as Python and PyTorch); no gradient, as PyTorch's."""
    a, b = P._pair(a, b)
    if a.array.dtype != b.array.dtype:
        a, b = P._promote(a, b, "floor_divide")
    return _plain("floor_divide", np.floor_divide(a.array, b.array))


def _bitwise(name: str, logical, bitwise):
    def op(a, b) -> Tensor:
        a, b = P._pair(a, b)
        if a.array.dtype.kind == "f" or b.array.dtype.kind == "f":
            raise TypeError(f"{name}: bitwise operators need integer or bool tensors, got "
                            f"{a.dtype} and {b.dtype} (compare first, e.g. (x > 0) & (y > 0))")
        if a.array.dtype != b.array.dtype:
            a, b = P._promote(a, b, name)
        fn = logical if a.array.dtype.kind == "b" else bitwise
        try:
            return _plain(name, fn(a.array, b.array))
        except ValueError:
            raise P._broadcast_error(name, a, b) from None

    op.__name__ = op.__qualname__ = name
    return expose(op)


bitwise_and = _bitwise("bitwise_and", np.logical_and, np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", np.logical_or, np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", np.logical_xor, np.bitwise_xor)
bitwise_left_shift = _bitwise("bitwise_left_shift", np.left_shift, np.left_shift)
bitwise_right_shift = _bitwise("bitwise_right_shift", np.right_shift, np.right_shift)


@expose
def bitwise_not(x) -> Tensor:
    x = as_tensor(x)
    if x.array.dtype.kind == "f":
        raise TypeError(f"bitwise_not (~): needs an integer or bool tensor, got {x.dtype}")
    return _plain("bitwise_not", np.invert(x.array))


# ---------------------------------------------------------------------------
# x[index] = value on the graph (what __setitem__ records on a tensor that requires grad)
# ---------------------------------------------------------------------------
def _index_put_vjp(F, g, ans, index, x, value):
    return F.index_put(g, index, F.getitem(g, index) * 0), F.getitem(g, index)


INDEX_PUT = Op("index_put", _index_put_vjp, reads=(), method=False, function=False,
               formula=("1 outside the index", "1 at the index"),
               cases=[lambda rng: ((rng.uniform(-1, 1, (4, 3)), (1, slice(None)),
                                    rng.uniform(-1, 1, (3,))), {}),
                      lambda rng: ((rng.uniform(-1, 1, (3, 4)), (slice(None), [0, 2]),
                                    rng.uniform(-1, 1, (3, 2))), {})])


@INDEX_PUT.define
def index_put(x, index, value) -> Tensor:
    """``x`` with ``x[index] = value`` (a new tensor; value broadcasts to the slot)."""
    from .._tensor import _unwrap_index

    x = as_tensor(x)
    value = as_tensor(value, x)
    idx = _unwrap_index(index)
    out = np.array(x.array, copy=True)
    out[idx] = value.array
    slot = np.shape(out[idx])
    if value.shape != slot:  # the adjoint of value is taken at the slot's shape
        value = P.broadcast_to(value, slot)
    return record(out, INDEX_PUT, (x, value), idx)


def _index_put_add_vjp(F, g, ans, index, x, value):
    return g, F.getitem(g, index)


INDEX_PUT_ADD = Op("index_put_add", _index_put_add_vjp, reads=(), method=False, function=False,
                   formula=("1", "1 at the index (repeats add)"),
                   cases=[lambda rng: ((rng.uniform(-1, 1, (4, 3)), (np.array([0, 2, 0]),),
                                        rng.uniform(-1, 1, (3, 3))), {}),
                          lambda rng: ((rng.uniform(-1, 1, (3, 4)),
                                        (np.array([1, 1]), np.array([2, 2])),
                                        rng.uniform(-1, 1, (2,))), {})])


@INDEX_PUT_ADD.define
def index_put_add(x, index, value) -> Tensor:
    """``x`` with ``value`` added at ``index``, repeated positions adding up (PyTorch's
    ``index_put(..., accumulate=True)``)."""
    from .._tensor import _unwrap_index

    x = as_tensor(x)
    value = as_tensor(value, x)
    idx = _unwrap_index(index)
    slot = np.shape(x.array[idx])
    if value.shape != slot:
        try:
            value = P.broadcast_to(value, slot)
        except ValueError:
            raise ValueError(f"index_put: values of shape {value.shape} do not fit the "
                             f"{slot} positions the indices pick") from None
    out = np.array(x.array, copy=True)
    np.add.at(out, idx, value.array)
    return record(out, INDEX_PUT_ADD, (x, value), idx)


def _index_tuple(indices, op: str) -> tuple:
    if isinstance(indices, Tensor) or not isinstance(indices, (tuple, list)):
        raise TypeError(f"{op}: indices must be a tuple of tensors (one per leading dim), "
                        f"got {type(indices).__name__}")
    out = []
    for i in indices:
        arr = i.array if isinstance(i, Tensor) else np.asarray(i)
        if arr.dtype.kind not in "iub":
            raise TypeError(f"{op}: each index must be an integer or bool tensor, got dtype "
                            f"{arr.dtype}")
        out.append(arr)
    return tuple(out)


@expose(name="index_put")
def index_put_torch(x, indices, values, accumulate: bool = False) -> Tensor:
    """PyTorch's ``index_put(x, indices, values, accumulate)``: ``x[indices] = values``
    (or ``+=`` with repeats adding up when ``accumulate``), as a new tensor."""
    idx = _index_tuple(indices, "index_put")
    return (index_put_add if accumulate else index_put)(x, idx, values)


@expose
def index_copy(x, dim: int, index, source) -> Tensor:
    """``x`` with the slices ``index`` along ``dim`` replaced by ``source``'s."""
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "index_copy")
    idx = _index_array(index, "index_copy").reshape(-1)
    source = as_tensor(source, x)
    expected = x.shape[:d] + (len(idx),) + x.shape[d + 1:]
    if source.shape != expected:
        raise ValueError(f"index_copy: source has shape {source.shape}, expected {expected} "
                         f"(x {x.shape} with {len(idx)} slices along dim {d})")
    return index_put(x, (slice(None),) * d + (idx,), source)


@expose
def masked_scatter(x, mask, source) -> Tensor:
    """``x`` with the positions where ``mask`` holds filled, in order, by the first
    elements of ``source``."""
    x = as_tensor(x)
    m = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_scatter: expected a bool mask, got dtype {m.dtype}")
    try:
        m = np.broadcast_to(m, x.shape)
    except ValueError:
        raise ValueError(f"masked_scatter: mask of shape {m.shape} does not broadcast to the "
                         f"input's {x.shape}") from None
    source = as_tensor(source, x)
    count = int(m.sum())
    if source.numel() < count:
        raise ValueError(f"masked_scatter: the mask selects {count} positions but source has "
                         f"only {source.numel()} elements")
    return index_put(x, m, P.reshape(source, (-1,))[:count])


@expose
def take(x, index) -> Tensor:
    """The elements of ``x`` (read as 1-D) at ``index``; the result has index's shape."""
    x = as_tensor(x)
    idx = _index_array(index, "take")
    n = x.numel()
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"take: index out of range for {n} elements (values "
                         f"{idx.min()}..{idx.max()})")
    return P.getitem(P.reshape(x, (-1,)), idx)


@expose
def take_along_dim(x, indices, dim=None) -> Tensor:
    """``gather`` with the indices broadcast against ``x`` off ``dim``; ``dim=None``
    reads ``x`` as 1-D."""
    x = as_tensor(x)
    idx = _index_array(indices, "take_along_dim")
    if dim is None:
        return take(x, idx.reshape(-1))
    d = _dim(dim, x.ndim, "take_along_dim")
    if idx.ndim != x.ndim:
        raise ValueError(f"take_along_dim: indices have {idx.ndim} dims but the input has "
                         f"{x.ndim}")
    x_shape, i_shape = list(x.shape), list(idx.shape)
    x_shape[d] = i_shape[d] = 1
    common = list(np.broadcast_shapes(tuple(x_shape), tuple(i_shape)))
    xs, is_ = list(common), list(common)
    xs[d], is_[d] = x.shape[d], idx.shape[d]
    if tuple(xs) != x.shape:
        x = P.broadcast_to(x, tuple(xs))
    return gather(x, d, np.broadcast_to(idx, tuple(is_)))


# ---------------------------------------------------------------------------
# in-place methods: x.relu_(), x.sigmoid_(), ... (recorded on the graph where needed)
# ---------------------------------------------------------------------------
def _make_inplace(method: str, function: str):
    def inplace(self, *args, **kwargs):
        return self._inplace(method, function, *args, **kwargs)

    inplace.__name__ = inplace.__qualname__ = method
    inplace.__doc__ = f"In place: ``x.{method}(...)`` is ``x = {function}(x, ...)`` on x itself."
    return inplace


for _fn in ("relu", "sigmoid", "tanh", "exp", "log", "sqrt", "neg", "abs", "sin", "cos",
            "floor", "ceil", "round", "trunc", "square", "reciprocal", "rsqrt", "sign",
            "log1p", "expm1", "pow", "remainder", "fmod", "lerp", "clamp_min", "clamp_max",
            "masked_fill", "index_add", "scatter", "scatter_add", "index_fill", "where",
            "index_put", "index_copy", "masked_scatter",
            "floor_divide", "tril", "triu", "exp2", "log2", "log10", "frac", "nan_to_num",
            "atan", "erf", "silu", "leaky_relu", "elu", "hardtanh", "logical_not",
            "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not"):
    if _fn in EXPOSED or _fn in ("where",):
        setattr(Tensor, _fn + "_", _make_inplace(_fn + "_", _fn))
Tensor.negative_ = Tensor.neg_
Tensor.true_divide_ = Tensor.div_
Tensor.subtract_ = Tensor.sub_
Tensor.multiply_ = Tensor.mul_
Tensor.divide_ = Tensor.div_
Tensor.clip_ = Tensor.clamp_


# ---------------------------------------------------------------------------
# PyTorch methods chainrule lacks: an error naming the piece and the nearest thing here.
# (Explicit entries, not Tensor.__getattr__: a __getattr__ hook slows every attribute
# read on every tensor, and the per-op cost is what bench/bench_ops.py guards.)
# ---------------------------------------------------------------------------
_MISSING_METHODS = {
    "cummax": "a loop over unbind() with maximum", "cummin": "a loop with minimum",
    "logcumsumexp": "log(cumsum(exp(x - max)))", "diag": "x * eye(n) or x[range, range]",
    "diagonal": "x[range(n), range(n)]", "trace": "x[range(n), range(n)].sum()",
    "cross": "explicit products of the components", "matrix_power": "repeated @",
    "inverse": "no matrix inverse in chainrule", "det": "no determinant in chainrule",
    "logdet": "no determinant in chainrule", "svd": "numpy.linalg.svd on x.numpy()",
    "qr": "numpy.linalg.qr on x.numpy()", "cholesky": "cr.linalg.cholesky(x)",
    "pinverse": "numpy.linalg.pinv on x.numpy()", "kron": "outer products and reshape",
    "unfold": "cr.nn.functional.unfold for images, or slicing", "as_strided": "slicing",
    "stride": "x.array.strides (bytes, NumPy's)", "data_ptr": "x.array.ctypes.data",
    "storage": "x.array (the NumPy array)", "untyped_storage": "x.array",
    "share_memory_": "nothing: tensors are NumPy arrays", "pin_memory": "nothing needed",
    "to_sparse": "dense tensors", "to_dense": "dense tensors already",
    "index_fill": "x[index] = value",
    "index_fill_": "x[index] = value", "put_": "x.view(-1)[index] = values",
    "histc": "numpy.histogram on x.numpy()", "renorm": "x / x.norm(dim=..., keepdim=True)",
    "addcmul": "x + value * a * b", "addcdiv": "x + value * a / b", "addr": "x + outer(a, b)",
    "addmv": "x + a @ v", "tensordot": "einsum", "cumulative_trapezoid": "cumsum",
    "logit": "log(x / (1 - x))", "xlogy": "x * log(y) with where(x == 0, 0, ...)",
    "sinc": "sin(pi x) / (pi x)", "hypot": "sqrt(a ** 2 + b ** 2)",
    "i0": "no Bessel functions",
    "sparse_mask": "dense tensors", "coalesce": "dense tensors", "record_stream": "nothing",
    "register_post_accumulate_grad_hook_": "register_post_accumulate_grad_hook",
    "resize_": "reshape (a new shape of the same size) or a new tensor",
    "set_": "x.data = other", "storage_offset": "x.array (NumPy views)",
    "is_pinned": "nothing: always False", "is_shared": "nothing: always False",
    "map_": "x.copy_(cr.tensor(numpy.vectorize(fn)(x.numpy())))",
    "apply_": "x.copy_(cr.tensor(numpy.vectorize(fn)(x.numpy())))",
}


def _missing_method(name: str, nearest: str):
    def missing(self, *args, **kwargs):
        raise NotImplementedError(f"Tensor.{name}: PyTorch's Tensor.{name} is not part of "
                                  f"chainrule; the nearest: {nearest} (see docs/pytorch.md)")

    missing.__name__ = missing.__qualname__ = name
    missing.__doc__ = f"Not in chainrule (PyTorch's Tensor.{name}); nearest: {nearest}."
    return missing


for _name, _nearest in _MISSING_METHODS.items():
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _missing_method(_name, _nearest))
Tensor.is_cuda = property(lambda self: self.device.type == "cuda")


def attach_aliases() -> None:
    """PyTorch's alternative names of methods (called once the methods are attached)."""
    T = Tensor
    T.ndimension = T.dim
    T.get_device = lambda self: -1 if self.device.type == "cpu" else 0
    for alias, name in (("absolute", "abs"), ("multiply", "mul"), ("subtract", "sub"),
                        ("divide", "div"), ("true_divide", "div"), ("greater", "gt"),
                        ("less", "lt"), ("greater_equal", "ge"), ("less_equal", "le"),
                        ("not_equal", "ne"), ("negative", "neg"), ("concat", "cat")):
        if hasattr(T, name) and not hasattr(T, alias):
            setattr(T, alias, getattr(T, name))


# ---------------------------------------------------------------------------
# more of torch's namespace: inverse trigonometric and hyperbolic functions, add/sub with
# alpha, std_mean/var_mean, diff, cdist, meshgrid, broadcast_tensors
# ---------------------------------------------------------------------------
atan = unary("atan", np.arctan, lambda F, g, ans, c, x: (g / (1 + x * x),),
             formula="1/(1 + {x}²)")
asin = unary("asin", np.arcsin, lambda F, g, ans, c, x: (g / F.sqrt(1 - x * x),),
             formula="1/√(1 - {x}²)", domain="unit", hint="an input outside [-1, 1] (nan)")
acos = unary("acos", np.arccos, lambda F, g, ans, c, x: (-g / F.sqrt(1 - x * x),),
             formula="-1/√(1 - {x}²)", domain="unit", hint="an input outside [-1, 1] (nan)")
sinh = unary("sinh", np.sinh, lambda F, g, ans, c, x: (g * F.cosh(x),), formula="cosh({x})",
             hint="an overflow (|x| > 89 in float32)")
cosh = unary("cosh", np.cosh, lambda F, g, ans, c, x: (g * F.sinh(x),), formula="sinh({x})",
             hint="an overflow (|x| > 89 in float32)")
asinh = unary("asinh", np.arcsinh, lambda F, g, ans, c, x: (g / F.sqrt(x * x + 1),),
              formula="1/√({x}² + 1)")
atanh = unary("atanh", np.arctanh, lambda F, g, ans, c, x: (g / (1 - x * x),),
              formula="1/(1 - {x}²)", domain="unit", hint="an input at ±1 (inf) or beyond (nan)")
for _alias, _fn in (("arctan", atan), ("arcsin", asin), ("arccos", acos), ("arcsinh", asinh),
                    ("arctanh", atanh)):
    expose(_fn, name=_alias)


@expose
def add(a, b, *, alpha=1) -> Tensor:
    """``a + alpha * b``."""
    return P.add(a, b if alpha == 1 else P.mul(b, alpha))


@expose
def sub(a, b, *, alpha=1) -> Tensor:
    """``a - alpha * b``."""
    return P.sub(a, b if alpha == 1 else P.mul(b, alpha))


@expose(method=False)
def std_mean(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> tuple:
    return std(x, dim, unbiased, keepdim, correction=correction), P.mean(x, dim, keepdim)


@expose(method=False)
def var_mean(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> tuple:
    return var(x, dim, unbiased, keepdim, correction=correction), P.mean(x, dim, keepdim)


@expose
def diff(x, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    x = as_tensor(x)
    if prepend is not None or append is not None:
        parts = [p for p in (prepend, x, append) if p is not None]
        x = P.concatenate([as_tensor(p, x) for p in parts], dim)
    d = _dim(dim, x.ndim, "diff")
    lead = (slice(None),) * d
    for _ in range(n):
        x = P.sub(P.getitem(x, lead + (slice(1, None),)), P.getitem(x, lead + (slice(None, -1),)))
    return x


@expose(method=False)
def cdist(a, b, p: float = 2.0, **_ignored) -> Tensor:
    """Pairwise p-norm distances between the rows of ``a`` (…, n, d) and ``b`` (…, m, d);
    the gradient at a zero distance is 0, as PyTorch's."""
    a, b = as_tensor(a), as_tensor(b)
    return _distance_of_differences(P.sub(C.unsqueeze(a, -2), C.unsqueeze(b, -3)), p)


def _distance_of_differences(diffs: Tensor, p: float) -> Tensor:
    """The p-norm over the last axis, with gradient 0 at a zero distance (as PyTorch;
    the norm's own derivative there is 0/0)."""
    if p == 2:
        sq = P.sum(P.mul(diffs, diffs), axis=-1)
        pos = wrap(sq.array > 0)
        return P.where(pos, P.sqrt(P.where(pos, sq, as_tensor(1.0, sq))), as_tensor(0.0, sq))
    apart = np.any(diffs.array != 0, axis=-1)
    if apart.all():
        return norm(diffs, p, -1)
    safe = P.where(wrap(apart[..., None]), diffs, as_tensor(1.0, diffs))
    return P.where(wrap(apart), norm(safe, p, -1), as_tensor(0.0, diffs))


@expose(method=False)
def pdist(x, p: float = 2.0) -> Tensor:
    """The p-norm distances between the rows of (N, M) ``x`` for every pair i < j, in
    row-major order: N·(N−1)/2 values (the upper triangle of ``cdist(x, x)``)."""
    x = as_tensor(x)
    if x.ndim != 2:
        raise ValueError(f"pdist: expected a 2-D input (N, M), got shape {x.shape}")
    if p < 0:
        raise ValueError(f"pdist: p must be non-negative, got {p}")
    i, j = np.triu_indices(x.shape[0], k=1)
    return _distance_of_differences(P.sub(P.getitem(x, i), P.getitem(x, j)), p)


@expose(method=False)
def meshgrid(*tensors, indexing: str = "ij") -> tuple:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = [as_tensor(t) for t in tensors]
    shape = tuple(t.shape[0] if t.ndim else 1 for t in ts)
    out = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = shape[i]
        out.append(P.broadcast_to(P.reshape(t, tuple(view)), shape))
    if indexing == "xy" and len(out) >= 2:  # the first two axes swapped ('ij' transposed)
        out = [P.transpose(o, 1, 0, *range(2, len(shape))) for o in out]
    return tuple(out)


@expose(method=False)
def broadcast_tensors(*tensors) -> tuple:
    ts = [as_tensor(t) for t in tensors]
    shape = np.broadcast_shapes(*[t.shape for t in ts])
    return tuple(t if t.shape == shape else P.broadcast_to(t, shape) for t in ts)


@expose(method=False)
def broadcast_shapes(*shapes) -> Size:
    """The shape the given shapes broadcast to (ints count as 1-D shapes), as PyTorch."""
    as_tuples = [(s,) if isinstance(s, numbers.Integral) else tuple(s) for s in shapes]
    try:
        return Size(np.broadcast_shapes(*as_tuples))
    except ValueError:
        raise ValueError(f"broadcast_shapes: shapes {as_tuples} do not broadcast (each "
                         "dimension must be equal, 1, or missing)") from None


# ---------------------------------------------------------------------------
# diagonals (composites of getitem and index_put: differentiable)
# ---------------------------------------------------------------------------
@expose
def diagonal(x, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal over ``dim1`` and ``dim2`` (moved to the last axis, as PyTorch)."""
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"diagonal: expected a tensor with at least 2 dims, got {x.shape}")
    d1, d2 = _dim(dim1, x.ndim, "diagonal"), _dim(dim2, x.ndim, "diagonal")
    if d1 == d2:
        raise ValueError("diagonal: dim1 and dim2 must differ")
    rest = [i for i in range(x.ndim) if i not in (d1, d2)]
    moved = P.transpose(x, *rest, d1, d2) if rest + [d1, d2] != list(range(x.ndim)) else x
    n1, n2 = moved.shape[-2], moved.shape[-1]
    rows = np.arange(builtins.max(0, -offset), n1)
    cols = rows + offset
    keep = (cols >= 0) & (cols < n2)
    rows, cols = rows[keep], cols[keep]
    out = P.getitem(moved, (Ellipsis, rows, cols))
    # the same values as a view of x's memory, as PyTorch's diagonal: writing into it
    # (d.add_(1), d.fill_(0)) writes into x; the node's rule does not read its value
    view = x.array.diagonal(offset, d1, d2) if isinstance(x.array, np.ndarray) or hasattr(
        x.array, "diagonal") else None
    if view is not None and view.shape == out.shape:
        if isinstance(view, np.ndarray):
            view.flags.writeable = x.array.flags.writeable
        out.array = view
    return out


def _scatter_into(x, src, index: tuple, op: str) -> Tensor:
    """``x`` with ``src`` written at ``index``: a new tensor, differentiable in both (the
    functional forms of in-place writes, as torch.func code uses them)."""
    x = as_tensor(x)
    src = as_tensor(src, x)
    slot = np.shape(x.array[index])
    if src.shape != slot:
        raise ValueError(f"{op}: src has shape {src.shape}, the slot it fills has shape {slot}")
    return index_put(x, index, src)


@expose(method=True)
def slice_scatter(x, src, dim: int = 0, start=None, end=None, step: int = 1) -> Tensor:
    """``x`` with ``x[..., start:end:step, ...] = src`` along ``dim``, as a new tensor."""
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "slice_scatter")
    return _scatter_into(x, src, (slice(None),) * d + (slice(start, end, step),),
                         "slice_scatter")


@expose(method=True)
def select_scatter(x, src, dim: int, index: int) -> Tensor:
    """``x`` with ``x.select(dim, index) = src``, as a new tensor."""
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "select_scatter")
    if not -x.shape[d] <= index < x.shape[d]:
        raise IndexError(f"select_scatter: index {index} is out of range for dim {d} of "
                         f"size {x.shape[d]}")
    return _scatter_into(x, src, (slice(None),) * d + (int(index),), "select_scatter")


@expose(method=True)
def diagonal_scatter(x, src, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """``x`` with ``x.diagonal(offset, dim1, dim2) = src`` (the diagonal on the last axis
    of ``src``, as ``diagonal`` gives it), as a new tensor."""
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"diagonal_scatter: expected at least 2 dims, got {x.shape}")
    d1, d2 = _dim(dim1, x.ndim, "diagonal_scatter"), _dim(dim2, x.ndim, "diagonal_scatter")
    if d1 == d2:
        raise ValueError("diagonal_scatter: dim1 and dim2 must differ")
    order = [i for i in range(x.ndim) if i not in (d1, d2)] + [d1, d2]
    moved = P.transpose(x, tuple(order))
    rows = np.arange(builtins.max(0, -offset), moved.shape[-2])
    cols = rows + offset
    keep = (cols >= 0) & (cols < moved.shape[-1])
    filled = _scatter_into(moved, src, (Ellipsis, rows[keep], cols[keep]), "diagonal_scatter")
    return P.transpose(filled, tuple(int(i) for i in np.argsort(order)))


@expose
def diag(x, diagonal: int = 0) -> Tensor:
    """1-D input: a matrix with it on the ``diagonal``-th diagonal; 2-D: that diagonal."""
    x = as_tensor(x)
    if x.ndim == 2:
        return globals()["diagonal"](x, diagonal)
    if x.ndim != 1:
        raise ValueError(f"diag: expected a 1-D or 2-D tensor, got shape {x.shape}")
    n = x.shape[0] + abs(diagonal)
    rows = np.arange(x.shape[0]) + builtins.max(0, -diagonal)
    cols = rows + diagonal
    zero = wrap(np.zeros((n, n), x.array.dtype))
    return index_put(zero, (rows, cols), x)


@expose
def trace(x) -> Tensor:
    x = as_tensor(x)
    if x.ndim != 2:
        raise ValueError(f"trace: expected a 2-D tensor, got shape {x.shape}")
    return P.sum(globals()["diagonal"](x))


for _name in ("diag", "diagonal", "trace"):
    _MISSING_METHODS.pop(_name, None)
    if getattr(getattr(Tensor, _name, None), "__name__", "") == _name and \
            "Not in chainrule" in (getattr(Tensor, _name).__doc__ or ""):
        delattr(Tensor, _name)


@expose
def index_fill(x, dim: int, index, value) -> Tensor:
    """``x`` with ``value`` at positions ``index`` along ``dim`` (differentiable in x and in a
    0-d tensor value)."""
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "index_fill")
    idx = _index_array(index, "index_fill").reshape(-1)
    return index_put(x, (slice(None),) * d + (idx,), value)


@expose
def round(x, *, decimals: int = 0) -> Tensor:
    """Round half to even (as PyTorch); ``decimals`` digits after the point."""
    if decimals == 0:
        return P.round(x)
    scale = 10.0 ** decimals
    return P.div(P.round(P.mul(x, scale)), scale)


for _name in ("index_fill", "index_fill_"):
    _MISSING_METHODS.pop(_name, None)
Tensor.index_fill_ = _make_inplace("index_fill_", "index_fill")
Tensor.round_ = _make_inplace("round_", "round")


# ---------------------------------------------------------------------------
# scans with a rule of their own: logcumsumexp; cummax/cummin (values through gather)
# ---------------------------------------------------------------------------
def _logcumsumexp_vjp(F, g, ans, dim, x):
    # ∂L/∂x_j = Σ_{k≥j} g_k e^{x_j - out_k} = e^{x_j - out_j} S_j with the backward scan
    # S_j = g_j + e^{out_j - out_{j+1}} S_{j+1}: every factor is ≤ 1 (out never decreases)
    n = x.shape[dim]
    lead = (slice(None),) * dim

    def at(t, k):
        return t[lead + (slice(k, k + 1),)]

    running = at(g, n - 1)
    parts = [running]
    for k in range(n - 2, -1, -1):
        running = at(g, k) + F.exp(at(ans, k) - at(ans, k + 1)) * running
        parts.append(running)
    scan = F.concatenate(parts[::-1], axis=dim) if n > 1 else running
    return (F.exp(x - ans) * scan,)


LOGCUMSUMEXP = Op("logcumsumexp", _logcumsumexp_vjp, reads=("inputs", "output"),
                  formula="e^({x}_j - out_k), k ≥ j", method=True, function=True,
                  cases=[case((5,), dim=0), case((3, 4), dim=1), case((3, 4), dim=0)])


@LOGCUMSUMEXP.define
def logcumsumexp(x, dim: int) -> Tensor:
    """log Σ_{j ≤ k} e^{x_j} along ``dim``, without overflow (a running logaddexp)."""
    x = as_tensor(x)
    if x.array.dtype.kind not in "fc":
        raise TypeError(f"logcumsumexp: expected a floating-point tensor, got {x.dtype}")
    if x.ndim == 0:
        return P.add(x, 0.0)  # one element: itself
    d = _dim(dim, x.ndim, "logcumsumexp")
    return record(np.logaddexp.accumulate(x.array, axis=d), LOGCUMSUMEXP, (x,), d)


def _cumulative_extreme(name: str, accumulate):
    def fn(x, dim: int) -> ValuesIndices:
        x = as_tensor(x)
        if x.ndim == 0:
            return ValuesIndices(P.add(x, 0), _plain(name, np.array(0)))
        d = _dim(dim, x.ndim, name)
        arr = x.array
        running = accumulate(arr, axis=d)
        positions = np.arange(arr.shape[d]).reshape((-1,) + (1,) * (arr.ndim - d - 1))
        # a new extreme (or a tie with it) starts at j; PyTorch's index is the latest such j
        marks = np.where(arr == running, positions, 0)
        nan = np.isnan(arr) if arr.dtype.kind == "f" else None
        if nan is not None and nan.any():  # a nan propagates, and its index with it
            marks = np.where(nan, positions, marks)
        index = np.maximum.accumulate(marks, axis=d).astype(np.int64)
        return ValuesIndices(gather(x, d, index) if x.requires_grad else wrap(running),
                             _plain(name, index))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Running {name[3:]} along ``dim``: (values, indices), as PyTorch."
    return expose(fn)


cummax = _cumulative_extreme("cummax", np.maximum.accumulate)
cummin = _cumulative_extreme("cummin", np.minimum.accumulate)


# ---------------------------------------------------------------------------
# blended arithmetic and special cases (composites of registered ops)
# ---------------------------------------------------------------------------
@expose
def addcmul(x, tensor1, tensor2, *, value=1) -> Tensor:
    """``x + value * tensor1 * tensor2``."""
    prod = P.mul(tensor1, tensor2)
    return P.add(x, prod if value == 1 else P.mul(prod, value))


@expose
def addcdiv(x, tensor1, tensor2, *, value=1) -> Tensor:
    """``x + value * tensor1 / tensor2``."""
    t1 = as_tensor(tensor1)
    if t1.array.dtype.kind in "biu" and as_tensor(tensor2).array.dtype.kind in "biu":
        raise TypeError("addcdiv: integer division is not supported (as PyTorch); use "
                        "floating-point tensors")
    quot = P.div(t1, tensor2)
    return P.add(x, quot if value == 1 else P.mul(quot, value))


def _atan2_vjp(F, g, ans, ctx, y, x):
    r2 = x * x + y * y
    r2 = F.where(r2 == 0, 1, r2)  # at the origin both numerators are 0: gradient 0, as PyTorch
    return g * x / r2, -g * y / r2


atan2 = binary("atan2", np.arctan2, _atan2_vjp, float_only=True, formula=("{b}/({a}² + {b}²)",
                                                          "-{a}/({a}² + {b}²)"),
               domain="nonzero", hint="a nan input (the gradient at the origin is 0, as PyTorch)")
expose(atan2, name="arctan2")


def _fmax_vjp(F, g, ans, ctx, a, b):
    # as PyTorch: a gets the gradient where a >= b (ties too) or b is nan; b elsewhere
    to_a = (a >= b) | ~(b == b)  # noqa: PLR0124 - b == b is False exactly at nan
    return F.where(to_a, g, 0), F.where(to_a, 0, g)


def _fmin_vjp(F, g, ans, ctx, a, b):
    to_a = (a <= b) | ~(b == b)  # noqa: PLR0124 - b == b is False exactly at nan
    return F.where(to_a, g, 0), F.where(to_a, 0, g)


fmax = binary("fmax", np.fmax, _fmax_vjp, reads=("inputs",),
              formula=("[{a} ≥ {b}]", "[{b} > {a}]"),
              doc="Elementwise max that ignores nan (nan only where both are nan).")
fmin = binary("fmin", np.fmin, _fmin_vjp, reads=("inputs",),
              formula=("[{a} ≤ {b}]", "[{b} < {a}]"),
              doc="Elementwise min that ignores nan (nan only where both are nan).")


@expose
def hypot(a, b) -> Tensor:
    """√(a² + b²)."""
    return P.sqrt(P.add(P.mul(a, a), P.mul(b, b)))


@expose
def xlogy(x, y) -> Tensor:
    """``x * log(y)``, 0 where x is 0 (even for y = 0), nan where y is nan."""
    x, y = P._promote(*P._pair(x, y), "div")  # PyTorch's result dtype, float
    # Only where log(y) is not finite does x = 0 need the mask: elsewhere x * log(y) is
    # already 0 and its derivative in x is log(y), as PyTorch's (a mask on all of x == 0
    # would zero that derivative: Gamma's and Dirichlet's log_prob at concentration 1).
    zero = np.asarray((x.array == 0) & ((y.array <= 0) | np.isinf(y.array)))
    safe_y = P.where(zero, 1.0, y)
    return P.where(zero, 0.0, P.mul(x, P.log(safe_y)))


@expose
def logit(x, eps=None) -> Tensor:
    """log(x / (1 - x)); with ``eps``, x is first clamped into [eps, 1 - eps]."""
    x = as_tensor(x)
    if eps is not None:
        x = P.clip(x, eps, 1 - eps)
    return P.sub(P.log(x), P.log1p(P.neg(x)))


@expose
def sinc(x) -> Tensor:
    """sin(πx) / (πx), 1 at 0."""
    x = as_tensor(x)
    at_zero = np.asarray(x.array == 0)
    scaled = P.mul(P.where(at_zero, 1.0, x), math.pi)
    return P.where(at_zero, 1.0, P.div(P.sin(scaled), scaled))


@expose
def copysign(a, b) -> Tensor:
    """|a| with the sign of b (its sign bit: -0.0 counts as negative)."""
    a, b_tensor = P._pair(a, b)
    a_promoted, b_promoted = P._promote(a, b_tensor, "div")  # PyTorch's dtype, a float
    target = np.result_type(a_promoted.array.dtype, b_promoted.array.dtype)
    negative = np.signbit(b_tensor.array)
    mag = P.abs(a if a.dtype == target else P.cast(a, target))
    out = P.where(negative, P.neg(mag), mag)
    if isinstance(b, Tensor) and b.requires_grad:  # b gets a zero gradient, as in PyTorch
        out = P.where(np.zeros(out.shape, bool), P.broadcast_to(b, out.shape), out)
    return out


@expose
def signbit(x) -> Tensor:
    return _plain("signbit", np.signbit(as_tensor(x).array))


@expose
def nanmean(x, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The mean of the values that are not nan."""
    x = as_tensor(x)
    keep = np.asarray(~np.isnan(x.array))
    total = P.sum(P.where(keep, x, 0.0), axis=dim, keepdims=keepdim)
    count = np.sum(keep, axis=dim, keepdims=keepdim).astype(x.array.dtype)
    return P.div(total, wrap(count))


@expose
def nansum(x, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The sum with nan counted as 0 (integers have no nan: their sum, in int64)."""
    x = as_tensor(x)
    if dtype is not None:
        x = P.cast(x, dtype)
    if x.array.dtype.kind != "f":
        return x.sum(dim, keepdim) if dim is not None else x.sum()
    return P.sum(P.where(np.asarray(np.isnan(x.array)), 0.0, x), axis=dim, keepdims=keepdim)


@expose
def quantile(x, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear") -> Tensor:
    """The q-th quantiles along ``dim`` (all elements if None), interpolated between the
    sorted values as PyTorch; q a number or a 1-D tensor (its dim comes first)."""
    x = as_tensor(x)
    if interpolation not in ("linear", "lower", "higher", "nearest", "midpoint"):
        raise ValueError(f"quantile: unknown interpolation {interpolation!r}")
    qa = np.asarray(q.array if isinstance(q, Tensor) else q, dtype=np.float64)
    if qa.ndim > 1 or np.any((qa < 0) | (qa > 1)):
        raise ValueError(f"quantile: q must be a number or a 1-D tensor in [0, 1], got {q!r}")
    if dim is None:
        x, d = P.reshape(x, (-1,)), 0
    else:
        d = _dim(dim, x.ndim, "quantile")
    n = x.shape[d]
    ordered = sort(x, d).values
    pos = qa.reshape(-1) * (n - 1)
    lo, hi = np.floor(pos).astype(np.int64), np.ceil(pos).astype(np.int64)
    frac = pos - lo
    if interpolation == "lower":
        hi, frac = lo, frac * 0
    elif interpolation == "higher":
        lo, frac = hi, frac * 0
    elif interpolation == "nearest":
        lo = hi = np.round(pos).astype(np.int64)  # half to even, as PyTorch
        frac = frac * 0
    elif interpolation == "midpoint":
        frac = np.where(hi > lo, 0.5, 0.0)
    low_v, high_v = index_select(ordered, d, lo), index_select(ordered, d, hi)
    shape = [1] * x.ndim
    shape[d] = -1
    weight = wrap(frac.astype(x.array.dtype).reshape(shape))
    out = P.add(low_v, P.mul(P.sub(high_v, low_v), weight))  # (..., len(q), ...) along d
    out = P.transpose(out, (d,) + tuple(i for i in range(x.ndim) if i != d))
    if keepdim and dim is not None:
        out = P.reshape(out, (out.shape[0],) + tuple(1 if i == d else x.shape[i]
                                                     for i in range(x.ndim)))
    return out[0] if qa.ndim == 0 else out


@expose
def unique_consecutive(x, return_inverse: bool = False, return_counts: bool = False,
                       dim=None):
    """The values with runs of equal neighbours collapsed (all elements read as 1-D)."""
    if dim is not None:
        raise NotImplementedError("unique_consecutive: dim= is not in chainrule; flatten "
                                  "first or use unique(dim=...)")
    arr = as_tensor(x).array.reshape(-1)
    starts = np.concatenate([[True], arr[1:] != arr[:-1]]) if arr.size else np.zeros(0, bool)
    values = arr[starts]
    parts = [_plain("unique_consecutive", values)]
    if return_inverse:
        parts.append(_plain("unique_inverse", (np.cumsum(starts) - 1).reshape(
            as_tensor(x).shape).astype(np.int64)))
    if return_counts:
        edges = np.flatnonzero(np.concatenate([starts, [True]]))
        parts.append(_plain("unique_counts", np.diff(edges).astype(np.int64)))
    return parts[0] if len(parts) == 1 else tuple(parts)


@expose
def histc(x, bins: int = 100, min=0, max=0) -> Tensor:
    """Counts in ``bins`` equal bins over [min, max] (the data's range if both are 0);
    values outside are not counted; the result has x's (float) dtype."""
    arr = as_tensor(x).array
    if arr.dtype.kind not in "fc":
        raise TypeError(f"histc: expected a floating-point tensor, got {arr.dtype}")
    lo, hi = float(min), float(max)
    if lo == hi and arr.size:
        lo, hi = float(arr.min()), float(arr.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1  # PyTorch widens an empty range by one on each side
    if lo > hi:
        raise ValueError(f"histc: max ({hi}) must not be below min ({lo})")
    counts, _ = np.histogram(arr, bins=int(bins), range=(lo, hi))
    return _plain("histc", counts.astype(arr.dtype))


@expose
def histogram(x, bins=100, *, range=None, weight=None, density: bool = False):
    """(hist, bin_edges): counts (or summed ``weight``) of the values of floating-point
    ``x`` in ``bins`` equal bins over ``range`` (the data's min..max if None), or between
    the increasing edges of a 1-D tensor ``bins``; the last bin includes its right edge.
    ``density=True`` divides by the total and the bin widths. Not differentiable."""
    import collections

    arr = as_tensor(x).array
    if arr.dtype.kind != "f":
        raise TypeError(f"histogram: expected a floating-point tensor, got {arr.dtype}")
    weights = None
    if weight is not None:
        weights = as_tensor(weight).array
        if weights.shape != arr.shape:
            raise ValueError(f"histogram: weight shape {weights.shape} differs from the "
                             f"input's {arr.shape}")
    if isinstance(bins, Tensor) or not isinstance(bins, (int, np.integer)):
        edges = np.asarray(as_tensor(bins).array, dtype=arr.dtype)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) < 0):
            raise ValueError(f"histogram: bins must be an int or a 1-D increasing tensor of "
                             f"at least 2 edges, got {edges.tolist()}")
    else:
        if int(bins) < 1:
            raise ValueError(f"histogram: bins must be positive, got {bins}")
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
        elif arr.size:
            lo, hi = float(arr.min()), float(arr.max())
        else:
            lo, hi = 0.0, 0.0
        if lo > hi:
            raise ValueError(f"histogram: range {range} has min above max")
        if lo == hi:  # as PyTorch: a degenerate range is widened by one on each side
            lo, hi = lo - 1, hi + 1
        edges = np.linspace(lo, hi, int(bins) + 1).astype(arr.dtype)
    hist, _ = np.histogram(arr.reshape(-1), bins=edges.astype(np.float64),
                           weights=None if weights is None else weights.reshape(-1),
                           density=density)
    pair = collections.namedtuple("histogram", ["hist", "bin_edges"])
    return pair(_plain("histogram", hist.astype(arr.dtype)), _plain("histogram_edges", edges))


@expose(method=False)
def searchsorted(sorted_sequence, values, *, out_int32: bool = False, right: bool = False,
                 side=None, sorter=None) -> Tensor:
    """Where each value would be inserted to keep ``sorted_sequence`` sorted (per row for
    an N-D sequence); ``right=True`` (side='right') after equal values."""
    seq = as_tensor(sorted_sequence).array
    vals = values.array if isinstance(values, Tensor) else np.asarray(values)
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise ValueError("searchsorted: right=True and side='left' contradict each other")
        right = side == "right"
    if sorter is not None:
        seq = np.take_along_axis(seq, as_tensor(sorter).array, axis=-1)
    how = "right" if right else "left"
    if seq.ndim <= 1:
        out = np.searchsorted(seq, vals, side=how)
    else:
        if seq.shape[:-1] != vals.shape[:-1]:
            raise ValueError(f"searchsorted: the leading dims of the sequence {seq.shape} and "
                             f"the values {vals.shape} must match")
        flat_seq = seq.reshape(-1, seq.shape[-1])
        flat_vals = vals.reshape(-1, vals.shape[-1])
        out = np.stack([np.searchsorted(s, v, side=how) for s, v in
                        zip(flat_seq, flat_vals)]).reshape(vals.shape)
    return _plain("searchsorted", np.asarray(out).astype(np.int32 if out_int32 else np.int64))


@expose
def bucketize(x, boundaries, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value: i with boundaries[i-1] < x ≤ boundaries[i]
    (``right=True``: boundaries[i-1] ≤ x < boundaries[i])."""
    b = as_tensor(boundaries).array
    if b.ndim != 1:
        raise ValueError(f"bucketize: boundaries must be 1-D, got shape {b.shape}")
    return searchsorted(b, x, out_int32=out_int32, right=right)


for _name in ("logcumsumexp", "cummax", "cummin", "addcmul", "addcdiv", "atan2", "hypot",
              "xlogy", "logit", "sinc", "histc", "cross", "kron", "addr", "addmv",
              "tensordot", "matrix_power", "inverse", "det", "logdet", "svd", "qr",
              "pinverse"):
    _MISSING_METHODS.pop(_name, None)
    fn = getattr(Tensor, _name, None)
    if fn is not None and "Not in chainrule" in (fn.__doc__ or ""):
        delattr(Tensor, _name)
for _fn in ("addcmul", "addcdiv", "atan2", "hypot", "xlogy", "logit", "copysign", "fmax",
            "fmin", "logcumsumexp", "cross"):
    setattr(Tensor, _fn + "_", _make_inplace(_fn + "_", _fn))


# ---------------------------------------------------------------------------
# more shape plumbing (composites of getitem, transpose, reshape, concatenate)
# ---------------------------------------------------------------------------
@expose
def tile(x, *dims) -> Tensor:
    """``x`` repeated ``dims`` times along each dim (dims padded with 1s in front, as
    PyTorch; x gets leading dims of size 1 when dims is longer); ``x.tile(2, 3)`` or
    ``x.tile((2, 3))``."""
    x = as_tensor(x)
    if len(dims) == 1:
        dims = tuple(dims[0]) if isinstance(dims[0], (tuple, list)) else dims
    if len(dims) < x.ndim:
        dims = (1,) * (x.ndim - len(dims)) + dims
    return repeat(x, *dims)


@expose(function=False)
def unfold(x, dimension: int, size: int, step: int) -> Tensor:
    """The windows of ``size`` elements, ``step`` apart, along ``dimension``: that dim
    becomes the window count and a last dim of ``size`` is added (PyTorch's Tensor.unfold)."""
    x = as_tensor(x)
    d = _dim(dimension, x.ndim, "unfold")
    n = x.shape[d] if x.ndim else 1
    if size < 0 or size > n or step <= 0:
        raise ValueError(f"unfold: size {size} and step {step} do not fit dim {d} of size {n} "
                         "(need 0 ≤ size ≤ the dim's size and step > 0)")
    starts = np.arange(0, n - size + 1, step)
    index = starts[:, None] + np.arange(size)[None, :]
    picked = P.getitem(x, (slice(None),) * d + (index,))  # (..., windows, size, ...)
    order = tuple(i for i in range(picked.ndim) if i != d + 1) + (d + 1,)
    out = P.transpose(picked, order)
    if isinstance(x.array, np.ndarray) and x.ndim:
        # the same values as a view of x's memory, as PyTorch's unfold (writes show in x)
        windows = np.lib.stride_tricks.sliding_window_view(
            x.array, size, axis=d, writeable=x.array.flags.writeable)
        view = windows[(slice(None),) * d + (slice(None, None, step),)]
        if view.shape == out.shape:
            out.array = view
    return out


@expose
def fliplr(x) -> Tensor:
    if as_tensor(x).ndim < 2:
        raise ValueError("fliplr: expected at least 2 dims")
    return flip(x, (1,))


@expose
def flipud(x) -> Tensor:
    if as_tensor(x).ndim < 1:
        raise ValueError("flipud: expected at least 1 dim")
    return flip(x, (0,))


@expose
def movedim(x, source, destination) -> Tensor:
    """``x`` with the dims ``source`` moved to positions ``destination`` (the others keep
    their order)."""
    x = as_tensor(x)
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError(f"movedim: {len(src)} source dims but {len(dst)} destinations")
    src = [_dim(s, x.ndim, "movedim") for s in src]
    dst = [_dim(d, x.ndim, "movedim") for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"movedim: repeated dims in source {src} or destination {dst}")
    order = [i for i in range(x.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return P.transpose(x, tuple(order))


expose(movedim, name="moveaxis")


@expose
def select(x, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim`` (that dim removed)."""
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "select")
    if not -x.shape[d] <= index < x.shape[d]:
        raise IndexError(f"select: index {index} is out of range for dim {d} of size "
                         f"{x.shape[d]}")
    return P.getitem(x, (slice(None),) * d + (int(index),))


@expose
def rot90(x, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotated by 90° ``k`` times in the plane of ``dims`` (from the first toward the second)."""
    x = as_tensor(x)
    d0, d1 = (_dim(d, x.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise ValueError("rot90: the two dims must differ")
    k %= 4
    if k == 0:
        return P.add(x, 0) if x.requires_grad else x
    if k == 2:
        return flip(x, (d0, d1))
    axes = list(range(x.ndim))
    axes[d0], axes[d1] = axes[d1], axes[d0]
    if k == 1:
        return P.transpose(flip(x, (d1,)), tuple(axes))
    return flip(P.transpose(x, tuple(axes)), (d1,))


@expose
def tensor_split(x, indices_or_sections, dim: int = 0) -> tuple:
    """Split into n nearly equal parts (the first ones one longer) or at the given
    indices, as NumPy's array_split."""
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "tensor_split")
    n = x.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0:
            raise ValueError(f"tensor_split: the number of sections must be positive, got {k}")
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        bounds = np.concatenate([[0], np.cumsum(sizes)])
    else:
        cuts = [builtins.min(builtins.max(int(i) if i >= 0 else int(i) + n, 0), n)
                for i in indices_or_sections]
        bounds = [0] + cuts + [n]
    lead = (slice(None),) * d
    return tuple(P.getitem(x, lead + (slice(int(lo), builtins.max(int(lo), int(hi))),))
                 for lo, hi in itertools.pairwise(bounds))


def _at_least(n: int):
    def shape_of(shape: tuple) -> tuple:
        if len(shape) >= n:
            return shape
        if n == 3 and len(shape) == 2:
            return shape + (1,)
        if n == 3 and len(shape) == 1:
            return (1,) + shape + (1,)
        return (1,) * (n - len(shape)) + shape

    def fn(*tensors):
        ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) \
            else tensors
        out = [as_tensor(t) for t in ts]
        out = [t if t.ndim >= n else P.reshape(t, shape_of(t.shape)) for t in out]
        return out[0] if len(out) == 1 else tuple(out)

    fn.__name__ = fn.__qualname__ = f"atleast_{n}d"
    fn.__doc__ = f"The tensors with at least {n} dims (NumPy's placement of the new ones)."
    return expose(fn, method=False)


atleast_1d, atleast_2d, atleast_3d = _at_least(1), _at_least(2), _at_least(3)


@expose(method=False)
def dstack(tensors) -> Tensor:
    return P.concatenate([atleast_3d(t) for t in tensors], axis=2)


@expose(method=False)
def column_stack(tensors) -> Tensor:
    cols = [P.reshape(t, (-1, 1)) if as_tensor(t).ndim <= 1 else as_tensor(t) for t in tensors]
    return P.concatenate(cols, axis=1)


@expose(method=False)
def result_type(tensor1, tensor2):
    """The dtype PyTorch's promotion gives an op on these two (tensors or numbers)."""
    a, b = P._pair(tensor1, tensor2)
    a, b = P._promote(a, b, "add")
    return a.array.dtype


@expose
def heaviside(x, values) -> Tensor:
    """0 where x < 0, 1 where x > 0, ``values`` where x == 0 (no gradient, as PyTorch)."""
    x = as_tensor(x)
    v = values.array if isinstance(values, Tensor) else np.asarray(values)
    return _plain("heaviside", np.heaviside(x.array, v).astype(
        np.result_type(x.array.dtype, v.dtype)))


@expose
def isposinf(x) -> Tensor:
    return _plain("isposinf", np.isposinf(as_tensor(x).array))


@expose
def isneginf(x) -> Tensor:
    return _plain("isneginf", np.isneginf(as_tensor(x).array))


# ---------------------------------------------------------------------------
# memory layout, as PyTorch reports it (in elements, from NumPy's strides in bytes)
# ---------------------------------------------------------------------------
def _stride(x, dim=None):
    arr = np.asarray(x.array)
    strides = tuple(s // arr.itemsize for s in arr.strides)
    if dim is None:
        return strides
    return strides[_dim(dim, arr.ndim, "stride")] if arr.ndim else 1


def _storage_offset(x) -> int:
    arr = x.array
    if not isinstance(arr, np.ndarray):
        return 0
    base = arr
    while isinstance(base.base, np.ndarray):
        base = base.base
    start = arr.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    return int(start // arr.itemsize)


def _data_ptr(x) -> int:
    """The address of the tensor's first element (views of one buffer differ by their
    offset, as PyTorch's)."""
    arr = x.array
    if isinstance(arr, np.generic):
        return 0  # a NumPy scalar owns no buffer a view could share
    data = getattr(arr, "data", None)
    if hasattr(data, "ptr"):  # CuPy
        return int(data.ptr)
    return int(arr.__array_interface__["data"][0])


Tensor.stride = _stride
Tensor.storage_offset = _storage_offset
Tensor.data_ptr = _data_ptr
for _name in ("stride", "storage_offset", "unfold", "data_ptr"):
    _MISSING_METHODS.pop(_name, None)


# ---------------------------------------------------------------------------
# scatter_reduce / index_reduce (graph-network aggregation): sum, prod, mean, amax, amin
# ---------------------------------------------------------------------------
def _scatter_extreme_vjp(F, g, ans, ctx, x, src):
    dim, index, self_weight, src_weight = ctx
    return g * self_weight, F.gather(g, dim, index) * src_weight


SCATTER_EXTREME = Op(
    "scatter_extreme", _scatter_extreme_vjp, reads=(), method=False, function=False,
    formula=("1/ties where the input is the extreme", "1/ties at the index where src is"),
    second_order=False,
    cases=[lambda rng: ((rng.uniform(-1, 1, (3, 4)), 0, rng.integers(0, 3, (5, 4)),
                         rng.uniform(-1, 1, (5, 4))), {"reduce": "amax"}),
           lambda rng: ((rng.uniform(-1, 1, (3, 4)), 1, rng.integers(0, 4, (3, 2)),
                         rng.uniform(-1, 1, (3, 2))), {"reduce": "amin", "include_self": False})])


@SCATTER_EXTREME.define
def scatter_extreme(x, dim: int, index, src, *, reduce: str, include_self: bool = True) -> Tensor:
    """The running max (``reduce='amax'``) or min of ``x`` and the ``src`` values scattered
    to ``index`` along ``dim``; the gradient is shared evenly by the values that equal the
    result (as PyTorch). Positions no index reaches keep x's value."""
    x = as_tensor(x)
    src = as_tensor(src, x)
    d = _dim(dim, x.ndim, "scatter_reduce")
    idx = _index_array(index, "scatter_reduce")
    at = _along(idx, d)
    src_used = src.array[tuple(slice(0, n) for n in idx.shape)]
    hit = np.zeros(x.shape, bool)
    hit[at] = True
    out = np.array(x.array, copy=True)
    if not include_self:
        out[hit] = -np.inf if reduce == "amax" else np.inf
    (np.maximum if reduce == "amax" else np.minimum).at(out, at, src_used)
    self_ties = x.array == out
    if not include_self:  # x's value competes only where no index reaches
        self_ties = self_ties & ~hit
    src_ties = src_used == out[at]
    count = self_ties.astype(x.array.dtype)
    np.add.at(count, at, src_ties.astype(x.array.dtype))
    self_weight = np.where(self_ties, 1 / np.maximum(count, 1), 0).astype(x.array.dtype)
    src_weight = np.zeros(src.shape, x.array.dtype)
    src_weight[tuple(slice(0, n) for n in idx.shape)] = np.where(
        src_ties, 1 / np.maximum(count[at], 1), 0)
    return record(out, SCATTER_EXTREME, (x, src), (d, idx, self_weight, src_weight))


def _scatter_prod_vjp(F, g, ans, ctx, x, src):
    dim, index, include_self, hit, self_alone, src_alone, self_zero, src_zero = ctx
    # d(product)/d(one factor) = the product of the other factors: the product of the
    # nonzero factors over this one (itself if nonzero) where no OTHER factor is zero
    src_nz = src + src_zero * (1 - src)
    if include_self:
        x_nz = x + self_zero * (1 - x)
        nonzero_product = F.scatter_prod(x_nz, dim, index, src_nz, include_self=True)
        grad_self = g * nonzero_product / x_nz * self_alone
    else:
        nonzero_product = F.scatter_prod(x, dim, index, src_nz, include_self=False)
        grad_self = g * ~hit
    grad_src = F.gather(g * nonzero_product, dim, index) / src_nz * src_alone
    return grad_self, grad_src


SCATTER_PROD = Op(
    "scatter_prod", _scatter_prod_vjp, reads=("inputs",), method=False, function=False,
    formula=("product of the other factors", "product of the other factors at the index"),
    cases=[lambda rng: ((rng.uniform(0.5, 1.5, (3, 4)), 0, rng.integers(0, 3, (5, 4)),
                         rng.uniform(-1.5, 1.5, (5, 4))), {}),
           lambda rng: ((rng.uniform(-1, 1, (3, 4)), 1, rng.integers(0, 4, (3, 2)),
                         rng.uniform(0.5, 1.5, (3, 2))), {"include_self": False})])


@SCATTER_PROD.define
def scatter_prod(x, dim: int, index, src, *, include_self: bool = True) -> Tensor:
    """``x`` times the ``src`` values scattered to ``index`` along ``dim`` (``src`` of
    ``index``'s shape; without x's own value where an index reaches if ``include_self``
    is False). The gradient of each factor is the product of the others, zeros included."""
    x = as_tensor(x)
    src = as_tensor(src, x)
    d = _dim(dim, x.ndim, "scatter_reduce")
    idx = _index_array(index, "scatter_reduce")
    if idx.shape != src.shape:
        raise ValueError(f"scatter_prod: index {idx.shape} and src {src.shape} must have one "
                         f"shape (scatter_reduce slices src first)")
    at = _along(idx, d)
    hit = np.zeros(x.shape, bool)
    hit[at] = True
    out = np.array(x.array, copy=True)
    if not include_self:
        out[hit] = 1
    np.multiply.at(out, at, src.array)
    self_zero = x.array == 0
    src_zero = src.array == 0
    zeros = (self_zero if include_self else np.zeros(x.shape, bool)).astype(np.int64)
    np.add.at(zeros, at, src_zero.astype(np.int64))
    self_alone = (zeros - self_zero) == 0  # no factor but (perhaps) x itself is zero
    src_alone = (zeros[at] - src_zero) == 0
    return record(out, SCATTER_PROD, (x, src),
                  (d, idx, include_self, hit, self_alone, src_alone, self_zero, src_zero))


_REDUCTIONS = ("sum", "mean", "amax", "amin", "prod")


@expose
def scatter_reduce(x, dim: int, index, src, reduce: str, *, include_self: bool = True) -> Tensor:
    """``x`` with the ``src`` values at ``index`` along ``dim`` reduced into it: 'sum',
    'prod', 'mean', 'amax' or 'amin' (with x's own value unless ``include_self=False``)."""
    if reduce not in _REDUCTIONS:
        raise ValueError(f"scatter_reduce: reduce must be one of {_REDUCTIONS}, got {reduce!r}")
    x, src, d, idx = _scatter_operands(x, dim, index, src, "scatter_reduce")
    if any(i > s for i, s in zip(idx.shape, src.shape)):
        raise ValueError(f"scatter_reduce: index {idx.shape} is larger than src {src.shape}")
    if idx.size and (idx.min() < -x.shape[d] or idx.max() >= x.shape[d]):
        raise IndexError(f"scatter_reduce: index out of range for dim {d} of size "
                         f"{x.shape[d]} (values {idx.min()}..{idx.max()})")
    if reduce == "prod":
        if src.shape != idx.shape:
            src = src[tuple(slice(0, n) for n in idx.shape)]
        return scatter_prod(x, d, idx, src, include_self=include_self)
    if reduce in ("amax", "amin"):
        return scatter_extreme(x, d, idx, src, reduce=reduce, include_self=include_self)
    hit = np.zeros(x.shape, bool)
    hit[_along(idx, d)] = True
    base = x if include_self else P.where(hit, 0.0, x)
    total = scatter_add_along(base, d, idx, src)
    if reduce == "sum":
        return total
    count = np.zeros(x.shape, x.array.dtype if x.array.dtype.kind == "f" else np.float64)
    np.add.at(count, _along(idx, d), 1)
    if include_self:
        count += 1
    out = P.div(total, wrap(np.maximum(count, 1).astype(count.dtype)))
    if x.array.dtype.kind in "biu":  # PyTorch floors an integer mean
        out = P.cast(P.floor(out), x.array.dtype)
    return out if include_self else P.where(hit, out, x)


@expose
def index_reduce(x, dim: int, index, source, reduce: str, *, include_self: bool = True) -> Tensor:
    """``x`` with the slices of ``source`` reduced into the slices ``index`` along ``dim``
    ('prod', 'mean', 'amax', 'amin')."""
    x = as_tensor(x)
    source = as_tensor(source, x)
    d = _dim(dim, x.ndim, "index_reduce")
    idx = _index_array(index, "index_reduce").reshape(-1)
    if source.ndim != x.ndim or source.shape[d] != len(idx):
        raise ValueError(f"index_reduce: source {source.shape} must have x's dims "
                         f"({x.shape}) with {len(idx)} slices along dim {d}")
    shape = [1] * x.ndim
    shape[d] = -1
    full = np.broadcast_to(idx.reshape(shape), source.shape)
    return scatter_reduce(x, d, full, source, reduce, include_self=include_self)


for _fn in ("scatter_reduce", "index_reduce"):
    setattr(Tensor, _fn + "_", _make_inplace(_fn + "_", _fn))


# logaddexp in base e and 2: registry entries (their rules are softmax weights)
logaddexp = binary("logaddexp", np.logaddexp,
                   lambda F, g, ans, ctx, a, b: (g * F.exp(a - ans), g * F.exp(b - ans)),
                   reads=("inputs", "output"),
                   formula=("e^({a} - out)", "e^({b} - out)"))
logaddexp2 = binary("logaddexp2", np.logaddexp2,
                    lambda F, g, ans, ctx, a, b: (g * F.exp2(a - ans), g * F.exp2(b - ans)),
                    reads=("inputs", "output"),
                    formula=("2^({a} - out)", "2^({b} - out)"))


# ---------------------------------------------------------------------------
# PyTorch's other names and small composites
# ---------------------------------------------------------------------------
@expose
def true_divide(a, b) -> Tensor:
    return P.div(a, b)


@expose
def rsub(a, b, *, alpha=1) -> Tensor:
    """``b - alpha * a`` (PyTorch's reversed subtraction)."""
    return P.sub(b, a if alpha == 1 else P.mul(a, alpha))


@expose
def sgn(x) -> Tensor:
    return P.sign(x)


@expose
def absolute(x) -> Tensor:
    return P.abs(x)


@expose
def positive(x) -> Tensor:
    x = as_tensor(x)
    if x.array.dtype == np.bool_:
        raise TypeError("positive: not defined for bool tensors (as PyTorch)")
    return x


@expose
def fix(x) -> Tensor:
    return P.trunc(x)


@expose
def deg2rad(x) -> Tensor:
    return P.mul(x, math.pi / 180)


@expose
def rad2deg(x) -> Tensor:
    return P.mul(x, 180 / math.pi)


@expose
def float_power(x, exponent) -> Tensor:
    """``x ** exponent`` in float64 (as PyTorch)."""
    x = as_tensor(x)
    exponent = P.cast(exponent, np.float64) if isinstance(exponent, Tensor) else exponent
    return P.pow(P.cast(x, np.float64), exponent)


@expose
def aminmax(x, *, dim=None, keepdim: bool = False):
    """(min, max) over ``dim`` (all elements if None), as a named pair."""
    import collections

    pair = collections.namedtuple("aminmax", ["min", "max"])
    return pair(P.amin(x, axis=dim, keepdims=keepdim), P.amax(x, axis=dim, keepdims=keepdim))


@expose
def nanmedian(x, dim=None, keepdim: bool = False):
    """The lower median of the values that are not nan (all nan: nan)."""
    x = as_tensor(x)
    if dim is None:
        flat = P.reshape(x, (-1,))
        keep = np.flatnonzero(~np.isnan(flat.array))
        if keep.size == 0:
            return _plain("nanmedian", np.asarray(np.nan, x.array.dtype))
        vals = P.getitem(flat, keep)
        order = np.argsort(vals.array, kind="stable")
        return P.getitem(vals, int(order[(keep.size - 1) // 2]))
    d = _dim(dim, x.ndim, "nanmedian")
    arr = x.array
    counts = np.sum(~np.isnan(arr), axis=d, keepdims=True)
    order = np.argsort(np.where(np.isnan(arr), np.inf, arr), axis=d, kind="stable")
    pick = np.maximum((counts - 1) // 2, 0)
    index = np.take_along_axis(order, pick, axis=d)
    values = gather(x, d, index) if x.requires_grad else wrap(np.take_along_axis(arr, index, d))
    values = P.where(counts == 0, float("nan"), values)
    if not keepdim:
        values = P.reshape(values, values.shape[:d] + values.shape[d + 1:])
        index = index.reshape(index.shape[:d] + index.shape[d + 1:])
    return ValuesIndices(values, _plain("nanmedian", index.astype(np.int64)))


@expose
def nanquantile(x, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
    """quantile over the values that are not nan (one dim, or all elements)."""
    x = as_tensor(x)
    if dim is None:
        flat = P.reshape(x, (-1,))
        return quantile(P.getitem(flat, np.flatnonzero(~np.isnan(flat.array))), q,
                        interpolation=interpolation)
    d = _dim(dim, x.ndim, "nanquantile")
    rows = unbind(movedim(x, d, -1).reshape(-1, x.shape[d]) if x.ndim > 1 else
                  P.reshape(x, (1, -1)), 0)
    outs = [nanquantile(r, q, interpolation=interpolation) for r in rows]
    out = C.stack(outs, -1)  # (q..., rows)
    rest = tuple(n for i, n in enumerate(x.shape) if i != d)
    out = P.reshape(out, out.shape[:-1] + rest)
    if keepdim:
        out = P.reshape(out, out.shape[:out.ndim - len(rest)] + tuple(
            1 if i == d else n for i, n in enumerate(x.shape)))
    return out


@expose
def trapezoid(y, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoid rule along ``dim``: spacing ``dx`` (1 by default) or sample points x."""
    y = as_tensor(y)
    d = _dim(dim, y.ndim, "trapezoid")
    n = y.shape[d]
    lead = (slice(None),) * d
    left, right = y[lead + (slice(0, n - 1),)], y[lead + (slice(1, n),)]
    pair = P.add(left, right)
    if x is not None:
        x = as_tensor(x, y)
        steps = diff(x, dim=-1 if x.ndim == 1 else d)
        if x.ndim == 1:
            shape = [1] * y.ndim
            shape[d] = -1
            steps = P.reshape(steps, tuple(shape))
        return P.mul(P.sum(P.mul(pair, steps), axis=d), 0.5)
    return P.mul(P.sum(pair, axis=d), 0.5 * (1.0 if dx is None else dx))


@expose
def cumulative_trapezoid(y, x=None, *, dx=None, dim: int = -1) -> Tensor:
    y = as_tensor(y)
    d = _dim(dim, y.ndim, "cumulative_trapezoid")
    n = y.shape[d]
    lead = (slice(None),) * d
    pair = P.add(y[lead + (slice(0, n - 1),)], y[lead + (slice(1, n),)])
    if x is not None:
        x = as_tensor(x, y)
        steps = diff(x, dim=-1 if x.ndim == 1 else d)
        if x.ndim == 1:
            shape = [1] * y.ndim
            shape[d] = -1
            steps = P.reshape(steps, tuple(shape))
        return cumsum(P.mul(P.mul(pair, steps), 0.5), d)
    return cumsum(P.mul(pair, 0.5 * (1.0 if dx is None else dx)), d)


@expose(method=False)
def cartesian_prod(*tensors) -> Tensor:
    if len(tensors) == 1:
        return as_tensor(tensors[0])
    grids = meshgrid(*tensors, indexing="ij")
    return C.stack([P.reshape(g, (-1,)) for g in grids], 1)


@expose(method=False)
def combinations(x, r: int = 2, with_replacement: bool = False) -> Tensor:
    import itertools as it

    x = as_tensor(x)
    if x.ndim != 1:
        raise ValueError(f"combinations: expected a 1-D tensor, got shape {x.shape}")
    pick = (it.combinations_with_replacement if with_replacement else it.combinations)(
        range(x.shape[0]), r)
    index = np.array(list(pick), dtype=np.int64).reshape(-1, r)
    return P.getitem(x, index)


@expose(method=False)
def vander(x, N=None, increasing: bool = False) -> Tensor:
    x = as_tensor(x)
    n = x.shape[0] if N is None else N
    powers = np.arange(n) if increasing else np.arange(n)[::-1]
    return P.pow(P.reshape(x, (-1, 1)), wrap(powers.copy().astype(
        x.array.dtype if x.array.dtype.kind == "f" else np.int64)))


@expose
def hsplit(x, sections) -> tuple:
    x = as_tensor(x)
    return tensor_split(x, sections, dim=1 if x.ndim > 1 else 0)


@expose
def vsplit(x, sections) -> tuple:
    return tensor_split(x, sections, dim=0)


@expose
def ravel(x) -> Tensor:
    return P.reshape(x, (-1,))


@expose
def narrow_copy(x, dim: int, start: int, length: int) -> Tensor:
    return clone(narrow(x, dim, start, length))


@expose
def renorm(x, p, dim: int, maxnorm) -> Tensor:
    """Each slice along ``dim`` scaled down to p-norm ``maxnorm`` where it is larger."""
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "renorm")
    others = tuple(i for i in range(x.ndim) if i != d)
    norms = norm(x, p, others, True)
    scale = P.where(norms > maxnorm, P.div(maxnorm, P.add(norms, 1e-7)), 1.0)
    return P.mul(x, scale)


expose(C.swapaxes, name="swapdims")


def _is_nonzero(self) -> bool:
    if self.numel() != 1:
        raise RuntimeError(f"is_nonzero: a tensor of {self.numel()} values is ambiguous; "
                           "it needs exactly one")
    return builtins.bool(self.item())


Tensor.is_nonzero = _is_nonzero
Tensor.is_same_size = lambda self, other: self.shape == other.shape
for _fn in ("addmm", "addmv", "addr", "baddbmm", "addbmm", "true_divide", "logaddexp",
            "renorm", "float_power", "fix", "deg2rad", "rad2deg", "sgn", "absolute"):
    setattr(Tensor, _fn + "_", _make_inplace(_fn + "_", _fn))
_MISSING_METHODS.pop("renorm", None)



def _scatter_with_reduce(x, dim, index, src, reduce: str) -> Tensor:
    """``scatter(..., reduce='add' | 'multiply')``: src (a tensor or a number) added to or
    multiplied into x at index; 'add' is differentiable (scatter_add), 'multiply' is not."""
    x = as_tensor(x)
    d = _dim(dim, x.ndim, "scatter")
    idx = _index_array(index, "scatter")
    if reduce not in ("add", "multiply"):
        raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
    values = src if isinstance(src, Tensor) else wrap(np.full(idx.shape, src, x.array.dtype))
    if reduce == "add":
        return scatter_add_along(x, d, idx, values)
    if x.requires_grad or values.requires_grad:
        raise NotImplementedError("scatter: the gradient of reduce='multiply' is not in "
                                  "chainrule (PyTorch does not define it either); use "
                                  "scatter_reduce(..., 'prod') under no_grad or a loop")
    out = np.array(x.array, copy=True)
    np.multiply.at(out, _along(idx, d), values.array[tuple(slice(0, n) for n in idx.shape)])
    return _plain("scatter", out)


@expose
def put(x, index, source, accumulate: bool = False) -> Tensor:
    """``x`` read as 1-D with ``source``'s values written (or added) at ``index``."""
    x = as_tensor(x)
    idx = _index_array(index, "put").reshape(-1)
    n = x.numel()
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"put: index out of range for {n} elements")
    source = P.reshape(as_tensor(source, x), (-1,))
    if source.shape[0] != idx.size:
        raise ValueError(f"put: {idx.size} indices but source has {source.shape[0]} elements")
    flat = P.reshape(x, (-1,))
    written = (index_put_add if accumulate else index_put)(flat, (idx,), source)
    return P.reshape(written, x.shape)


Tensor.put_ = _make_inplace("put_", "put")
_MISSING_METHODS.pop("put_", None)


def _new(self, *args, **kwargs) -> Tensor:
    """Legacy ``x.new(*sizes)`` (zeros) or ``x.new(data)``, in x's dtype."""
    if not args or all(isinstance(a, (int, np.integer)) for a in args):
        return wrap(np.zeros(tuple(int(a) for a in args) if args else (0,), self.array.dtype))
    return new_tensor(self, args[0])


def _apply_(self, fn) -> Tensor:
    """Python ``fn`` on every element, in place (slow, as PyTorch's; not on the graph)."""
    self._check_inplace("apply_")
    flat = self._buffer().reshape(-1)
    for i, v in enumerate(flat.tolist()):
        flat[i] = fn(v)
    self._version += 1
    return self


def _map_(self, other, fn) -> Tensor:
    """``self[i] = fn(self[i], other[i])`` elementwise (other broadcast), in place."""
    self._check_inplace("map_")
    theirs = np.broadcast_to(np.asarray(other.array if isinstance(other, Tensor) else other),
                             self.shape).reshape(-1).tolist()
    flat = self._buffer().reshape(-1)
    for i, (a, b) in enumerate(zip(flat.tolist(), theirs)):
        flat[i] = fn(a, b)
    self._version += 1
    return self


Tensor.new = _new
Tensor.apply_ = _apply_
Tensor.map_ = _map_
Tensor.is_complex = lambda self: self.array.dtype.kind == "c"
Tensor.nbytes = property(lambda self: int(self.array.nbytes))
Tensor.itemsize = property(lambda self: int(self.array.dtype.itemsize))
Tensor.mH = property(lambda self: P.transpose(self, -2, -1))  # real tensors: mT
Tensor.H = property(lambda self: P.transpose(self))
for _name in ("apply_", "map_"):
    _MISSING_METHODS.pop(_name, None)


@expose(method=False)
def frexp(x):
    """(mantissa, exponent) with x = mantissa · 2^exponent, mantissa in [0.5, 1)."""
    import collections

    arr = as_tensor(x).array
    if arr.dtype.kind != "f":
        raise TypeError(f"frexp: expected a floating-point tensor, got {arr.dtype}")
    mantissa, exponent = np.frexp(arr)
    pair = collections.namedtuple("frexp", ["mantissa", "exponent"])
    return pair(_plain("frexp", mantissa.astype(arr.dtype)),
                _plain("frexp", exponent.astype(np.int32)))


@expose
def ldexp(x, other) -> Tensor:
    """x · 2^other (differentiable in x)."""
    return P.mul(x, P.pow(2.0, P.cast(as_tensor(other), as_tensor(x).array.dtype
                                       if as_tensor(x).array.dtype.kind == "f"
                                       else np.float32)))


@expose(method=False)
def dist(a, b, p: float = 2) -> Tensor:
    """The p-norm of ``a - b`` (all elements)."""
    return norm(P.sub(a, b), p)


@expose
def vdot(a, b) -> Tensor:
    """The dot product of two 1-D tensors (real tensors: ``dot``)."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"vdot: expected two 1-D tensors, got shapes {a.shape} and {b.shape}")
    return P.sum(P.mul(a, b))


expose(C.outer, name="ger")


@expose
def div(a, b, *, rounding_mode=None) -> Tensor:
    """``a / b``; ``rounding_mode='floor'`` or ``'trunc'`` rounds the quotient (integers stay
    integers; the rounded quotient has zero gradient, as PyTorch)."""
    if rounding_mode is None:
        return P.div(a, b)
    if rounding_mode == "floor":
        return floor_divide(a, b)
    if rounding_mode != "trunc":
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got "
                         f"{rounding_mode!r}")
    x, y = P._pair(a, b)
    if x.array.dtype.kind in "biu" and y.array.dtype.kind in "biu":
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.trunc(np.true_divide(x.array, y.array))
        return _plain("div", q.astype(np.result_type(x.array.dtype, y.array.dtype)))
    return P.trunc(P.div(x, y))


expose(div, name="divide")
expose(P.neg, name="negative")


def _angle_of_real(x):
    out = np.where(x < 0, x.dtype.type(np.pi), x.dtype.type(0))
    return np.where(np.isnan(x), x, out)


# the argument of a real number: π below 0, else 0 (nan stays); no complex numbers here
angle = unary("angle", _angle_of_real, lambda F, g, ans, c, x: (g * 0,), reads=(),
              formula="0", domain="offkink")


@expose
def adjoint(x) -> Tensor:
    """The conjugate transpose of the last two dims: for real tensors, ``x.mT``."""
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"adjoint: expected a tensor with at least 2 dims, got {x.shape}")
    return P.transpose(x, -2, -1)


# ---------------------------------------------------------------------------
# the rest of the everyday Tensor surface: acosh, cov/corrcoef, gcd/lcm, diagflat,
# split_with_sizes, fill_diagonal_, and in-place forms of the functions above
# ---------------------------------------------------------------------------
acosh = unary("acosh", np.arccosh, lambda F, g, ans, c, x: (g / F.sqrt(x * x - 1),),
              formula="1/√({x}² - 1)", domain=(1.1, 3.0),
              hint="an input below 1 (nan) or at 1 (the gradient is inf)")
expose(acosh, name="arccosh")


@expose
def cov(x, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:
    """The covariance matrix of the variables in ``x``'s rows (observations in columns),
    with integer frequency weights and observation weights as PyTorch."""
    x = as_tensor(x)
    if x.ndim > 2:
        raise ValueError(f"cov: expected a 1-D or 2-D tensor, got shape {x.shape}")
    obs = x if x.ndim == 2 else P.reshape(x, (1, -1))
    n = obs.shape[1]
    w = None
    if fweights is not None:
        w = as_tensor(fweights).array.astype(obs.array.dtype)
    if aweights is not None:
        a = as_tensor(aweights).array.astype(obs.array.dtype)
        w = a if w is None else w * a
    if w is None:
        w_sum = float(n)
        avg = P.mean(obs, axis=1, keepdims=True)
        norm_factor = w_sum - correction
        centered = P.sub(obs, avg)
        prod = P.matmul(centered, P.transpose(centered))
    else:
        if w.shape != (n,):
            raise ValueError(f"cov: weights must have one entry per observation ({n}), got "
                             f"shape {w.shape}")
        wt = wrap(w)
        w_sum = float(w.sum())
        avg = P.div(P.sum(P.mul(obs, wt), axis=1, keepdims=True), w_sum)
        if aweights is None:
            norm_factor = w_sum - correction
        else:
            a = as_tensor(aweights).array.astype(obs.array.dtype)
            norm_factor = w_sum - correction * float((w * a).sum()) / w_sum
        centered = P.sub(obs, avg)
        prod = P.matmul(P.mul(centered, wt), P.transpose(centered))
    out = P.div(prod, builtins.max(norm_factor, 0.0)) if norm_factor > 0 else \
        P.mul(prod, float("nan"))
    return P.reshape(out, ()) if x.ndim < 2 else out


@expose
def corrcoef(x) -> Tensor:
    """Pearson correlation coefficients of the rows, clipped to [-1, 1] as PyTorch."""
    c = cov(x)
    if c.ndim == 0:
        return P.div(c, c)
    d = P.sqrt(diagonal(c))
    out = P.div(P.div(c, P.reshape(d, (-1, 1))), P.reshape(d, (1, -1)))
    return P.clip(out, -1.0, 1.0)


@expose
def gcd(a, b) -> Tensor:
    x, y = P._pair(a, b)
    return _plain("gcd", np.gcd(x.array, y.array))


@expose
def lcm(a, b) -> Tensor:
    x, y = P._pair(a, b)
    return _plain("lcm", np.lcm(x.array, y.array))


@expose
def diagflat(x, offset: int = 0) -> Tensor:
    return diag(P.reshape(x, (-1,)), offset)


@expose
def split_with_sizes(x, split_sizes, dim: int = 0) -> tuple:
    return tuple(C.split(x, list(split_sizes), dim))


@expose
def dsplit(x, sections) -> tuple:
    if as_tensor(x).ndim < 3:
        raise ValueError("dsplit: expected a tensor of at least 3 dims")
    return tensor_split(x, sections, dim=2)


@expose
def nextafter(a, b) -> Tensor:
    x, y = P._pair(a, b)
    return _plain("nextafter", np.nextafter(x.array, y.array))


@expose(function=False)
def sum_to_size(x, *size) -> Tensor:
    """``x`` summed down to ``size`` (the broadcast undone)."""
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    x = as_tensor(x)
    lead = x.ndim - len(size)
    if lead < 0 or any(n not in (1, x.shape[lead + i]) for i, n in enumerate(size)):
        raise ValueError(f"sum_to_size: size {size} is not expandable to {x.shape}")
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(size)
                                      if n == 1 and x.shape[lead + i] != 1)
    out = P.sum(x, axis=axes, keepdims=True) if axes else x
    return P.reshape(out, size)


def _fill_diagonal_(self, fill_value, wrap: bool = False) -> Tensor:
    """The main diagonal set to ``fill_value`` in place (all dims of equal length, or a
    tall matrix with ``wrap``)."""
    if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
        raise ValueError(f"fill_diagonal_: expected a matrix or a tensor with all dims equal, "
                         f"got shape {self.shape}")
    n = builtins.min(self.shape)
    if self.ndim == 2 and wrap and self.shape[0] > self.shape[1] + 1:
        rows = np.arange(self.shape[0])
        keep = rows % (self.shape[1] + 1) < self.shape[1]
        rows = rows[keep]
        cols = rows % (self.shape[1] + 1)
        index = (rows, cols)
    else:
        index = tuple(np.arange(n) for _ in range(self.ndim))
    self[index] = fill_value
    return self


Tensor.fill_diagonal_ = _fill_diagonal_
Tensor.is_signed = lambda self: self.array.dtype.kind in "if"
Tensor.is_cpu = property(lambda self: self.device.type == "cpu")
Tensor.is_neg = Tensor.is_conj = lambda self: False
Tensor.is_inference = lambda self: False
# what libraries ask before special-casing other kinds of tensor: chainrule has only dense
# CPU/CUDA ones
for _flag in ("is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_mps", "is_xpu",
              "is_mkldnn", "is_nested", "is_ipu", "is_xla", "is_vulkan", "is_mtia", "is_maia"):
    setattr(Tensor, _flag, False)
Tensor.isreal = lambda self: _plain("isreal", np.ones(self.shape, bool))  # all real here
Tensor.unsafe_chunk = lambda self, *args, **kwargs: self.chunk(*args, **kwargs)
Tensor.unsafe_split = lambda self, *args, **kwargs: self.split(*args, **kwargs)
Tensor.retains_grad = property(lambda self: bool(self._retain))
Tensor.real = property(lambda self: self)  # real tensors are their own real part


def _imag(self):
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes "
                       f"({self.dtype}); chainrule has no complex autograd")


Tensor.imag = property(_imag)
Tensor.conj = Tensor.resolve_conj = Tensor.resolve_neg = lambda self: self
expose(dist, name="dist")
for _fn in ("acos", "acosh", "asin", "asinh", "atanh", "cosh", "sinh", "tan", "sinc",
            "lgamma", "digamma", "erfc", "erfinv", "ldexp", "heaviside", "logical_and",
            "logical_or", "logical_xor", "eq", "ne", "lt", "le", "gt", "ge", "cumsum",
            "cumprod", "hypot", "xlogy", "polygamma", "mvlgamma", "logit", "i0", "atan",
            "gcd", "lcm", "bitwise_left_shift", "bitwise_right_shift", "nextafter"):
    if _fn in EXPOSED and not hasattr(Tensor, _fn + "_"):
        setattr(Tensor, _fn + "_", _make_inplace(_fn + "_", _fn))
for _alias, _fn in (("arccos_", "acos_"), ("arcsin_", "asin_"), ("arctan_", "atan_"),
                    ("arccosh_", "acosh_"), ("arcsinh_", "asinh_"), ("arctanh_", "atanh_"),
                    ("arctan2_", "atan2_"), ("greater_", "gt_"), ("greater_equal_", "ge_"),
                    ("less_", "lt_"), ("less_equal_", "le_"), ("not_equal_", "ne_")):
    if hasattr(Tensor, _fn):
        setattr(Tensor, _alias, getattr(Tensor, _fn))


@expose(method=False)
def gradient(x, *, spacing=1, dim=None, edge_order: int = 1) -> tuple:
    """Finite-difference derivatives along each ``dim`` (central inside, one-sided at the
    ends to ``edge_order`` 1 or 2), as ``torch.gradient``: ``spacing`` a number, one number
    per dim, or one coordinate tensor per dim. Differentiable (slices and products)."""
    x = as_tensor(x)
    if x.array.dtype.kind not in "fc":
        x = P.cast(x, np.float32)
    dims = list(range(x.ndim)) if dim is None else (
        [dim] if isinstance(dim, (int, np.integer)) else list(dim))
    dims = [_dim(d, x.ndim, "gradient") for d in dims]
    if edge_order not in (1, 2):
        raise ValueError(f"gradient: edge_order must be 1 or 2, got {edge_order}")
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise ValueError(f"gradient: {len(spacing)} spacings for {len(dims)} dims")
        steps = list(spacing)
    else:
        steps = [spacing] * len(dims)
    out = []
    for d, h in zip(dims, steps):
        n = x.shape[d]
        if n < edge_order + 1:
            raise ValueError(f"gradient: dim {d} has {n} points; edge_order={edge_order} "
                             f"needs at least {edge_order + 1}")

        def part(lo, hi, d=d):
            return P.getitem(x, (slice(None),) * d + (slice(lo, hi),))

        if isinstance(h, Tensor) and h.ndim == 1:
            coords = h.array.astype(x.array.dtype)
            if coords.shape[0] != n:
                raise ValueError(f"gradient: the coordinates for dim {d} have "
                                 f"{coords.shape[0]} points, the input {n}")
            dx = np.diff(coords)
            shape = [1] * x.ndim
            shape[d] = -1

            def col(v, shape=shape):
                return wrap(np.asarray(v, x.array.dtype).reshape(shape))

            d1, d2 = dx[:-1], dx[1:]
            inner = P.add(P.add(P.mul(part(0, n - 2), col(-d2 / (d1 * (d1 + d2)))),
                                P.mul(part(1, n - 1), col((d2 - d1) / (d1 * d2)))),
                          P.mul(part(2, n), col(d1 / (d2 * (d1 + d2)))))
            first = P.div(P.sub(part(1, 2), part(0, 1)), float(dx[0]))
            last = P.div(P.sub(part(n - 1, n), part(n - 2, n - 1)), float(dx[-1]))
            if edge_order == 2:
                raise NotImplementedError("gradient: edge_order=2 with coordinate spacing is "
                                          "not in chainrule; use edge_order=1")
        else:
            step = float(h.item() if isinstance(h, Tensor) else h)
            inner = P.div(P.sub(part(2, n), part(0, n - 2)), 2 * step)
            if edge_order == 1:
                first = P.div(P.sub(part(1, 2), part(0, 1)), step)
                last = P.div(P.sub(part(n - 1, n), part(n - 2, n - 1)), step)
            else:
                first = P.div(P.add(P.add(P.mul(part(0, 1), -1.5), P.mul(part(1, 2), 2.0)),
                                    P.mul(part(2, 3), -0.5)), step)
                last = P.div(P.add(P.add(P.mul(part(n - 3, n - 2), 0.5),
                                         P.mul(part(n - 2, n - 1), -2.0)),
                                   P.mul(part(n - 1, n), 1.5)), step)
        out.append(P.concatenate([first, inner, last], axis=d))
    return tuple(out)


@expose
def as_strided(x, size, stride, storage_offset: int = 0) -> Tensor:
    """A view of ``x``'s elements (read in row-major order) with the given ``size`` and
    ``stride`` in elements, from ``storage_offset``; differentiable (overlapping windows
    add their gradients). ``x`` must be contiguous, its storage then being x itself."""
    x = as_tensor(x)
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise ValueError(f"as_strided: size {size} and stride {stride} differ in length")
    if any(n < 0 for n in size) or any(s < 0 for s in stride) or storage_offset < 0:
        raise ValueError(f"as_strided: negative size, stride or offset ({size}, {stride}, "
                         f"{storage_offset})")
    if not is_contiguous(x):
        raise NotImplementedError("as_strided: chainrule reads the storage of a contiguous "
                                  "tensor only; call .contiguous() first")
    n = x.numel()
    index = np.full(size, storage_offset, dtype=np.int64)
    for d, (length, step) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[d] = length
        index = index + np.arange(length).reshape(shape) * step
    if index.size and index.max() >= n:
        raise ValueError(f"as_strided: size {size}, stride {stride} and offset "
                         f"{storage_offset} reach element {int(index.max())} of a tensor "
                         f"with {n}")
    out = P.getitem(P.reshape(x, (-1,)), index)
    arr = x.array
    if isinstance(arr, np.ndarray) and arr.size:
        flat = arr.reshape(-1)
        view = np.lib.stride_tricks.as_strided(
            flat[storage_offset:], shape=size, strides=tuple(s * arr.itemsize for s in stride),
            writeable=False)
        out.array = view  # the same values, sharing x's memory (read-only: may overlap)
    return out


_MISSING_METHODS.pop("as_strided", None)
