"""More continuous distributions: Exponential, Laplace, Cauchy, StudentT, Gamma, Beta and
Dirichlet (their densities, entropies and moments are PyTorch's formulas).

Gamma, Beta and Dirichlet draw with NumPy; their ``rsample`` carries the implicit
reparameterization gradient of each Gamma draw (``standard_gamma_grad``).
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .. import creation, ops
from .._tensor import Tensor, as_tensor
from ..autograd.function import Function
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Beta", "Cauchy", "Chi2", "Dirichlet", "Exponential", "Gamma", "Laplace", "StudentT"]


def _noise(dist: Distribution, shape, draw) -> Tensor:
    return as_tensor(np.asarray(draw(dist._rng(), shape), dtype=dist._dtype))


class _Elementwise(Distribution):
    """Shared construction: parameters broadcast together, each checked as declared."""

    _checks: ClassVar[dict] = {}

    def __init__(self, validate_args=None, **params) -> None:
        tensors = broadcast_all(*params.values())
        for name, t in zip(params, tensors):
            setattr(self, name, t)
        super().__init__(tensors[0].shape, (), validate_args)
        self._dtype = tensors[0].dtype
        for name, (test, constraint) in self._checks.items():
            value = getattr(self, name)
            self._check_parameter(name, test(value.array), constraint, value)

    def _expand_names(self) -> tuple:
        return tuple(self.arg_constraints)


_POSITIVE = (lambda a: a > 0, "GreaterThan(lower_bound=0.0)")
_REAL = (lambda a: ~np.isnan(a), "Real() (not NaN)")


class Exponential(_Elementwise):
    """``Exponential(rate)``: density rate·exp(−rate·x) on x ≥ 0."""

    arg_constraints: ClassVar[dict] = {"rate": constraints.positive}
    support = constraints.nonnegative
    _checks: ClassVar[dict] = {"rate": _POSITIVE}
    has_rsample = True

    def __init__(self, rate, validate_args=None) -> None:
        super().__init__(validate_args, rate=rate)

    @property
    def mean(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        return creation.zeros_like(self.rate)

    @property
    def stddev(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def variance(self) -> Tensor:
        return self.rate.pow(-2)

    def rsample(self, sample_shape=()) -> Tensor:
        eps = _noise(self, self._extended_shape(sample_shape), lambda r, s: r.exponential(size=s))
        return eps / self.rate

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value)
        self._check_value(value, value.array >= 0, "GreaterThanEq(lower_bound=0.0)")
        return self.rate.log() - self.rate * value

    def cdf(self, value) -> Tensor:
        return 1 - ops.exp(-self.rate * as_tensor(value))

    def icdf(self, value) -> Tensor:
        return -ops.log1p(-as_tensor(value)) / self.rate

    def entropy(self) -> Tensor:
        return 1.0 - self.rate.log()


class Laplace(_Elementwise):
    """``Laplace(loc, scale)``: density exp(−|x − loc|/scale) / (2·scale)."""

    arg_constraints: ClassVar[dict] = {"loc": constraints.real,
                                       "scale": constraints.positive}
    support = constraints.real
    _checks: ClassVar[dict] = {"loc": _REAL, "scale": _POSITIVE}
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None) -> None:
        super().__init__(validate_args, loc=loc, scale=scale)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return math.sqrt(2) * self.scale

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale.pow(2)

    def rsample(self, sample_shape=()) -> Tensor:
        tiny = float(np.finfo(self._dtype).eps)
        u = _noise(self, self._extended_shape(sample_shape),
                   lambda r, s: r.uniform(tiny - 1, 1, size=s))
        return self.loc - self.scale * u.sign() * ops.log1p(-u.abs())

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value)
        return -ops.log(2 * self.scale) - (value - self.loc).abs() / self.scale

    def cdf(self, value) -> Tensor:
        d = as_tensor(value) - self.loc
        return 0.5 - 0.5 * d.sign() * ops.expm1(-d.abs() / self.scale)

    def icdf(self, value) -> Tensor:
        term = as_tensor(value) - 0.5
        return self.loc - self.scale * term.sign() * ops.log1p(-2 * term.abs())

    def entropy(self) -> Tensor:
        return 1 + ops.log(2 * self.scale)


class Cauchy(_Elementwise):
    """``Cauchy(loc, scale)``: mean and variance are undefined (inf / NaN, as PyTorch)."""

    arg_constraints: ClassVar[dict] = {"loc": constraints.real,
                                       "scale": constraints.positive}
    support = constraints.real
    _checks: ClassVar[dict] = {"loc": _REAL, "scale": _POSITIVE}
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None) -> None:
        super().__init__(validate_args, loc=loc, scale=scale)

    @property
    def mean(self) -> Tensor:
        return creation.full_like(self.loc, float("nan"))

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return creation.full_like(self.loc, float("inf"))

    def rsample(self, sample_shape=()) -> Tensor:
        eps = _noise(self, self._extended_shape(sample_shape), lambda r, s: r.standard_cauchy(s))
        return self.loc + eps * self.scale

    def log_prob(self, value) -> Tensor:
        z = (as_tensor(value) - self.loc) / self.scale
        return -math.log(math.pi) - self.scale.log() - ops.log1p(z ** 2)

    def cdf(self, value) -> Tensor:
        return ops.atan((as_tensor(value) - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value) -> Tensor:
        return ops.tan(math.pi * (as_tensor(value) - 0.5)) * self.scale + self.loc

    def entropy(self) -> Tensor:
        return math.log(4 * math.pi) + self.scale.log()


class StudentT(_Elementwise):
    """``StudentT(df, loc=0.0, scale=1.0)``."""

    arg_constraints: ClassVar[dict] = {"df": constraints.positive, "loc": constraints.real,
                                       "scale": constraints.positive}
    support = constraints.real
    _checks: ClassVar[dict] = {"df": _POSITIVE, "loc": _REAL, "scale": _POSITIVE}
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None) -> None:
        super().__init__(validate_args, df=df, loc=loc, scale=scale)

    @property
    def mean(self) -> Tensor:
        return self.loc.masked_fill(self.df <= 1, float("nan"))

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        var = self.scale.pow(2) * self.df / (self.df - 2)
        var = var.masked_fill((self.df <= 2) & (self.df > 1), float("inf"))
        return var.masked_fill(self.df <= 1, float("nan"))

    def rsample(self, sample_shape=()) -> Tensor:
        """loc + scale · X / √(Z / df) for X ~ Normal(0, 1), Z ~ Chi2(df) (PyTorch's way):
        gradients reach loc, scale and df (through Z's implicit gradient)."""
        shape = tuple(self._extended_shape(sample_shape))
        x = as_tensor(self._rng().standard_normal(shape))
        z = 2.0 * _standard_gamma_rsample(self, 0.5 * self.df, shape)  # Chi2(df), float64
        y = (x * (z / self.df.to(z.dtype)).rsqrt()).to(self._dtype)
        return self.loc + self.scale * y

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        t = self._rng().standard_t(np.broadcast_to(self.df.array, shape))
        return as_tensor((self.loc.array + self.scale.array * t).astype(self._dtype))

    def log_prob(self, value) -> Tensor:
        y = (as_tensor(value) - self.loc) / self.scale
        Z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi)
             + ops.lgamma(0.5 * self.df) - ops.lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * ops.log1p(y ** 2.0 / self.df) - Z

    def entropy(self) -> Tensor:
        lbeta = ops.lgamma(0.5 * self.df) + math.lgamma(0.5) - ops.lgamma(0.5 * (self.df + 1))
        return (self.scale.log() + 0.5 * (self.df + 1) * (ops.digamma(0.5 * (self.df + 1))
                                                          - ops.digamma(0.5 * self.df))
                + 0.5 * self.df.log() + lbeta)


_SERIES_LIMIT = 1e4  # larger concentrations take the Wilson-Hilferty form


def standard_gamma_grad(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """dx/dα of a Gamma(α, 1) draw x held at its quantile u = P(α, x): the implicit
    reparameterization gradient −(∂P/∂α)(α, x) / p(x; α) (PyTorch's ``rsample``).

    From P(α, x) = e^(−x) Σₙ x^(α+n) / Γ(α+n+1), dx/dα = Σₙ rₙ (ψ(α+n+1) − log x) with
    rₙ = x^(n+1) Γ(α) / Γ(α+n+1), summed until the terms vanish (about 12√α of them).
    Past α = 10⁴, the Wilson-Hilferty form x = α (1 − 1/(9α) + z/(3√α))³ differentiated at
    fixed z (relative error below 10⁻⁶ there)."""
    from ..ops.special_ops import _digamma

    alpha, x = np.broadcast_arrays(np.asarray(alpha, np.float64), np.asarray(x, np.float64))
    out = np.empty(alpha.shape)
    big = alpha > _SERIES_LIMIT
    if big.any():
        a, t = alpha[big], np.cbrt(x[big] / alpha[big])
        z = (t - 1 + 1 / (9 * a)) * 3 * np.sqrt(a)
        dt = 1 / (9 * a ** 2) - z / (6 * a ** 1.5)
        out[big] = t ** 3 + 3 * a * t ** 2 * dt
    small = ~big
    if small.any():
        a, v = alpha[small], x[small]
        log_v = np.log(v)
        ratio = v / a
        psi = _digamma(a + 1)
        total = ratio * (psi - log_v)
        n = 0
        while True:
            n += 1
            psi = psi + 1 / (a + n)
            ratio = ratio * v / (a + n)
            term = ratio * (psi - log_v)
            total = total + term
            shrinking = v < a + n
            if (shrinking & (np.abs(term) <= 1e-17 * np.abs(total))).all() or n > 100_000:
                break
        out[small] = total
    return out


class _StandardGammaDraw(Function):
    """A Gamma(α, 1) draw, ``apply(alpha, draw)``, with the implicit gradient in α: what
    Gamma, Beta and Dirichlet's ``rsample`` are built on."""

    formula = "−(∂P/∂α) / p(x)"

    @staticmethod
    def forward(ctx, alpha, draw):
        ctx.save_for_backward(alpha, draw)
        return draw.clone()

    @staticmethod
    def backward(ctx, grad):
        alpha, draw = ctx.saved_tensors
        local = as_tensor(standard_gamma_grad(alpha.numpy(), draw.numpy()))
        return (grad * local).to(alpha.dtype), None


def _standard_gamma_rsample(dist: Distribution, concentration: Tensor, shape) -> Tensor:
    """Gamma(concentration, 1) draws of ``shape`` in float64 that carry the implicit
    gradient: the callers scale or normalize them in float64 (small concentrations draw
    numbers far below float32's range) and end with ``_in_dtype``."""
    alpha = concentration.expand(tuple(shape))
    draw = dist._rng().standard_gamma(np.broadcast_to(concentration.array, tuple(shape)))
    draw = np.maximum(draw, np.finfo(np.float64).tiny)
    return _StandardGammaDraw.apply(alpha, as_tensor(draw))


def _in_dtype(x: Tensor, dtype) -> Tensor:
    """``x`` in ``dtype``, at least its smallest normal number, so that log_prob stays
    finite; the gradient is x's (PyTorch clamps the detached draw the same way)."""
    y = x.to(dtype)
    return y + (y.clamp(min=float(np.finfo(dtype).tiny)) - y).detach()


class Gamma(_Elementwise):
    """``Gamma(concentration, rate)``: density ∝ x^(α−1) exp(−β x)."""

    arg_constraints: ClassVar[dict] = {"concentration": constraints.positive,
                                       "rate": constraints.positive}
    support = constraints.nonnegative
    _checks: ClassVar[dict] = {"concentration": _POSITIVE, "rate": _POSITIVE}
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None) -> None:
        super().__init__(validate_args, concentration=concentration, rate=rate)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.pow(2)

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        g = self._rng().standard_gamma(np.broadcast_to(self.concentration.array, shape))
        tiny = np.finfo(self._dtype).tiny
        return as_tensor(np.maximum(g / self.rate.array, tiny).astype(self._dtype))

    def rsample(self, sample_shape=()) -> Tensor:
        """Draws that carry gradients to ``concentration`` (the implicit gradient, see
        ``standard_gamma_grad``) and ``rate``."""
        shape = self._extended_shape(sample_shape)
        draws = _standard_gamma_rsample(self, self.concentration, shape)
        return _in_dtype(draws / self.rate.expand(tuple(shape)).to(draws.dtype), self._dtype)

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value)
        self._check_value(value, value.array >= 0, "GreaterThanEq(lower_bound=0.0)")
        return (ops.xlogy(self.concentration, self.rate) + ops.xlogy(self.concentration - 1, value)
                - self.rate * value - ops.lgamma(self.concentration))

    def entropy(self) -> Tensor:
        return (self.concentration - self.rate.log() + ops.lgamma(self.concentration)
                + (1.0 - self.concentration) * ops.digamma(self.concentration))


class Chi2(Gamma):
    """``Chi2(df)``: Gamma(df / 2, 1/2)."""

    arg_constraints: ClassVar[dict] = {"df": constraints.positive}

    def __init__(self, df, validate_args=None) -> None:
        (df,) = broadcast_all(df)
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    @property
    def df(self) -> Tensor:
        return self.concentration * 2

    def _expand_names(self) -> tuple:
        return ("concentration", "rate")


class Dirichlet(Distribution):
    """``Dirichlet(concentration)`` over the simplex of the last axis."""

    arg_constraints: ClassVar[dict] = {
        "concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None) -> None:
        concentration = as_tensor(concentration)
        if concentration.ndim < 1:
            raise ValueError("Dirichlet: concentration needs at least one dimension, got a "
                             "scalar")
        self.concentration = concentration
        self._dtype = concentration.dtype
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args)
        self._check_parameter("concentration", concentration.array > 0,
                              "IndependentConstraint(GreaterThan(lower_bound=0.0), 1)",
                              concentration)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Tensor:
        concm1 = (self.concentration - 1).clamp(min=0.0)
        return concm1 / concm1.sum(-1, keepdim=True)

    @property
    def variance(self) -> Tensor:
        con0 = self.concentration.sum(-1, keepdim=True)
        return (self.concentration * (con0 - self.concentration)
                / (con0.pow(2) * (con0 + 1)))

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        g = self._rng().standard_gamma(np.broadcast_to(self.concentration.array, shape))
        g = np.maximum(g, np.finfo(self._dtype).tiny)
        return as_tensor((g / g.sum(-1, keepdims=True)).astype(self._dtype))

    def rsample(self, sample_shape=()) -> Tensor:
        """Normalized Gamma draws whose gradient flows through each draw's implicit
        gradient: unbiased, but per draw not the same numbers as PyTorch's, which
        differentiates the Beta marginals instead."""
        g = _standard_gamma_rsample(self, self.concentration, self._extended_shape(sample_shape))
        return _in_dtype(g / g.sum(-1, keepdim=True), self._dtype)

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value)
        ok = (value.array >= 0).all() and np.allclose(value.array.sum(-1), 1, atol=1e-6)
        self._check_value(value, ok, "Simplex()")
        return (ops.xlogy(self.concentration - 1.0, value).sum(-1)
                + ops.lgamma(self.concentration.sum(-1)) - ops.lgamma(self.concentration).sum(-1))

    def entropy(self) -> Tensor:
        k = self.concentration.shape[-1]
        a0 = self.concentration.sum(-1)
        return (ops.lgamma(self.concentration).sum(-1) - ops.lgamma(a0)
                - (k - a0) * ops.digamma(a0)
                - ((self.concentration - 1.0) * ops.digamma(self.concentration)).sum(-1))

    def _expand_names(self) -> tuple:
        return ("concentration",)


class Beta(Distribution):
    """``Beta(concentration1, concentration0)`` on (0, 1) (a two-class Dirichlet, as in
    PyTorch)."""

    arg_constraints: ClassVar[dict] = {"concentration1": constraints.positive,
                                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def rsample(self, sample_shape=()) -> Tensor:
        """X / (X + Y) for X ~ Gamma(concentration1), Y ~ Gamma(concentration0), their
        implicit gradients carried through (see Dirichlet.rsample)."""
        return self._dirichlet.rsample(sample_shape)[..., 0]

    def __init__(self, concentration1, concentration0, validate_args=None) -> None:
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        self._dtype = self.concentration1.dtype
        super().__init__(self.concentration1.shape, (), validate_args)
        for name in ("concentration1", "concentration0"):
            value = getattr(self, name)
            self._check_parameter(name, value.array > 0, "GreaterThan(lower_bound=0.0)", value)

    @property
    def _dirichlet(self) -> Dirichlet:
        return Dirichlet(ops.stack([self.concentration1, self.concentration0], -1),
                         validate_args=False)

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        draws = self._rng().beta(np.broadcast_to(self.concentration1.array, shape),
                                 np.broadcast_to(self.concentration0.array, shape))
        eps = np.finfo(self._dtype).eps
        return as_tensor(np.clip(draws, eps, 1 - eps).astype(self._dtype))

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value)
        self._check_value(value, (value.array >= 0) & (value.array <= 1), "Interval(0.0, 1.0)")
        heads_tails = ops.stack([value, 1.0 - value], -1)
        return self._dirichlet.log_prob(heads_tails)

    def entropy(self) -> Tensor:
        return self._dirichlet.entropy()

    def _expand_names(self) -> tuple:
        return ("concentration1", "concentration0")
