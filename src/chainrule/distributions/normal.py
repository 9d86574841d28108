"""Normal (Gaussian) distribution, with the reparameterized sampler."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .. import ops
from .._tensor import Tensor, as_tensor
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Normal"]


class Normal(Distribution):
    """``Normal(loc, scale)``: mean ``loc``, standard deviation ``scale`` (> 0).

    >>> import chainrule as cr
    >>> d = cr.distributions.Normal(cr.tensor([0.0]), cr.tensor([2.0]))
    >>> round(d.log_prob(cr.tensor([1.0])).item(), 4)
    -1.7371
    """

    arg_constraints: ClassVar[dict] = {"loc": constraints.real,
                                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, (), validate_args)
        self._check_parameter("loc", ~np.isnan(self.loc.array), "Real() (not NaN)", self.loc)
        self._check_parameter("scale", self.scale.array > 0, "GreaterThan(lower_bound=0.0)",
                              self.scale)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = as_tensor(self._rng().standard_normal(shape).astype(self.loc.dtype))
        return self.loc + eps * self.scale

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value)
        self._check_value(value, ~np.isnan(value.array), "real numbers (not NaN)")
        var = self.scale ** 2
        log_scale = self.scale.log()
        return -((value - self.loc) ** 2) / (2 * var) - log_scale - math.log(math.sqrt(2 * math.pi))

    def cdf(self, value) -> Tensor:
        value = as_tensor(value)
        return 0.5 * (1 + ops.erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value) -> Tensor:
        value = as_tensor(value)
        return self.loc + self.scale * ops.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()
