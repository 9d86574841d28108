"""``chainrule.nn.utils.parametrizations``: weight normalization and spectral
normalization as parametrizations (see ``parametrize``), with PyTorch's state_dict keys
(``parametrizations.weight.original0`` = g, ``original1`` = v; spectral norm's
``parametrizations.weight.original`` and the power-iteration buffers ``0._u``,
``0._v``).

>>> import chainrule as cr
>>> layer = weight_norm(cr.nn.Linear(3, 2))
>>> [k for k in layer.state_dict()]
['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd import no_grad
from ..ops import primitives as P
from ..random import numpy_generator
from .module import Module
from .parametrize import register_parametrization

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


def _norm_except(v: Tensor, dim: int | None) -> Tensor:
    """The 2-norm of ``v`` over every axis but ``dim`` (kept as size 1); over all of
    them (a 0-d value) when ``dim`` is None."""
    if dim is None:
        return P.sqrt(P.sum(P.mul(v, v)))
    axes = tuple(a for a in range(v.ndim) if a != dim)
    return P.sqrt(P.sum(P.mul(v, v), axis=axes, keepdims=True))


class _WeightNorm(Module):
    """w = g · v / ‖v‖ (the norm over every axis but ``dim``)."""

    def __init__(self, dim: int | None = 0):
        super().__init__()
        self.dim = dim

    def forward(self, weight_g, weight_v):
        return P.mul(weight_v, P.div(weight_g, _norm_except(weight_v, self.dim)))

    def right_inverse(self, weight):
        return _norm_except(weight, self.dim).detach(), weight.detach()


def _tensor_attribute(module: Module, name: str, op: str) -> Tensor:
    weight = getattr(module, name, None)
    if weight is None:
        raise ValueError(f"{op}: {type(module).__name__} has no tensor '{name}'")
    if not isinstance(weight, Tensor):
        raise TypeError(f"{op}: {type(module).__name__}.{name} is a "
                        f"{type(weight).__name__}, not a tensor")
    return weight


def _axis(dim: int | None, ndim: int, op: str) -> int | None:
    if dim is None or dim == -1 and op == "weight_norm":
        return None
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}: dim {dim} is out of range for a weight of {ndim} "
                         f"dimension(s)")
    return dim % ndim


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Split ``module.<name>`` into a magnitude g (``original0``) and a direction v
    (``original1``): w = g · v / ‖v‖, the norm over every axis but ``dim`` (over all
    of them with ``dim=None``)."""
    weight = _tensor_attribute(module, name, "weight_norm")
    return register_parametrization(module, name,
                                    _WeightNorm(_axis(dim, weight.ndim, "weight_norm")),
                                    unsafe=True)


class _SpectralNorm(Module):
    """w / σ(w), σ the largest singular value of w as a matrix (``dim`` first, the rest
    flattened), estimated by power iteration: ``n_power_iterations`` steps per forward
    in training, kept in the buffers ``_u`` and ``_v``."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12):
        super().__init__()
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: n_power_iterations must be positive, got "
                             f"{n_power_iterations}")
        self.dim = dim
        self.eps = float(eps)
        self.n_power_iterations = int(n_power_iterations)
        if weight.ndim > 1:
            rows, cols = self._matrix(weight.array).shape
            rng = numpy_generator()
            dt = weight.array.dtype
            self.register_buffer("_u", Tensor(self._unit(rng.standard_normal(rows).astype(dt))))
            self.register_buffer("_v", Tensor(self._unit(rng.standard_normal(cols).astype(dt))))
            self._power_method(self._matrix(weight.array), 15)

    def _matrix(self, w):
        if self.dim != 0:
            w = np.moveaxis(w, self.dim, 0)
        return w.reshape(w.shape[0], -1)

    def _unit(self, x: np.ndarray) -> np.ndarray:
        return x / max(float(np.linalg.norm(x)), self.eps)

    def _power_method(self, w: np.ndarray, steps: int) -> None:
        u, v = self._u.array, self._v.array
        for _ in range(steps):
            u[...] = self._unit(w @ v)
            v[...] = self._unit(w.T @ u)
        self._u._version += 1
        self._v._version += 1

    def forward(self, weight):
        if weight.ndim == 1:
            norm = P.sqrt(P.sum(P.mul(weight, weight)))
            return P.div(weight, P.clip(norm, self.eps, None))
        if self.training:
            with no_grad():
                self._power_method(self._matrix(weight.array), self.n_power_iterations)
        mat = weight if self.dim == 0 else P.permute(
            weight, self.dim, *(a for a in range(weight.ndim) if a != self.dim))
        mat = P.reshape(mat, (mat.shape[0], -1))
        u, v = Tensor(self._u.array.copy()), Tensor(self._v.array.copy())
        sigma = P.sum(P.mul(u, P.matmul(mat, v)))
        return P.div(weight, sigma)

    def right_inverse(self, value):
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Divide ``module.<name>`` by its largest singular value (estimated by power
    iteration, one step per training forward): the Lipschitz constraint of GAN
    discriminators. ``dim`` defaults to 1 for transposed convolutions, else 0."""
    weight = _tensor_attribute(module, name, "spectral_norm")
    if dim is None:
        dim = 1 if "ConvTranspose" in type(module).__name__ else 0
    dim = _axis(dim, max(weight.ndim, 1), "spectral_norm")
    return register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))


def orthogonal(module: Module, name: str = "weight", orthogonal_map=None, *,
               use_trivialization: bool = True) -> Module:
    """Not in chainrule: the orthogonal maps need the matrix exponential or the
    Householder product."""
    raise NotImplementedError("parametrizations.orthogonal is not part of chainrule; "
                              "register_parametrization with your own map (e.g. the "
                              "Cayley transform via cr.linalg.solve) instead")
