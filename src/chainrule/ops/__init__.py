"""Building blocks, and the Tensor methods and operators that call them."""

from __future__ import annotations

from ..tensor import Tensor
from .composite import (
    all,
    allclose,
    any,
    argmax,
    argmin,
    chunk,
    dot,
    eq,
    expand,
    expand_dims,
    flatten,
    ge,
    gt,
    isfinite,
    isnan,
    le,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    ne,
    outer,
    split,
    squeeze,
    stack,
    std,
    swapaxes,
    unsqueeze,
    var,
)
from .primitives import (
    ARRAYS,
    GRAPH,
    abs,
    add,
    broadcast_to,
    cast,
    clamp,
    clip,
    concatenate,
    cos,
    div,
    exp,
    getitem,
    leaky_relu,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    permute,
    pow,
    relu,
    reshape,
    scatter_add,
    sigmoid,
    sign,
    sin,
    softmax,
    sqrt,
    sub,
    sum,
    tanh,
    to_device,
    transpose,
    where,
)

__all__ = [n for n in dir() if not n.startswith("_") and n not in ("annotations", "Tensor")]


def _reflected(fn):
    def op(self, other):
        return fn(other, self)

    op.__name__ = "r" + fn.__name__
    return op


def _attach() -> None:
    T = Tensor
    T.__add__, T.__radd__ = add, _reflected(add)
    T.__sub__, T.__rsub__ = sub, _reflected(sub)
    T.__mul__, T.__rmul__ = mul, _reflected(mul)
    T.__truediv__, T.__rtruediv__ = div, _reflected(div)
    T.__pow__, T.__rpow__ = pow, _reflected(pow)
    T.__matmul__, T.__rmatmul__ = matmul, _reflected(matmul)
    T.__neg__ = neg
    T.__pos__ = lambda self: self
    T.__abs__ = abs
    T.__getitem__ = getitem
    T.__eq__, T.__ne__ = eq, ne
    T.__lt__, T.__le__, T.__gt__, T.__ge__ = lt, le, gt, ge
    T.__hash__ = object.__hash__
    T.__and__, T.__or__, T.__xor__ = logical_and, logical_or, logical_xor
    T.__invert__ = logical_not
    # methods named as PyTorch's
    for fn in (exp, log, sqrt, tanh, sigmoid, relu, sin, cos, sign, abs, sum, mean, max, min,
               logsumexp, softmax, log_softmax, reshape, transpose, permute, matmul, pow,
               clip, clamp, leaky_relu, squeeze, unsqueeze, flatten, var, std, argmax, argmin,
               maximum, minimum, dot, expand, split, chunk, swapaxes, broadcast_to, any, all,
               isfinite, isnan):
        setattr(T, fn.__name__, fn)
    T.add, T.sub, T.mul, T.div, T.neg = add, sub, mul, div, neg
    T.clamp = clamp  # an alias of clip: its __name__ is 'clip', so attach it by hand
    T.view = reshape
    T.expand_dims = unsqueeze
    T.T = property(lambda self: transpose(self))
    T.mT = property(lambda self: transpose(self, -2, -1))


_attach()
