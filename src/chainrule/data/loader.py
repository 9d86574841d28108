"""The mini-batch loader, with PyTorch's ``DataLoader`` arguments.

``DataLoader`` turns a dataset into mini-batches for stochastic gradient descent:
batch size 1 is plain SGD, batch size N is full-batch gradient descent. For a dataset
with ``get_batch`` (``TensorDataset``, a ``Subset`` of one) a batch is one
fancy-indexing of each array (never a Python loop over samples), which is what keeps
small-batch training fast.

With ``num_workers > 0`` batches are loaded ahead by that many worker threads (NumPy
releases the GIL in its array work, and a dataset that reads files waits on I/O, so
threads overlap loading with training without pickling the dataset). Batch i is
loaded by worker i mod num_workers and the batches come out in the order of
``num_workers=0``: the same batches, in the same order, for the same seed or generator.
"""

from __future__ import annotations

import itertools
import math
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from ..random import numpy_generator
from ..tensor import _wrap
from .collate import default_collate, default_convert
from .datasets import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .samplers import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["ConcatDataset", "DataLoader", "Dataset", "IterableDataset", "Subset",
           "TensorDataset", "WorkerInfo", "get_worker_info", "random_split"]


class WorkerInfo(NamedTuple):
    """What ``get_worker_info()`` returns inside a worker."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_local = threading.local()


def get_worker_info() -> WorkerInfo | None:
    """Inside a loader's worker: its ``id``, ``num_workers``, ``seed`` and ``dataset``;
    None in the main thread. An ``IterableDataset`` uses it to give each worker its own
    part of the stream.

    >>> get_worker_info() is None
    True
    """
    return getattr(_worker_local, "info", None)


_DONE = object()  # an iterable dataset's worker has no more batches


class _Fetcher:
    """Loads one batch (or one sample) from the dataset: what a worker runs."""

    def __init__(self, loader: DataLoader):
        self.dataset = loader.dataset
        self.collate_fn = loader.collate_fn
        self.auto_collation = loader.batch_size is not None or loader.batch_sampler is not None
        self.fast = (self.auto_collation and loader._default_collate
                     and hasattr(self.dataset, "get_batch"))
        self.batch_size = loader.batch_size
        self.drop_last = loader.drop_last
        self.iterator = None  # an iterable dataset's stream, in this worker

    def map_style(self, indices):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[indices])
        if self.fast:  # one fancy-index per array
            return [_wrap(np.asarray(f)) for f in self.dataset.get_batch(np.asarray(indices))]
        many = getattr(self.dataset, "__getitems__", None)
        samples = many(indices) if many is not None else [self.dataset[i] for i in indices]
        return self.collate_fn(samples)

    def stream(self):
        """The next batch of an iterable dataset, or _DONE."""
        if self.iterator is None:
            self.iterator = iter(self.dataset)
        if not self.auto_collation:
            item = next(self.iterator, _DONE)
            return item if item is _DONE else self.collate_fn(item)
        batch = list(itertools.islice(self.iterator, self.batch_size))
        if not batch or (self.drop_last and len(batch) < self.batch_size):
            return _DONE
        return self.collate_fn(batch)


class _Workers:
    """``num_workers`` threads, each with its own task queue, sharing one result queue.
    A task is (epoch token, batch number, indices or None for a stream's next batch)."""

    def __init__(self, loader: DataLoader, base_seed: int):
        self.n = loader.num_workers
        self.dataset = loader.dataset
        self.init_fn = loader.worker_init_fn
        self.base_seed = base_seed
        self.tasks = [queue.Queue() for _ in range(self.n)]
        self.results: queue.Queue = queue.Queue()
        self.fetchers: list[_Fetcher | None] = [None] * self.n
        self.threads = [threading.Thread(target=self._loop, args=(wid,), daemon=True,
                                         name=f"chainrule-DataLoader-worker-{wid}")
                        for wid in range(self.n)]
        for t in self.threads:
            t.start()

    def _loop(self, wid: int) -> None:
        _worker_local.info = WorkerInfo(wid, self.n, self.base_seed + wid, self.dataset)
        init_error = None
        if self.init_fn is not None:
            try:
                self.init_fn(wid)
            except BaseException as e:  # noqa: BLE001 - handed to the main thread
                init_error = e
        while True:
            task = self.tasks[wid].get()
            if task is None:
                return
            token, number, payload, fetcher = task
            if init_error is not None:
                self.results.put((token, number, None, init_error, wid))
                continue
            try:
                out = fetcher.stream() if payload is None else fetcher.map_style(payload)
            except BaseException as e:  # noqa: BLE001 - handed to the main thread
                self.results.put((token, number, None, e, wid))
            else:
                self.results.put((token, number, out, None, wid))

    def stop(self) -> None:
        for q in self.tasks:
            q.put(None)
        for t in self.threads:
            if t is not threading.current_thread():
                t.join(timeout=5)


class DataLoader:
    """Iterate over a dataset in mini-batches, as ``torch.utils.data.DataLoader``.

    Args:
        dataset: a map-style ``Dataset`` (anything with ``len`` and ``[i]``) or an
            ``IterableDataset``.
        batch_size: samples per batch (1 by default); None yields single samples
            without collation.
        shuffle: a new random order every epoch (map-style datasets).
        sampler: the indices to read, in order (instead of ``shuffle``).
        batch_sampler: lists of indices, one per batch (instead of ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``).
        num_workers: load batches ahead in this many worker threads (0: in the loop).
        collate_fn: turns a list of samples into a batch (``default_collate``).
        pin_memory: accepted; arrays already live in main memory.
        drop_last: skip the last batch when it is smaller than ``batch_size``.
        timeout: seconds to wait for a worker's batch (0: forever).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker first.
        generator: the ``cr.Generator`` that draws the shuffled orders (see ``seed``).
        prefetch_factor: batches loaded ahead per worker (2 with workers).
        persistent_workers: keep the workers between epochs.
        seed: (chainrule) the shuffle's seed when no ``generator`` is given. The order
            of epoch ``e`` depends only on ``(seed, e)``, so a run is reproducible and a
            loader restored with ``load_state_dict`` continues with the same orders.
            None draws it from the global generator (``cr.manual_seed``) at creation.

    Each iteration is one epoch; finishing one advances ``epoch``. A batch of a
    ``TensorDataset`` is a list of Tensors, one per array (as PyTorch).

    >>> import numpy as np
    >>> x, y = np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5)
    >>> loader = DataLoader(TensorDataset(x, y), batch_size=2, shuffle=True, seed=0)
    >>> len(loader), [tuple(xb.shape) for xb, yb in loader]
    (3, [(2, 2), (2, 2), (1, 2)])
    >>> loader.epoch
    1
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | None = None, batch_sampler=None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], Any] | None = None,
                 multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True,
                 seed: int | None = None) -> None:
        if batch_size is not None and (not isinstance(batch_size, (int, np.integer))
                                       or isinstance(batch_size, bool) or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size must be a positive integer or None, got "
                             f"{batch_size!r}")
        if not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a non-negative integer, got "
                             f"{num_workers!r}")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout must be >= 0, got {timeout}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor is only used with num_workers > 0 "
                             "(loading in the main loop prefetches nothing)")
        if num_workers == 0 and persistent_workers:
            raise ValueError("DataLoader: persistent_workers=True needs num_workers > 0")
        if prefetch_factor is not None and prefetch_factor < 1:
            raise ValueError(f"DataLoader: prefetch_factor must be >= 1, got {prefetch_factor}")
        self.dataset = dataset
        self.num_workers = int(num_workers)
        self.prefetch_factor = (2 if prefetch_factor is None else int(prefetch_factor)) \
            if num_workers else None
        self.pin_memory = bool(pin_memory)
        self.timeout = float(timeout)
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = bool(persistent_workers)
        self.in_order = bool(in_order)
        self.generator = generator
        self.epoch = 0  # completed passes; keys the shuffled order
        self._iterable = isinstance(dataset, IterableDataset)
        self._default_collate = collate_fn is None
        self._workers: _Workers | None = None
        self.seed = None

        if self._iterable:
            if shuffle:
                raise ValueError("DataLoader: shuffle=True is not possible with an "
                                 "IterableDataset (shuffle the stream itself)")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader: an IterableDataset takes no sampler or "
                                 "batch_sampler")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler is mutually exclusive with "
                                 "batch_size, shuffle, sampler and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None (no batching) is mutually exclusive "
                             "with drop_last")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler is mutually exclusive with shuffle (the "
                             "sampler decides the order)")
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)
        if sampler is None and not self._iterable:
            if shuffle:
                if generator is None:
                    if seed is None:  # drawn once, so the orders do not depend on workers
                        from ..random import _rng

                        seed = int(_rng().integers(0, 2**63 - 1))
                    self.seed = int(seed)
                    sampler = RandomSampler(dataset, seed=self.seed)
                else:
                    numpy_generator(generator)  # a clear error for a wrong kind
                    sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        self.shuffle = bool(shuffle)
        self.sampler = sampler
        # the loader keys the order of a sampler it made itself by its epoch count
        self._own_sampler = self.seed is not None and sampler is not None
        if batch_sampler is None and batch_size is not None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, self.drop_last)
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if (batch_size is not None or batch_sampler is not None)
            else default_convert)

    # -- size and order -------------------------------------------------------------
    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError for a stream without a length, as PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def order(self, epoch: int | None = None) -> np.ndarray | None:
        """The sample order of ``epoch`` (default: the next one) when shuffling with a
        seed; None otherwise."""
        if self.seed is None or not isinstance(self.sampler, RandomSampler):
            return None
        return np.random.default_rng([self.seed, self.epoch if epoch is None else epoch]
                                     ).permutation(len(self.dataset))

    # -- iteration ----------------------------------------------------------------
    def __iter__(self) -> Iterator:
        if self._own_sampler:
            self.sampler.set_epoch(self.epoch)
        if self.num_workers == 0:
            batches = self._single_process()
        else:
            batches = self._with_workers()
        yield from batches
        self.epoch += 1

    def _tasks(self):
        """What each batch reads: index lists (map-style) or None (a stream's next)."""
        if self._iterable:
            return None
        if self.batch_sampler is not None:
            return iter(self.batch_sampler)
        return iter(self.sampler)

    def _single_process(self) -> Iterator:
        fetcher = _Fetcher(self)
        if self._iterable:
            while True:
                batch = fetcher.stream()
                if batch is _DONE:
                    return
                yield batch
        if fetcher.fast and isinstance(self.sampler, SequentialSampler) and \
                isinstance(self.batch_sampler, BatchSampler):
            # in order: contiguous slices, no index arrays at all
            n, size = len(self.dataset), self.batch_size
            stop = (n // size) * size if self.drop_last else n
            for start in range(0, stop, size):
                yield [_wrap(np.asarray(f)) for f in
                       self.dataset.get_batch(slice(start, min(start + size, n)))]
            return
        for indices in self._tasks():
            yield fetcher.map_style(indices)

    def _worker_seed(self) -> int:
        key = [self.seed if self.seed is not None else 0, self.epoch, 0x5EED]
        if self.generator is not None:
            key[0] = int(getattr(self.generator, "initial_seed", lambda: 0)())
        return int(np.random.default_rng(key).integers(0, 2**62))

    def _with_workers(self) -> Iterator:
        workers = self._workers
        if workers is None:
            workers = _Workers(self, self._worker_seed())
            if self.persistent_workers:
                self._workers = workers
        token = object()  # results of an abandoned epoch are recognized and dropped
        fetchers = [_Fetcher(self) for _ in range(workers.n)]
        tasks = self._tasks()
        active = list(range(workers.n))  # streams that may still have batches
        ahead = self.prefetch_factor * workers.n
        pending: dict[int, Any] = {}
        sent = received = 0
        next_out = 0
        exhausted = False
        rr = itertools.cycle(range(workers.n))
        try:
            while True:
                while not exhausted and sent - received < ahead:
                    if tasks is None:  # a stream: ask the next active worker
                        if not active:
                            exhausted = True
                            break
                        wid = next(w for w in rr if w in active)
                        payload = None
                    else:
                        payload = next(tasks, _DONE)
                        if payload is _DONE:
                            exhausted = True
                            break
                        wid = sent % workers.n
                    workers.tasks[wid].put((token, sent, payload, fetchers[wid]))
                    sent += 1
                if next_out == sent:  # (only when no task is left to send)
                    return
                while next_out not in pending:
                    try:
                        got = workers.results.get(timeout=self.timeout or None)
                    except queue.Empty:
                        raise RuntimeError(f"DataLoader: no batch from the workers in "
                                           f"{self.timeout:g} s (timeout)") from None
                    tok, number, out, error, wid = got
                    if tok is not token:
                        continue
                    received += 1
                    if error is not None:
                        if hasattr(error, "add_note"):  # Python >= 3.11
                            error.add_note(f"(raised in DataLoader worker {wid}, loading "
                                           f"batch {number})")
                        raise error
                    if out is _DONE:
                        if wid in active:
                            active.remove(wid)
                        pending[number] = _DONE
                    else:
                        pending[number] = out
                out = pending.pop(next_out)
                next_out += 1
                if out is not _DONE:
                    yield out
        finally:
            if not self.persistent_workers:
                workers.stop()
            elif received != sent:  # an abandoned epoch: start afresh next time
                workers.stop()
                self._workers = None

    def __del__(self):
        workers = self.__dict__.get("_workers")
        if workers is not None:
            workers.stop()

    # -- checkpoints ----------------------------------------------------------------
    def state_dict(self) -> dict:
        """What a checkpoint needs to continue with the same batches: seed and epoch."""
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        seed = state.get("seed")
        if seed is not None:
            self.seed = int(seed)
            if self._own_sampler:
                self.sampler.seed = self.seed
        self.epoch = int(state["epoch"])

    def __getstate__(self) -> dict:
        d = dict(self.__dict__)
        d["_workers"] = None  # threads are not state
        return d

    def __repr__(self) -> str:
        size = "?" if self._iterable else len(self.dataset)
        return (f"DataLoader({type(self.dataset).__name__} of {size}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, num_workers={self.num_workers}, seed={self.seed})")
