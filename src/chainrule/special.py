"""``torch.special``: the special functions chainrule has, under PyTorch's names (each one
the registered op or composite of the same meaning, so gradients are the same)."""

from __future__ import annotations

import math

import numpy as _np

from .ops import primitives as _P
from .ops import special_ops as _S
from .ops import tensor_api as _api


def expit(x):
    return _P.sigmoid(x)


def logit(x, eps=None):
    return _api.logit(x, eps)


def erf(x):
    return _P.erf(x)


def erfc(x):
    return _S.erfc(x)


def xlogy(x, y):
    return _api.xlogy(x, y)


def xlog1py(x, y):
    """``x * log1p(y)``, 0 where x is 0."""
    from ._tensor import as_tensor

    x, y = _P._pair(x, y)
    # masked only where log1p(y) is not finite (see xlogy: the derivative in x at x = 0
    # is log1p(y), as PyTorch's)
    zero = (x.array == 0) & ((y.array <= -1) | _np.isinf(y.array))
    safe = _P.where(zero, 0.0, as_tensor(y))
    return _P.where(zero, 0.0, _P.mul(x, _P.log1p(safe)))


def entr(x):
    """-x log x for x > 0, 0 at 0, -inf below 0."""
    from ._tensor import as_tensor

    x = as_tensor(x)
    positive = x.array > 0
    safe = _P.where(positive, x, 1.0)
    inner = _P.neg(_P.mul(safe, _P.log(safe)))
    return _P.where(positive, inner, _P.where(x.array == 0, 0.0, -math.inf))


def gammaln(x):
    return _S.lgamma(x)


def digamma(x):
    return _S.digamma(x)


psi = digamma


def polygamma(n: int, x):
    return _S.polygamma(n, x)


def multigammaln(x, p: int):
    return _S.mvlgamma(x, p)


def erfinv(x):
    return _S.erfinv(x)


def sinc(x):
    return _api.sinc(x)


def log1p(x):
    return _P.log1p(x)


def expm1(x):
    return _P.expm1(x)


def exp2(x):
    return _P.exp2(x)


def round(x, *, decimals: int = 0):
    return _api.round(x, decimals=decimals)


def logsumexp(x, dim, keepdim: bool = False):
    return _P.logsumexp(x, axis=dim, keepdims=keepdim)


def softmax(x, dim, *, dtype=None):
    return _P.softmax(x, dim, dtype)


def log_softmax(x, dim, *, dtype=None):
    return _P.log_softmax(x, dim, dtype)


def ndtr(x):
    """The standard normal CDF, Φ(x) = (1 + erf(x/√2)) / 2."""
    return _P.mul(_P.add(_P.erf(_P.mul(x, 1 / math.sqrt(2))), 1.0), 0.5)


def ndtri(p):
    """The standard normal quantile Φ⁻¹(p) = √2 · erfinv(2p − 1) (its gradient
    √(2π)·exp(ndtri(p)²/2) through erfinv's rule). Far in the tails (p below ~1e-8) the
    subtraction 2p − 1 costs relative accuracy that PyTorch's direct series keeps."""
    return _P.mul(_S.erfinv(_P.sub(_P.mul(p, 2.0), 1.0)), math.sqrt(2))


def log_ndtr(x):
    return _P.log(ndtr(x))


def __getattr__(name: str):
    raise AttributeError(
        f"chainrule.special has no {name!r}: it has expit, logit, erf, erfc, xlogy, "
        "xlog1py, entr, sinc, log1p, expm1, exp2, round, logsumexp, softmax, log_softmax, "
        "ndtr, ndtri, log_ndtr, gammaln, digamma/psi, polygamma, multigammaln, erfinv (Bessel "
        "functions, zeta and the incomplete gamma functions are not in chainrule)")
