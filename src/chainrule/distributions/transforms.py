"""Invertible maps for ``TransformedDistribution`` (PyTorch's torch.distributions.
transforms): each knows its inverse and log|det J|; ``cache_size=1`` returns the input
of the last call when its output is inverted (SAC's tanh-squashed actions)."""

from __future__ import annotations

import math

import numpy as np

from .. import ops
from .._tensor import Tensor, as_tensor
from ..nn import functional as F

__all__ = ["AffineTransform", "ComposeTransform", "ExpTransform", "PowerTransform",
           "SigmoidTransform", "SoftmaxTransform", "SoftplusTransform", "StickBreakingTransform",
           "TanhTransform", "Transform", "biject_to", "identity_transform", "transform_to"]


class Transform:
    """An elementwise invertible map y = f(x): ``__call__``, ``inv``, ``log_abs_det_jacobian``
    (x, y). Subclasses give ``_call``, ``_inverse`` and ``log_abs_det_jacobian``."""

    bijective = True
    sign = 1
    event_dim = 0

    def __init__(self, cache_size: int = 0) -> None:
        if cache_size not in (0, 1):
            raise ValueError(f"{type(self).__name__}: cache_size must be 0 or 1, got "
                             f"{cache_size!r}")
        self._cache_size = cache_size
        self._cached = (None, None)

    def __call__(self, x) -> Tensor:
        x = as_tensor(x)
        if self._cache_size and self._cached[0] is x:
            return self._cached[1]
        y = self._call(x)
        if self._cache_size:
            self._cached = (x, y)
        return y

    @property
    def inv(self) -> _Inverse:
        return _Inverse(self)

    def _inv_call(self, y) -> Tensor:
        y = as_tensor(y)
        if self._cache_size and self._cached[1] is y:
            return self._cached[0]
        x = self._inverse(y)
        if self._cache_size:
            self._cached = (x, y)
        return x

    def _call(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def _inverse(self, y: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no inverse")

    def log_abs_det_jacobian(self, x, y) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.log_abs_det_jacobian")

    def forward_shape(self, shape) -> tuple:
        """The shape of y for x of ``shape`` (the same, but for the stick-breaking one)."""
        return tuple(shape)

    def inverse_shape(self, shape) -> tuple:
        return tuple(shape)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _Inverse(Transform):
    def __init__(self, transform: Transform) -> None:
        super().__init__(0)
        self._inv = transform

    def __call__(self, x) -> Tensor:
        return self._inv._inv_call(x)

    @property
    def inv(self) -> Transform:
        return self._inv

    def log_abs_det_jacobian(self, x, y) -> Tensor:
        return -self._inv.log_abs_det_jacobian(y, x)

    def forward_shape(self, shape) -> tuple:
        return self._inv.inverse_shape(shape)

    def inverse_shape(self, shape) -> tuple:
        return self._inv.forward_shape(shape)


class ExpTransform(Transform):
    """y = exp(x)."""

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return as_tensor(x)


class SigmoidTransform(Transform):
    """y = sigmoid(x); the inverse clamps y inside (tiny, 1 - eps) as PyTorch does."""

    def _call(self, x):
        return x.sigmoid()

    def _inverse(self, y):
        info = np.finfo(y.dtype)
        y = y.clamp(min=float(info.tiny), max=1.0 - float(info.eps))
        return y.log() - ops.log1p(-y)

    def log_abs_det_jacobian(self, x, y):
        x = as_tensor(x)
        return -F.softplus(-x) - F.softplus(x)


class TanhTransform(Transform):
    """y = tanh(x), with the stable log|det J| = 2 (log 2 − x − softplus(−2x))."""

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return ops.atanh(y)

    def log_abs_det_jacobian(self, x, y):
        x = as_tensor(x)
        return 2.0 * (math.log(2.0) - x - F.softplus(-2.0 * x))


class AffineTransform(Transform):
    """y = loc + scale · x (``event_dim`` trailing dims summed in the log-determinant)."""

    def __init__(self, loc, scale, event_dim: int = 0, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.loc, self.scale, self.event_dim = loc, scale, event_dim

    @property
    def sign(self):
        return 1 if not isinstance(self.scale, Tensor) and self.scale > 0 else ops.sign(
            as_tensor(self.scale))

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        x = as_tensor(x)
        scale = self.scale if isinstance(self.scale, Tensor) else as_tensor(
            np.asarray(abs(self.scale), dtype=x.dtype))
        result = scale.abs().log()
        if self.event_dim:
            shape = result.shape[:result.ndim - self.event_dim] + (-1,) if result.ndim else ()
            result = result.reshape(shape).sum(-1) if result.ndim else result
            shape = x.shape[:x.ndim - self.event_dim]
        else:
            shape = x.shape
        return result.expand(shape) if tuple(result.shape) != tuple(shape) else result

    def __repr__(self) -> str:
        return f"AffineTransform(loc={self.loc}, scale={self.scale})"


class ComposeTransform(Transform):
    """The transforms applied in order (``parts[0]`` first)."""

    def __init__(self, parts, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.parts = list(parts)
        self.event_dim = max((p.event_dim for p in self.parts), default=0)

    def _call(self, x):
        for part in self.parts:
            x = part(x)
        return x

    def _inverse(self, y):
        for part in reversed(self.parts):
            y = part.inv(y)
        return y

    def forward_shape(self, shape) -> tuple:
        for part in self.parts:
            shape = part.forward_shape(shape)
        return tuple(shape)

    def inverse_shape(self, shape) -> tuple:
        for part in reversed(self.parts):
            shape = part.inverse_shape(shape)
        return tuple(shape)

    def log_abs_det_jacobian(self, x, y):
        if not self.parts:  # the identity
            from .. import creation

            return creation.zeros_like(as_tensor(x))
        total = 0.0
        for part in self.parts:
            y_part = part(x)
            total = total + part.log_abs_det_jacobian(x, y_part)
            x = y_part
        return total


class SoftplusTransform(Transform):
    """y = log(1 + exp(x)); the inverse is x = y + log(−expm1(−y))."""

    def _call(self, x):
        return F.softplus(x)

    def _inverse(self, y):
        return y + ops.log(-ops.expm1(-y))

    def log_abs_det_jacobian(self, x, y):
        return -F.softplus(-as_tensor(x))


class PowerTransform(Transform):
    """y = x ** exponent (for x > 0)."""

    def __init__(self, exponent, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.exponent = exponent

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return (self.exponent * as_tensor(y) / as_tensor(x)).abs().log()


class SoftmaxTransform(Transform):
    """Real vectors to the simplex by softmax over the last dim (not bijective: its
    ``log_abs_det_jacobian`` does not exist, as in PyTorch)."""

    bijective = False
    event_dim = 1

    def _call(self, x):
        logprobs = x - x.max(-1, keepdim=True)[0]
        probs = logprobs.exp()
        return probs / probs.sum(-1, keepdim=True)

    def _inverse(self, y):
        return y.log()


class StickBreakingTransform(Transform):
    """Real vectors of length K to the simplex of K + 1 (a bijection; PyTorch's
    ``biject_to(simplex)``): z_i = σ(x_i − log(K − i)) breaks off a share z_i of the stick
    that is left, y_i = z_i Π_{j<i} (1 − z_j), and the last entry takes the rest."""

    event_dim = 1

    @staticmethod
    def _offset(k: int, like: Tensor) -> Tensor:
        from .. import creation

        return creation.arange(k, 0, -1, dtype=like.dtype)  # K − i for i = 0 .. K−1

    def _call(self, x):
        info = np.finfo(x.array.dtype)
        z = (x - self._offset(x.shape[-1], x).log()).sigmoid().clamp(min=info.tiny,
                                                                      max=1 - info.eps)
        left = (1 - z).cumprod(-1)
        return F.pad(z, (0, 1), value=1.0) * F.pad(left, (1, 0), value=1.0)

    def _inverse(self, y):
        crop = y[..., :-1]
        remaining = (1 - crop.cumsum(-1)).clamp(min=np.finfo(y.array.dtype).tiny)
        return crop.log() - remaining.log() + self._offset(crop.shape[-1], y).log()

    def log_abs_det_jacobian(self, x, y):
        x, y = as_tensor(x), as_tensor(y)
        x = x - self._offset(x.shape[-1], x).log()
        # (1 − σ(x) = exp(−x) σ(x))
        return (-x + F.logsigmoid(x) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape) -> tuple:
        shape = tuple(shape)
        return shape[:-1] + (shape[-1] + 1,)

    def inverse_shape(self, shape) -> tuple:
        shape = tuple(shape)
        return shape[:-1] + (shape[-1] - 1,)


identity_transform = ComposeTransform([])


def _positive_with(lower=None, upper=None) -> Transform:
    if lower is not None:
        return ComposeTransform([ExpTransform(), AffineTransform(lower, 1)])
    return ComposeTransform([ExpTransform(), AffineTransform(upper, -1)])


def transform_to(constraint) -> Transform:
    """A transform from unconstrained reals onto ``constraint`` (PyTorch's
    ``transform_to``): exp for positive, sigmoid (+ affine) for intervals, softmax for the
    simplex, the identity for the reals; ``independent`` of one of these is itself."""
    from . import constraints as c

    if isinstance(constraint, c._Independent):
        return transform_to(constraint.base_constraint)
    if isinstance(constraint, c._Real):
        return identity_transform
    if isinstance(constraint, c._GreaterThan):  # includes GreaterThanEq (nonnegative)
        return ExpTransform() if _is_zero(constraint.lower_bound) else _positive_with(
            lower=constraint.lower_bound)
    if isinstance(constraint, c._LessThan):
        return _positive_with(upper=constraint.upper_bound)
    if isinstance(constraint, c._Interval):  # includes HalfOpenInterval and unit_interval
        lo, hi = constraint.lower_bound, constraint.upper_bound
        if _is_zero(lo) and _is_zero(hi - 1):
            return SigmoidTransform()
        return ComposeTransform([SigmoidTransform(), AffineTransform(lo, hi - lo)])
    if isinstance(constraint, c._Simplex):
        return SoftmaxTransform()
    raise NotImplementedError(f"transform_to: no transform onto {constraint!r} in chainrule "
                              "(real, positive, greater_than, less_than, interval, simplex "
                              "and independent of those are)")


def biject_to(constraint) -> Transform:
    """A bijection from unconstrained reals onto ``constraint`` (PyTorch's ``biject_to``):
    as ``transform_to``, but the stick-breaking transform for the simplex."""
    from . import constraints as c

    if isinstance(constraint, c._Simplex):
        return StickBreakingTransform()
    return transform_to(constraint)


def _is_zero(value) -> bool:
    return not isinstance(value, Tensor) and value == 0
