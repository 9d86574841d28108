"""Special functions (lgamma, digamma, polygamma, erfc, erfinv), each one registry entry.

SciPy computes them where it is installed; the core depends on NumPy only, so each has a
NumPy form too (a shifted asymptotic series for the gamma family, Newton steps on erf for
erfinv), accurate to about 1e-13 in float64 (tests/test_tensor_more_torch.py checks it
against SciPy and PyTorch).
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor, as_tensor, get_default_dtype, record
from .primitives import _erf_forward
from .registry import Op, expose, unary

try:  # optional: the NumPy forms below serve when SciPy is missing
    from scipy import special as _scipy
except ImportError:  # pragma: no cover - exercised through the _numpy_* functions
    _scipy = None

# the Bernoulli numbers B_2, B_4, ..., B_16 of the asymptotic series
_B2K = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510]


def _shape_back(out, x):
    out = np.asarray(out, dtype=x.dtype)
    return out[()] if np.ndim(x) == 0 else out


def _numpy_lgamma(x):
    def one(v):
        try:
            return math.lgamma(v)
        except ValueError:  # a pole (0, -1, -2, ...): Γ is infinite
            return math.inf
    return _shape_back(np.frompyfunc(one, 1, 1)(np.asarray(x, dtype=np.float64)), x)


def _hurwitz_tail(s: float, a: np.ndarray) -> np.ndarray:
    """ζ(s, a) = Σ_{k≥0} (a + k)^-s for a ≥ 10, by Euler-Maclaurin:
    a^(1-s)/(s-1) + a^-s/2 + Σ_j B_2j/(2j)! · s(s+1)…(s+2j-2) · a^(-s-2j+1)."""
    total = a ** (1 - s) / (s - 1) + 0.5 * a ** -s
    rising, power = s, a ** (-s - 1)
    for j, b in enumerate(_B2K, start=1):
        total = total + b / math.factorial(2 * j) * rising * power
        rising *= (s + 2 * j - 1) * (s + 2 * j)
        power = power / (a * a)
    return total


def _numpy_polygamma(n: int, x):
    """ψ⁽ⁿ⁾(x) = (-1)ⁿ⁺¹ n! ζ(n + 1, x) for n ≥ 1; digamma (n = 0) by the shifted series."""
    v = np.asarray(x, dtype=np.float64)
    if n == 0:
        return _shape_back(_numpy_digamma(v), x)
    pole = (v <= 0) & (v == np.floor(v))
    a = np.where(pole, 1.0, v)
    shifts = int(np.ceil(max(0.0, 10.0 - float(np.min(a, initial=10.0)))))
    head = np.zeros_like(a)
    for k in range(shifts):
        head += np.where(a + k < 10.0, (a + k) ** (-(n + 1.0)), 0.0)
    start = a + np.maximum(np.ceil(10.0 - a), 0.0)
    total = head + _hurwitz_tail(n + 1.0, start)
    out = (-1.0) ** (n + 1) * math.factorial(n) * total
    return _shape_back(np.where(pole, np.inf if n % 2 else -np.inf, out), x)


def _numpy_digamma(x):
    v = np.asarray(x, dtype=np.float64)
    pole = (v <= 0) & (v == np.floor(v))
    reflect = v < 0
    a = np.where(reflect, 1.0 - v, v)  # ψ(x) = ψ(1 - x) - π / tan(πx) for x < 0
    a = np.where(pole, 1.0, a)
    result = np.zeros_like(a)
    for _ in range(10):  # ψ(a) = ψ(a + 1) - 1/a until a ≥ 10
        small = a < 10.0
        result = result - np.where(small, 1.0 / np.where(small, a, 1.0), 0.0)
        a = np.where(small, a + 1.0, a)
    inv2 = 1.0 / (a * a)
    series = np.zeros_like(a)
    power = inv2.copy()
    for k, b in enumerate(_B2K, start=1):
        series = series + b / (2 * k) * power
        power = power * inv2
    result = result + np.log(a) - 0.5 / a - series
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.where(reflect, result - np.pi / np.tan(np.pi * v), result)
    return np.where(pole, np.where(v == 0, -np.inf, np.nan), result)


def _numpy_erfc(x):
    return _shape_back(np.frompyfunc(math.erfc, 1, 1)(np.asarray(x, dtype=np.float64)), x)


def _numpy_erfinv(y):
    """Inverse of erf on [-1, 1]: a rational first guess, then Newton steps on erf."""
    v = np.asarray(y, dtype=np.float64)
    inside = np.abs(v) < 1
    w = np.where(inside, v, 0.0)
    # Giles' single-precision approximation as the starting point
    t = -np.log((1.0 - w) * (1.0 + w))
    small = t < 5.0
    u = np.where(small, t - 2.5, np.sqrt(t) - 3.0)
    p_small = [2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
               0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941]
    p_large = [-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
               0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682]
    ps, pl = np.full_like(u, p_small[0]), np.full_like(u, p_large[0])
    for cs, cl in zip(p_small[1:], p_large[1:]):
        ps, pl = ps * u + cs, pl * u + cl
    guess = np.where(small, ps, pl) * w
    for _ in range(3):
        err = _erf_forward(guess) - w
        guess = guess - err / (2 / math.sqrt(math.pi) * np.exp(-guess * guess))
    out = np.where(inside, guess, np.where(np.abs(v) == 1, np.where(v > 0, np.inf, -np.inf),
                                          np.nan))
    return _shape_back(out, y)


def _lgamma(x):
    return _shape_back(_scipy.gammaln(x), x) if _scipy is not None else _numpy_lgamma(x)


def _digamma(x):
    return _shape_back(_scipy.digamma(x), x) if _scipy is not None else \
        _shape_back(_numpy_digamma(x), x)


def _erfc(x):
    return _shape_back(_scipy.erfc(x), x) if _scipy is not None else _numpy_erfc(x)


def _erfinv(x):
    return _shape_back(_scipy.erfinv(x), x) if _scipy is not None else _numpy_erfinv(x)


lgamma = unary("lgamma", _lgamma, lambda F, g, ans, c, x: (g * F.digamma(x),),
               formula="ψ({x})", domain="positive",
               hint="lgamma is infinite at 0, -1, -2, ... (the poles of Γ)")
digamma = unary("digamma", _digamma, lambda F, g, ans, c, x: (g * F.polygamma(1, x),),
                formula="ψ'({x})", domain="positive",
                hint="digamma is infinite at 0 and nan at the negative integers")
erfc = unary("erfc", _erfc, lambda F, g, ans, c, x: (g * (-2 / math.sqrt(math.pi)
                                                          * F.exp(-x * x)),),
             formula="-2/√π·exp(-{x}²)")
erfinv = unary("erfinv", _erfinv,
               lambda F, g, ans, c, x: (g * (math.sqrt(math.pi) / 2 * F.exp(ans * ans)),),
               reads=("output",), formula="√π/2·exp(erfinv({x})²)", domain="unit",
               hint="erfinv(±1) = ±inf and erfinv(|x| > 1) = nan")


def _polygamma_vjp(F, g, ans, n, x):
    return (g * F.polygamma(n + 1, x),)


POLYGAMMA = Op("polygamma", _polygamma_vjp, reads=("inputs",), formula="ψ⁽ⁿ⁺¹⁾({x})",
               method=False, function=True, domain="positive",
               hint="polygamma is infinite at 0, -1, -2, ...",
               cases=[lambda rng: ((1, rng.uniform(0.3, 4.0, (3,))), {}),
                      lambda rng: ((2, rng.uniform(0.3, 4.0, (2, 2))), {})])


@POLYGAMMA.define
def polygamma(n: int, x) -> Tensor:
    """The n-th derivative of digamma (n = 0: digamma itself)."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"polygamma: n must be a non-negative int, got {n!r}")
    x = as_tensor(x)
    if x.array.dtype.kind not in "fc":
        x = as_tensor(x.array.astype(get_default_dtype()))
    if n == 0:
        return digamma(x)
    if _scipy is not None:
        data = _shape_back(_scipy.polygamma(int(n), x.array), x.array)
    else:
        data = _numpy_polygamma(int(n), x.array)
    return record(data, POLYGAMMA, (x,), int(n))


def _polygamma_method(self, n: int) -> Tensor:
    return polygamma(n, self)


Tensor.polygamma = _polygamma_method


@expose
def mvlgamma(x, p: int) -> Tensor:
    """The multivariate log-gamma of dimension p: Σ_j lgamma(x - j/2) + p(p-1)/4·log π."""
    from . import primitives as P

    x = as_tensor(x)
    total = None
    for j in range(p):
        term = lgamma(P.sub(x, j / 2))
        total = term if total is None else P.add(total, term)
    return P.add(total, p * (p - 1) / 4 * math.log(math.pi))

