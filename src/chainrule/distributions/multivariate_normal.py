"""Multivariate normal distribution, parameterized through a lower Cholesky factor."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .. import creation, linalg
from .._tensor import Tensor, as_tensor
from . import constraints
from .distribution import Distribution

__all__ = ["MultivariateNormal"]


def _solve_lower(L: Tensor, rhs: Tensor) -> Tensor:
    """L⁻¹ rhs for lower-triangular L, batch dimensions broadcast first."""
    batch = np.broadcast_shapes(L.shape[:-2], rhs.shape[:-2])
    return linalg.solve_triangular(L.expand(batch + L.shape[-2:]),
                                   rhs.expand(batch + rhs.shape[-2:]), upper=False)


def _batch_mahalanobis(L: Tensor, x: Tensor) -> Tensor:
    """xᵀ (L Lᵀ)⁻¹ x over the batch: the squared norm of L⁻¹ x."""
    return _solve_lower(L, x.unsqueeze(-1)).squeeze(-1).pow(2).sum(-1)


def _precision_to_scale_tril(P: Tensor) -> Tensor:
    # the Cholesky factor of P reversed gives an upper factor of P⁻¹ without inverting P
    Lf = linalg.cholesky(P.flip((-2, -1)))
    L_inv = Lf.flip((-2, -1)).transpose(-2, -1)
    eye = creation.eye(P.shape[-1], dtype=P.dtype)
    return _solve_lower(L_inv, eye.expand(L_inv.shape))


class MultivariateNormal(Distribution):
    """``MultivariateNormal(loc, covariance_matrix=| precision_matrix=| scale_tril=)``:
    exactly one of the three matrices; batch dimensions of ``loc`` and the matrix
    broadcast. ``rsample`` is ``loc + L ε``.

    >>> import chainrule as cr
    >>> d = cr.distributions.MultivariateNormal(cr.zeros(2), cr.eye(2))
    >>> round(d.log_prob(cr.zeros(2)).item(), 4)
    -1.8379
    """

    arg_constraints: ClassVar[dict] = {"loc": constraints.real_vector,
                                       "covariance_matrix": constraints.positive_definite,
                                       "precision_matrix": constraints.positive_definite,
                                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None) -> None:
        given = [(n, m) for n, m in (("covariance_matrix", covariance_matrix),
                                      ("precision_matrix", precision_matrix),
                                      ("scale_tril", scale_tril)) if m is not None]
        if len(given) != 1:
            raise ValueError("MultivariateNormal: give exactly one of covariance_matrix, "
                             f"precision_matrix or scale_tril, got {[n for n, _ in given] or 'none'}")
        loc = as_tensor(loc)
        name, matrix = given[0]
        matrix = as_tensor(matrix)
        if loc.ndim < 1:
            raise ValueError("MultivariateNormal: loc must be at least one-dimensional, got a "
                             "scalar")
        if matrix.ndim < 2 or matrix.shape[-1] != matrix.shape[-2] \
                or matrix.shape[-1] != loc.shape[-1]:
            raise ValueError(f"MultivariateNormal: {name} must be square (..., k, k) with k = "
                             f"loc's last size {loc.shape[-1]}; got loc {tuple(loc.shape)} and "
                             f"{name} {tuple(matrix.shape)}")
        batch = np.broadcast_shapes(loc.shape[:-1], matrix.shape[:-2])
        k = loc.shape[-1]
        super().__init__(batch, (k,), validate_args)
        self.loc = loc.expand(batch + (k,))
        if name == "scale_tril":
            ok = (np.diagonal(matrix.array, axis1=-2, axis2=-1) > 0).all() and np.array_equal(
                np.tril(matrix.array), matrix.array)
            self._check_parameter(name, ok, "LowerCholesky() (lower triangular, positive "
                                  "diagonal)", matrix)
            self.scale_tril = matrix.expand(batch + (k, k))
            self._unbroadcasted_scale_tril = matrix
        else:
            symmetric = np.allclose(matrix.array, np.swapaxes(matrix.array, -1, -2))
            positive = symmetric and bool((np.linalg.eigvalsh(matrix.array) > 0).all())
            self._check_parameter(name, positive, "PositiveDefinite() (symmetric, positive "
                                  "eigenvalues)", matrix)
            setattr(self, name, matrix.expand(batch + (k, k)))
            self._unbroadcasted_scale_tril = (linalg.cholesky(matrix) if name == "covariance_matrix"
                                              else _precision_to_scale_tril(matrix))

    def __getattr__(self, name):
        # the two matrices not given are computed on first use, as PyTorch's lazy properties
        L = self.__dict__.get("_unbroadcasted_scale_tril")
        if L is None:
            raise AttributeError(name)
        shape = tuple(self._batch_shape) + tuple(self._event_shape) * 2
        if name == "scale_tril":
            value = L.expand(shape)
        elif name == "covariance_matrix":
            value = (L @ L.mT).expand(shape)
        elif name == "precision_matrix":
            eye = creation.eye(L.shape[-1], dtype=L.dtype)
            L_inv = _solve_lower(L, eye.expand(L.shape))
            value = (L_inv.mT @ L_inv).expand(shape)
        else:
            raise AttributeError(f"'MultivariateNormal' object has no attribute {name!r}")
        self.__dict__[name] = value
        return value

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(
            tuple(self._batch_shape) + tuple(self._event_shape))

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = as_tensor(self._rng().standard_normal(shape).astype(self.loc.dtype))
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value)
        self._check_value(value, ~np.isnan(value.array), "real vectors (not NaN)")
        diff = value - self.loc
        M = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M) - half_log_det

    def entropy(self) -> Tensor:
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        return H if not self._batch_shape else H.expand(self._batch_shape)
