"""Relaxed (Concrete / Gumbel-softmax) distributions: RelaxedOneHotCategorical and
RelaxedBernoulli, with their log-space bases; ``rsample`` is differentiable in the logits
(the Gumbel noise comes from chainrule's stream)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .. import creation, ops
from .._tensor import Tensor, as_tensor
from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution, ParametersOf
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform, SigmoidTransform
from .utils import broadcast_all, clamp_probs

__all__ = ["ExpRelaxedCategorical", "LogitRelaxedBernoulli", "RelaxedBernoulli",
           "RelaxedOneHotCategorical"]


def _uniform(dist: Distribution, shape, dtype) -> Tensor:
    return clamp_probs(as_tensor(dist._rng().random(shape).astype(dtype)))


class ExpRelaxedCategorical(ParametersOf):
    """The log of a RelaxedOneHotCategorical sample (PyTorch's ExpRelaxedCategorical)."""

    arg_constraints: ClassVar[dict] = {"probs": constraints.simplex,
                                       "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None) -> None:
        self._categorical = Categorical(probs, logits, validate_args)
        self.temperature = as_tensor(temperature)
        batch = self._categorical.batch_shape
        super().__init__(batch, self._categorical.param_shape[-1:], validate_args)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        uniforms = _uniform(self, shape, self.logits.dtype)
        gumbels = -((-(uniforms.log())).log())
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(dim=-1, keepdim=True)

    def log_prob(self, value) -> Tensor:
        K = self._categorical.param_shape[-1]
        logits, value = broadcast_all(self.logits, as_tensor(value))
        log_scale = (ops.lgamma(creation.full_like(self.temperature, float(K)))
                     - self.temperature.log() * (-(K - 1)))
        score = logits - value * self.temperature
        score = (score - score.logsumexp(dim=-1, keepdim=True)).sum(-1)
        return score + log_scale


class _Relaxed(TransformedDistribution):
    """A relaxed distribution pushed through a transform: its temperature, probs and
    logits are its base's."""

    @property
    def temperature(self) -> Tensor:
        return self.base_dist.temperature

    @property
    def logits(self) -> Tensor:
        return self.base_dist.logits

    @property
    def probs(self) -> Tensor:
        return self.base_dist.probs


class RelaxedOneHotCategorical(_Relaxed):
    """``RelaxedOneHotCategorical(temperature, probs=None, logits=None)``: points on the
    simplex that approach one-hot vectors as the temperature goes to 0."""

    arg_constraints: ClassVar[dict] = {"probs": constraints.simplex,
                                       "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None) -> None:
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args)
        super().__init__(base, ExpTransform(), validate_args)


class LogitRelaxedBernoulli(ParametersOf):
    """The logit of a RelaxedBernoulli sample (PyTorch's LogitRelaxedBernoulli)."""

    _inner: ClassVar[str] = "_bernoulli"

    arg_constraints: ClassVar[dict] = {"probs": constraints.unit_interval,
                                       "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None) -> None:
        self._bernoulli = Bernoulli(probs, logits, validate_args)
        self.temperature = as_tensor(temperature)
        super().__init__(self._bernoulli.batch_shape, (), validate_args)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(self.probs.expand(shape))
        uniforms = _uniform(self, shape, np.dtype(self.probs.dtype))
        return (uniforms.log() - ops.log1p(-uniforms) + probs.log()
                - ops.log1p(-probs)) / self.temperature

    def log_prob(self, value) -> Tensor:
        logits, value = broadcast_all(self.logits, as_tensor(value))
        diff = logits - value * self.temperature
        return self.temperature.log() + diff - 2 * ops.log1p(diff.exp())


class RelaxedBernoulli(_Relaxed):
    """``RelaxedBernoulli(temperature, probs=None, logits=None)``: values in (0, 1) that
    approach 0/1 as the temperature goes to 0."""

    arg_constraints: ClassVar[dict] = {"probs": constraints.unit_interval,
                                       "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None) -> None:
        base = LogitRelaxedBernoulli(temperature, probs, logits, validate_args)
        super().__init__(base, SigmoidTransform(), validate_args)
