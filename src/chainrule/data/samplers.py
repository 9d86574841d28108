"""Samplers: which sample indices a ``DataLoader`` reads, in which order, in which batches.

As ``torch.utils.data``: a sampler yields indices; ``BatchSampler`` groups them into
lists. The random ones take ``generator=`` (a ``cr.Generator``; None draws from the
global seed, ``cr.manual_seed``). Orders are NumPy's, not PyTorch's random streams.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized

import numpy as np

from .._tensor import Tensor
from ..random import numpy_generator

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]


class Sampler:
    """Base class: subclasses define ``__iter__`` (indices) and, where known, ``__len__``."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


def _check_count(value, name: str, who: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{who}: {name} must be a positive integer, got {value!r}")
    return int(value)


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) − 1.

    >>> list(SequentialSampler(range(3)))
    [0, 1, 2]
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the indices: a new permutation every epoch, or ``num_samples``
    draws with ``replacement``.

    Beside PyTorch's ``generator=`` this takes ``seed=`` (what ``DataLoader(shuffle=True)``
    uses): the order of epoch e is then a function of (seed, e) alone, set with
    ``set_epoch(e)``, so a run is reproducible and a resumed one continues with the same
    orders.

    >>> import chainrule as cr
    >>> sorted(RandomSampler(range(5), generator=cr.Generator().manual_seed(0)))
    [0, 1, 2, 3, 4]
    >>> len(list(RandomSampler(range(5), replacement=True, num_samples=12)))
    12
    """

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator=None, *,
                 seed: int | None = None) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement must be a bool, got {replacement!r}")
        if generator is not None and seed is not None:
            raise ValueError("RandomSampler: give generator or seed, not both")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        if num_samples is not None:
            _check_count(num_samples, "num_samples", "RandomSampler")
        self.generator = generator
        if generator is not None:
            numpy_generator(generator)  # a clear error now for a wrong kind of generator
        self.seed = seed
        self.epoch = 0

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def set_epoch(self, epoch: int) -> None:
        """With ``seed``: use epoch ``epoch``'s order."""
        self.epoch = int(epoch)

    def _generator(self) -> np.random.Generator:
        if self.seed is not None:
            return np.random.default_rng([self.seed, self.epoch])
        if self.generator is not None:
            return numpy_generator(self.generator)
        # as PyTorch: a fresh stream per epoch, seeded from the global generator
        return np.random.default_rng(int(numpy_generator().integers(0, 2**63 - 1)))

    def indices(self) -> np.ndarray:
        """This epoch's indices as one array (what ``__iter__`` yields)."""
        n = len(self.data_source)
        rng = self._generator()
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples)
        full, rest = divmod(self.num_samples, n) if n else (0, 0)
        parts = [rng.permutation(n) for _ in range(full)]
        if rest:
            parts.append(rng.permutation(n)[:rest])
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, a new one every epoch.

    >>> sorted(SubsetRandomSampler([4, 8, 15]))
    [4, 8, 15]
    """

    def __init__(self, indices: Sequence[int], generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        order = numpy_generator(self.generator).permutation(len(self.indices))
        return (self.indices[i] for i in order.tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights`` (e.g.
    the inverse class frequencies, to balance an imbalanced data set), with
    ``replacement`` (the default) or without.

    >>> import chainrule as cr
    >>> draws = list(WeightedRandomSampler([0.0, 1.0, 0.0], 4))
    >>> draws
    [1, 1, 1, 1]
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator=None) -> None:
        who = "WeightedRandomSampler"
        num_samples = _check_count(num_samples, "num_samples", who)
        if not isinstance(replacement, bool):
            raise TypeError(f"{who}: replacement must be a bool, got {replacement!r}")
        w = np.asarray(weights.array if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"{who}: weights must be one-dimensional, got shape {w.shape}")
        if w.size == 0 or not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"{who}: weights must be finite, non-negative and not all zero")
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError(f"{who}: cannot draw {num_samples} samples without replacement "
                             f"from {np.count_nonzero(w)} indices of non-zero weight")
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        p = self.weights / self.weights.sum()
        rng = numpy_generator(self.generator)
        draws = rng.choice(len(p), size=self.num_samples, replace=self.replacement, p=p)
        return iter(draws.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (the last one
    shorter unless ``drop_last``).

    >>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False))
    [[0, 1, 2], [3, 4, 5], [6]]
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int,
                 drop_last: bool) -> None:
        self.batch_size = _check_count(batch_size, "batch_size", "BatchSampler")
        if not isinstance(drop_last, bool):
            raise TypeError(f"BatchSampler: drop_last must be a bool, got {drop_last!r}")
        self.sampler = sampler
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
