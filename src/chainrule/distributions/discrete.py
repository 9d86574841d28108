"""More discrete distributions: Poisson, Binomial, Geometric (PyTorch's formulas; draws
from NumPy, returned in the parameters' float dtype as PyTorch does)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .. import creation, ops
from .._tensor import Tensor, as_tensor
from . import constraints
from .continuous import _Elementwise
from .distribution import Distribution
from .utils import broadcast_all, logits_to_probs, probs_to_logits

__all__ = ["Binomial", "Geometric", "Poisson"]


def _counts(value: Tensor) -> np.ndarray:
    return (value.array >= 0) & (value.array == np.round(value.array))


def _init_trials(dist: Distribution, total_count, probs, logits, validate_args,
                 counts: tuple, probs_in: tuple) -> None:
    """Binomial's and NegativeBinomial's construction: ``total_count`` with ``probs`` or
    ``logits`` (one of them), broadcast together; ``counts`` and ``probs_in`` are the
    (test, constraint text) of each."""
    name = type(dist).__name__
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: give either probs or logits, not "
                         f"{'both' if probs is not None else 'neither'}")
    given = probs if probs is not None else logits
    dist.total_count, given = broadcast_all(total_count, given)
    dist.total_count = dist.total_count.to(given.dtype)
    Distribution.__init__(dist, given.shape, (), validate_args)
    dist._check_parameter("total_count", counts[0](dist.total_count), counts[1],
                          dist.total_count)
    if probs is not None:
        dist._check_parameter("probs", probs_in[0](given.array), probs_in[1], given)
        dist.probs, dist.logits = given, probs_to_logits(given, is_binary=True)
    else:
        dist.logits, dist.probs = given, logits_to_probs(given, is_binary=True)


class Poisson(_Elementwise):
    """``Poisson(rate)`` over the counts 0, 1, 2, ..."""

    arg_constraints: ClassVar[dict] = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer
    _checks: ClassVar[dict] = {"rate": (lambda a: a >= 0, "GreaterThanEq(lower_bound=0.0)")}

    def __init__(self, rate, validate_args=None) -> None:
        super().__init__(validate_args, rate=rate)

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        draws = self._rng().poisson(np.broadcast_to(self.rate.array, shape))
        return as_tensor(draws.astype(self._dtype))

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value)
        self._check_value(value, _counts(value), "IntegerGreaterThan(lower_bound=0)")
        rate, value = broadcast_all(self.rate, value.to(self._dtype))
        return ops.xlogy(value, rate) - rate - ops.lgamma(value + 1)


class Binomial(Distribution):
    """``Binomial(total_count=1, probs=None, logits=None)``."""

    arg_constraints: ClassVar[dict] = {"total_count": constraints.nonnegative_integer,
                                       "probs": constraints.unit_interval,
                                       "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None) -> None:
        _init_trials(self, total_count, probs, logits, validate_args,
                     (_counts, "IntegerGreaterThan(lower_bound=0)"),
                     (lambda p: (p >= 0) & (p <= 1), "Interval(lower_bound=0.0, upper_bound=1.0)"))
        self._param = self.probs if probs is not None else self.logits

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        draws = self._rng().binomial(np.broadcast_to(self.total_count.array, shape).astype(np.int64),
                                     np.broadcast_to(self.probs.array, shape))
        return as_tensor(draws.astype(self.probs.dtype))

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value).to(self.logits.dtype)
        ok = _counts(value) & (value.array <= self.total_count.array)
        self._check_value(value, ok, "IntegerInterval(0, total_count)")
        n, k = self.total_count, value
        log_factorial_n = ops.lgamma(n + 1)
        log_factorial_k = ops.lgamma(k + 1)
        log_factorial_nmk = ops.lgamma(n - k + 1)
        normalize_term = (n * self.logits.clamp(min=0) + n * ops.log1p(ops.exp(-self.logits.abs()))
                          - log_factorial_n)
        return k * self.logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self) -> Tensor:
        total = int(self.total_count.array.max())
        if not (self.total_count.array == total).all():
            raise NotImplementedError("Binomial.entropy: inhomogeneous total_count is not "
                                      "supported (PyTorch neither)")
        support = self.enumerate_support(expand=False)
        log_prob = self.log_prob(support)
        return -(ops.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        total = int(self.total_count.array.max())
        values = creation.arange(1 + total, dtype=self.probs.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values

    def _expand_names(self) -> tuple:
        return ("total_count", "probs", "logits")


class Geometric(Distribution):
    """``Geometric(probs=None, logits=None)``: the number of failures before the first
    success (support 0, 1, 2, ...)."""

    arg_constraints: ClassVar[dict] = {"probs": constraints.unit_interval,
                                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Geometric: give either probs or logits, not "
                             f"{'both' if probs is not None else 'neither'}")
        (given,) = broadcast_all(probs if probs is not None else logits)
        super().__init__(given.shape, (), validate_args)
        if probs is not None:
            self._check_parameter("probs", (given.array > 0) & (given.array <= 1),
                                  "Interval(lower_bound=0.0, upper_bound=1.0) (above 0)", given)
            self.probs, self.logits = given, probs_to_logits(given, is_binary=True)
        else:
            self.logits, self.probs = given, logits_to_probs(given, is_binary=True)

    @property
    def mean(self) -> Tensor:
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> Tensor:
        return creation.zeros_like(self.probs)

    @property
    def variance(self) -> Tensor:
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        draws = self._rng().geometric(np.broadcast_to(self.probs.array, shape)) - 1
        return as_tensor(draws.astype(self.probs.dtype))

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value).to(self.probs.dtype)
        self._check_value(value, _counts(value), "IntegerGreaterThan(lower_bound=0)")
        value, probs = broadcast_all(value, self.probs)
        # a certain success (p = 1) at 0 failures has log-probability 0, not 0 * log(0)
        safe = probs.masked_fill((probs == 1) & (value == 0), 0.0)
        return value * ops.log1p(-safe) + self.probs.log()

    def entropy(self) -> Tensor:
        from ..nn import functional as F

        return F.binary_cross_entropy_with_logits(self.logits, self.probs,
                                                  reduction="none") / self.probs


