"""Bernoulli distribution over {0, 1}."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .. import creation
from .._tensor import Size, Tensor, as_tensor
from ..nn import functional as F
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, logits_to_probs, probs_to_logits

__all__ = ["Bernoulli"]


class Bernoulli(Distribution):
    """``Bernoulli(probs=...)`` or ``Bernoulli(logits=...)``; samples are 0.0 / 1.0 in the
    parameter's dtype, ``log_prob`` is ``-binary_cross_entropy_with_logits``.

    >>> import chainrule as cr
    >>> d = cr.distributions.Bernoulli(probs=cr.tensor([0.25]))
    >>> round(d.log_prob(cr.tensor([1.0])).item(), 4)
    -1.3863
    """

    arg_constraints: ClassVar[dict] = {"probs": constraints.unit_interval,
                                       "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: give either probs or logits, not "
                             f"{'both' if probs is not None else 'neither'}")
        (given,) = broadcast_all(probs if probs is not None else logits)
        if given.dtype.kind != "f":
            raise TypeError(f"Bernoulli: probs/logits must be floating point, got {given.dtype}")
        super().__init__(given.shape, (), validate_args)
        if probs is not None:
            self._check_parameter("probs", (given.array >= 0) & (given.array <= 1),
                                  "Interval(lower_bound=0.0, upper_bound=1.0)", given)
            self.probs = given
            self.logits = probs_to_logits(given, is_binary=True)
        else:
            self._check_parameter("logits", ~np.isnan(given.array), "Real() (no NaN)", given)
            self.logits = given
            self.probs = logits_to_probs(given, is_binary=True)
        self._param = self.probs if probs is not None else self.logits

    @property
    def param_shape(self) -> Size:
        return self._param.size()

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return mode.masked_fill(self.probs == 0.5, float("nan"))

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        draws = self._rng().random(shape) < np.broadcast_to(self.probs.array, shape)
        return as_tensor(draws.astype(self.probs.dtype))

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value)
        self._check_value(value, (value.array == 0) | (value.array == 1), "Boolean() (0 or 1)")
        logits, value = broadcast_all(self.logits, value.to(self.logits.dtype))
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = creation.arange(2, dtype=self.probs.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
