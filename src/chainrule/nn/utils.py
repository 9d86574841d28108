"""Gradient utilities: clipping by norm or value, flattening parameters to a vector."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor, _wrap

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]


def _params(parameters) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    if hasattr(parameters, "parameters") and callable(parameters.parameters):
        parameters = parameters.parameters()
    return list(parameters)


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Rescale the gradients so that their joint norm is at most ``max_norm``; returns the
    norm before clipping (a 0-d Tensor, as PyTorch).

    The norm is taken over all gradients together, as if concatenated into one vector
    (``norm_type`` 2 by default; ``float("inf")`` for the max). When it exceeds
    ``max_norm`` every gradient is multiplied by max_norm / (norm + 1e-6). The gradient
    arrays are not changed in place (they may be shared with other tensors): each
    ``p.grad`` is replaced by a scaled copy.

    >>> import chainrule as cr
    >>> w = cr.nn.Parameter(cr.zeros(2)); w.grad = cr.tensor([3.0, 4.0])
    >>> cr.nn.utils.clip_grad_norm_([w], max_norm=1.0).item()
    5.0
    >>> [round(v, 4) for v in w.grad.tolist()]
    [0.6, 0.8]
    """
    params = [p for p in _params(parameters) if p.grad is not None]
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not params:
        return _wrap(np.float32(0.0))
    grads = [p.grad.data for p in params]
    dtype = np.result_type(*grads)
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    elif norm_type == 2.0:
        total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))  # vdot: no |g|² temporary
    else:
        total = sum(float(np.sum(np.abs(g) ** norm_type)) for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is {total}; set error_if_nonfinite=False to clip anyway")
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        with no_grad():
            for p in params:
                g = p.grad.data
                p.grad = _wrap(g * g.dtype.type(coef))  # a new array: never scale in place
    return _wrap(dtype.type(total))


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value] (replacing ``p.grad``
    by a clamped copy, never changing the array in place)."""
    c = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None:
            g = p.grad.data
            p.grad = _wrap(np.clip(g, -c, c).astype(g.dtype, copy=False))


def parameters_to_vector(parameters) -> Tensor:
    """All parameters' values concatenated into one 1-D array (a new leaf Tensor)."""
    params = _params(parameters)
    return _wrap(np.concatenate([np.ravel(p.data) for p in params]) if params
                 else np.zeros(0, dtype=np.float32))


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive pieces of ``vec`` into the parameters, in place (inverse of
    ``parameters_to_vector``)."""
    arr = np.ravel(vec.data if isinstance(vec, Tensor) else np.asarray(vec))
    params = _params(parameters)
    total = sum(p.data.size for p in params)
    if arr.size != total:
        raise ValueError(f"vector_to_parameters: the vector has {arr.size} elements but the "
                         f"parameters hold {total}")
    start = 0
    with no_grad():
        for p in params:
            n = p.data.size
            p.copy_(arr[start:start + n].reshape(p.shape))
            start += n
