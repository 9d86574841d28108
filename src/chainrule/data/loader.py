"""Datasets and the mini-batch loader.

``DataLoader`` turns a dataset into mini-batches for stochastic gradient descent:
batch size 1 is plain SGD, batch size N is full-batch gradient descent. For a
``TensorDataset`` a batch is one fancy-indexing of each array (never a Python loop
over samples), which is what keeps small-batch training fast.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor, _wrap

__all__ = ["DataLoader", "Dataset", "TensorDataset"]


class Dataset:
    """A map-style dataset: ``len(ds)`` samples, ``ds[i]`` returns one sample.

    Subclass it and define ``__len__`` and ``__getitem__``. A sample is a tuple of
    arrays, numbers or Tensors (for example ``(features, label)``); ``DataLoader``
    stacks the samples of a batch along a new first axis.

    A subclass may also define ``get_batch(indices)`` returning the whole batch at
    once (as ``TensorDataset`` does); the loader then calls it instead of indexing
    sample by sample.

    >>> import numpy as np
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


class TensorDataset(Dataset):
    """Samples are rows of the given tensors or arrays, which share their first dimension.

    >>> import numpy as np
    >>> ds = TensorDataset(np.zeros((5, 3)), np.arange(5))
    >>> len(ds), [a.shape for a in ds[1]]
    (5, [(3,), ()])
    """

    def __init__(self, *tensors) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor or array")
        self.arrays = tuple(_as_array(t) for t in tensors)
        n = self.arrays[0].shape[0] if self.arrays[0].ndim else None
        shapes = [a.shape for a in self.arrays]
        if n is None or any(a.ndim == 0 or a.shape[0] != n for a in self.arrays):
            raise ValueError(
                f"TensorDataset: all tensors must share their first dimension, got shapes {shapes}")
        self._n = n

    @property
    def tensors(self) -> tuple:
        """The stored data as Tensors (sharing memory with the arrays)."""
        return tuple(_wrap(a) for a in self.arrays)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)

    def get_batch(self, indices) -> tuple:
        """One batch: each array indexed once by ``indices`` (a slice or an index array)."""
        return tuple(a[indices] for a in self.arrays)


def _as_array(x) -> np.ndarray:
    if isinstance(x, Tensor):
        return np.asarray(x.data)
    return np.asarray(x)


def _collate(samples: Sequence) -> tuple:
    """Stack a list of samples (tuples of arrays/numbers/Tensors) field by field."""
    first = samples[0]
    if not isinstance(first, (tuple, list)):
        return (np.stack([_as_array(s) for s in samples]),)
    return tuple(np.stack([_as_array(s[k]) for s in samples]) for k in range(len(first)))


class DataLoader:
    """Iterate over a dataset in mini-batches of Tensors.

    Args:
        dataset: a ``Dataset`` (``TensorDataset`` batches are gathered with one
            fancy-index per array).
        batch_size: samples per batch, from 1 (SGD) to ``len(dataset)`` (full batch).
        shuffle: draw a new random order every epoch.
        drop_last: skip the last batch when it is smaller than ``batch_size``.
        seed: seed of the shuffle. The order of epoch ``e`` depends only on
            ``(seed, e)``, so a run is reproducible and a loader restored with
            ``load_state_dict`` continues with the same orders. ``None`` draws the seed
            from chainrule's global generator (``cr.manual_seed``) once, at creation.

    Each iteration is one epoch and yields a tuple of Tensors per batch (a 1-tuple for
    datasets whose samples are single arrays); finishing an epoch advances ``epoch``.

    >>> import numpy as np
    >>> x, y = np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5)
    >>> loader = DataLoader(TensorDataset(x, y), batch_size=2, shuffle=True, seed=0)
    >>> len(loader), [tuple(xb.shape) for xb, yb in loader]
    (3, [(2, 2), (2, 2), (1, 2)])
    >>> loader.epoch
    1
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None) -> None:
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        if seed is None:
            from ..random import _rng

            seed = int(_rng().integers(0, 2**63 - 1))
        self.seed = int(seed)
        self.epoch = 0  # number of completed passes; keys the shuffle order

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def order(self, epoch: int | None = None) -> np.ndarray | None:
        """The sample order of ``epoch`` (default: the next one); None when not shuffling."""
        if not self.shuffle:
            return None
        epoch = self.epoch if epoch is None else epoch
        # a generator keyed by (seed, epoch): any epoch's order is reproducible on its own
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.dataset))

    def __iter__(self) -> Iterator[tuple]:
        n = len(self.dataset)
        perm = self.order()
        stop = (n // self.batch_size) * self.batch_size if self.drop_last else n
        get_batch = getattr(self.dataset, "get_batch", None)
        for start in range(0, stop, self.batch_size):
            end = min(start + self.batch_size, n)
            index = slice(start, end) if perm is None else perm[start:end]
            if get_batch is not None:
                fields = get_batch(index)
            else:
                rows = range(start, end) if perm is None else perm[start:end].tolist()
                fields = _collate([self.dataset[i] for i in rows])
            yield tuple(_wrap(np.asarray(f)) for f in fields)
        self.epoch += 1

    def state_dict(self) -> dict:
        """What a checkpoint needs to continue with the same batches: seed and epoch."""
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        self.seed = int(state["seed"])
        self.epoch = int(state["epoch"])

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, seed={self.seed})")
