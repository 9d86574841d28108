"""PyTorch's older weight and spectral normalization (``nn.utils.weight_norm``,
``nn.utils.spectral_norm``): the parameter is replaced by others (``weight_g`` and
``weight_v``; ``weight_orig`` with the buffers ``weight_u``, ``weight_v``) and a forward
pre-hook recomputes ``module.weight`` from them before every call. New code uses
``nn.utils.parametrizations``; old checkpoints carry these keys.

>>> import chainrule as cr
>>> layer = weight_norm(cr.nn.Linear(3, 2))
>>> [k for k in layer.state_dict()]
['bias', 'weight_g', 'weight_v']
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd import no_grad
from ..ops import primitives as P
from ..random import numpy_generator
from .module import Module, Parameter

__all__ = ["remove_spectral_norm", "remove_weight_norm", "spectral_norm", "weight_norm"]


def _norm_except(v: Tensor, dim: int | None) -> Tensor:
    if dim is None:
        return P.sqrt(P.sum(P.mul(v, v)))
    axes = tuple(a for a in range(v.ndim) if a != dim)
    return P.sqrt(P.sum(P.mul(v, v), axis=axes, keepdims=True))


def _take_parameter(module: Module, name: str, op: str) -> Parameter:
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"{op}: {type(module).__name__} has no parameter '{name}'")
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, (_WeightNormHook, _SpectralNormHook)) and hook.name == name:
            raise RuntimeError(f"{op}: '{name}' of {type(module).__name__} is already "
                               "normalized")
    delattr(module, name)
    return weight


class _WeightNormHook:
    def __init__(self, name: str, dim: int | None):
        self.name, self.dim = name, dim

    def compute(self, module: Module) -> Tensor:
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return P.mul(v, P.div(g, _norm_except(v, self.dim)))

    def __call__(self, module: Module, inputs) -> None:
        object.__setattr__(module, self.name, self.compute(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """w = g · v / ‖v‖ with parameters ``<name>_g`` and ``<name>_v`` (the norm over
    every axis but ``dim``; over all with ``dim=None``)."""
    weight = _take_parameter(module, name, "weight_norm")
    if dim is not None:
        if not -weight.ndim <= dim < weight.ndim:
            raise IndexError(f"weight_norm: dim {dim} is out of range for a weight of "
                             f"{weight.ndim} dimension(s)")
        dim = None if dim == -1 else dim % weight.ndim
    hook = _WeightNormHook(name, dim)
    with no_grad():
        g = _norm_except(weight, dim)
    module.register_parameter(name + "_g", Parameter(g.array.copy()))
    module.register_parameter(name + "_v", Parameter(weight.array.copy()))
    hook(module, ())
    module.register_forward_pre_hook(hook)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Fold ``<name>_g`` and ``<name>_v`` back into one parameter ``<name>``."""
    return _remove(module, name, _WeightNormHook, (name + "_g", name + "_v"), "weight_norm")


class _SpectralNormHook:
    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float):
        self.name, self.n_power_iterations = name, n_power_iterations
        self.dim, self.eps = dim, eps

    def matrix(self, w: np.ndarray) -> np.ndarray:
        if self.dim != 0:
            w = np.moveaxis(w, self.dim, 0)
        return w.reshape(w.shape[0], -1)

    def unit(self, x: np.ndarray) -> np.ndarray:
        return x / max(float(np.linalg.norm(x)), self.eps)

    def compute(self, module: Module, power: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        if power:
            w = self.matrix(weight.array)
            for _ in range(self.n_power_iterations):
                v.array[...] = self.unit(w.T @ u.array)
                u.array[...] = self.unit(w @ v.array)
            u._version += 1
            v._version += 1
        mat = weight if self.dim == 0 else P.permute(
            weight, self.dim, *(a for a in range(weight.ndim) if a != self.dim))
        mat = P.reshape(mat, (mat.shape[0], -1))
        sigma = P.sum(P.mul(Tensor(u.array.copy()), P.matmul(mat, Tensor(v.array.copy()))))
        return P.div(weight, sigma)

    def __call__(self, module: Module, inputs) -> None:
        object.__setattr__(module, self.name, self.compute(module, module.training))


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """w / σ(w) with σ estimated by power iteration (one step per training forward) from
    the buffers ``<name>_u`` and ``<name>_v``; the parameter becomes ``<name>_orig``."""
    if n_power_iterations <= 0:
        raise ValueError(f"spectral_norm: n_power_iterations must be positive, got "
                         f"{n_power_iterations}")
    if dim is None:
        dim = 1 if "ConvTranspose" in type(module).__name__ else 0
    weight = _take_parameter(module, name, "spectral_norm")
    hook = _SpectralNormHook(name, int(n_power_iterations), dim % weight.ndim, float(eps))
    rows, cols = hook.matrix(weight.array).shape
    rng = numpy_generator()
    dt = weight.array.dtype
    module.register_parameter(name + "_orig", weight)
    module.register_buffer(name + "_u", Tensor(hook.unit(rng.standard_normal(rows).astype(dt))))
    module.register_buffer(name + "_v", Tensor(hook.unit(rng.standard_normal(cols).astype(dt))))
    with no_grad():
        object.__setattr__(module, name, hook.compute(module, False).detach())
    module.register_forward_pre_hook(hook)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Replace ``<name>_orig`` and its buffers by one parameter ``<name>`` (the
    normalized value)."""
    return _remove(module, name, _SpectralNormHook, (name + "_orig", name + "_u",
                                                     name + "_v"), "spectral_norm")


def _remove(module: Module, name: str, kind: type, parts: tuple, op: str) -> Module:
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, kind) and hook.name == name:
            with no_grad():
                value = hook.compute(module, False) if kind is _SpectralNormHook \
                    else hook.compute(module)
            del module._forward_pre_hooks[key]
            for part in parts:
                delattr(module, part)
            if name in module.__dict__:
                object.__delattr__(module, name)
            module.register_parameter(name, Parameter(value.array.copy()))
            return module
    raise ValueError(f"remove_{op}: {op} of '{name}' not found in {type(module).__name__}")
