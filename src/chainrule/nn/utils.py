"""Gradient utilities: clipping by norm or value, flattening parameters to a vector."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .._tensor import Tensor, wrap
from ..autograd import no_grad

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
    "get_total_norm",
    "parameters_to_vector",
    "skip_init",
    "vector_to_parameters",
]


def _params(parameters) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    if hasattr(parameters, "parameters") and callable(parameters.parameters):
        parameters = parameters.parameters()
    return list(parameters)


def get_total_norm(tensors: Iterable[Tensor] | Tensor, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` together, as if concatenated into one
    vector (a 0-d Tensor; ``inf`` for the largest magnitude), as PyTorch.

    >>> import chainrule as cr
    >>> get_total_norm([cr.tensor([3.0]), cr.tensor([4.0])]).item()
    5.0
    """
    arrays = [t.array for t in ([tensors] if isinstance(tensors, Tensor) else tensors)
              if t is not None]
    norm_type = float(norm_type)
    if not arrays:
        return wrap(np.float32(0.0))
    dtype = np.result_type(*arrays)
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in arrays)
    elif norm_type == 2.0:
        total = math.sqrt(sum(float(np.vdot(g, g)) for g in arrays))  # vdot: no |g|² copy
    else:
        total = sum(float(np.sum(np.abs(g) ** norm_type)) for g in arrays) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is {total}; "
                           "set error_if_nonfinite=False to clip anyway")
    return wrap(dtype.type(total))


def clip_grads_with_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                          total_norm, foreach: bool | None = None) -> None:
    """Scale the gradients by max_norm / (total_norm + 1e-6) when that is below 1 (the
    second half of ``clip_grad_norm_``, for a norm computed elsewhere)."""
    coef = float(max_norm) / (float(total_norm) + 1e-6)
    if coef < 1.0:
        with no_grad():
            for p in _params(parameters):
                if p.grad is not None:
                    g = p.grad.array
                    p.grad = wrap(g * g.dtype.type(coef))  # a new array: never scale in place


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Rescale the gradients so that their joint norm is at most ``max_norm``; returns the
    norm before clipping (a 0-d Tensor, as PyTorch).

    The norm is taken over all gradients together, as if concatenated into one vector
    (``norm_type`` 2 by default; ``float("inf")`` for the max). When it exceeds
    ``max_norm`` every gradient is multiplied by max_norm / (norm + 1e-6). The gradient
    arrays are not changed in place (they may be shared with other tensors): each
    ``p.grad`` is replaced by a scaled copy. (``foreach`` is accepted: one kernel here.)

    >>> import chainrule as cr
    >>> w = cr.nn.Parameter(cr.zeros(2)); w.grad = cr.tensor([3.0, 4.0])
    >>> cr.nn.utils.clip_grad_norm_([w], max_norm=1.0).item()
    5.0
    >>> [round(v, 4) for v in w.grad.tolist()]
    [0.6, 0.8]
    """
    params = [p for p in _params(parameters) if p.grad is not None]
    try:
        total = get_total_norm([p.grad for p in params], norm_type, error_if_nonfinite)
    except RuntimeError as e:
        raise RuntimeError(f"clip_grad_norm_: {e}") from None
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value] (replacing ``p.grad``
    by a clamped copy, never changing the array in place)."""
    c = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None:
            g = p.grad.array
            p.grad = wrap(np.clip(g, -c, c).astype(g.dtype, copy=False))


def parameters_to_vector(parameters) -> Tensor:
    """All parameters concatenated into one 1-D Tensor, on the graph (as PyTorch: a loss
    computed from the vector sends gradients back to the parameters).

    >>> import chainrule as cr
    >>> w = cr.nn.Parameter(cr.ones(2, 2))
    >>> v = parameters_to_vector([w])
    >>> (v * v).sum().backward(); w.grad.tolist()
    [[2.0, 2.0], [2.0, 2.0]]
    """
    from ..ops import primitives as P  # (ops loads nn's users: imported on first use)

    params = _params(parameters)
    if not params:
        raise ValueError("parameters_to_vector: no parameters given")
    return P.concatenate([P.reshape(p, (-1,)) for p in params], axis=0)


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive pieces of ``vec`` into the parameters, in place (inverse of
    ``parameters_to_vector``)."""
    arr = np.ravel(vec.array if isinstance(vec, Tensor) else np.asarray(vec))
    params = _params(parameters)
    total = sum(p.array.size for p in params)
    if arr.size != total:
        raise ValueError(f"vector_to_parameters: the vector has {arr.size} elements but the "
                         f"parameters hold {total}")
    start = 0
    with no_grad():
        for p in params:
            n = p.array.size
            p.copy_(arr[start:start + n].reshape(p.shape))
            start += n


# PyTorch's submodules of nn.utils whose functions live in this file
_SPLIT_MODULES = {
    "fusion": ("fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
               "fuse_linear_bn_weights"),
    "clip_grad": ("clip_grad_norm", "clip_grad_norm_", "clip_grad_value_"),
    "convert_parameters": ("parameters_to_vector", "vector_to_parameters"),
}


def _attach_submodules() -> None:
    """``nn.utils.rnn``, ``nn.utils.parametrize`` and ``nn.utils.parametrizations`` as
    PyTorch spells them (``from chainrule.nn.utils.rnn import pad_sequence``), and the
    older ``weight_norm``/``spectral_norm``: they live in nn/rnn_utils.py,
    nn/parametrize.py, nn/parametrizations.py and nn/norm_hooks.py, which need the
    layers, so nn/__init__ attaches them once everything is imported. PyTorch's
    ``nn.utils.fusion``, ``clip_grad`` and ``convert_parameters`` hold functions defined
    here; they are attached as modules naming them (``from torch.nn.utils.fusion import
    fuse_conv_bn_eval``)."""
    import sys
    import types

    from . import norm_hooks, parametrizations, parametrize, prune, rnn_utils

    for name, module in (("rnn", rnn_utils), ("parametrize", parametrize),
                         ("parametrizations", parametrizations), ("prune", prune)):
        sys.modules[f"{__name__}.{name}"] = module
        globals()[name] = module
    for name, members in _SPLIT_MODULES.items():
        module = types.ModuleType(f"{__name__}.{name}",
                                  f"PyTorch's torch.nn.utils.{name}: {', '.join(members)}")
        module.__all__ = list(members)
        for member in members:
            setattr(module, member, globals()[member])
        sys.modules[module.__name__] = module
        globals()[name] = module
    for name in norm_hooks.__all__:
        globals()[name] = getattr(norm_hooks, name)


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)``: PyTorch leaves the parameters uninitialized, for the
    caller to overwrite; here they get the module's usual initialization (NumPy has no
    meta device), which the caller overwrites just the same."""
    if not isinstance(module_cls, type):
        raise TypeError(f"skip_init: expected a Module class, got {module_cls!r}")
    return module_cls(*args, **kwargs)


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps: float, bn_w, bn_b,
                         transpose: bool = False) -> tuple:
    """The weight and bias of one convolution equal to conv then BatchNorm in eval mode:
    w' = w · γ/√(var + eps) (per output channel), b' = (b − mean) · γ/√(var + eps) + β."""
    from .module import Parameter

    w = _array(conv_w)
    scale = _bn_scale(bn_rm, bn_rv, bn_eps, bn_w, w.dtype)
    shape = [1] * w.ndim
    shape[1 if transpose else 0] = -1
    b = np.zeros_like(_array(bn_rm), dtype=w.dtype) if conv_b is None else _array(conv_b)
    shift = _array(bn_b) if bn_b is not None else np.zeros_like(scale)
    fused_b = (b - _array(bn_rm)) * scale + shift
    return (Parameter(w * scale.reshape(shape), requires_grad=_requires(conv_w)),
            Parameter(fused_b.astype(w.dtype), requires_grad=_requires(conv_w)))


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps: float, bn_w,
                           bn_b) -> tuple:
    """The weight and bias of one Linear equal to Linear then BatchNorm1d in eval mode."""
    return fuse_conv_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b)


def fuse_conv_bn_eval(conv, bn, transpose: bool = False):
    """A copy of ``conv`` (in eval mode) that computes conv followed by ``bn`` in eval
    mode: the inference-time folding of BatchNorm into the convolution before it."""
    return _fused(conv, bn, "fuse_conv_bn_eval", transpose)


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` (in eval mode) that computes linear followed by ``bn`` in eval
    mode."""
    return _fused(linear, bn, "fuse_linear_bn_eval", False)


def _fused(layer, bn, op: str, transpose: bool):
    import copy

    if layer.training or bn.training:
        raise ValueError(f"{op}: fusion is for evaluation only; call .eval() on both modules "
                         "first")
    if not getattr(bn, "track_running_stats", False) or bn.running_mean is None:
        raise ValueError(f"{op}: the BatchNorm must track running statistics")
    if bn.running_mean.shape[0] != layer.weight.shape[1 if transpose else 0]:
        raise ValueError(f"{op}: the BatchNorm has {bn.running_mean.shape[0]} features, the "
                         f"layer {layer.weight.shape[1 if transpose else 0]} outputs")
    fused = copy.deepcopy(layer)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        layer.weight, layer.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias,
        transpose)
    return fused


def _array(t) -> np.ndarray:
    return t.detach().numpy() if isinstance(t, Tensor) else np.asarray(t)


def _requires(t) -> bool:
    return bool(getattr(t, "requires_grad", True))


def _bn_scale(rm, rv, eps: float, w, dtype) -> np.ndarray:
    gamma = _array(w) if w is not None else np.ones_like(_array(rm))
    return (gamma / np.sqrt(_array(rv) + eps)).astype(dtype)


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """PyTorch's deprecated name of :func:`clip_grad_norm_` (it warns, as PyTorch does)."""
    import warnings

    warnings.warn("nn.utils.clip_grad_norm is deprecated in favour of "
                  "nn.utils.clip_grad_norm_", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite)


# what torch.nn.utils has and chainrule does not: a clear error naming it
_MISSING = {
    "stateless": "PyTorch deprecated nn.utils.stateless; use cr.func.functional_call(module, "
                 "params_and_buffers, args) (torch.func.functional_call)",
}


def __getattr__(name: str):
    if name in _MISSING:
        raise AttributeError(f"chainrule.nn.utils has no {name}: {_MISSING[name]}")
    raise AttributeError(f"module 'chainrule.nn.utils' has no attribute {name!r}")
