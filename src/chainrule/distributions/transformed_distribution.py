"""TransformedDistribution (a base distribution pushed through transforms) and
LogNormal, which PyTorch defines that way."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .. import creation
from .._tensor import Size, Tensor, as_tensor
from . import constraints
from .distribution import Distribution
from .independent import _sum_rightmost
from .normal import Normal
from .transforms import ExpTransform, Transform

__all__ = ["Gumbel", "HalfCauchy", "HalfNormal", "InverseGamma", "Kumaraswamy", "LogNormal",
           "LogisticNormal", "TransformedDistribution", "Weibull"]


class TransformedDistribution(Distribution):
    """``TransformedDistribution(base, transforms)``: y = f_n(...f_1(x)) with x ~ base;
    ``log_prob(y) = base.log_prob(x) − Σ log|det J|``. The transforms here are elementwise
    (event_dim 0 unless an AffineTransform says otherwise)."""

    arg_constraints: ClassVar[dict] = {}
    _derived: ClassVar[tuple] = ()  # tensors made from the parameters, expanded with them

    def __init__(self, base_distribution: Distribution, transforms,
                 validate_args=None) -> None:
        if isinstance(transforms, Transform):
            transforms = [transforms]
        transforms = list(transforms)
        for t in transforms:
            if not isinstance(t, Transform):
                raise TypeError(f"TransformedDistribution: transforms must be Transform "
                                f"objects, got {type(t).__name__}")
        self.base_dist = base_distribution
        self.transforms = transforms
        event_dim = max([len(base_distribution.event_shape)]
                        + [t.event_dim for t in transforms])
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        for t in transforms:  # (the stick-breaking transform adds an entry)
            shape = t.forward_shape(shape)
        cut = len(shape) - event_dim
        super().__init__(shape[:cut], shape[cut:], validate_args)

    @property
    def has_rsample(self) -> bool:
        return self.base_dist.has_rsample

    def expand(self, batch_shape, _instance=None) -> TransformedDistribution:
        shape = tuple(batch_shape) + tuple(self._event_shape)
        for transform in reversed(self.transforms):  # back to the base's shape
            shape = transform.inverse_shape(shape)
        n_base = len(self.base_dist.event_shape)
        new = object.__new__(type(self))
        new.__dict__ = dict(self.__dict__)
        new.base_dist = self.base_dist.expand(shape[:len(shape) - n_base])
        # a subclass's own parameters (Pareto's scale and alpha, ...) follow the batch
        old = len(self._batch_shape)
        for name in tuple(getattr(self, "arg_constraints", ())) + self._derived:
            value = self.__dict__.get(name)
            if isinstance(value, Tensor):
                new.__dict__[name] = value.expand(tuple(batch_shape)
                                                  + tuple(value.shape[old:]))
        new._batch_shape = Size(tuple(batch_shape))
        return new

    def rsample(self, sample_shape=()) -> Tensor:
        x = self.base_dist.rsample(sample_shape)
        for transform in self.transforms:
            x = transform(x)
        return x

    def sample(self, sample_shape=()) -> Tensor:
        from ..autograd import no_grad

        with no_grad():
            x = self.base_dist.sample(sample_shape)
            for transform in self.transforms:
                x = transform(x)
            return x

    def log_prob(self, value) -> Tensor:
        y = as_tensor(value)
        event_dim = len(self._event_shape)
        log_prob = 0.0
        for transform in reversed(self.transforms):
            x = transform.inv(y)
            log_prob = log_prob - _sum_rightmost(transform.log_abs_det_jacobian(x, y),
                                                 event_dim - transform.event_dim)
            y = x
        return log_prob + _sum_rightmost(self.base_dist.log_prob(y),
                                         event_dim - len(self.base_dist.event_shape))

    def cdf(self, value) -> Tensor:
        value = as_tensor(value)
        for transform in reversed(self.transforms):
            value = transform.inv(value)
        out = self.base_dist.cdf(value)
        sign = 1
        for transform in self.transforms:
            sign = sign * transform.sign
        return out if isinstance(sign, int) and sign == 1 else sign * (out - 0.5) + 0.5

    def icdf(self, value) -> Tensor:
        value = self.base_dist.icdf(as_tensor(value))
        for transform in self.transforms:
            value = transform(value)
        return value

    def __repr__(self) -> str:
        return f"TransformedDistribution({self.base_dist!r}, {self.transforms!r})"


class LogNormal(TransformedDistribution):
    """``LogNormal(loc, scale)``: exp of a Normal(loc, scale)."""

    arg_constraints: ClassVar[dict] = {"loc": constraints.real,
                                       "scale": constraints.positive}
    support = constraints.positive

    def __init__(self, loc, scale, validate_args=None) -> None:
        base = Normal(loc, scale, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args)

    @property
    def loc(self) -> Tensor:
        return self.base_dist.loc

    @property
    def scale(self) -> Tensor:
        return self.base_dist.scale

    @property
    def mean(self) -> Tensor:
        return (self.loc + self.scale.pow(2) / 2).exp()

    @property
    def mode(self) -> Tensor:
        return (self.loc - self.scale.square()).exp()

    @property
    def variance(self) -> Tensor:
        scale_sq = self.scale.pow(2)
        return scale_sq.expm1() * (2 * self.loc + scale_sq).exp()

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() + self.loc




class _Half(TransformedDistribution):
    """|X| for X symmetric about 0: twice X's density on [0, ∞)."""

    arg_constraints: ClassVar[dict] = {"scale": constraints.positive}
    support = constraints.nonnegative

    @property
    def scale(self) -> Tensor:
        return self.base_dist.scale

    def rsample(self, sample_shape=()) -> Tensor:
        return self.base_dist.rsample(sample_shape).abs()

    def sample(self, sample_shape=()) -> Tensor:
        return self.base_dist.sample(sample_shape).abs()

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value)
        self._check_value(value, value.array >= 0, "GreaterThanEq(lower_bound=0.0)")
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return log_prob.masked_fill(value.expand(log_prob.shape) < 0, -math.inf)

    def cdf(self, value) -> Tensor:
        return 2 * self.base_dist.cdf(as_tensor(value)) - 1

    def icdf(self, prob) -> Tensor:
        return self.base_dist.icdf((as_tensor(prob) + 1) / 2)

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() - math.log(2)


class HalfNormal(_Half):
    """``HalfNormal(scale)``: |X| for X ~ Normal(0, scale)."""

    has_rsample = True

    def __init__(self, scale, validate_args=None) -> None:
        super().__init__(Normal(0, scale, validate_args=validate_args), [],
                         validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self) -> Tensor:
        return creation.zeros_like(self.scale)

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2) * (1 - 2 / math.pi)


class HalfCauchy(_Half):
    """``HalfCauchy(scale)``: |X| for X ~ Cauchy(0, scale)."""

    has_rsample = True

    def __init__(self, scale, validate_args=None) -> None:
        from .continuous import Cauchy

        super().__init__(Cauchy(0, scale, validate_args=validate_args), [],
                         validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return creation.full_like(self.scale, math.inf)

    @property
    def mode(self) -> Tensor:
        return creation.zeros_like(self.scale)

    @property
    def variance(self) -> Tensor:
        return creation.full_like(self.scale, math.inf)


class Weibull(TransformedDistribution):
    """``Weibull(scale, concentration)``: scale · E^(1/concentration) for E ~ Exp(1)."""

    _derived: ClassVar[tuple] = ("concentration_reciprocal",)

    arg_constraints: ClassVar[dict] = {"scale": constraints.positive,
                                       "concentration": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, scale, concentration, validate_args=None) -> None:
        from .continuous import Exponential
        from .transforms import AffineTransform, PowerTransform
        from .utils import broadcast_all

        self.scale, self.concentration = broadcast_all(scale, concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        base = Exponential(creation.ones_like(self.scale), validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration_reciprocal),
                      AffineTransform(loc=0, scale=self.scale)]
        super().__init__(base, transforms, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        from .. import ops

        return self.scale * ops.exp(ops.lgamma(1 + self.concentration_reciprocal))

    @property
    def mode(self) -> Tensor:
        return (self.scale * ((self.concentration - 1) / self.concentration)
                .pow(self.concentration.reciprocal())).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        from .. import ops

        return self.scale.pow(2) * (ops.exp(ops.lgamma(1 + 2 * self.concentration_reciprocal))
                                    - ops.exp(2 * ops.lgamma(1 + self.concentration_reciprocal)))

    def entropy(self) -> Tensor:
        return (_EULER * (1 - self.concentration_reciprocal)
                + (self.scale / self.concentration).log() + 1)


class Gumbel(TransformedDistribution):
    """``Gumbel(loc, scale)``: the extreme-value distribution, loc − scale · log(−log U)."""

    arg_constraints: ClassVar[dict] = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None) -> None:
        from .transforms import AffineTransform
        from .uniform import Uniform
        from .utils import broadcast_all

        self.loc, self.scale = broadcast_all(loc, scale)
        info = np.finfo(self.loc.dtype)
        base = Uniform(creation.full_like(self.loc, float(info.tiny)),
                       creation.full_like(self.loc, 1 - float(info.eps)),
                       validate_args=validate_args)
        transforms = [ExpTransform().inv, AffineTransform(loc=0, scale=-creation.ones_like(self.scale)),
                      ExpTransform().inv, AffineTransform(loc=self.loc, scale=-self.scale)]
        super().__init__(base, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Gumbel:
        new = super().expand(batch_shape)
        new.loc = self.loc.expand(tuple(batch_shape))
        new.scale = self.scale.expand(tuple(batch_shape))
        return new

    def log_prob(self, value) -> Tensor:
        y = (self.loc - as_tensor(value)) / self.scale
        return (y - y.exp()) - self.scale.log()

    @property
    def mean(self) -> Tensor:
        return self.loc + self.scale * _EULER

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self) -> Tensor:
        return self.stddev.pow(2)

    def entropy(self) -> Tensor:
        return self.scale.log() + (1 + _EULER)


_EULER = 0.57721566490153286060


class InverseGamma(TransformedDistribution):
    """``InverseGamma(concentration, rate)``: 1 / X for X ~ Gamma(concentration, rate)."""

    arg_constraints: ClassVar[dict] = {"concentration": constraints.positive,
                                       "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None) -> None:
        from .continuous import Gamma
        from .transforms import PowerTransform

        base = Gamma(concentration, rate, validate_args=validate_args)
        self.concentration, self.rate = base.concentration, base.rate
        super().__init__(base, PowerTransform(-creation.ones_like(base.rate)),
                         validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        from .. import ops

        return ops.where(self.concentration > 1, self.rate / (self.concentration - 1),
                         creation.full_like(self.rate, float("inf")))

    @property
    def mode(self) -> Tensor:
        return self.rate / (self.concentration + 1)

    @property
    def variance(self) -> Tensor:
        from .. import ops

        c = self.concentration
        return ops.where(c > 2, self.rate.pow(2) / ((c - 1).pow(2) * (c - 2)),
                         creation.full_like(self.rate, float("inf")))

    def entropy(self) -> Tensor:
        from .. import ops

        c = self.concentration
        return c + self.rate.log() + ops.lgamma(c) - (1 + c) * ops.digamma(c)


class Kumaraswamy(TransformedDistribution):
    """``Kumaraswamy(concentration1, concentration0)`` on (0, 1): density
    a·b·x^(a−1)(1 − x^a)^(b−1), drawn as (1 − (1 − U)^(1/b))^(1/a)."""

    arg_constraints: ClassVar[dict] = {"concentration1": constraints.positive,
                                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None) -> None:
        from .transforms import AffineTransform, PowerTransform
        from .uniform import Uniform
        from .utils import broadcast_all

        self.concentration1, self.concentration0 = broadcast_all(concentration1,
                                                                 concentration0)
        tiny = float(np.finfo(self.concentration0.array.dtype).tiny)
        base = Uniform(creation.full_like(self.concentration0, tiny),
                       creation.full_like(self.concentration0, 1 - tiny),
                       validate_args=validate_args)
        transforms = [PowerTransform(self.concentration0.reciprocal()),
                      AffineTransform(loc=1.0, scale=-1.0),
                      PowerTransform(self.concentration1.reciprocal())]
        super().__init__(base, transforms, validate_args=validate_args)

    def log_prob(self, value) -> Tensor:
        """log a + log b + (a − 1) log x + (b − 1) log(1 − x^a), in closed form: through
        the transforms, x near 0 or 1 rounds to the ends of the base's support."""
        from .. import ops, special

        value = as_tensor(value)
        self._check_value(value, (value.array >= 0) & (value.array <= 1),
                          "Interval(lower_bound=0.0, upper_bound=1.0)")
        a, b = self.concentration1, self.concentration0
        return (a.log() + b.log() + ops.xlogy(a - 1, value)
                + special.xlog1py(b - 1, -value.pow(a)))

    def _moment(self, n: int) -> Tensor:
        from .. import ops

        arg1 = 1 + n / self.concentration1
        log_value = (ops.lgamma(arg1) + ops.lgamma(self.concentration0)
                     - ops.lgamma(arg1 + self.concentration0))
        return self.concentration0 * ops.exp(log_value)

    @property
    def mean(self) -> Tensor:
        return self._moment(1)

    @property
    def mode(self) -> Tensor:
        """((a − 1) / (ab − 1))^(1/a) where a, b ≥ 1, else NaN. (PyTorch 2.13's formula
        gives NaN for every b > 1: log1p(−b).)"""
        from .. import ops

        a, b = self.concentration1, self.concentration0
        value = ((a - 1) / (a * b - 1)).pow(a.reciprocal())
        return ops.where((a < 1) | (b < 1), creation.full_like(a, float("nan")), value)

    @property
    def variance(self) -> Tensor:
        return self._moment(2) - self._moment(1).pow(2)

    def entropy(self) -> Tensor:
        from .. import ops

        t1 = 1 - self.concentration1.reciprocal()
        t0 = 1 - self.concentration0.reciprocal()
        h0 = ops.digamma(self.concentration0 + 1) + 0.5772156649015329
        return t0 + t1 * h0 - self.concentration1.log() - self.concentration0.log()


class LogisticNormal(TransformedDistribution):
    """``LogisticNormal(loc, scale)`` on the simplex of K + 1 entries: the stick-breaking
    transform of a Normal(loc, scale) vector of K."""

    arg_constraints: ClassVar[dict] = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None) -> None:
        from .transforms import StickBreakingTransform

        base = Normal(loc, scale, validate_args=validate_args)
        if not base.batch_shape:
            base = base.expand((1,))
        super().__init__(base, StickBreakingTransform(), validate_args=validate_args)

    @property
    def loc(self) -> Tensor:
        return self.base_dist.loc

    @property
    def scale(self) -> Tensor:
        return self.base_dist.scale
