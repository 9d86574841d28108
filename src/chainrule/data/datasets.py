"""Datasets: the map-style and iterable kinds, and ways to combine and split them.

As ``torch.utils.data``: a map-style ``Dataset`` has ``len(ds)`` samples and ``ds[i]``
returns one; an ``IterableDataset`` is a stream (``iter(ds)``). ``TensorDataset``
holds arrays whose rows are the samples; ``Subset``, ``ConcatDataset`` and
``random_split`` select and combine.

A map-style dataset may define ``get_batch(indices)`` returning a whole batch's fields
at once (as ``TensorDataset``, ``Subset`` of it and ``ConcatDataset`` of them do): the
``DataLoader`` then gathers a batch with one fancy-indexing per array instead of a
Python loop over samples.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .._tensor import Tensor, wrap
from ..random import numpy_generator

__all__ = ["ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "StackDataset",
           "Subset", "TensorDataset", "random_split"]


class Dataset:
    """A map-style dataset: ``len(ds)`` samples, ``ds[i]`` returns one sample.

    Subclass it and define ``__len__`` and ``__getitem__``. A sample is anything the
    loader's collate function understands: by default Tensors, arrays, numbers, and
    tuples, lists and dicts of them (e.g. ``(features, label)``).

    >>> import numpy as np
    >>> from chainrule.data import DataLoader
    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, i):
    ...         return np.float32(i), np.float32(i * i)
    >>> [y.tolist() for _, y in DataLoader(Squares(), batch_size=2)]
    [[0.0, 1.0], [4.0, 9.0]]
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: define ``__iter__``. With ``num_workers > 0`` every worker
    iterates its own ``iter(dataset)``; split the stream with ``get_worker_info()``
    inside ``__iter__`` (as in PyTorch), or each worker yields every sample.

    >>> from chainrule.data import DataLoader
    >>> class Count(IterableDataset):
    ...     def __iter__(self):
    ...         return iter(range(5))
    >>> [b.tolist() for b in DataLoader(Count(), batch_size=2)]
    [[0, 1], [2, 3], [4]]
    """

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: it is read by "
                        "iterating, not by index")

    def __len__(self) -> int:
        raise TypeError(f"{type(self).__name__} is an IterableDataset without __len__")

    def __add__(self, other):
        raise TypeError("IterableDatasets are chained with itertools.chain, not +")


def _as_array(x):
    if isinstance(x, Tensor):
        return x.array
    return np.asarray(x)


class TensorDataset(Dataset):
    """Samples are rows of the given tensors or arrays, which share their first dimension.

    >>> import numpy as np
    >>> ds = TensorDataset(np.zeros((5, 3)), np.arange(5))
    >>> len(ds), [tuple(t.shape) for t in ds[1]]
    (5, [(3,), ()])
    """

    def __init__(self, *tensors) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor or array")
        self.arrays = tuple(_as_array(t) for t in tensors)
        shapes = [a.shape for a in self.arrays]
        n = self.arrays[0].shape[0] if self.arrays[0].ndim else None
        if n is None or any(a.ndim == 0 or a.shape[0] != n for a in self.arrays):
            raise ValueError(
                f"TensorDataset: all tensors must share their first dimension, got shapes {shapes}")
        self._n = n

    @property
    def tensors(self) -> tuple:
        """The stored data as Tensors (sharing memory with the arrays)."""
        return tuple(wrap(a) for a in self.arrays)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index):
        return tuple(wrap(a[index]) for a in self.arrays)

    def get_batch(self, indices) -> tuple:
        """One batch: each array indexed once by ``indices`` (a slice or an index array)."""
        return tuple(a[indices] for a in self.arrays)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    >>> ds = Subset(TensorDataset(np.arange(10)), [7, 2])
    >>> len(ds), ds[0][0].item()
    (2, 7)
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        if hasattr(dataset, "get_batch"):
            self.get_batch = self._get_batch

    def __getitem__(self, idx):
        if isinstance(idx, (list, np.ndarray)):
            return [self.dataset[self.indices[int(i)]] for i in idx]
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)

    def _get_batch(self, indices) -> tuple:
        picked = np.asarray(self.indices)[indices]
        return self.dataset.get_batch(picked)


class ConcatDataset(Dataset):
    """Several map-style datasets one after the other (``ds1 + ds2`` builds one).

    >>> both = TensorDataset(np.arange(3)) + TensorDataset(np.arange(10, 12))
    >>> len(both), both[3][0].item(), both[-1][0].item()
    (5, 10, 11)
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected at least one dataset")
        for i, d in enumerate(self.datasets):
            if isinstance(d, IterableDataset):
                raise TypeError(f"ConcatDataset: dataset {i} is an IterableDataset; chain "
                                "streams with itertools.chain")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise IndexError(f"ConcatDataset: index {idx} is out of range for {n} samples")
            idx += n
        if idx >= n:
            raise IndexError(f"ConcatDataset: index {idx} is out of range for {n} samples")
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """Several iterable datasets one after the other, as one stream.

    >>> class Count(IterableDataset):
    ...     def __init__(self, n):
    ...         self.n = n
    ...     def __iter__(self):
    ...         return iter(range(self.n))
    >>> list(ChainDataset([Count(2), Count(3)]))
    [0, 1, 0, 1, 2]
    """

    def __init__(self, datasets: Iterable) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset: expected IterableDatasets, got "
                                f"{type(d).__name__}")
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)


class StackDataset(Dataset):
    """Samples that gather the same index of several datasets of one length: as a tuple
    (``StackDataset(images, labels)``) or a dict (``StackDataset(image=..., label=...)``).

    >>> ds = StackDataset(x=TensorDataset(np.arange(3)), y=[10, 20, 30])
    >>> sample = ds[1]
    >>> sample["x"][0].item(), sample["y"]
    (1, 20)
    """

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError("StackDataset: give the datasets as positional arguments (tuple "
                             "samples) or as keyword arguments (dict samples), not both")
        parts = list(args) or list(kwargs.values())
        if not parts:
            raise ValueError("StackDataset: expected at least one dataset")
        lengths = {len(d) for d in parts}
        if len(lengths) > 1:
            raise ValueError(f"StackDataset: the datasets have different lengths "
                             f"{[len(d) for d in parts]}")
        self._length = lengths.pop()
        self.datasets = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self) -> int:
        return self._length


def random_split(dataset: Dataset, lengths: Sequence[int | float],
                 generator=None) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping ``Subset``s of the given lengths,
    or of the given fractions of its length (summing to 1; the elements left over by
    rounding down go to the first subsets, one each, as PyTorch). ``generator`` (a
    ``cr.Generator``) fixes the split; None uses the global seed (``cr.manual_seed``).

    >>> import chainrule as cr
    >>> train, val = random_split(range(10), [0.8, 0.2], generator=cr.Generator().manual_seed(0))
    >>> len(train), len(val), sorted(list(train) + list(val)) == list(range(10))
    (8, 2, True)
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and \
            math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"random_split: fraction at index {i} is not in [0, 1]: {frac}")
        sizes = [math.floor(n * frac) for frac in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if any(not isinstance(x, (int, np.integer)) or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers, or fractions "
                         f"summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: the lengths {lengths} sum to {sum(lengths)}, but the "
                         f"dataset has {n} samples")
    order = numpy_generator(generator).permutation(n).tolist()
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, order[start:start + length]))
        start += length
    return out
