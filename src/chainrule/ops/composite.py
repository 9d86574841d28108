"""Ops built from primitives: they need no derivative rule of their own."""

from __future__ import annotations

import builtins
import collections

import numpy as np

from .._tensor import Tensor, as_tensor, record
from . import primitives as P
from .registry import Op, expose


@expose
def squeeze(x, axis=None) -> Tensor:
    x = as_tensor(x)
    if axis is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        # as PyTorch: a named dim whose size is not 1 stays (x.squeeze(1) on a batch of
        # width 3 is x itself)
        axes = [a for a in P._axes(axis, x.ndim, "squeeze") if x.shape[a] == 1]
        shape = tuple(n for i, n in enumerate(x.shape) if i not in axes)
    return P.reshape(x, shape)


@expose
def unsqueeze(x, axis: int) -> Tensor:
    x = as_tensor(x)
    ndim = x.ndim + 1
    if not -ndim <= axis < ndim:
        raise ValueError(f"unsqueeze: axis {axis} is out of range for a result with {ndim} dims")
    axis %= ndim
    return P.reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


expand_dims = expose(unsqueeze, name="expand_dims")


@expose
def flatten(x, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    x = as_tensor(x)
    if x.ndim == 0:
        return P.reshape(x, (1,))
    s, e = start_dim % x.ndim, end_dim % x.ndim
    n = 1
    for d in x.shape[s:e + 1]:
        n *= d
    return P.reshape(x, x.shape[:s] + (n,) + x.shape[e + 1:])


@expose(method=False)
def stack(tensors, axis: int = 0) -> Tensor:
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected at least one tensor")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape}, but tensor 0 has shape "
                             f"{tensors[0].shape}; all must match")
    return P.concatenate([unsqueeze(t, axis) for t in tensors], axis=axis)


@expose
def split(x, split_size_or_sections, axis: int = 0) -> tuple:
    """Split into pieces: an int is the size of each piece (as PyTorch), a list the sizes."""
    x = as_tensor(x)
    if x.ndim == 0:
        raise ValueError("split: a 0-d tensor cannot be split")
    (axis,) = P._axes(axis, x.ndim, "split")
    n = x.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: piece size must be positive, got {size}")
        sizes = [size] * (n // size) + ([n % size] if n % size else [])
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if np.sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n} (axis {axis} of "
                             f"shape {x.shape})")
    lead = (slice(None),) * axis
    pieces, start = [], 0
    for s in sizes:
        pieces.append(P.getitem(x, lead + (slice(start, start + s),)))
        start += s
    return tuple(pieces)


@expose
def chunk(x, chunks: int, axis: int = 0) -> tuple:
    x = as_tensor(x)
    if x.ndim == 0:
        raise ValueError("chunk: a 0-d tensor cannot be split")
    if chunks <= 0:
        raise ValueError(f"chunk: the number of chunks must be positive, got {chunks}")
    (axis,) = P._axes(axis, x.ndim, "chunk")
    n = x.shape[axis]
    return split(x, -(-n // chunks), axis)


@expose
def dot(a, b) -> Tensor:
    a, b = P._pair(a, b)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"dot: expected two 1-D tensors, got shapes {a.shape} and {b.shape}")
    return P.matmul(a, b)


@expose
def outer(a, b) -> Tensor:
    a, b = P._pair(a, b)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"outer: expected two 1-D tensors, got shapes {a.shape} and {b.shape}")
    return P.mul(P.reshape(a, (a.shape[0], 1)), P.reshape(b, (1, b.shape[0])))


@expose
def var(x, axis=None, keepdims: bool = False, correction: int = 1) -> Tensor:
    """Variance with Bessel's correction by default (as torch.var)."""
    x = as_tensor(x)
    axes = P._axes(axis, x.ndim, "var")
    n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    centered = P.sub(x, P.mean(x, axis=axes, keepdims=True))
    total = P.sum(P.mul(centered, centered), axis=axes, keepdims=keepdims)
    dof = n - correction
    if dof <= 0:  # as PyTorch: a warning, and the division by 0 gives nan (or inf)
        import warnings

        warnings.warn(f"var/std: degrees of freedom <= 0 ({n} values, correction "
                      f"{correction}); the result is nan or inf", RuntimeWarning, stacklevel=3)
        with np.errstate(divide="ignore", invalid="ignore"):
            return P.div(total, builtins.max(dof, 0))
    return P.div(total, dof)


@expose
def std(x, axis=None, keepdims: bool = False, correction: int = 1) -> Tensor:
    """The square root of ``var``; its gradient is 0 where it is 0 (constant values), as
    PyTorch's."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return P.sqrt_masked(var(x, axis, keepdims, correction))


@expose
def swapaxes(x, a: int, b: int) -> Tensor:
    return P.transpose(x, a, b)


@expose
def expand(x, *shape) -> Tensor:
    """Broadcast to ``shape``; -1 keeps a dimension (as torch.expand)."""
    x = as_tensor(x)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    lead = len(shape) - x.ndim
    if lead < 0 or -1 in shape[:lead]:
        raise ValueError(f"expand: cannot expand shape {x.shape} to {shape} (-1 only keeps an "
                         "existing dimension)")
    full = tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
    return P.broadcast_to(x, full)


# ---------------------------------------------------------------------------
# Comparisons and arg-reductions: not differentiable, return plain tensors
# ---------------------------------------------------------------------------
def _compare(name, fn):
    node_op = Op(name, register=False)  # names the result; it has no parents, no rule

    def op(a, b) -> Tensor:
        a, b = P._pair(a, b)
        try:
            return record(fn(a.array, b.array), node_op, ())
        except ValueError:
            raise P._broadcast_error(name, a, b) from None

    op.__name__ = name
    return expose(op)


eq = _compare("eq", np.equal)
ne = _compare("ne", np.not_equal)
lt = _compare("lt", np.less)
le = _compare("le", np.less_equal)
gt = _compare("gt", np.greater)
ge = _compare("ge", np.greater_equal)
# on masks (bool tensors), as ``&``, ``|``, ``^`` and ``~``: rules under create_graph use them
logical_and = _compare("logical_and", np.logical_and)
logical_or = _compare("logical_or", np.logical_or)
logical_xor = _compare("logical_xor", np.logical_xor)


def _not_differentiable(name, fn):
    """``op(x, ...)``: a plain result (masks, indices), never on the graph."""

    node_op = Op(name, register=False)

    def op(x, *args, **kwargs) -> Tensor:
        x = as_tensor(x)
        if "dim" in kwargs:  # PyTorch's spelling of NumPy's axis
            kwargs["axis"] = kwargs.pop("dim")
        if "keepdim" in kwargs:
            kwargs["keepdims"] = kwargs.pop("keepdim")
        return record(fn(x.array, *args, **kwargs), node_op, ())

    op.__name__ = name
    return expose(op)


logical_not = _not_differentiable("logical_not", np.logical_not)
argmax = _not_differentiable("argmax", np.argmax)      # (x, axis=None, keepdims=False)
argmin = _not_differentiable("argmin", np.argmin)
isfinite = _not_differentiable("isfinite", np.isfinite)
isnan = _not_differentiable("isnan", np.isnan)
def _truth(reduce):
    def truth(a, *args, **kwargs):
        out = reduce(a, *args, **kwargs)
        # PyTorch keeps uint8 for a uint8 input (its old boolean type); bool otherwise
        return np.asarray(out, np.uint8)[()] if a.dtype == np.uint8 else out
    return truth


any = _not_differentiable("any", _truth(np.any))     # (x, axis=None)
all = _not_differentiable("all", _truth(np.all))


@expose
def allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan: bool = False) -> bool:
    a = a.array if isinstance(a, Tensor) else a
    b = b.array if isinstance(b, Tensor) else b
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


# ---------------------------------------------------------------------------
# max / min: PyTorch's three forms in one name
# ---------------------------------------------------------------------------
ValuesIndices = collections.namedtuple("ValuesIndices", ["values", "indices"])
"""``(values, indices)`` as PyTorch's ``torch.return_types.max`` and kin."""


def _extreme(name: str, reduce, arg, pairwise):
    def op(x, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """``max(x)``: the largest value; ``max(x, dim)``: (values, indices) over dim, as
        PyTorch; ``max(x, axis=...)``: the values only, as NumPy; ``max(x, other)``: the
        elementwise maximum."""
        if isinstance(dim, Tensor) or (dim is not None and not isinstance(dim, (int, np.integer))):
            return pairwise(x, dim)
        if dim is None:
            keep = bool(keepdims) if keepdims is not None else keepdim
            return reduce(x, axis=axis, keepdims=keep)
        if axis is not None:
            raise TypeError(f"{name}: give dim (PyTorch) or axis (NumPy), not both")
        keep = bool(keepdims) if keepdims is not None else keepdim
        indices = arg(x, axis=int(dim), keepdims=keep)
        x = as_tensor(x)
        if x.requires_grad and x.ndim:
            # PyTorch's max(x, dim): the gradient goes to the element at the returned
            # index (ties are not shared, unlike max(x) over everything)
            d = int(dim) % x.ndim
            at = indices.array if keep else np.expand_dims(indices.array, d)
            grids = list(np.indices(at.shape, sparse=True))
            grids[d] = at
            values = P.getitem(x, tuple(grids))
            if not keep:
                values = P.reshape(values, indices.shape)
        else:
            values = reduce(x, axis=dim, keepdims=keep)
        return ValuesIndices(values, indices)

    op.__name__ = op.__qualname__ = name
    return expose(op)


max = _extreme("max", P.amax, argmax, P.maximum)
min = _extreme("min", P.amin, argmin, P.minimum)
