"""One-hot categorical distribution: Categorical whose samples are one-hot vectors."""

from __future__ import annotations

from typing import ClassVar

from .._tensor import Tensor, as_tensor
from . import constraints
from .categorical import Categorical
from .distribution import ParametersOf

__all__ = ["OneHotCategorical", "OneHotCategoricalStraightThrough"]


class OneHotCategorical(ParametersOf):
    """``OneHotCategorical(probs=...)`` or ``(logits=...)``: events are one-hot vectors
    over the last axis; densities and entropy are those of ``Categorical``."""

    arg_constraints: ClassVar[dict] = {"probs": constraints.simplex,
                                       "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        self._categorical = Categorical(probs, logits, validate_args)
        super().__init__(self._categorical.batch_shape,
                         self._categorical.param_shape[-1:], validate_args)

    @property
    def mean(self) -> Tensor:
        return self._categorical.probs

    @property
    def mode(self) -> Tensor:
        from ..nn.functional import one_hot

        probs = self._categorical.probs
        return one_hot(probs.argmax(dim=-1), probs.shape[-1]).to(probs.dtype)

    @property
    def variance(self) -> Tensor:
        probs = self._categorical.probs
        return probs * (1 - probs)

    def sample(self, sample_shape=()) -> Tensor:
        from ..nn.functional import one_hot

        probs = self._categorical.probs
        indices = self._categorical.sample(sample_shape)
        return one_hot(indices, probs.shape[-1]).to(probs.dtype)

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value)
        ok = ((value.array == 0) | (value.array == 1)).all(-1) & (value.array.sum(-1) == 1)
        self._check_value(value, ok, "OneHot()")
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        from .. import creation

        n = self._event_shape[0]
        values = creation.eye(n, dtype=self.probs.dtype)
        values = values.view((n,) + (1,) * len(self._batch_shape) + (n,))
        if expand:
            values = values.expand((n,) + tuple(self._batch_shape) + (n,))
        return values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """``OneHotCategorical`` whose ``rsample`` passes gradients straight through: the
    one-hot sample in the forward pass, the gradient of ``probs`` in the backward pass
    (sample + probs − probs.detach())."""

    has_rsample = True

    def rsample(self, sample_shape=()) -> Tensor:
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())
