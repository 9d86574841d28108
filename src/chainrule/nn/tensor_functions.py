"""Functions on tensors that layers and losses share: norms and distances, padding,
one-hot codes. Part of ``chainrule.nn.functional`` (``F.pad``, ``F.normalize``, ...).

Each is composed of differentiable ops, so gradients come from their rules; values and
gradients are PyTorch's (checked against it in tests/test_nn_functions_torch.py).

>>> import chainrule as cr
>>> import chainrule.nn.functional as F
>>> F.normalize(cr.tensor([[3.0, 4.0]])).tolist()
[[0.6000000238418579, 0.800000011920929]]
>>> F.one_hot(cr.tensor([0, 2]), num_classes=3).tolist()
[[1, 0, 0], [0, 0, 1]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .._tensor import Tensor, as_tensor, get_default_dtype
from ..ops import primitives as P

__all__ = ["cosine_similarity", "normalize", "one_hot", "pad", "pairwise_distance",
           "vector_norm"]


def _float_tensor(x, op: str) -> Tensor:
    """``x`` as a floating Tensor (arrays and lists are wrapped; integers converted)."""
    if not isinstance(x, Tensor):
        x = as_tensor(x)
    if x.array.dtype.kind not in "fc":
        if x.array.dtype.kind not in "biu":
            raise TypeError(f"{op}: expected numbers, got dtype {x.array.dtype}")
        x = as_tensor(x.array.astype(get_default_dtype()))
    return x


def _axis(dim: int, ndim: int, op: str) -> int:
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} "
                         f"dimension(s) (expected -{max(ndim, 1)} to {max(ndim, 1) - 1})")
    return dim % max(ndim, 1)


def _root_or_zero(s: Tensor, root) -> Tensor:
    """``root(s)`` where s > 0, and 0 (with gradient 0) where s = 0: a norm's derivative
    x / ‖x‖ is taken as 0 at x = 0, as PyTorch does, instead of 0/0."""
    positive = s.array > 0
    if positive.all():
        return root(s)
    return P.where(positive, root(P.where(positive, s, 1.0)), 0.0)


def vector_norm(x, ord: float = 2.0, dim: int | Sequence[int] | None = None,
                keepdim: bool = False) -> Tensor:
    """The ``ord``-norm of ``x`` along ``dim`` (all elements when None): (Σ|x|ᵖ)^(1/p),
    max |x| for ``inf``, min |x| for ``-inf``, the count of non-zeros for 0.

    >>> import chainrule as cr
    >>> vector_norm(cr.tensor([[3.0, 4.0], [1.0, 0.0]]), dim=1).tolist()
    [5.0, 1.0]
    """
    x = _float_tensor(x, "vector_norm")
    axis = dim if dim is None or isinstance(dim, int) else tuple(dim)
    p = float(ord)
    if p == 2.0:
        return _root_or_zero(P.sum(P.mul(x, x), axis=axis, keepdims=keepdim), P.sqrt)
    a = P.abs(x)
    if p == 1.0:
        return P.sum(a, axis=axis, keepdims=keepdim)
    if p == math.inf:
        return P.amax(a, axis=axis, keepdims=keepdim)
    if p == -math.inf:
        return P.amin(a, axis=axis, keepdims=keepdim)
    if p == 0.0:  # not differentiable: a count
        return as_tensor(np.sum(x.array != 0, axis=axis, keepdims=keepdim).astype(x.array.dtype))
    s = P.sum(P.pow(a, p), axis=axis, keepdims=keepdim)
    return _root_or_zero(s, lambda t: P.pow(t, 1.0 / p))


def _value_clamped_below(t: Tensor, low: float) -> Tensor:
    """``max(t, low)`` in value, with the gradient of ``t`` itself: PyTorch clamps the norms
    of ``cosine_similarity`` and the variance of ``gaussian_nll_loss`` under no_grad, so
    the derivative passes as if unclamped. Exactly ``t`` where t ≥ low."""
    shift = np.maximum(t.array, low) - t.array
    if not shift.any():
        return t
    return P.add(t, as_tensor(shift))


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """cos θ = x₁·x₂ / (‖x₁‖ ‖x₂‖) along ``dim`` (inputs broadcast against each other;
    each norm is at least ``eps``). Each input is divided by its norm first, as PyTorch
    does, which keeps the result in [-1, 1].

    >>> import chainrule as cr
    >>> cosine_similarity(cr.tensor([[1.0, 0.0]]), cr.tensor([[1.0, 1.0]])).tolist()
    [0.7071067690849304]
    """
    a, b = _float_tensor(x1, "cosine_similarity"), _float_tensor(x2, "cosine_similarity")
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"cosine_similarity: shapes {a.shape} and {b.shape} cannot be "
                         "broadcast together") from None
    if a.shape != shape:
        a = P.broadcast_to(a, shape)
    if b.shape != shape:
        b = P.broadcast_to(b, shape)
    axis = _axis(dim, len(shape), "cosine_similarity")
    na = _value_clamped_below(vector_norm(a, 2, axis, keepdim=True), eps)
    nb = _value_clamped_below(vector_norm(b, 2, axis, keepdim=True), eps)
    return P.sum(P.mul(P.div(a, na), P.div(b, nb)), axis=axis)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """‖x₁ − x₂ + eps‖_p along the last dimension (inputs broadcast), as PyTorch: the
    ``eps`` keeps the distance of equal points away from the norm's kink at 0.

    >>> import chainrule as cr
    >>> pairwise_distance(cr.tensor([[0.0, 0.0]]), cr.tensor([[3.0, 4.0]]), eps=0).tolist()
    [5.0]
    """
    a, b = _float_tensor(x1, "pairwise_distance"), _float_tensor(x2, "pairwise_distance")
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"pairwise_distance: shapes {a.shape} and {b.shape} cannot be "
                         "broadcast together") from None
    d = P.add(P.sub(a, b), eps)
    return vector_norm(d, p, dim=d.ndim - 1 if d.ndim else None, keepdim=keepdim)


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``x / max(‖x‖_p, eps)`` along ``dim``: unit vectors (rows, for the default dim=1).

    >>> import chainrule as cr
    >>> normalize(cr.tensor([3.0, 4.0]), dim=0).tolist()
    [0.6000000238418579, 0.800000011920929]
    """
    x = _float_tensor(input, "normalize")
    axis = _axis(dim, x.ndim, "normalize")
    norm = vector_norm(x, p, axis if x.ndim else None, keepdim=True)
    return P.div(x, P.clip(norm, eps, None))


_PAD_MODES = {"constant": None, "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}


def pad(input, pad: Sequence[int], mode: str = "constant", value: float | None = None
        ) -> Tensor:
    """Pad the last dimensions: ``pad = (left, right)`` pads the last one,
    ``(left, right, top, bottom)`` the last two, and so on (PyTorch's order: last
    dimension first).

    ``mode``: "constant" (``value``, 0 by default; negative amounts crop),
    "reflect" (mirror without repeating the edge; each amount < that dimension's size),
    "replicate" (repeat the edge) or "circular" (wrap around; amount ≤ size).

    >>> import chainrule as cr
    >>> x = cr.tensor([[1.0, 2.0, 3.0]])
    >>> pad(x, (1, 2)).tolist()
    [[0.0, 1.0, 2.0, 3.0, 0.0, 0.0]]
    >>> pad(x, (2, 1), mode="reflect").tolist()
    [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
    """
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(map(repr, _PAD_MODES))}, got "
                         f"{mode!r}")
    x = input if isinstance(input, Tensor) else as_tensor(input)
    amounts = [int(v) for v in pad]
    if len(amounts) % 2:
        raise ValueError(f"pad: expected an even number of amounts (left, right per "
                         f"dimension, last dimension first), got {len(amounts)}: {tuple(pad)}")
    if len(amounts) // 2 > x.ndim:
        raise ValueError(f"pad: {len(amounts) // 2} dimensions to pad, but the input of shape "
                         f"{x.shape} has only {x.ndim}")
    if mode != "constant" and value not in (None, 0):
        raise ValueError(f"pad: a fill value is only used by mode 'constant', got value="
                         f"{value} with mode {mode!r}")
    for k in range(len(amounts) // 2):
        axis = x.ndim - 1 - k
        left, right = amounts[2 * k], amounts[2 * k + 1]
        if left == right == 0:
            continue
        if mode == "constant":
            x = _pad_constant(x, axis, left, right, 0.0 if value is None else value)
        else:
            x = _pad_by_index(x, axis, left, right, mode)
    return x


def _pad_constant(x: Tensor, axis: int, left: int, right: int, value: float) -> Tensor:
    n = x.shape[axis]
    if left < 0 or right < 0:  # negative amounts crop
        start, stop = max(-left, 0), n - max(-right, 0)
        if stop < start:
            raise ValueError(f"pad: cropping ({left}, {right}) removes more than the "
                             f"{n} elements of dimension {axis}")
        x = P.getitem(x, (slice(None),) * axis + (slice(start, stop),))
        left, right = max(left, 0), max(right, 0)
    parts = []
    for amount in (left, right):
        shape = list(x.shape)
        shape[axis] = amount
        parts.append(as_tensor(np.full(shape, value, dtype=x.array.dtype)) if amount else None)
    pieces = [t for t in (parts[0], x, parts[1]) if t is not None]
    return P.concatenate(pieces, axis=axis) if len(pieces) > 1 else x


def _pad_by_index(x: Tensor, axis: int, left: int, right: int, mode: str) -> Tensor:
    """Reflect/replicate/circular padding as one gather along ``axis`` (its gradient sums
    the copies back into the elements they came from)."""
    n = x.shape[axis]
    if left < 0 or right < 0:
        raise ValueError(f"pad: mode {mode!r} needs amounts >= 0, got ({left}, {right})")
    if mode == "reflect" and max(left, right) >= n:
        raise ValueError(f"pad: reflect padding ({left}, {right}) must be smaller than the "
                         f"size {n} of dimension {axis}")
    if mode == "circular" and max(left, right) > n:
        raise ValueError(f"pad: circular padding ({left}, {right}) must be at most the "
                         f"size {n} of dimension {axis}")
    if n == 0:
        raise ValueError(f"pad: mode {mode!r} cannot pad the empty dimension {axis}")
    index = np.pad(np.arange(n), (left, right), mode=_PAD_MODES[mode])
    return P.getitem(x, (slice(None),) * axis + (index,))


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """Class indices of any shape → int64 one-hot codes of shape (..., num_classes);
    ``num_classes=-1`` takes the largest index + 1.

    >>> import chainrule as cr
    >>> one_hot(cr.tensor([1, 0])).tolist()
    [[0, 1], [1, 0]]
    """
    arr = np.asarray(tensor.array if isinstance(tensor, Tensor) else tensor)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected integer class indices, got dtype {arr.dtype} "
                        "(convert with .long())")
    if num_classes == -1:
        if arr.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass "
                             "num_classes")
        num_classes = int(arr.max()) + 1
    if arr.size:
        if arr.min() < 0:
            raise ValueError(f"one_hot: class indices must be >= 0, got {arr.min()}")
        if arr.max() >= num_classes:
            raise ValueError(f"one_hot: class index {arr.max()} is out of range for "
                             f"num_classes={num_classes}")
    return as_tensor((arr[..., None] == np.arange(num_classes)).astype(np.int64))
