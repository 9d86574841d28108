"""PyTorch's ``torch._foreach_*`` list ops (EMA of weights, hand-written optimizers):
each applies one tensor op to every tensor of a list, with a scalar, a list of scalars,
a tensor or a list of tensors as the other operand, as PyTorch's do.

They loop over the list with the ordinary op (NumPy has no multi-tensor kernels to
fuse), so values, in-place semantics and autograd are those of the op itself.

>>> import chainrule as cr
>>> ema, weights = [cr.zeros(2), cr.zeros(1)], [cr.ones(2), cr.full((1,), 4.0)]
>>> cr._foreach_lerp_(ema, weights, 0.25)
>>> [t.tolist() for t in ema]
[[0.25, 0.25], [1.0]]
"""

from __future__ import annotations

import numbers

from ._tensor import Tensor

_UNARY = ("abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1",
          "floor", "frac", "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal",
          "round", "rsqrt", "sigmoid", "sign", "sin", "sinh", "sqrt", "tan", "tanh", "trunc")
_BINARY = ("add", "sub", "mul", "div", "maximum", "minimum", "pow", "clamp_min", "clamp_max")
_TERNARY = ("addcmul", "addcdiv")


def _tensors(value, where: str) -> list:
    if isinstance(value, Tensor) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{where}: expected a list or tuple of tensors, got "
                        f"{type(value).__name__}")
    for i, t in enumerate(value):
        if not isinstance(t, Tensor):
            raise TypeError(f"{where}: item {i} is a {type(t).__name__}, not a tensor")
    return list(value)


def _others(other, n: int, where: str) -> list:
    """The second operand for each of ``n`` tensors: one scalar or tensor for all, or a
    list with one per tensor."""
    if isinstance(other, (list, tuple)):
        if len(other) != n:
            raise ValueError(f"{where}: the lists have {n} and {len(other)} items; they must "
                             "have the same length")
        return list(other)
    if isinstance(other, (Tensor, numbers.Number)):
        return [other] * n
    raise TypeError(f"{where}: expected a scalar, a tensor or a list of them, got "
                    f"{type(other).__name__}")


def _method(t: Tensor, name: str, where: str):
    fn = getattr(t, name, None)
    if fn is None:
        raise NotImplementedError(f"{where}: Tensor.{name} is not part of chainrule")
    return fn


def _make_unary(op: str, inplace: bool):
    where = f"_foreach_{op}{'_' if inplace else ''}"

    def fn(self):
        tensors = _tensors(self, where)
        if inplace:
            for t in tensors:
                _method(t, op + "_", where)()
            return None
        return [_method(t, op, where)() for t in tensors]

    fn.__name__ = fn.__qualname__ = where
    fn.__doc__ = f"``Tensor.{op}{'_' if inplace else ''}`` on every tensor of the list."
    return fn


def _make_binary(op: str, inplace: bool):
    where = f"_foreach_{op}{'_' if inplace else ''}"
    takes_alpha = op in ("add", "sub")

    def fn(self, other, *, alpha=1):
        tensors = _tensors(self, where)
        others = _others(other, len(tensors), where)
        if alpha != 1 and not takes_alpha:
            raise TypeError(f"{where}: alpha= is only taken by _foreach_add and _foreach_sub")
        kwargs = {"alpha": alpha} if takes_alpha and alpha != 1 else {}
        if not inplace:
            return [_method(t, op, where)(o, **kwargs) for t, o in zip(tensors, others)]
        for t, o in zip(tensors, others):
            method = getattr(t, op + "_", None)
            if method is None:  # maximum_/minimum_: no Tensor method, PyTorch has neither
                t.copy_(_method(t, op, where)(o))
            else:
                method(o, **kwargs)
        return None

    fn.__name__ = fn.__qualname__ = where
    fn.__doc__ = (f"``Tensor.{op}{'_' if inplace else ''}`` of each tensor with a scalar, a "
                  "tensor, or the matching item of a list.")
    return fn


def _make_ternary(op: str, inplace: bool):
    where = f"_foreach_{op}{'_' if inplace else ''}"

    def fn(self, tensor1, tensor2, value=1):
        tensors = _tensors(self, where)
        first = _tensors(tensor1, where)
        second = _tensors(tensor2, where)
        values = _others(value, len(tensors), where)
        if not len(first) == len(second) == len(tensors):
            raise ValueError(f"{where}: the lists have {len(tensors)}, {len(first)} and "
                             f"{len(second)} items; they must have the same length")
        name = op + "_" if inplace else op
        results = [_method(t, name, where)(a, b, value=v.item() if isinstance(v, Tensor) else v)
                   for t, a, b, v in zip(tensors, first, second, values)]
        return None if inplace else results

    fn.__name__ = fn.__qualname__ = where
    fn.__doc__ = f"``Tensor.{op}{'_' if inplace else ''}`` over matching items of the lists."
    return fn


def _make_lerp(inplace: bool):
    where = f"_foreach_lerp{'_' if inplace else ''}"

    def fn(self, tensors1, weight):
        tensors = _tensors(self, where)
        ends = _tensors(tensors1, where)
        if len(ends) != len(tensors):
            raise ValueError(f"{where}: the lists have {len(tensors)} and {len(ends)} items; "
                             "they must have the same length")
        weights = _others(weight, len(tensors), where)
        name = "lerp_" if inplace else "lerp"
        results = [_method(t, name, where)(e, w) for t, e, w in zip(tensors, ends, weights)]
        return None if inplace else results

    fn.__name__ = fn.__qualname__ = where
    fn.__doc__ = "``Tensor.lerp`` of each tensor towards the matching end, by ``weight``."
    return fn


def _foreach_norm(self, ord=2, dtype=None) -> list:
    """The vector norm of each tensor (a list of 0-d tensors)."""
    from . import linalg

    return [linalg.vector_norm(t, ord, dtype=dtype) for t in _tensors(self, "_foreach_norm")]


def _foreach_zero_(self) -> None:
    for t in _tensors(self, "_foreach_zero_"):
        t.zero_()


def _foreach_copy_(self, src, non_blocking: bool = False) -> None:
    tensors, sources = _tensors(self, "_foreach_copy_"), _tensors(src, "_foreach_copy_")
    if len(tensors) != len(sources):
        raise ValueError(f"_foreach_copy_: the lists have {len(tensors)} and {len(sources)} "
                         "items; they must have the same length")
    for t, s in zip(tensors, sources):
        t.copy_(s)


_made = {"_foreach_norm": _foreach_norm, "_foreach_zero_": _foreach_zero_,
         "_foreach_copy_": _foreach_copy_}
for _inplace in (False, True):
    _tail = "_" if _inplace else ""
    _made.update({f"_foreach_{op}{_tail}": _make_unary(op, _inplace) for op in _UNARY})
    _made.update({f"_foreach_{op}{_tail}": _make_binary(op, _inplace) for op in _BINARY})
    _made.update({f"_foreach_{op}{_tail}": _make_ternary(op, _inplace) for op in _TERNARY})
    _made[f"_foreach_lerp{_tail}"] = _make_lerp(_inplace)
globals().update(_made)
__all__ = sorted(_made)  # noqa: PLE0605
