"""Categorical distribution over ``K`` classes (the last axis of probs / logits)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .. import creation
from .._tensor import Size, Tensor, as_tensor
from . import constraints
from .distribution import Distribution
from .utils import logits_to_probs, probs_to_logits

__all__ = ["Categorical"]


def _one_of(probs, logits, name: str) -> Tensor:
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: give either probs or logits, not "
                         f"{'both' if probs is not None else 'neither'}")
    given = as_tensor(probs if probs is not None else logits)
    if given.dtype.kind != "f":
        raise TypeError(f"{name}: {'probs' if probs is not None else 'logits'} must be a "
                        f"floating-point tensor, got {given.dtype}")
    return given


class Categorical(Distribution):
    """``Categorical(probs=...)`` (non-negative, normalized along the last axis) or
    ``Categorical(logits=...)`` (normalized with logsumexp). Samples are class indices
    (int64); ``log_prob(actions)`` is differentiable in the parameters.

    >>> import chainrule as cr
    >>> d = cr.distributions.Categorical(logits=cr.tensor([0.0, 0.0, 0.0, 0.0]))
    >>> round(d.entropy().item(), 4)
    1.3863
    """

    arg_constraints: ClassVar[dict] = {"probs": constraints.simplex,
                                       "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        given = _one_of(probs, logits, type(self).__name__)
        if given.ndim < 1:
            raise ValueError(f"{type(self).__name__}: probs/logits need at least one dimension "
                             f"(the classes), got a scalar")
        Distribution.__init__(self, given.shape[:-1], (), validate_args)
        if probs is not None:
            self._check_parameter("probs", (given.array >= 0) & np.isfinite(given.array),
                                  "Simplex() (non-negative, finite)", given)
            self.probs = given / given.sum(-1, keepdim=True)
            self.logits = probs_to_logits(self.probs)
        else:
            self._check_parameter("logits", ~np.isnan(given.array), "IndependentConstraint("
                                  "Real(), 1) (no NaN)", given)
            self.logits = given - given.logsumexp(dim=-1, keepdim=True)
            self.probs = logits_to_probs(self.logits)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = given.shape[-1]

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def param_shape(self) -> Size:
        return self._param.size()

    @property
    def mean(self) -> Tensor:
        return creation.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(dim=-1)

    @property
    def variance(self) -> Tensor:
        return creation.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    def sample(self, sample_shape=()) -> Tensor:
        if isinstance(sample_shape, int):
            sample_shape = (sample_shape,)
        probs = np.asarray(self.probs.array, dtype=np.float64)
        cdf = np.cumsum(probs, axis=-1)
        u = self._rng().random(tuple(sample_shape) + probs.shape[:-1] + (1,))
        index = (cdf < u * cdf[..., -1:]).sum(-1)  # inverse CDF, one draw per row
        return as_tensor(np.minimum(index, self._num_events - 1).astype(np.int64))

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value)
        self._check_value(value, (value.array >= 0) & (value.array < self._num_events)
                          & (value.array == np.round(value.array)),
                          f"IntegerInterval(lower_bound=0, upper_bound={self._num_events - 1})")
        value = value.long().unsqueeze(-1)
        value, log_pmf = _broadcast_pair(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self) -> Tensor:
        min_real = float(np.finfo(self.logits.dtype).min)
        logits = self.logits.clamp(min=min_real)
        p_log_p = logits * self.probs
        return -p_log_p.sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = creation.arange(self._num_events, dtype=np.int64)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


def _broadcast_pair(a: Tensor, b: Tensor) -> tuple:
    shape = np.broadcast_shapes(a.shape, b.shape)
    return (a if a.shape == shape else a.expand(shape),
            b if b.shape == shape else b.expand(shape))
