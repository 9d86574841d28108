"""cr.data's DataLoader, samplers, datasets and collate against torch.utils.data: same
batch structure and values, same sizes, and worker threads that give the batches of
num_workers=0 in the same order."""

from __future__ import annotations

import threading
import time
from collections import namedtuple

import numpy as np
import pytest

import chainrule as cr
from chainrule import data
from chainrule.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    get_worker_info,
    random_split,
)

torch = pytest.importorskip("torch")
tud = torch.utils.data

Point = namedtuple("Point", "x y")


def _same(ours, theirs, where="batch"):
    """Structure and values equal: chainrule Tensors against torch tensors."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, cr.Tensor), (where, type(ours))
        assert ours.shape == tuple(theirs.shape), where
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=where)
        assert ours.numpy().dtype == theirs.numpy().dtype, (where, ours.dtype, theirs.dtype)
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs), where
        for k in theirs:
            _same(ours[k], theirs[k], f"{where}[{k!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), (where, type(ours))
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _same(a, b, f"{where}[{i}]")
    else:
        assert ours == theirs, where


SAMPLES = {
    "arrays": [np.full(3, i, dtype=np.float32) for i in range(4)],
    "tuples": [(np.arange(2) + i, i, float(i) / 2) for i in range(4)],
    "dicts": [{"image": np.ones((2, 2)) * i, "label": i, "name": f"s{i}"} for i in range(3)],
    "namedtuples": [Point(np.float32(i), np.int64(-i)) for i in range(3)],
    "lists": [[i, [i, i + 1]] for i in range(3)],
    "bools": [True, False, True],
    "numpy-scalars": [np.float32(i) for i in range(3)],
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_default_collate_matches_torch(name):
    samples = SAMPLES[name]
    _same(default_collate(samples), tud.default_collate(samples), name)


def test_default_collate_of_tensors_and_errors():
    got = default_collate([cr.ones(2), cr.zeros(2)])
    assert isinstance(got, cr.Tensor) and got.shape == (2, 2)
    with pytest.raises(RuntimeError, match="different shapes"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="same length"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])


class Squares(Dataset):
    """A generic map-style dataset (no get_batch): samples are (array, int, dict)."""

    def __init__(self, n=23):
        self.n = n
        self.readers = []

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        info = get_worker_info()
        self.readers.append((i, None if info is None else info.id))
        return np.array([i, i * i], dtype=np.float32), i, {"half": i / 2}


class TorchSquares(tud.Dataset):
    def __len__(self):
        return 23

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float32), i, {"half": i / 2}


@pytest.mark.parametrize("kwargs", [{}, {"batch_size": 5}, {"batch_size": 5, "drop_last": True},
                                    {"batch_size": None},
                                    {"batch_sampler": [[3, 1], [0], [22, 4, 5]]},
                                    {"batch_size": 4, "sampler": [9, 2, 7, 7, 1]}])
def test_sequential_batches_match_torch(kwargs):
    ours = list(DataLoader(Squares(), **kwargs))
    theirs = list(tud.DataLoader(TorchSquares(), **kwargs))
    assert len(ours) == len(theirs) == len(DataLoader(Squares(), **kwargs))
    for k, (a, b) in enumerate(zip(ours, theirs)):
        _same(a, b, f"batch {k}")


def test_tensor_dataset_batches_match_torch():
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    y = np.arange(10)
    ours = list(DataLoader(TensorDataset(x, y), batch_size=4))
    theirs = list(tud.DataLoader(tud.TensorDataset(torch.tensor(x), torch.tensor(y)),
                                 batch_size=4))
    for a, b in zip(ours, theirs):
        _same(a, b)
    single = list(DataLoader(TensorDataset(x), batch_size=4))
    assert isinstance(single[0], list) and len(single[0]) == 1  # as torch: [xb]


def _epochs(loader, n=3):
    return [[np.asarray(b[1].numpy()).tolist() for b in loader] for _ in range(n)]


@pytest.mark.parametrize("workers,extra", [(1, {}), (2, {}), (3, {"prefetch_factor": 1}),
                                           (4, {"persistent_workers": True})])
@pytest.mark.parametrize("order", ["seed", "generator", "sampler"])
def test_workers_give_the_batches_of_num_workers_0(workers, extra, order):
    def make(num_workers, **more):
        if order == "seed":
            return DataLoader(Squares(), batch_size=4, shuffle=True, seed=5,
                              num_workers=num_workers, **more)
        if order == "generator":
            return DataLoader(Squares(), batch_size=4, shuffle=True,
                              generator=cr.Generator().manual_seed(3),
                              num_workers=num_workers, **more)
        sampler = WeightedRandomSampler(np.linspace(0.1, 1, 23), 30,
                                        generator=cr.Generator().manual_seed(1))
        return DataLoader(Squares(), batch_size=4, sampler=sampler, num_workers=num_workers,
                          **more)

    want = _epochs(make(0))
    assert want[0] != want[1]  # a new order every epoch
    assert _epochs(make(workers, **extra)) == want


def test_workers_really_load_batch_i_on_worker_i_mod_n():
    ds = Squares(20)
    seen_threads = set()
    init_ids = []
    lock = threading.Lock()

    def init(wid):
        with lock:
            init_ids.append(wid)
            seen_threads.add(threading.current_thread().name)

    batches = list(DataLoader(ds, batch_size=2, num_workers=3, worker_init_fn=init))
    assert len(batches) == 10
    assert sorted(init_ids) == [0, 1, 2]
    assert threading.main_thread().name not in seen_threads
    for i, worker in ds.readers:
        assert worker == (i // 2) % 3  # batch i // 2 went to worker (i // 2) mod 3
    assert [b[1].tolist() for b in batches] == [[2 * k, 2 * k + 1] for k in range(10)]


def test_workers_overlap_slow_loading():
    class Slow(Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            time.sleep(0.05)  # waiting on a file, say
            return np.float32(i)

    start = time.perf_counter()
    assert [b.tolist() for b in DataLoader(Slow(), batch_size=1, num_workers=4)] == \
        [[float(i)] for i in range(8)]
    assert time.perf_counter() - start < 0.05 * 8 * 0.75  # clearly faster than one at a time


def test_worker_errors_reach_the_loop_naming_the_worker():
    class Broken(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            if i == 4:
                raise KeyError("sample 4 is missing")
            return np.float32(i)

    with pytest.raises(KeyError, match="sample 4 is missing") as info:
        list(DataLoader(Broken(), batch_size=2, num_workers=2))
    if hasattr(info.value, "__notes__"):
        assert "DataLoader worker 0, loading batch 2" in info.value.__notes__[0]


def test_timeout():
    class Stuck(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            time.sleep(0.5)
            return np.float32(i)

    with pytest.raises(RuntimeError, match="timeout"):
        list(DataLoader(Stuck(), num_workers=1, timeout=0.05))


def test_breaking_out_early_then_iterating_again():
    loader = DataLoader(Squares(), batch_size=3, shuffle=True, seed=2, num_workers=2,
                        persistent_workers=True)
    want = _epochs(DataLoader(Squares(), batch_size=3, shuffle=True, seed=2), 2)
    for _ in loader:
        break  # an abandoned epoch does not count
    assert _epochs(loader, 2) == want


class Stream(IterableDataset):
    def __init__(self, n, shard=True):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class TorchStream(tud.IterableDataset):
    def __init__(self, n, shard=True):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = tud.get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


@pytest.mark.parametrize("workers,shard", [(0, True), (2, True), (3, False)])
def test_iterable_dataset_with_workers_as_torch(workers, shard):
    ours = [b.tolist() for b in DataLoader(Stream(11, shard), batch_size=2,
                                           num_workers=workers)]
    theirs = [b.tolist() for b in tud.DataLoader(TorchStream(11, shard), batch_size=2,
                                                 num_workers=workers)]
    assert ours == theirs


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    g = cr.Generator().manual_seed(0)
    order = list(RandomSampler(range(10), generator=g))
    assert sorted(order) == list(range(10)) and order != list(range(10))
    assert list(RandomSampler(range(10), generator=cr.Generator().manual_seed(0))) == order
    long = list(RandomSampler(range(4), num_samples=10, generator=g))
    assert len(long) == 10 and sorted(long[:4]) == [0, 1, 2, 3] and sorted(long[4:8]) == [0, 1, 2, 3]
    assert len(RandomSampler(range(4), replacement=True, num_samples=7)) == 7
    assert sorted(SubsetRandomSampler([5, 9, 2])) == [2, 5, 9]
    draws = list(WeightedRandomSampler([0.0, 3.0, 1.0, 0.0], 200, generator=g))
    assert set(draws) == {1, 2} and draws.count(1) > draws.count(2)
    once = list(WeightedRandomSampler([1.0, 1.0, 5.0], 3, replacement=False))
    assert sorted(once) == [0, 1, 2]
    for inner in ([0, 1, 2, 3, 4, 5, 6], list(range(6))):
        for drop in (False, True):
            assert list(BatchSampler(inner, 3, drop)) == list(tud.BatchSampler(inner, 3, drop))
            assert len(BatchSampler(inner, 3, drop)) == len(tud.BatchSampler(inner, 3, drop))


@pytest.mark.parametrize("lengths", [[7, 4], [0.8, 0.2], [0.33, 0.33, 0.34], [0.5, 0.5, 0.0],
                                     [1 / 3] * 3])
def test_random_split_sizes_as_torch(lengths):
    ours = random_split(list(range(11)), lengths, generator=cr.Generator().manual_seed(0))
    theirs = tud.random_split(list(range(11)), lengths,
                              generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s) == list(range(11))


def test_random_split_errors_and_global_seed():
    with pytest.raises(ValueError, match="sum to 9, but the dataset has 10"):
        random_split(range(10), [4, 5])
    cr.manual_seed(4)
    a = [list(s) for s in random_split(range(10), [5, 5])]
    cr.manual_seed(4)
    assert [list(s) for s in random_split(range(10), [5, 5])] == a


def test_subset_and_concat_match_torch():
    x = np.arange(12.0).reshape(6, 2)
    ours = Subset(TensorDataset(x), [4, 0, 5])
    theirs = tud.Subset(tud.TensorDataset(torch.tensor(x)), [4, 0, 5])
    for i in range(3):
        _same(list(ours[i]), list(theirs[i]))
    _same(next(iter(DataLoader(ours, batch_size=3))),
          next(iter(tud.DataLoader(theirs, batch_size=3))))
    both = ConcatDataset([TensorDataset(x[:2]), TensorDataset(x[2:])]) + TensorDataset(x[:1])
    tboth = tud.ConcatDataset([tud.TensorDataset(torch.tensor(x[:2])),
                               tud.TensorDataset(torch.tensor(x[2:]))]) + \
        tud.TensorDataset(torch.tensor(x[:1]))
    assert len(both) == len(tboth) == 7
    for i in (0, 3, 6, -1, -7):
        _same(list(both[i]), list(tboth[i]), f"index {i}")
    with pytest.raises(IndexError, match="out of range for 7"):
        both[7]


@pytest.mark.parametrize("kwargs,match", [
    ({"batch_sampler": [[0]], "batch_size": 2}, "mutually exclusive"),
    ({"sampler": [0, 1], "shuffle": True}, "mutually exclusive with shuffle"),
    ({"batch_size": None, "drop_last": True}, "mutually exclusive"),
    ({"prefetch_factor": 2}, "num_workers > 0"),
    ({"persistent_workers": True}, "num_workers > 0"),
    ({"batch_size": 0}, "batch_size"),
    ({"num_workers": -1}, "num_workers"),
])
def test_loader_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(Squares(), **kwargs)
    with pytest.raises(ValueError):
        tud.DataLoader(TorchSquares(), **kwargs)


def test_iterable_dataset_refuses_shuffle_and_len():
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(TypeError):
        len(DataLoader(Stream(3)))
    assert [b.tolist() for b in DataLoader(Stream(5), batch_size=2, drop_last=True)] == \
        [[0, 1], [2, 3]]


def test_exports():
    for name in ("Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
                 "random_split", "DataLoader", "Sampler", "SequentialSampler",
                 "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
                 "BatchSampler", "get_worker_info", "default_collate"):
        assert hasattr(data, name), name


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_worker_processes_give_the_batches_of_num_workers_0(context):
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.arange(20)
    ds = Subset(TensorDataset(x, y), list(range(3, 20)))

    def make(**kw):
        return DataLoader(ds, batch_size=3, shuffle=True, seed=9, **kw)

    want = _epochs(make(), 2)
    got = _epochs(make(num_workers=2, multiprocessing_context=context,
                       persistent_workers=True), 2)
    assert got == want


class PidStream(IterableDataset):
    def __iter__(self):
        import os

        info = get_worker_info()
        return iter([(os.getpid(), info.id)] * 2)


def test_worker_processes_are_processes_and_errors_come_back():
    import os

    pids = [b[0].tolist() for b in DataLoader(PidStream(), batch_size=2, num_workers=2,
                                              multiprocessing_context="fork")]
    assert len(pids) == 2 and all(p[0] != os.getpid() for p in pids)
    assert len({p[0] for p in pids}) == 2

    class Broken(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            raise ValueError(f"bad sample {i}")

    with pytest.raises(ValueError, match="bad sample 0"):
        list(DataLoader(Broken(), num_workers=1, multiprocessing_context="fork"))


def test_chain_and_stack_datasets_as_torch():
    ours = list(data.ChainDataset([Stream(3), Stream(2)]))
    theirs = list(tud.ChainDataset([TorchStream(3), TorchStream(2)]))
    assert ours == theirs
    x = np.arange(6.0).reshape(3, 2)
    got = next(iter(DataLoader(data.StackDataset(TensorDataset(x), [1, 2, 3]), batch_size=3)))
    want = next(iter(tud.DataLoader(tud.StackDataset(tud.TensorDataset(torch.tensor(x)),
                                                     [1, 2, 3]), batch_size=3)))
    _same(got, want)
    got = data.StackDataset(a=[1, 2], b=[3, 4])[1]
    assert got == tud.StackDataset(a=[1, 2], b=[3, 4])[1]
    with pytest.raises(ValueError, match="different lengths"):
        data.StackDataset([1], [1, 2])


def test_missing_pytorch_names_say_so():
    with pytest.raises(AttributeError, match="DataPipes"):
        data.IterDataPipe  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        data.nothing  # noqa: B018


def test_abandoning_a_slow_loader_does_not_wait_for_its_prefetched_batches():
    class Slow(Dataset):
        def __len__(self):
            return 100

        def __getitem__(self, i):
            time.sleep(0.05)
            return np.float32(i)

    loader = DataLoader(Slow(), batch_size=2, num_workers=2, prefetch_factor=4)
    start = time.perf_counter()
    first = next(iter(loader))
    assert first.tolist() == [0.0, 1.0]
    # 8 batches were queued (0.1 s each, 2 workers): only the running ones may finish
    assert time.perf_counter() - start < 0.35


def test_a_slow_batch_bounds_the_batches_loaded_ahead():
    loaded = []

    class FirstIsSlow(Dataset):
        def __len__(self):
            return 40

        def __getitem__(self, i):
            if i == 0:
                time.sleep(0.3)
            loaded.append(i)
            return np.float32(i)

    it = iter(DataLoader(FirstIsSlow(), batch_size=1, num_workers=2, prefetch_factor=2))
    assert next(it).tolist() == [0.0]
    assert len(loaded) <= 2 * 2 + 1  # not all 40 while batch 0 was loading
    assert [b.item() for b in it] == list(range(1, 40))
