"""``DistributedSampler``: each rank of a data-parallel job reads its own shard.

As PyTorch's: every epoch the indices 0 … N−1 are put in one order (shuffled from
``seed + epoch``, the same on every rank), padded by repeating the first indices until
they divide evenly among the ranks (or cut to a multiple with ``drop_last``), and rank
r takes every K-th index starting at r. The shards are disjoint apart from the padding,
cover the data set, and have equal length, so every rank runs the same number of
steps. The shuffled order is PyTorch's, index for index (see ``torch_randperm``), so a
data-parallel program takes the same batches under chainrule as under torch.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sized

import numpy as np

from .samplers import Sampler

__all__ = ["DistributedSampler", "torch_randperm"]


def torch_randperm(n: int, seed: int) -> np.ndarray:
    """The permutation ``torch.randperm(n, generator=torch.Generator().manual_seed(seed))``
    gives on the CPU, which PyTorch's DistributedSampler shuffles with.

    PyTorch's CPU generator is the Mersenne Twister MT19937 initialized from the low 32
    bits of the seed, and its randperm swaps position i with i + (next 32-bit output mod
    (n - i)) for i = 0 … n-2. NumPy's legacy ``RandomState`` is that same generator with
    that same initialization (its stream is frozen by NumPy's compatibility policy), so
    the outputs are drawn in one call and only the swaps run one by one (about 20 ms
    for 60,000 indices).

    >>> torch_randperm(6, 0).tolist()
    [2, 5, 3, 0, 1, 4]
    """
    order = list(range(n))
    if n > 1:
        draws = np.random.RandomState(seed & 0xFFFFFFFF).randint(0, 2**32, size=n - 1,
                                                                   dtype=np.uint32)
        offsets = (draws.astype(np.uint64) % np.arange(n, 1, -1, dtype=np.uint64)).tolist()
        for i, offset in enumerate(offsets):
            j = i + offset
            order[i], order[j] = order[j], order[i]
    return np.array(order, dtype=np.int64)


class DistributedSampler(Sampler):
    """Indices of this rank's shard of ``dataset``, for ``DataLoader(sampler=...)``.

    Args:
        dataset: anything with ``len()``.
        num_replicas: number of ranks (default: the process group's world size).
        rank: this rank (default: the process group's rank).
        shuffle: a new order every epoch; call ``set_epoch(e)`` before each epoch.
        seed: the shuffle's seed, the same on every rank.
        drop_last: drop the tail that does not divide evenly instead of padding.

    >>> shards = [list(DistributedSampler(range(10), num_replicas=3, rank=r, shuffle=False))
    ...           for r in range(3)]
    >>> shards
    [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]

    In a training loop (each rank a different shard, a new order every epoch)::

        sampler = DistributedSampler(dataset, seed=0)
        loader = DataLoader(dataset, batch_size=64, sampler=sampler)
        for epoch in range(epochs):
            sampler.set_epoch(epoch)
            for x, y in loader:
                ...
    """

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from .. import distributed as dist

            if not dist.is_initialized():
                raise RuntimeError(
                    "DistributedSampler: pass num_replicas and rank, or call "
                    "chainrule.distributed.init_process_group() first")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if not isinstance(num_replicas, (int, np.integer)) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive integer, "
                             f"got {num_replicas!r}")
        if not isinstance(rank, (int, np.integer)) or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank!r}, rank should be in "
                             f"the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        self.epoch = 0
        self._last_epoch = None  # the epoch of the last pass, and how many passes it had
        self._passes = 0
        self._warned = False
        n = len(dataset)
        if self.drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def indices(self) -> np.ndarray:
        """This rank's indices for the current epoch, as an array."""
        n = len(self.dataset)
        if self.shuffle:
            order = torch_randperm(n, self.seed + self.epoch)  # PyTorch's own order
        else:
            order = np.arange(n)
        if self.drop_last:
            order = order[:self.total_size]
        elif self.total_size > n:
            repeats = math.ceil(self.total_size / max(n, 1))
            order = np.tile(order, repeats)[:self.total_size]
        return order[self.rank:self.total_size:self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        # a third pass at one epoch is a forgotten set_epoch (two can be a program that
        # looks at its shard before the loader reads it)
        if self.epoch == self._last_epoch:
            self._passes += 1
        else:
            self._last_epoch, self._passes = self.epoch, 1
        if self.shuffle and self._passes == 3 and not self._warned:
            self._warned = True
            warnings.warn(
                f"DistributedSampler: iterated {self._passes} times at epoch {self.epoch}: "
                "with shuffle=True every epoch repeats the same order unless "
                "sampler.set_epoch(epoch) is called at the start of each epoch (PyTorch "
                "repeats the order silently)", UserWarning, stacklevel=2)
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch``: without it every epoch repeats the same order."""
        self.epoch = int(epoch)

    def __repr__(self) -> str:
        return (f"DistributedSampler({len(self.dataset)} samples, rank {self.rank} of "
                f"{self.num_replicas}, shuffle={self.shuffle}, seed={self.seed}, "
                f"drop_last={self.drop_last})")
