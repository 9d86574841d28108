"""``torch.autograd.forward_ad``: dual tensors (forward-mode derivatives), on the one
reverse-mode engine.

``make_dual(x, t)`` returns a tensor with x's value that the current ``dual_level``
remembers with its tangent t; ``unpack_dual(y)`` gives y's value and its tangent
J·t (the sum over every dual y depends on), computed by two reverse passes: the
Jacobian-vector product is the derivative of uᵀJ with respect to a dummy cotangent u.
The numbers are forward mode's; the cost is two backward passes per ``unpack_dual``
instead of one extra forward computation (docs/pytorch.md).
"""

from __future__ import annotations

import collections
import threading

import numpy as np

from .. import _tensor as _t
from .._tensor import Tensor

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual"]

UnpackedDualTensor = collections.namedtuple("UnpackedDualTensor", ["primal", "tangent"])

_state = threading.local()


def _levels() -> list:
    if not hasattr(_state, "levels"):
        _state.levels = []
    return _state.levels


def enter_dual_level() -> int:
    """Start a level of dual tensors; returns its number."""
    levels = _levels()
    levels.append([])
    return len(levels) - 1


def exit_dual_level(*, level: int | None = None) -> None:
    """End the innermost level: its dual tensors lose their tangents."""
    levels = _levels()
    if not levels:
        raise RuntimeError("forward_ad.exit_dual_level: no dual level is active")
    if level is not None and level != len(levels) - 1:
        raise RuntimeError(f"forward_ad.exit_dual_level: level {level} is not the innermost "
                           f"({len(levels) - 1})")
    levels.pop()


class dual_level:
    """``with forward_ad.dual_level():`` the scope in which dual tensors live."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc) -> None:
        exit_dual_level()


class _GradOn:
    """Grad mode on for the scope (dual tensors are recorded even under no_grad)."""

    def __enter__(self):
        self.previous = _t.set_grad_mode(True)

    def __exit__(self, *exc):
        _t.set_grad_mode(self.previous)


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A tensor with ``tensor``'s value whose forward derivative is ``tangent``."""
    levels = _levels()
    if not levels:
        raise RuntimeError("forward_ad.make_dual: call it inside `with forward_ad.dual_level():`")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError("forward_ad.make_dual: the primal and the tangent must be Tensors")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise ValueError(f"forward_ad.make_dual: the tangent has shape {tuple(tangent.shape)}, "
                         f"the primal {tuple(tensor.shape)}; they must match")
    if tensor.array.dtype.kind not in "fc":
        raise TypeError(f"forward_ad.make_dual: the primal must be floating point, got "
                        f"{tensor.dtype}")
    from ..ops import tensor_api

    with _GradOn():
        if tensor.requires_grad:
            dual = tensor_api.clone(tensor)  # connected to tensor's own graph
        else:
            dual = _t.wrap(tensor.array)
            dual.requires_grad = True
    levels[-1 if level is None else level].append((dual, tangent))
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)``: the tangent is None when ``tensor`` depends on no dual tensor
    of the level."""
    from . import grad

    levels = _levels()
    if not levels or not isinstance(tensor, Tensor):
        return UnpackedDualTensor(tensor, None)
    duals = levels[-1 if level is None else level]
    if not duals or not tensor.requires_grad or tensor.array.dtype.kind not in "fc":
        return UnpackedDualTensor(tensor, None)
    inputs = [d for d, _ in duals]
    with _GradOn():
        u = _t.wrap(np.zeros(tensor.shape, tensor.array.dtype))
        u.requires_grad = True
        first = grad(tensor, inputs, u, retain_graph=True, create_graph=True,
                     allow_unused=True)
        used = [(g, t) for g, (_, t) in zip(first, duals) if g is not None]
        if not used or not any(g.requires_grad for g, _ in used):
            return UnpackedDualTensor(tensor, None)
        pairs = [(g, t) for g, t in used if g.requires_grad]
        (tangent,) = grad([g for g, _ in pairs], [u], [t for _, t in pairs],
                          retain_graph=True, allow_unused=True)
    if tangent is None:
        tangent = _t.wrap(np.zeros(tensor.shape, tensor.array.dtype))
    return UnpackedDualTensor(tensor, tangent.detach())
