"""Bernoulli distribution over {0, 1}, and the continuous Bernoulli on [0, 1]."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .. import creation, ops
from .._tensor import Size, Tensor, as_tensor
from ..nn import functional as F
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, logits_to_probs, probs_to_logits

__all__ = ["Bernoulli", "ContinuousBernoulli"]


class Bernoulli(Distribution):
    """``Bernoulli(probs=...)`` or ``Bernoulli(logits=...)``; samples are 0.0 / 1.0 in the
    parameter's dtype, ``log_prob`` is ``-binary_cross_entropy_with_logits``.

    >>> import chainrule as cr
    >>> d = cr.distributions.Bernoulli(probs=cr.tensor([0.25]))
    >>> round(d.log_prob(cr.tensor([1.0])).item(), 4)
    -1.3863
    """

    arg_constraints: ClassVar[dict] = {"probs": constraints.unit_interval,
                                       "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: give either probs or logits, not "
                             f"{'both' if probs is not None else 'neither'}")
        (given,) = broadcast_all(probs if probs is not None else logits)
        if given.dtype.kind != "f":
            raise TypeError(f"Bernoulli: probs/logits must be floating point, got {given.dtype}")
        super().__init__(given.shape, (), validate_args)
        if probs is not None:
            self._check_parameter("probs", (given.array >= 0) & (given.array <= 1),
                                  "Interval(lower_bound=0.0, upper_bound=1.0)", given)
            self.probs = given
            self.logits = probs_to_logits(given, is_binary=True)
        else:
            self._check_parameter("logits", ~np.isnan(given.array), "Real() (no NaN)", given)
            self.logits = given
            self.probs = logits_to_probs(given, is_binary=True)
        self._param = self.probs if probs is not None else self.logits

    @property
    def param_shape(self) -> Size:
        return self._param.size()

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return mode.masked_fill(self.probs == 0.5, float("nan"))

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        draws = self._rng().random(shape) < np.broadcast_to(self.probs.array, shape)
        return as_tensor(draws.astype(self.probs.dtype))

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value)
        self._check_value(value, (value.array == 0) | (value.array == 1), "Boolean() (0 or 1)")
        logits, value = broadcast_all(self.logits, value.to(self.logits.dtype))
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = creation.arange(2, dtype=self.probs.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


class ContinuousBernoulli(Distribution):
    """``ContinuousBernoulli(probs=...)`` or ``(logits=...)`` on [0, 1]: density
    C(λ) λ^x (1 − λ)^(1 − x), normalized by C(λ) = 2 atanh(1 − 2λ) / (1 − 2λ). Near
    λ = 1/2, where that form is 0/0, inside ``lims``, its second-order Taylor series
    stands in (PyTorch's, with its constants). ``rsample`` is the inverse CDF of a
    uniform draw."""

    arg_constraints: ClassVar[dict] = {"probs": constraints.unit_interval,
                                       "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims: tuple = (0.499, 0.501),
                 validate_args=None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("ContinuousBernoulli: give either probs or logits, not "
                             f"{'both' if probs is not None else 'neither'}")
        (given,) = broadcast_all(probs if probs is not None else logits)
        super().__init__(given.shape, (), validate_args)
        eps = float(np.finfo(given.array.dtype).eps)
        if probs is not None:
            self._check_parameter("probs", (given.array >= 0) & (given.array <= 1),
                                  "Interval(lower_bound=0.0, upper_bound=1.0)", given)
            # kept away from 0 and 1, where the density's constant is infinite
            self.probs = given.clamp(eps, 1 - eps)
            self.logits = probs_to_logits(self.probs, is_binary=True)
        else:
            self.logits = given
            self.probs = logits_to_probs(given, is_binary=True).clamp(eps, 1 - eps)
        self._param = self.probs if probs is not None else self.logits
        self._lims = tuple(lims)

    def _stable(self) -> Tensor:
        """Where λ is outside ``lims``: the closed forms hold there."""
        lo, hi = self._lims
        return (self.probs <= lo) | (self.probs > hi)

    def _safe_probs(self) -> Tensor:
        """λ where stable, ``lims[0]`` elsewhere: the closed forms, evaluated everywhere
        (``where`` picks the Taylor value), stay finite and so do their gradients."""
        return ops.where(self._stable(), self.probs,
                         creation.full_like(self.probs, self._lims[0]))

    def _log_norm(self) -> Tensor:
        """log C(λ)."""
        lam = self._safe_probs()
        below = ops.where(lam <= 0.5, lam, creation.zeros_like(lam))
        above = ops.where(lam >= 0.5, lam, creation.ones_like(lam))
        closed = (ops.log1p(-lam) - lam.log()).abs().log() - ops.where(
            lam <= 0.5, ops.log1p(-2.0 * below), (2.0 * above - 1.0).log())
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return ops.where(self._stable(), closed, taylor)

    @property
    def param_shape(self) -> Size:
        return self._param.size()

    @property
    def mean(self) -> Tensor:
        lam = self._safe_probs()
        closed = lam / (2.0 * lam - 1.0) + 1.0 / (ops.log1p(-lam) - lam.log())
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return ops.where(self._stable(), closed, taylor)

    @property
    def variance(self) -> Tensor:
        lam = self._safe_probs()
        closed = (lam * (lam - 1.0) / (1.0 - 2.0 * lam).pow(2)
                  + 1.0 / (ops.log1p(-lam) - lam.log()).pow(2))
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return ops.where(self._stable(), closed, taylor)

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def rsample(self, sample_shape=()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        u = as_tensor(self._rng().random(shape).astype(self.probs.array.dtype))
        return self.icdf(u)

    def sample(self, sample_shape=()) -> Tensor:
        return self.rsample(sample_shape).detach()

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value)
        self._check_value(value, (value.array >= 0) & (value.array <= 1),
                          "Interval(lower_bound=0.0, upper_bound=1.0)")
        logits, value = broadcast_all(self.logits, value.to(self.logits.dtype))
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none") + \
            self._log_norm()

    def cdf(self, value) -> Tensor:
        value = as_tensor(value)
        lam = self._safe_probs()
        closed = (lam.pow(value) * (1.0 - lam).pow(1.0 - value) + lam - 1.0) / (2.0 * lam - 1.0)
        inside = ops.where(self._stable(), closed, value)
        return ops.where(value <= 0, creation.zeros_like(inside),
                         ops.where(value >= 1, creation.ones_like(inside), inside))

    def icdf(self, value) -> Tensor:
        value = as_tensor(value)
        lam = self._safe_probs()
        closed = ((ops.log1p(-lam + value * (2.0 * lam - 1.0)) - ops.log1p(-lam))
                  / (lam.log() - ops.log1p(-lam)))
        return ops.where(self._stable(), closed, value)

    def entropy(self) -> Tensor:
        log0, log1 = ops.log1p(-self.probs), self.probs.log()
        return self.mean * (log0 - log1) - self._log_norm() - log0
