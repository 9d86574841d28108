"""``torch.utils.data.sampler``: the samplers under PyTorch's module path."""

from ...data import (
                     BatchSampler,
                     RandomSampler,
                     Sampler,
                     SequentialSampler,
                     SubsetRandomSampler,
                     WeightedRandomSampler,
)

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]
