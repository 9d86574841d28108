"""The building blocks: each primitive's forward computation and its local derivative.

Every rule is a vector-Jacobian product ``vjp(F, g, ans, ctx, *inputs)``: given the
adjoint ``g`` of the output (dL/d ans), it returns dL/d input for each input, i.e.
``g`` times the local derivative d ans / d input. ``F`` is the namespace the rule
computes with: plain arrays (``ARRAYS``) in an ordinary backward pass, chainrule
ops (``GRAPH``) under ``create_graph=True``, so the same line gives first and higher
derivatives. Rules may return an adjoint of the broadcast shape: the engine sums it
back to the input's shape (``autograd.sum_to``), the one place where that happens.
"""

from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from ..autograd import sum_to
from ..tensor import Tensor, _unwrap_index, as_dtype, as_tensor, get_default_dtype, record

builtin_max = builtins.max


# ---------------------------------------------------------------------------
# helpers for the forward side
# ---------------------------------------------------------------------------
def _pair(a, b):
    """Make both operands Tensors; a constant takes its partner's dtype."""
    if not isinstance(a, Tensor):
        a = as_tensor(a, b) if isinstance(b, Tensor) else as_tensor(a)
    if not isinstance(b, Tensor):
        b = as_tensor(b, a)
    return a, b


def _broadcast_error(op: str, a: Tensor, b: Tensor) -> ValueError:
    return ValueError(
        f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together "
        "(trailing dimensions must be equal or 1)"
    )


def _axes(axis, ndim: int, op: str):
    """Normalize ``axis`` (None, int or tuple) to a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    raw = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in raw:
        if not -ndim <= a < builtin_max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dims")
        out.append(int(a) % builtin_max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out)) if ndim else ()


def _keep_shape(shape: tuple, axes: tuple) -> tuple:
    """The shape of a reduction over ``axes`` with keepdims=True."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _float_only(op: str, x: Tensor) -> None:
    if x.data.dtype.kind not in "fc":
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {x.data.dtype}")


def _reads(*values: str):
    """Mark the saved values a rule reads: "inputs", "output", or nothing.

    The in-place check at backward looks only at those, so changing a value no rule
    needs (the input of a sum, say) is harmless, as in PyTorch. Unmarked rules are
    taken to read both.
    """
    def mark(rule):
        rule.reads = frozenset(values)
        return rule

    return mark


def _binary(name: str, forward, vjp, doc: str | None = None):
    """Build ``op(a, b)`` with broadcasting from a forward function and its VJP rule.

    ``forward`` is an ``operator`` function where one exists: on 0-d values it takes
    NumPy's scalar fast path, where the equivalent ufunc call costs twice as much.
    """

    def op(a, b) -> Tensor:
        if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
            a, b = _pair(a, b)
        try:
            data = forward(a.data, b.data)
        except ValueError:
            raise _broadcast_error(name, a, b) from None
        return record(data, name, (a, b), vjp)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


# ===========================================================================
# Arithmetic
# ===========================================================================
@_reads()
def _add_vjp(F, g, ans, ctx, a, b):
    return g, g                      # the add gate distributes


add = _binary("add", operator.add, _add_vjp)


@_reads()
def _sub_vjp(F, g, ans, ctx, a, b):
    return g, -g


sub = _binary("sub", operator.sub, _sub_vjp)


@_reads("inputs")
def _mul_vjp(F, g, ans, ctx, a, b):
    return g * b, g * a              # the multiply gate switches its inputs


mul = _binary("mul", operator.mul, _mul_vjp)


def _div_vjp(F, g, ans, ctx, a, b):
    gb = g / b
    return gb, -gb * ans             # d(a/b)/db = -a/b^2 = -ans/b


div = _binary("div", operator.truediv, _div_vjp)


@_reads()
def _neg_vjp(F, g, ans, ctx, x):
    return (-g,)


def neg(x) -> Tensor:
    x = as_tensor(x)
    return record(-x.data, "neg", (x,), _neg_vjp)


@_reads("inputs")
def _pow_scalar_vjp(F, g, ans, c, x):
    if c == 2:
        return (g * (2 * x),)
    if c == 0:  # x ** 0 is constant: 0 everywhere, also at x = 0 (as PyTorch), not 0 * inf
        return (g * 0,)
    return (g * (c * x ** (c - 1)),)


def _pow_vjp(F, g, ans, needs, x, y):
    # y * x ** (y - 1) with the exponent 1 where y == 0: 0, not 0 * inf, at x = 0 (as PyTorch)
    gx = g * (y * x ** F.where(y == 0, 1, y - 1)) if needs[0] else None
    # d(x^y)/dy = x^y log x, defined for x > 0; taken as 0 where x <= 0 (as PyTorch for x == 0)
    gy = g * F.where(x > 0, ans * F.log(F.where(x > 0, x, 1)), 0) if needs[1] else None
    return gx, gy


def pow(x, exponent) -> Tensor:
    """``x ** exponent``; a constant exponent records a cheaper rule than a tensor exponent."""
    if not isinstance(exponent, Tensor):
        x = as_tensor(x)
        if isinstance(exponent, (int, float, np.integer, np.floating)):
            c = exponent.item() if isinstance(exponent, np.generic) else exponent
            data = x.data * x.data if c == 2 else x.data ** c
            if data.dtype != x.data.dtype and x.data.dtype.kind == "f":
                data = data.astype(x.data.dtype)
            return record(data, "pow", (x,), _pow_scalar_vjp, c)
        exponent = as_tensor(exponent, x)
    x, y = _pair(x, exponent)
    try:
        data = x.data ** y.data
    except ValueError:
        raise _broadcast_error("pow", x, y) from None
    return record(data, "pow", (x, y), _pow_vjp, (x.requires_grad, y.requires_grad))


# ===========================================================================
# Elementwise functions
# ===========================================================================
def _unary(name: str, forward, vjp, float_only: bool = True, reads=("inputs",)):
    """Build ``op(x)`` from a forward array function and its VJP rule (which reads the
    input by default, or the output: ``reads=("output",)``)."""
    vjp = _reads(*reads)(vjp)

    def op(x) -> Tensor:
        if not isinstance(x, Tensor):
            x = as_tensor(x)
        if float_only and x.data.dtype.kind not in "fc":
            x = as_tensor(x.data.astype(get_default_dtype()))
        return record(forward(x.data), name, (x,), vjp)

    op.__name__ = op.__qualname__ = name
    return op


def _sigmoid_forward(x):
    """1 / (1 + e^-x), with no overflow warning and no NaN for any x."""
    if x.ndim == 0:  # a scalar: Python math, sparing the ~1 µs of entering np.errstate
        v = float(x)
        e = math.exp(-v if v >= 0 else v)  # e^-|x| never overflows
        return x.dtype.type(1 / (1 + e) if v >= 0 else e / (1 + e))
    with np.errstate(over="ignore"):  # e^-x = inf for x < -88 (float32) gives exactly 0
        out = np.negative(x)
        np.exp(out, out=out)
        out += 1
        return np.reciprocal(out, out=out)


#                name         forward            local derivative (as a VJP)
exp = _unary("exp", np.exp, lambda F, g, ans, c, x: (g * ans,),
             reads=("output",))
log = _unary("log", np.log, lambda F, g, ans, c, x: (g / x,))
sqrt = _unary("sqrt", np.sqrt, lambda F, g, ans, c, x: (g / (2 * ans),),
              reads=("output",))
tanh = _unary("tanh", np.tanh, lambda F, g, ans, c, x: (g * (1 - ans * ans),),
              reads=("output",))
sigmoid = _unary("sigmoid", _sigmoid_forward, lambda F, g, ans, c, x: (g * (ans * (1 - ans)),),
                 reads=("output",))
sin = _unary("sin", np.sin, lambda F, g, ans, c, x: (g * F.cos(x),))
cos = _unary("cos", np.cos, lambda F, g, ans, c, x: (-g * F.sin(x),))
# |x|: derivative sign(x), 0 at the kink (as PyTorch)
abs = _unary("abs", np.abs, lambda F, g, ans, c, x: (g * F.sign(x),), float_only=False)
# relu = max(0, x): the max gate routes the gradient where x > 0; 0 at x == 0
relu = _unary("relu", lambda x: np.maximum(x, 0), lambda F, g, ans, c, x: (g * (ans > 0),),
              float_only=False, reads=("output",))
sign = _unary("sign", np.sign, lambda F, g, ans, c, x: (g * 0,), float_only=False, reads=())


@_reads("inputs")
def _leaky_relu_vjp(F, g, ans, slope, x):
    return (F.where(x > 0, g, g * slope),)


def leaky_relu(x, negative_slope: float = 0.01) -> Tensor:
    x = as_tensor(x)
    return record(np.where(x.data > 0, x.data, x.data * negative_slope), "leaky_relu", (x,),
                  _leaky_relu_vjp, negative_slope)


@_reads("inputs")
def _maximum_vjp(F, g, ans, ctx, a, b):
    # route to the larger input; on a tie each input gets half (as PyTorch)
    half = g * 0.5
    return F.where(a > b, g, F.where(a == b, half, 0)), F.where(b > a, g, F.where(a == b, half, 0))


maximum = _binary("maximum", np.maximum, _maximum_vjp,
                  "Elementwise max; the gradient goes to the larger input, split evenly on ties.")


@_reads("inputs")
def _minimum_vjp(F, g, ans, ctx, a, b):
    half = g * 0.5
    return F.where(a < b, g, F.where(a == b, half, 0)), F.where(b < a, g, F.where(a == b, half, 0))


minimum = _binary("minimum", np.minimum, _minimum_vjp,
                  "Elementwise min; the gradient goes to the smaller input, split evenly on ties.")


@_reads("inputs")
def _clip_vjp(F, g, ans, bounds, x):
    low, high = bounds
    inside = True
    if low is not None:
        inside = x >= low
    if high is not None:
        inside = (x <= high) & inside if low is not None else x <= high
    return (F.where(inside, g, 0),)


def clip(x, min=None, max=None) -> Tensor:
    """Clamp into [min, max]; the gradient passes where min <= x <= max."""
    x = as_tensor(x)
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    low = min.item() if isinstance(min, Tensor) else min
    high = max.item() if isinstance(max, Tensor) else max
    return record(np.clip(x.data, low, high), "clip", (x,), _clip_vjp, (low, high))


clamp = clip


@_reads()
def _where_vjp(F, g, ans, cond, a, b):
    return F.where(cond, g, 0), F.where(cond, 0, g)


def where(cond, a, b) -> Tensor:
    """``a`` where ``cond`` holds, else ``b``; each gets the adjoint where it was chosen."""
    cond_arr = cond.data if isinstance(cond, Tensor) else np.asarray(cond)
    if cond_arr.dtype != np.bool_:
        cond_arr = cond_arr.astype(bool)
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        a, b = _pair(a, b)
    try:
        data = np.where(cond_arr, a.data, b.data)
    except ValueError:
        raise ValueError(
            f"where: shapes cond {cond_arr.shape}, a {a.shape} and b {b.shape} cannot be "
            "broadcast together") from None
    return record(data, "where", (a, b), _where_vjp, cond_arr)


# ===========================================================================
# Reductions
# ===========================================================================
@_reads()
def _sum_vjp(F, g, ans, ctx, x):
    shape, keep = ctx
    return (F.broadcast_to(g.reshape(keep), shape),)


def sum(x, axis=None, keepdims: bool = False) -> Tensor:
    x = as_tensor(x)
    axes = _axes(axis, x.ndim, "sum")
    return record(np.sum(x.data, axis=axes, keepdims=keepdims), "sum", (x,), _sum_vjp,
                  (x.shape, _keep_shape(x.shape, axes)))


@_reads()
def _mean_vjp(F, g, ans, ctx, x):
    shape, keep, n = ctx
    return (F.broadcast_to(g.reshape(keep) / n, shape),)


def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    x = as_tensor(x)
    _float_only("mean", x)
    axes = _axes(axis, x.ndim, "mean")
    n = 1
    for a in axes:
        n *= x.shape[a]
    if n == 0:
        raise ValueError(f"mean: reducing over an empty dimension of shape {x.shape}")
    return record(np.mean(x.data, axis=axes, keepdims=keepdims), "mean", (x,), _mean_vjp,
                  (x.shape, _keep_shape(x.shape, axes), n))


def _extreme_vjp(F, g, ans, keep, x):
    # the gradient goes to the arg-max (split evenly among ties, as torch.amax)
    hit = x == ans.reshape(keep)
    count = hit.sum(axis=tuple(i for i, n in enumerate(keep) if n == 1), keepdims=True)
    return (F.where(hit, g.reshape(keep) / count.astype(g.dtype), 0),)


def _extreme(name: str, fn):
    def op(x, axis=None, keepdims: bool = False) -> Tensor:
        x = as_tensor(x)
        axes = _axes(axis, x.ndim, name)
        if x.size == 0:
            raise ValueError(f"{name}: reduction of an empty tensor of shape {x.shape}")
        return record(fn(x.data, axis=axes, keepdims=keepdims), name, (x,), _extreme_vjp,
                      _keep_shape(x.shape, axes))

    op.__name__ = op.__qualname__ = name
    return op


max = _extreme("max", np.max)
min = _extreme("min", np.min)


def _logsumexp_vjp(F, g, ans, keep, x):
    return (g.reshape(keep) * F.exp(x - ans.reshape(keep)),)


def logsumexp(x, axis=None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))), computed stably by shifting with the max."""
    x = as_tensor(x)
    _float_only("logsumexp", x)
    axes = _axes(axis, x.ndim, "logsumexp")
    m = np.max(x.data, axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x.data - m), axis=axes, keepdims=True)) + m
    keep = out.shape
    if not keepdims:
        out = out.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))
    return record(out, "logsumexp", (x,), _logsumexp_vjp, keep)


@_reads("output")
def _softmax_vjp(F, g, ans, axis, x):
    return (ans * (g - (g * ans).sum(axis=axis, keepdims=True)),)


def softmax(x, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``, shifted by the max so it never overflows."""
    x = as_tensor(x)
    _float_only("softmax", x)
    (axis,) = _axes(axis, x.ndim, "softmax") or (0,)
    e = np.exp(x.data - np.max(x.data, axis=axis, keepdims=True))
    e /= np.sum(e, axis=axis, keepdims=True)
    return record(e, "softmax", (x,), _softmax_vjp, axis)


@_reads("output")
def _log_softmax_vjp(F, g, ans, axis, x):
    return (g - F.exp(ans) * g.sum(axis=axis, keepdims=True),)


def log_softmax(x, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``, stable for logits in the thousands."""
    x = as_tensor(x)
    _float_only("log_softmax", x)
    (axis,) = _axes(axis, x.ndim, "log_softmax") or (0,)
    shifted = x.data - np.max(x.data, axis=axis, keepdims=True)
    out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return record(out, "log_softmax", (x,), _log_softmax_vjp, axis)


# ===========================================================================
# Linear algebra
# ===========================================================================
@_reads("inputs")
def _matmul_vjp(F, g, ans, needs, a, b):
    # Treat 1-D operands as a row (a) or a column (b), as matmul does, then
    # dA = G B^T and dB = A^T G, summed back over broadcast batch dimensions.
    a1, b1 = a.ndim == 1, b.ndim == 1
    a2 = a.reshape((1,) + a.shape) if a1 else a
    b2 = b.reshape(b.shape + (1,)) if b1 else b
    batch = g.shape[: g.ndim - (0 if a1 else 1) - (0 if b1 else 1)]
    g2 = g.reshape(batch + (a2.shape[-2], b2.shape[-1]))
    ga = gb = None
    if needs[0]:
        ga = sum_to(g2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
    if needs[1]:
        gb = sum_to(a2.swapaxes(-1, -2) @ g2, b2.shape).reshape(b.shape)
    return ga, gb


def matmul(a, b) -> Tensor:
    """Matrix product with NumPy's rules: 1-D, 2-D and batched N-D operands."""
    a, b = _pair(a, b)
    sa, sb = a.shape, b.shape
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {sa} "
                         f"and {sb}; use * for scalars")
    ka = sa[-1]
    kb = sb[0] if b.ndim == 1 else sb[-2]
    if ka != kb:
        raise ValueError(f"matmul: shapes {sa} and {sb} are not aligned: {ka} != {kb}")
    try:
        data = a.data @ b.data
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of shapes {sa} and {sb} cannot be "
                         "broadcast together") from None
    return record(data, "matmul", (a, b), _matmul_vjp, (a.requires_grad, b.requires_grad))


@_reads()
def _transpose_vjp(F, g, ans, axes, x):
    return (g.transpose(tuple(np.argsort(axes))),)


def transpose(x, *axes) -> Tensor:
    """``transpose(x)`` reverses the axes (``x.T``); ``transpose(x, d0, d1)`` swaps two
    (as PyTorch); ``transpose(x, (2, 0, 1))`` applies a permutation (as NumPy)."""
    x = as_tensor(x)
    if not axes:
        perm = tuple(range(x.ndim))[::-1]
    elif len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        perm = tuple(int(a) % builtin_max(x.ndim, 1) for a in axes[0])
    elif len(axes) == 2:
        d0, d1 = (_axes(a, x.ndim, "transpose")[0] for a in axes)
        swapped = list(range(x.ndim))
        swapped[d0], swapped[d1] = d1, d0
        perm = tuple(swapped)
    else:
        perm = tuple(int(a) % x.ndim for a in axes)
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of {x.ndim} dims "
                         f"(shape {x.shape})")
    return record(x.data.transpose(perm), "transpose", (x,), _transpose_vjp, perm)


def permute(x, *axes) -> Tensor:
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    return transpose(x, tuple(axes))


# ===========================================================================
# Shape
# ===========================================================================
@_reads()
def _reshape_vjp(F, g, ans, shape, x):
    return (g.reshape(shape),)


def reshape(x, *shape) -> Tensor:
    x = as_tensor(x)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        data = x.data.reshape(shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.size} elements) into shape {shape}") from None
    return record(data, "reshape", (x,), _reshape_vjp, x.shape)


@_reads()
def _broadcast_to_vjp(F, g, ans, ctx, x):
    return (g,)  # the engine sums it back to x's shape


def broadcast_to(x, shape) -> Tensor:
    x = as_tensor(x)
    shape = tuple(shape)
    try:
        data = np.broadcast_to(x.data, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return record(data, "broadcast_to", (x,), _broadcast_to_vjp)


@_reads()
def _getitem_vjp(F, g, ans, ctx, x):
    shape, index = ctx
    return (F.scatter_add(g, shape, index),)


def getitem(x, index) -> Tensor:
    """Basic and advanced indexing; the adjoint scatters back, adding repeated indices."""
    index = _unwrap_index(index)
    try:
        data = x.data[index]
    except IndexError as e:
        raise IndexError(f"getitem: index {index!r} is invalid for shape {x.shape}: {e}") \
            from None
    return record(data, "getitem", (x,), _getitem_vjp, (x.shape, index))


def _is_advanced(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, (list, np.ndarray)) and np.asarray(i).dtype != np.bool_
               for i in items)


def _scatter_add_array(g, shape, index):
    out = np.zeros(shape, dtype=g.dtype)
    if _is_advanced(index):
        np.add.at(out, index, g)  # repeated indices accumulate
    else:
        out[index] = g
    return out


@_reads()
def _scatter_add_vjp(F, g, ans, ctx, x):
    _shape, index = ctx
    return (g[index],)


def scatter_add(x, shape, index) -> Tensor:
    """Zeros of ``shape`` with ``x`` added at ``index``: the transpose of indexing."""
    x = as_tensor(x)
    return record(_scatter_add_array(x.data, shape, index), "scatter_add", (x,),
                  _scatter_add_vjp, (shape, index))


@_reads()
def _concatenate_vjp(F, g, ans, ctx, *xs):
    axis, bounds = ctx
    lead = (slice(None),) * axis
    return tuple(g[lead + (slice(lo, hi),)] for lo, hi in bounds)


def concatenate(tensors, axis: int = 0) -> Tensor:
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate: expected at least one tensor")
    ndim = tensors[0].ndim
    (axis,) = _axes(axis, ndim, "concatenate") if ndim else (None,)
    if axis is None:
        raise ValueError("concatenate: 0-d tensors cannot be concatenated; use stack")
    for i, t in enumerate(tensors):
        if t.ndim != ndim or t.shape[:axis] + t.shape[axis + 1:] != \
                tensors[0].shape[:axis] + tensors[0].shape[axis + 1:]:
            raise ValueError(
                f"concatenate: tensor {i} has shape {t.shape}, but tensor 0 has shape "
                f"{tensors[0].shape}; all dimensions except axis {axis} must match")
    bounds, start = [], 0
    for t in tensors:
        bounds.append((start, start + t.shape[axis]))
        start += t.shape[axis]
    dtype = np.result_type(*[t.data for t in tensors])
    data = np.concatenate([t.data for t in tensors], axis=axis).astype(dtype, copy=False)
    return record(data, "concatenate", tuple(tensors), _concatenate_vjp, (axis, bounds))


@_reads()
def _cast_vjp(F, g, ans, dtype, x):
    return (g.astype(dtype),)


def cast(x, dtype) -> Tensor:
    x = as_tensor(x)
    dt = as_dtype(dtype)
    if x.data.dtype == dt:
        return x
    if x.requires_grad and dt.kind not in "fc":
        raise TypeError(f"astype: casting a tensor that requires grad to {dt} would cut the "
                        "graph; call .detach() first")
    return record(x.data.astype(dt), "cast", (x,), _cast_vjp, x.data.dtype)


@_reads()
def _to_device_vjp(F, g, ans, device, x):
    return (F.to_device(g, device),)


def to_device(x, device: str) -> Tensor:
    from .. import backend

    x = as_tensor(x)
    if backend.device_of(x.data) == device.split(":")[0]:
        return x
    return record(backend.to_device(x.data, device), "to_device", (x,), _to_device_vjp,
                  backend.device_of(x.data))


# ===========================================================================
# The two namespaces the rules compute with
# ===========================================================================
class ARRAYS:
    """Rules on plain arrays: an ordinary backward pass."""

    where = staticmethod(np.where)
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    sign = staticmethod(np.sign)
    broadcast_to = staticmethod(np.broadcast_to)
    scatter_add = staticmethod(_scatter_add_array)

    @staticmethod
    def to_device(g, device):
        from .. import backend

        return backend.to_device(g, device)


class GRAPH:
    """Rules on Tensors: the backward pass is itself recorded (create_graph=True)."""

    where = staticmethod(where)
    exp = staticmethod(exp)
    log = staticmethod(log)
    sin = staticmethod(sin)
    cos = staticmethod(cos)
    sign = staticmethod(sign)
    broadcast_to = staticmethod(broadcast_to)
    scatter_add = staticmethod(scatter_add)
    to_device = staticmethod(to_device)
