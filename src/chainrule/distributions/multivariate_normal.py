"""Multivariate normal distributions: parameterized through a lower Cholesky factor, and
with a low-rank plus diagonal covariance."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .. import creation, linalg
from .._tensor import Tensor, as_tensor
from . import constraints
from .distribution import Distribution

__all__ = ["LowRankMultivariateNormal", "MultivariateNormal"]


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


class LowRankMultivariateNormal(Distribution):
    """``LowRankMultivariateNormal(loc, cov_factor, cov_diag)``: covariance
    W Wᵀ + diag(D) for W (n × r) and D (n), which densities use through the r × r
    capacitance matrix I + Wᵀ D⁻¹ W (Woodbury and the determinant lemma): O(n r²),
    never an n × n factorization."""

    arg_constraints: ClassVar[dict] = {
        "loc": constraints.real_vector,
        "cov_factor": constraints.independent(constraints.real, 2),
        "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None) -> None:
        loc, cov_factor, cov_diag = as_tensor(loc), as_tensor(cov_factor), as_tensor(cov_diag)
        if loc.ndim < 1:
            raise ValueError("LowRankMultivariateNormal: loc must be at least one-dimensional")
        n = loc.shape[-1]
        if cov_factor.ndim < 2 or cov_factor.shape[-2] != n:
            raise ValueError(f"LowRankMultivariateNormal: cov_factor must be (..., {n}, rank) "
                             f"for loc of shape {tuple(loc.shape)}, got "
                             f"{tuple(cov_factor.shape)}")
        if cov_diag.ndim < 1 or cov_diag.shape[-1] != n:
            raise ValueError(f"LowRankMultivariateNormal: cov_diag must be (..., {n}) for loc "
                             f"of shape {tuple(loc.shape)}, got {tuple(cov_diag.shape)}")
        batch = np.broadcast_shapes(loc.shape[:-1], cov_factor.shape[:-2], cov_diag.shape[:-1])
        self.loc = loc.expand(batch + (n,))
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        self.cov_factor = cov_factor.expand(batch + tuple(cov_factor.shape[-2:]))
        self.cov_diag = cov_diag.expand(batch + (n,))
        super().__init__(batch, (n,), validate_args)
        self._check_parameter("cov_diag", cov_diag.array > 0,
                              "IndependentConstraint(GreaterThan(lower_bound=0.0), 1)",
                              cov_diag)
        self._capacitance_tril = self._capacitance(cov_factor, cov_diag)

    @staticmethod
    def _capacitance(W: Tensor, D: Tensor) -> Tensor:
        """The lower Cholesky factor of I + Wᵀ D⁻¹ W."""
        K = (W.mT / D.unsqueeze(-2)) @ W
        return linalg.cholesky(K + creation.eye(W.shape[-1], dtype=W.dtype))

    def _log_det(self) -> Tensor:
        L = self._capacitance_tril
        return 2 * L.diagonal(dim1=-2, dim2=-1).log().sum(-1) + \
            self._unbroadcasted_cov_diag.log().sum(-1)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return (W.pow(2).sum(-1) + D).expand(tuple(self._batch_shape) + tuple(self._event_shape))

    @property
    def covariance_matrix(self) -> Tensor:
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        from .. import ops

        cov = W @ W.mT + ops.diag_embed(D)
        return cov.expand(tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    @property
    def scale_tril(self) -> Tensor:
        return linalg.cholesky(self.covariance_matrix)

    @property
    def precision_matrix(self) -> Tensor:
        """D⁻¹ − D⁻¹ W (I + Wᵀ D⁻¹ W)⁻¹ Wᵀ D⁻¹ (Woodbury)."""
        from .. import ops

        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        Wt_Dinv = W.mT / D.unsqueeze(-2)
        A = _solve_lower(self._capacitance_tril, Wt_Dinv)
        precision = ops.diag_embed(D.reciprocal()) - A.mT @ A
        return precision.expand(tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        rng = self._rng()
        eps_w = as_tensor(rng.standard_normal(shape[:-1] + (W.shape[-1],))
                          .astype(self.loc.dtype))
        eps_d = as_tensor(rng.standard_normal(shape).astype(self.loc.dtype))
        return self.loc + (W @ eps_w.unsqueeze(-1)).squeeze(-1) + D.sqrt() * eps_d

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value)
        self._check_value(value, ~np.isnan(value.array), "real vectors (not NaN)")
        x = value - self.loc
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        Wt_Dinv_x = ((W.mT / D.unsqueeze(-2)) @ x.unsqueeze(-1)).squeeze(-1)
        mahalanobis = (x.pow(2) / D).sum(-1) - _batch_mahalanobis(self._capacitance_tril,
                                                                  Wt_Dinv_x)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + self._log_det()
                       + mahalanobis)

    def entropy(self) -> Tensor:
        H = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._log_det())
        return H if not self._batch_shape else H.expand(self._batch_shape)

    def expand(self, batch_shape, _instance=None) -> LowRankMultivariateNormal:
        batch = tuple(batch_shape)
        return LowRankMultivariateNormal(self.loc.expand(batch + tuple(self._event_shape)),
                                         self._unbroadcasted_cov_factor,
                                         self._unbroadcasted_cov_diag, validate_args=False)
