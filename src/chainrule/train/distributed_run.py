"""``mpiexec -n K chainrule train ...``: the training run, data parallel over K processes.

:func:`join_world` is called by :func:`chainrule.train.run` first. Without an MPI
launcher (or with one process) it returns a world of one and nothing changes. Under
``mpiexec -n K`` every process loads the same data, builds the same model (DDP copies
rank 0's weights to all), and trains with :class:`DistributedTrainer`:

* the data loader yields the *global* batches, in the same order on every rank (the
  same seed); rank r trains on its contiguous part of each, and its loss is weighted
  by K·n_r/n so that the averaged gradient is exactly the gradient of the mean loss
  over the global batch, also when n does not divide by K. K processes with per-process
  batch B therefore take the same steps as one process with batch K·B, up to
  floating-point round-off (BatchNorm becomes SyncBatchNorm: the global batch's
  statistics; dropout masks are drawn per rank, so a model with dropout does not take
  a single process's steps), and the checkpoint (rank 0's) is the one a single
  process writes: it resumes on any number of processes;
* the epoch's training loss and accuracy are summed over the ranks; validation runs on
  every rank on the whole validation set (the same numbers everywhere, so early stopping
  and the best epoch are decided alike);
* only rank 0 writes files and prints; the other ranks stay silent and end when
  training ends.

A global batch smaller than K (the last one of an epoch, at most K − 1 samples) is
skipped: some rank would have no sample of it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .._tensor import Tensor, wrap
from .callbacks import MetricsLogger, ModelCheckpoint, MonitorCallback
from .trainer import Trainer

__all__ = ["DistributedTrainer", "World", "join_world"]


def _silent(_message: str) -> None:
    pass


@dataclass
class World:
    """This process's place in the job: ``rank`` of ``size`` processes."""

    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def log(self, log: Callable[[str], None]) -> Callable[[str], None]:
        """The run's log on rank 0; nothing on the others."""
        return log if self.is_main else _silent

    def progress(self, progress: bool | None) -> bool | None:
        return progress if self.is_main else False

    def asked_batch(self, per_process: int | None, global_batch: int | None) -> int | None:
        """The global batch the flags ask for: ``global_batch``, or K × the per-process
        ``per_process`` (``None`` where it was left at its default), or ``None`` when
        neither was given. Both given must agree."""
        from .errors import RunError

        if global_batch is not None:
            if global_batch < self.size:
                raise RunError(f"--global-batch {global_batch} is smaller than the "
                               f"{self.size} processes: each needs at least one sample")
            if per_process is not None and per_process * self.size != global_batch:
                asked = f"--batch-size {per_process}" if not self.distributed else (
                    f"--batch-size {per_process} per process × {self.size} processes = "
                    f"{per_process * self.size}")
                raise RunError(f"{asked} disagrees with --global-batch {global_batch}: "
                               "give one of them")
            return int(global_batch)
        return None if per_process is None else self.size * per_process

    def batch_config(self, config, global_batch: int | None, per_process: int | None = None):
        """A fresh run's config with ``batch_size`` the global batch: ``global_batch``
        when given, else K × the per-process ``batch_size``; ``per_process`` is that
        batch when the user gave it (so that it can be checked against
        ``global_batch``)."""
        total = self.asked_batch(per_process, global_batch)
        if total is None:
            total = self.size * config.batch_size
        return replace(config, batch_size=total)

    def describe_batch(self, total: int, samples: int) -> str:
        """How a global batch of ``total`` splits over the processes, on a training set
        of ``samples``."""
        def per_process(n: int) -> str:
            low, high = n // self.size, math.ceil(n / self.size)
            return f"{low}" if low == high else f"{low}–{high}"

        head = f"data parallel over {self.size} processes (MPI): global batch {total}"
        if total > samples:  # the loader's one batch per epoch is the whole set
            return (f"{head}, more than the {samples} training samples: each step takes "
                    f"all {samples} = {self.size} × {per_process(samples)} per process")
        return f"{head} = {self.size} × {per_process(total)} per process"

    def describe_processes(self) -> str:
        """``rank 0 = pid 812 on node1, ...``: how the launcher's PIDs map to ranks."""
        from .. import distributed as dist

        return ", ".join(f"rank {r} = pid {pid} on {host}"
                         for r, pid, host in dist.describe_world())

    def trainer_class(self) -> type:
        return DistributedTrainer if self.distributed else Trainer


def join_world(log: Callable[[str], None] = print) -> World:
    """Join the MPI job this process was launched in (``mpiexec -n K``); a world of one
    without a launcher. Initializes ``chainrule.distributed`` when needed."""
    from .. import distributed as dist

    if not dist.is_initialized():
        if dist.launched_world_size() == 1:
            return World()
        dist.init_process_group(backend="mpi")
    world = World(dist.get_rank(), dist.get_world_size())
    if world.distributed and world.is_main:
        log(f"{world.size} processes: {world.describe_processes()}")
    return world


class _Shard:
    """This rank's contiguous part of each global batch of ``loader``."""

    def __init__(self, loader, rank: int, size: int) -> None:
        self.loader = loader
        self.rank = rank
        self.size = size
        self.weight = 1.0  # K·n_r/n of the batch being trained on
        self.rows = 0  # rows this rank trained on in the epoch

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[tuple]:
        self.rows = 0
        for batch in self.loader:
            n = int(batch[0].shape[0])
            if n < self.size:
                continue  # some rank would get no sample
            start, stop = n * self.rank // self.size, n * (self.rank + 1) // self.size
            self.weight = self.size * (stop - start) / n
            self.rows += stop - start
            yield tuple(wrap(_array(t)[start:stop]) for t in batch)


def _array(t) -> np.ndarray:
    return np.asarray(t.array if isinstance(t, Tensor) else t)


class DistributedTrainer(Trainer):
    """A :class:`~chainrule.train.Trainer` for one rank of a data-parallel job.

    ``self.model`` stays the bare model (checkpoints, evaluation and prediction see
    exactly what a single process has); the training forward goes through
    ``DistributedDataParallel``, which averages the gradients; its BatchNorm layers become
    :class:`~chainrule.nn.SyncBatchNorm` (the global batch's statistics). On ranks other than 0 the
    callbacks that write files or print (checkpoints, metrics, the gradient monitor) are
    left out.
    """

    _WRITERS = (ModelCheckpoint, MetricsLogger, MonitorCallback)

    def __init__(self, model, optimizer, loss_fn: Callable, *args: Any, **kwargs: Any) -> None:
        from .. import distributed as dist
        from ..nn import SyncBatchNorm
        from ..nn.parallel import DistributedDataParallel

        # BatchNorm normalizes by the statistics of the global batch, as one process
        # does: the same layers hold the same parameters and buffers under the same
        # names, so checkpoints are a single process's (they resume on any number)
        model = SyncBatchNorm.convert_sync_batchnorm(model)
        super().__init__(model, optimizer, loss_fn, *args, **kwargs)
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        if self.rank != 0:
            self.callbacks = [cb for cb in self.callbacks if not isinstance(cb, self._WRITERS)]
            self.verbose = False
        # the trainer sets every .grad afresh each step and keeps none across steps, so
        # the averages can stay in the bucket (no copy back into .grad)
        self.ddp = DistributedDataParallel(model, gradient_as_bucket_view=True)
        self._shard: _Shard | None = None

    def train_step(self, x: Tensor, y: Tensor, batch: int = 0) -> tuple[float, np.ndarray]:
        """One step on this rank's part of the global batch; returns this part's mean
        loss and the outputs. The loss is weighted by K·n_r/n before backward, so the
        averaged gradient is that of the global batch's mean loss."""
        weight = self._shard.weight if self._shard is not None else 1.0
        return self._gradient_step(self.ddp, x, y, batch, weight)

    def _run_epoch(self, loader, epoch: int, epochs: int) -> dict:
        from .. import distributed as dist

        self._shard = _Shard(loader, self.rank, self.world_size)
        try:
            record = super()._run_epoch(self._shard, epoch, epochs)
            rows = self._shard.rows
        finally:
            self._shard = None
        # the epoch's means over every rank's samples: sums and counts, reduced; the
        # record's own order (the same on every rank) is that of a single process's
        # metrics.csv columns
        keys = list(record)
        sums = np.array([record[k] * rows for k in keys] + [rows], dtype=np.float64)
        dist.all_reduce(sums)
        return {k: float(s / sums[-1]) for k, s in zip(keys, sums[:-1])}
