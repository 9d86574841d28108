"""Independent: reinterpret batch dimensions of a distribution as event dimensions."""

from __future__ import annotations

from typing import ClassVar

from .._tensor import Tensor
from .distribution import Distribution

__all__ = ["Independent"]


def _sum_rightmost(value: Tensor, dims: int) -> Tensor:
    return value.reshape(value.shape[:value.ndim - dims] + (-1,)).sum(-1) if dims > 0 else value


class Independent(Distribution):
    """``Independent(base, reinterpreted_batch_ndims)``: the rightmost batch dimensions of
    ``base`` become event dimensions, so ``log_prob`` and ``entropy`` sum over them
    (a diagonal Gaussian: ``Independent(Normal(mu, sigma), 1)``)."""

    arg_constraints: ClassVar[dict] = {}

    def __init__(self, base_distribution: Distribution, reinterpreted_batch_ndims: int,
                 validate_args=None) -> None:
        n = len(base_distribution.batch_shape)
        if not 0 <= reinterpreted_batch_ndims <= n:
            raise ValueError(f"Independent: reinterpreted_batch_ndims must be between 0 and "
                             f"the base's {n} batch dims (batch_shape "
                             f"{tuple(base_distribution.batch_shape)}), got "
                             f"{reinterpreted_batch_ndims}")
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        event_dim = reinterpreted_batch_ndims + len(base_distribution.event_shape)
        cut = len(shape) - event_dim
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        super().__init__(shape[:cut], shape[cut:], validate_args)

    @property
    def has_rsample(self) -> bool:
        return self.base_dist.has_rsample

    @property
    def has_enumerate_support(self) -> bool:
        return False if self.reinterpreted_batch_ndims > 0 else self.base_dist.has_enumerate_support

    @property
    def mean(self) -> Tensor:
        return self.base_dist.mean

    @property
    def mode(self) -> Tensor:
        return self.base_dist.mode

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    def expand(self, batch_shape, _instance=None) -> Independent:
        reinterpreted = tuple(self._event_shape)[:self.reinterpreted_batch_ndims]
        base = self.base_dist.expand(tuple(batch_shape) + reinterpreted)
        return Independent(base, self.reinterpreted_batch_ndims, self._validate_args)

    def sample(self, sample_shape=()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value) -> Tensor:
        return _sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self) -> Tensor:
        return _sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def __repr__(self) -> str:
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
