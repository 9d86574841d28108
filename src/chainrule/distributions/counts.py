"""Multinomial, NegativeBinomial and Pareto (PyTorch's formulas; draws from NumPy,
returned in the parameters' float dtype as PyTorch does)."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .. import creation, ops
from .._tensor import Tensor, as_tensor
from . import constraints
from .categorical import Categorical
from .continuous import Exponential
from .discrete import _counts, _init_trials
from .distribution import Distribution, ParametersOf
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, ExpTransform
from .utils import broadcast_all

__all__ = ["Multinomial", "NegativeBinomial", "Pareto"]


class Multinomial(ParametersOf):
    """``Multinomial(total_count=1, probs=None, logits=None)``: counts over the last axis's
    categories from ``total_count`` draws (``total_count`` one int, as in PyTorch)."""

    arg_constraints: ClassVar[dict] = {"probs": constraints.simplex,
                                       "logits": constraints.real_vector}

    def __init__(self, total_count: int = 1, probs=None, logits=None,
                 validate_args=None) -> None:
        if not isinstance(total_count, (int, np.integer)) or total_count < 0:
            raise NotImplementedError(f"Multinomial: total_count must be one int >= 0 (an "
                                      f"inhomogeneous total_count is not supported, in "
                                      f"PyTorch neither), got {total_count!r}")
        self.total_count = int(total_count)
        self._categorical = Categorical(probs=probs, logits=logits,
                                        validate_args=validate_args)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args)

    @property
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        probs = self.probs.array.astype(np.float64)
        probs = probs / probs.sum(-1, keepdims=True)  # NumPy wants sums of exactly 1
        shape = tuple(self._extended_shape(sample_shape))
        draws = self._rng().multinomial(self.total_count, np.broadcast_to(probs, shape))
        return as_tensor(draws.astype(self.probs.dtype))

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value).to(self.logits.dtype)
        ok = _counts(value).all(-1) & (value.array.sum(-1) == self.total_count)
        self._check_value(value, ok, f"Multinomial(total_count={self.total_count}) counts")
        logits, value = broadcast_all(self.logits, value)
        # a count of 0 contributes nothing, even where the probability is 0 (logit -inf)
        terms = ops.where(value == 0, creation.zeros_like(logits), value * logits)
        return (ops.lgamma(value.sum(-1) + 1) - ops.lgamma(value + 1).sum(-1)
                + terms.sum(-1))

    def entropy(self) -> Tensor:
        """Σ over the categories of the binomial marginals' expectations of log k!, as
        PyTorch computes it."""
        from .discrete import Binomial

        n = self.total_count
        support = creation.arange(1, n + 1, dtype=self.probs.dtype)
        support = support.view((-1,) + (1,) * (len(self._batch_shape) + 1))
        binomial = Binomial(n, self.probs, validate_args=False)
        weights = ops.exp(binomial.log_prob(support))
        # (PyTorch takes lgamma of the integer count in float32: so do we, for its numbers)
        log_factorial_n = float(np.float32(math.lgamma(n + 1)))
        return (n * self._categorical.entropy() - log_factorial_n
                + (weights * ops.lgamma(support + 1)).sum([0, -1]))


class NegativeBinomial(Distribution):
    """``NegativeBinomial(total_count, probs=None, logits=None)``: the number of successes
    before ``total_count`` failures, each trial a success with ``probs``."""

    arg_constraints: ClassVar[dict] = {"total_count": constraints.nonnegative,
                                       "probs": constraints.half_open_interval(0.0, 1.0),
                                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None) -> None:
        _init_trials(self, total_count, probs, logits, validate_args,
                     (lambda n: n.array >= 0, "GreaterThanEq(lower_bound=0.0)"),
                     (lambda p: (p >= 0) & (p < 1),
                      "HalfOpenInterval(lower_bound=0.0, upper_bound=1.0)"))

    @property
    def mean(self) -> Tensor:
        return self.total_count * ops.exp(self.logits)

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * ops.exp(self.logits)).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.mean / ops.sigmoid(-self.logits)

    def sample(self, sample_shape=()) -> Tensor:
        # a Poisson whose rate is Gamma(total_count, scale = p / (1 - p)): PyTorch's way
        shape = tuple(self._extended_shape(sample_shape))
        rng = self._rng()
        count = np.broadcast_to(self.total_count.array, shape).astype(np.float64)
        odds = np.exp(np.broadcast_to(self.logits.array, shape).astype(np.float64))
        rate = rng.gamma(np.where(count > 0, count, 1.0), odds) * (count > 0)
        return as_tensor(rng.poisson(rate).astype(self.probs.dtype))

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value).to(self.logits.dtype)
        self._check_value(value, _counts(value), "IntegerGreaterThan(lower_bound=0)")
        log_unnormalized = (self.total_count * ops.logsigmoid(-self.logits)
                            + value * ops.logsigmoid(self.logits))
        log_normalization = (-ops.lgamma(self.total_count + value) + ops.lgamma(1.0 + value)
                             + ops.lgamma(self.total_count))
        # total_count + value == 0: the only value is 0, with probability 1
        log_normalization = ops.where(self.total_count + value == 0,
                                      creation.zeros_like(log_normalization),
                                      log_normalization)
        return log_unnormalized - log_normalization

    def _expand_names(self) -> tuple:
        return ("total_count", "probs", "logits")


class Pareto(TransformedDistribution):
    """``Pareto(scale, alpha)``: density α·scale^α / x^(α+1) on x ≥ scale
    (scale·exp(E) for E ~ Exponential(α))."""

    arg_constraints: ClassVar[dict] = {"alpha": constraints.positive,
                                       "scale": constraints.positive}
    has_rsample = True

    def __init__(self, scale, alpha, validate_args=None) -> None:
        self.scale, self.alpha = broadcast_all(scale, alpha)
        base = Exponential(self.alpha, validate_args=validate_args)
        super().__init__(base, [ExpTransform(), AffineTransform(loc=0, scale=self.scale)],
                         validate_args=validate_args)

    @property
    def support(self):
        return constraints.greater_than_eq(self.scale)

    @property
    def mean(self) -> Tensor:
        a = self.alpha.clamp(min=1)
        return ops.where(self.alpha > 1, a * self.scale / (a - 1),
                         creation.full_like(self.scale, float("inf")))

    @property
    def mode(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        a = self.alpha.clamp(min=2)
        return ops.where(self.alpha > 2, self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2)),
                         creation.full_like(self.scale, float("inf")))

    def entropy(self) -> Tensor:
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())

    def cdf(self, value) -> Tensor:
        value = as_tensor(value)
        return 1 - (self.scale / value).pow(self.alpha)

    def icdf(self, value) -> Tensor:
        value = as_tensor(value)
        return self.scale * (1 - value).pow(-self.alpha.reciprocal())
