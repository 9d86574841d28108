"""Continuous uniform distribution on [low, high)."""

from __future__ import annotations

from typing import ClassVar

from .._tensor import Tensor, as_tensor
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Uniform"]


class Uniform(Distribution):
    """``Uniform(low, high)`` with ``low < high``; ``rsample`` is differentiable in both."""

    arg_constraints: ClassVar[dict] = {"low": constraints.real,
                                       "high": constraints.real}
    has_rsample = True

    def __init__(self, low, high, validate_args=None) -> None:
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, (), validate_args)
        self._check_parameter("low", self.low.array < self.high.array, "LessThan(high)",
                              self.low)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def mode(self) -> Tensor:
        return self.high * float("nan")

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = as_tensor(self._rng().random(shape).astype(self.low.dtype))
        return self.low + u * (self.high - self.low)

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value)
        inside = (self.low.array <= value.array) & (value.array < self.high.array)
        self._check_value(value, inside, "[low, high)")
        lb = self.low.le(value).type_as(self.low)
        ub = self.high.gt(value).type_as(self.low)
        return (lb * ub).log() - (self.high - self.low).log()

    def cdf(self, value) -> Tensor:
        value = as_tensor(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value) -> Tensor:
        return as_tensor(value) * (self.high - self.low) + self.low

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()
