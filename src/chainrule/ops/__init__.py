"""Building blocks, and the Tensor methods and operators that call them.

Every op module registers its building blocks in ``registry`` as it is imported; the
``cr.NAME`` functions, the Tensor methods and the namespaces rules compute with are all
generated from that registry here, so none of them is kept by hand.
"""

from __future__ import annotations

import importlib

from .._tensor import Tensor
from . import (
    composite,
    conv,
    ctc,
    embedding,
    linalg_ops,
    nn_ops,
    norm,
    primitives,
    rnn,
    special_ops,
    tensor_api,
)
from .registry import ARRAYS, EXPOSED, GRAPH, METHODS, REGISTRY, Op, case, expose

# cr.NAME for every exposed op and composite
globals().update(EXPOSED)
__all__ = sorted(EXPOSED) + ["ARRAYS", "GRAPH", "REGISTRY", "Op"]  # noqa: PLE0605
# a submodule keeps its name here (``from ..ops import norm``); cr.norm is the function
# (chainrule/__init__ takes it from EXPOSED)
norm = importlib.import_module(f"{__name__}.norm")  # noqa: F811
# building blocks that are not cr.NAME functions but are used by name inside the package
getitem = primitives.getitem
cast = primitives.cast
to_device = primitives.to_device


def _reflected(fn):
    def op(self, other):
        return fn(other, self)

    op.__name__ = "r" + fn.__name__
    return op


def _attach() -> None:
    T = Tensor
    P, C = primitives, composite
    T.__add__, T.__radd__ = P.add, _reflected(P.add)
    T.__sub__, T.__rsub__ = P.sub, _reflected(P.sub)
    T.__mul__, T.__rmul__ = P.mul, _reflected(P.mul)
    T.__truediv__, T.__rtruediv__ = P.div, _reflected(P.div)
    T.__pow__, T.__rpow__ = P.pow, _reflected(P.pow)
    T.__matmul__, T.__rmatmul__ = P.matmul, _reflected(P.matmul)
    T.__neg__ = P.neg
    T.__pos__ = lambda self: self
    T.__abs__ = P.abs
    T.__getitem__ = P.getitem
    T.__eq__, T.__ne__ = C.eq, C.ne
    T.__lt__, T.__le__, T.__gt__, T.__ge__ = C.lt, C.le, C.gt, C.ge
    T.__hash__ = object.__hash__
    A = tensor_api
    T.__and__, T.__or__, T.__xor__ = A.bitwise_and, A.bitwise_or, A.bitwise_xor
    T.__rand__, T.__ror__, T.__rxor__ = (_reflected(A.bitwise_and), _reflected(A.bitwise_or),
                                         _reflected(A.bitwise_xor))
    T.__lshift__, T.__rshift__ = A.bitwise_left_shift, A.bitwise_right_shift
    T.__invert__ = A.bitwise_not
    T.__mod__, T.__rmod__ = A.remainder, _reflected(A.remainder)
    T.__floordiv__, T.__rfloordiv__ = A.floor_divide, _reflected(A.floor_divide)
    # methods named as PyTorch's, generated from the registry
    for name, fn in METHODS.items():
        setattr(T, name, fn)
    tensor_api.attach_aliases()
    T.T = property(lambda self: P.transpose(self))
    T.mT = property(lambda self: P.transpose(self, -2, -1))


_attach()
