"""MixtureSameFamily: a categorical mixture of components from one batched distribution."""

from __future__ import annotations

from typing import ClassVar

from .._tensor import Tensor, as_tensor
from .categorical import Categorical
from .distribution import Distribution

__all__ = ["MixtureSameFamily"]


class MixtureSameFamily(Distribution):
    """``MixtureSameFamily(Categorical(logits=w), Normal(mu, sigma))``: the rightmost batch
    dimension of the component distribution indexes the mixture components, as in
    mixture density networks; ``log_prob`` is a logsumexp over them."""

    arg_constraints: ClassVar[dict] = {}
    has_rsample = False

    def __init__(self, mixture_distribution: Categorical, component_distribution: Distribution,
                 validate_args=None) -> None:
        if not isinstance(mixture_distribution, Categorical):
            raise TypeError("MixtureSameFamily: mixture_distribution must be a Categorical, "
                             f"got {type(mixture_distribution).__name__}")
        if not isinstance(component_distribution, Distribution):
            raise TypeError("MixtureSameFamily: component_distribution must be a "
                             f"Distribution, got {type(component_distribution).__name__}")
        mix_batch = tuple(mixture_distribution.batch_shape)
        comp_batch = tuple(component_distribution.batch_shape)
        if not comp_batch:
            raise ValueError("MixtureSameFamily: the component distribution needs a batch "
                             "dimension for the components")
        k = mixture_distribution.param_shape[-1]
        if comp_batch[-1] != k:
            raise ValueError(f"MixtureSameFamily: the mixture has {k} components but the "
                             f"component distribution's rightmost batch size is "
                             f"{comp_batch[-1]} (batch_shape {comp_batch})")
        for a, b in zip(reversed(mix_batch), reversed(comp_batch[:-1])):
            if a != 1 and b != 1 and a != b:
                raise ValueError(f"MixtureSameFamily: batch shapes {mix_batch} (mixture) and "
                                 f"{comp_batch[:-1]} (components) are not compatible")
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        self._num_component = k
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(comp_batch[:-1], component_distribution.event_shape, validate_args)

    @property
    def mixture_distribution(self) -> Categorical:
        return self._mixture_distribution

    @property
    def component_distribution(self) -> Distribution:
        return self._component_distribution

    def expand(self, batch_shape, _instance=None) -> MixtureSameFamily:
        batch_shape = tuple(batch_shape)
        mixture = self._mixture_distribution.expand(batch_shape)
        components = self._component_distribution.expand(batch_shape + (self._num_component,))
        return MixtureSameFamily(mixture, components, self._validate_args)

    def _pad_mixture(self, t: Tensor) -> Tensor:
        # mixture weights shaped (..., K, 1, ..., 1) to line up with the component means
        return t.reshape(tuple(t.shape) + (1,) * self._event_ndims)

    @property
    def mean(self) -> Tensor:
        probs = self._pad_mixture(self._mixture_distribution.probs)
        return (probs * self._component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self) -> Tensor:
        probs = self._pad_mixture(self._mixture_distribution.probs)
        dim = -1 - self._event_ndims
        mean_cond_var = (probs * self._component_distribution.variance).sum(dim)
        var_cond_mean = (probs * (self._component_distribution.mean
                                  - self.mean.unsqueeze(dim)).pow(2)).sum(dim)
        return mean_cond_var + var_cond_mean

    def log_prob(self, value) -> Tensor:
        value = as_tensor(value)
        value = value.unsqueeze(-1 - self._event_ndims)  # one copy per component
        log_prob_x = self._component_distribution.log_prob(value)
        log_mix_prob = self._mixture_distribution.logits.log_softmax(-1)
        return (log_prob_x + log_mix_prob).logsumexp(-1)

    def cdf(self, value) -> Tensor:
        value = as_tensor(value).unsqueeze(-1 - self._event_ndims)
        cdf_x = self._component_distribution.cdf(value)
        return (cdf_x * self._mixture_distribution.probs).sum(-1)

    def sample(self, sample_shape=()) -> Tensor:
        if isinstance(sample_shape, int):
            sample_shape = (sample_shape,)
        index = self._mixture_distribution.sample(sample_shape)  # (S, B)
        draws = self._component_distribution.sample(sample_shape)  # (S, B, K, E)
        shape = tuple(index.shape) + (1,) + (1,) * self._event_ndims
        index = index.reshape(shape).expand(
            tuple(index.shape) + (1,) + tuple(self._event_shape))
        return draws.gather(len(sample_shape) + len(self._batch_shape), index).squeeze(
            len(sample_shape) + len(self._batch_shape))

    def __repr__(self) -> str:
        return (f"MixtureSameFamily(\n  {self._mixture_distribution!r},\n  "
                f"{self._component_distribution!r})")
