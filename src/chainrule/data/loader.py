"""The mini-batch loader, with PyTorch's ``DataLoader`` arguments.

``DataLoader`` turns a dataset into mini-batches for stochastic gradient descent:
batch size 1 is plain SGD, batch size N is full-batch gradient descent. For a dataset
with ``get_batch`` (``TensorDataset``, a ``Subset`` of one) a batch is one
fancy-indexing of each array (never a Python loop over samples), which is what keeps
small-batch training fast.

With ``num_workers > 0`` batches are loaded ahead by that many worker threads (NumPy
releases the GIL in its array work, and a dataset that reads files waits on I/O, so
threads overlap loading with training without pickling the dataset); given a
``multiprocessing_context`` ("fork", "spawn", "forkserver" or a context), by worker
processes instead, for datasets whose Python work needs CPUs of its own (the dataset
and collate function are then pickled to them, as in PyTorch, and each process seeds
its global generators with its worker seed). Batch i is loaded by worker
i mod num_workers and the batches come out in the order of ``num_workers=0``: the same
batches, in the same order, for the same seed or generator.
"""

from __future__ import annotations

import itertools
import math
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from .._tensor import wrap
from ..random import numpy_generator
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


class _Done:
    """An iterable dataset's worker has no more batches (a class, so that the marker
    survives pickling between processes)."""

    def __reduce__(self):
        return (_done, ())


def _done() -> _Done:
    return _DONE


_DONE = _Done()


class _Fetcher:
    """Loads one batch (or one sample) from the dataset: what a worker runs."""

    def __init__(self, dataset, collate_fn, auto_collation: bool, fast: bool,
                 batch_size: int | None, drop_last: bool):
        self.dataset = dataset
        self.collate_fn = collate_fn
        self.auto_collation = auto_collation
        self.fast = fast  # the dataset's get_batch replaces indexing + default_collate
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.iterator = None  # an iterable dataset's stream, in this worker

    @classmethod
    def settings(cls, loader: DataLoader) -> tuple:
        """The constructor's arguments for ``loader`` (plain values: they may be pickled
        to a worker process)."""
        auto = loader.batch_size is not None or loader.batch_sampler is not None
        fast = auto and loader._default_collate and hasattr(loader.dataset, "get_batch")
        return (loader.dataset, loader.collate_fn, auto, fast, loader.batch_size,
                loader.drop_last)

    def run(self, payload):
        """One task: a list of indices (map-style) or None (a stream's next batch)."""
        return self.stream() if payload is None else self.map_style(payload)

    def map_style(self, indices):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[indices])
        if self.fast:  # one fancy-index per array
            return [wrap(np.asarray(f)) for f in self.dataset.get_batch(np.asarray(indices))]
        many = getattr(self.dataset, "__getitems__", None)
        samples = many(indices) if many is not None else [self.dataset[i] for i in indices]
        return self.collate_fn(samples)

    def stream(self):
        """The next batch of an iterable dataset, or _DONE."""
        if self.iterator is None:
            self.iterator = iter(self.dataset)
        if not self.auto_collation:
            item = next(self.iterator, _DONE)
            return item if isinstance(item, _Done) else self.collate_fn(item)
        batch = list(itertools.islice(self.iterator, self.batch_size))
        if not batch or (self.drop_last and len(batch) < self.batch_size):
            return _DONE
        return self.collate_fn(batch)


def _worker_loop(wid: int, n: int, seed: int, settings: tuple, init_fn, tasks, results,
                 process: bool) -> None:
    """A worker's life: set up, then run tasks (epoch, batch number, payload) until None,
    putting (epoch, number, batch, error, worker id) on ``results``. An iterable
    dataset's stream starts afresh with each epoch."""
    dataset = settings[0]
    _worker_local.info = WorkerInfo(wid, n, seed, dataset)
    if process:  # a process has its own global generators: seed them per worker
        import random

        from ..random import manual_seed

        manual_seed(seed)
        random.seed(seed)
    init_error = None
    if init_fn is not None:
        try:
            init_fn(wid)
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            init_error = e
    fetcher, epoch = None, None
    while True:
        task = tasks.get()
        if task is None:
            return
        token, number, payload = task
        if token != epoch:
            fetcher, epoch = _Fetcher(*settings), token
        try:
            if init_error is not None:
                raise init_error
            out, error = fetcher.run(payload), None
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            out, error = None, e
        if process and error is not None:
            error = _picklable(error, wid)
        results.put((token, number, out, error, wid))


def _picklable(error: BaseException, wid: int) -> BaseException:
    """``error`` if it survives pickling, else a RuntimeError carrying its traceback."""
    import pickle
    import traceback

    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:  # noqa: BLE001 - any pickling failure
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        return RuntimeError(f"{type(error).__name__} in DataLoader worker {wid}:\n{text}")


class _Workers:
    """``num_workers`` threads (or processes, given a ``multiprocessing_context``), each
    with its own task queue, sharing one result queue."""

    def __init__(self, loader: DataLoader, base_seed: int):
        self.n = loader.num_workers
        settings = _Fetcher.settings(loader)
        context = loader.multiprocessing_context
        self.processes = context is not None
        if self.processes:
            import multiprocessing

            ctx = multiprocessing.get_context(context) if isinstance(context, str) \
                else context
            self.tasks = [ctx.Queue() for _ in range(self.n)]
            self.results = ctx.Queue()
            make = ctx.Process
        else:
            self.tasks = [queue.Queue() for _ in range(self.n)]
            self.results = queue.Queue()
            make = threading.Thread
        self.workers = [
            make(target=_worker_loop, daemon=True, name=f"chainrule-DataLoader-worker-{wid}",
                 args=(wid, self.n, base_seed + wid, settings, loader.worker_init_fn,
                       self.tasks[wid], self.results, self.processes))
            for wid in range(self.n)]
        for w in self.workers:
            w.start()

    def get(self, timeout: float):
        """The next result; a RuntimeError when ``timeout`` (> 0) passes or a worker
        process died."""
        waited = 0.0
        while True:
            step = 1.0 if not timeout else min(1.0, timeout - waited)
            try:
                return self.results.get(timeout=max(step, 1e-3))
            except queue.Empty:
                waited += step
            if self.processes:
                for wid, w in enumerate(self.workers):
                    if not w.is_alive():
                        raise RuntimeError(f"DataLoader worker {wid} (pid {w.pid}) exited "
                                           f"unexpectedly with exit code {w.exitcode}")
            if timeout and waited >= timeout:
                raise RuntimeError(f"DataLoader: no batch from the workers in {timeout:g} s "
                                   "(timeout)")

    def stop(self) -> None:
        """Drop the tasks not started yet and let the workers end; a thread that is still
        loading a batch finishes it on its own (it is a daemon: nothing waits for it)."""
        for q in self.tasks:
            try:
                while True:
                    q.get_nowait()
            except (queue.Empty, OSError, ValueError):
                pass
            try:
                q.put(None)
            except (ValueError, OSError):  # a queue already closed
                pass
        if self.processes:
            for w in self.workers:
                w.join(timeout=5)
                if w.is_alive():
                    w.terminate()


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
        multiprocessing_context: use worker processes of this start method instead.
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
                        seed = int(numpy_generator().integers(0, 2**63 - 1))
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
        fetcher = _Fetcher(*_Fetcher.settings(self))
        if self._iterable:
            while True:
                batch = fetcher.stream()
                if isinstance(batch, _Done):
                    return
                yield batch
        if fetcher.fast and isinstance(self.sampler, SequentialSampler) and \
                isinstance(self.batch_sampler, BatchSampler):
            # in order: contiguous slices, no index arrays at all
            n, size = len(self.dataset), self.batch_size
            stop = (n // size) * size if self.drop_last else n
            for start in range(0, stop, size):
                yield [wrap(np.asarray(f)) for f in
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
        self._epoch_token = token = getattr(self, "_epoch_token", 0) + 1  # results of an
        tasks = self._tasks()  # abandoned epoch are recognized by it and dropped
        active = list(range(workers.n))  # streams that may still have batches
        ahead = self.prefetch_factor * workers.n
        pending: dict[int, Any] = {}
        sent = received = 0
        next_out = 0
        exhausted = False
        rr = itertools.cycle(range(workers.n))
        try:
            while True:
                # at most `ahead` batches sent but not yet yielded (loading or waiting in
                # `pending` behind a slower one), so memory stays bounded
                while not exhausted and sent - next_out < ahead:
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
                    workers.tasks[wid].put((token, sent, payload))
                    sent += 1
                if next_out == sent:  # (only when no task is left to send)
                    return
                while next_out not in pending:
                    tok, number, out, error, wid = workers.get(self.timeout)
                    if tok != token:
                        continue
                    received += 1
                    if error is not None:
                        if hasattr(error, "add_note"):  # Python >= 3.11
                            error.add_note(f"(raised in DataLoader worker {wid}, loading "
                                           f"batch {number})")
                        raise error
                    if isinstance(out, _Done):
                        if wid in active:
                            active.remove(wid)
                        pending[number] = _DONE
                    else:
                        pending[number] = out
                out = pending.pop(next_out)
                next_out += 1
                if not isinstance(out, _Done):
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
