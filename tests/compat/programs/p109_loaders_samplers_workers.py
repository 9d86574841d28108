# ruff: noqa - written as PyTorch user code is written
# DataLoader details training scripts depend on: DistributedSampler given num_replicas and
# rank (no process group), its padding, drop_last and set_epoch; worker processes
# (num_workers=2, worker_init_fn, persistent_workers, prefetch_factor, pin_memory) over a
# map-style dataset and over an IterableDataset sharded with get_worker_info(); a
# batch_sampler that yields variable-size batches (bucketing by length); a custom Sampler
# with __len__; ChainDataset and StackDataset; a collate_fn returning a namedtuple;
# default_collate on nested structures; len(loader) with and without drop_last; the
# random samplers (SubsetRandomSampler, WeightedRandomSampler, RandomSampler with
# num_samples) checked by what does not depend on the random stream.
import math
from collections import Counter, namedtuple

import numpy as np
import torch
from torch.utils.data import (BatchSampler, ChainDataset, DataLoader, Dataset,
                              IterableDataset, RandomSampler, Sampler, StackDataset,
                              SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
                              default_collate, get_worker_info)
from torch.utils.data.distributed import DistributedSampler

rng = np.random.default_rng(109)
features = torch.from_numpy(rng.standard_normal((11, 3)).astype(np.float32))
labels = torch.from_numpy(rng.integers(0, 3, 11))
data = TensorDataset(features, labels)

# DistributedSampler as each rank builds it
shards = {}
for shuffle in (False, True):
    for drop_last in (False, True):
        per_rank = []
        for rank in range(3):
            s = DistributedSampler(data, num_replicas=3, rank=rank, shuffle=shuffle,
                                   drop_last=drop_last, seed=5)
            s.set_epoch(1)
            per_rank.append(list(s))
        flat = [i for r in per_rank for i in r]
        entry = {"len": [len(x) for x in per_rank], "num_samples": s.num_samples,
                 "total": s.total_size, "covers": sorted(set(flat)) == list(range(11))
                 if not drop_last else len(set(flat)) == len(flat)}
        if not shuffle:
            entry["indices"] = per_rank
        shards[f"shuffle={shuffle},drop_last={drop_last}"] = entry
s = DistributedSampler(data, num_replicas=2, rank=0, shuffle=True)
s.set_epoch(0)
e0 = list(s)
s.set_epoch(0)
again = list(s)
s.set_epoch(1)
e1 = list(s)


class Squares(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return {"x": torch.tensor([float(i), float(i) ** 2]), "i": i}


def seed_worker(worker_id):
    np.random.seed(1000 + worker_id)


workers = DataLoader(Squares(), batch_size=3, num_workers=2, worker_init_fn=seed_worker,
                     persistent_workers=True, prefetch_factor=2, pin_memory=True)
worker_epochs = [[b["i"].tolist() for b in workers] for _ in range(2)]
worker_x = next(iter(workers))["x"]


class Shards(IterableDataset):
    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            lo, hi = self.start, self.end
        else:
            per = int(math.ceil((self.end - self.start) / float(info.num_workers)))
            lo = self.start + info.id * per
            hi = min(lo + per, self.end)
        return iter(range(lo, hi))


main_process = list(DataLoader(Shards(3, 10), num_workers=0))
two_workers = list(DataLoader(Shards(3, 10), num_workers=2))
batched_workers = [b.tolist() for b in DataLoader(Shards(0, 9), batch_size=2, num_workers=2)]


class BucketBatchSampler(Sampler):
    """Batches of similar length, as translation code builds them."""

    def __init__(self, lengths, max_tokens):
        self.lengths, self.max_tokens = lengths, max_tokens

    def __iter__(self):
        order = sorted(range(len(self.lengths)), key=lambda i: (self.lengths[i], i))
        batch, longest = [], 0
        for i in order:
            longest2 = max(longest, self.lengths[i])
            if batch and longest2 * (len(batch) + 1) > self.max_tokens:
                yield batch
                batch, longest2 = [], self.lengths[i]
            batch.append(i)
            longest = longest2
        if batch:
            yield batch

    def __len__(self):
        return sum(1 for _ in self)


lengths = [5, 2, 7, 3, 3, 6, 1, 4, 2]
Batch = namedtuple("Batch", ["tokens", "lengths"])


class Sentences(Dataset):
    def __len__(self):
        return len(lengths)

    def __getitem__(self, i):
        return torch.arange(lengths[i]) + 10 * i


def pad_collate(items):
    longest = max(len(t) for t in items)
    out = torch.zeros(len(items), longest, dtype=torch.long)
    for row, t in enumerate(items):
        out[row, :len(t)] = t
    return Batch(out, torch.tensor([len(t) for t in items]))


bucket_sampler = BucketBatchSampler(lengths, max_tokens=12)
bucketed = DataLoader(Sentences(), batch_sampler=bucket_sampler, collate_fn=pad_collate)
buckets = [(b.tokens, b.lengths) for b in bucketed]
first_type = type(next(iter(bucketed))).__name__


class EveryOther(Sampler):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(list(range(0, self.n, 2)) + list(range(1, self.n, 2)))

    def __len__(self):
        return self.n


every_other = [y.tolist() for _, y in DataLoader(data, batch_size=4, sampler=EveryOther(11))]
lens = [len(DataLoader(data, batch_size=4)), len(DataLoader(data, batch_size=4, drop_last=True)),
        len(BatchSampler(EveryOther(11), 3, drop_last=False)),
        len(BatchSampler(EveryOther(11), 3, drop_last=True))]


class Countdown(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n, 0, -1))


chained = list(ChainDataset([Countdown(3), Countdown(2)]))
stacked = StackDataset(data, [i * 2 for i in range(11)])
stacked_item = stacked[2]
stacked_kw = StackDataset(feat=features, label=labels)
kw_batch = next(iter(DataLoader(stacked_kw, batch_size=3)))
nested = default_collate([{"a": (torch.ones(2) * i, i), "b": [float(i), "s"]} for i in range(3)])

# the random samplers: only what does not depend on the stream
g = torch.Generator().manual_seed(3)
subset = list(SubsetRandomSampler([1, 4, 6, 9], generator=g))
g1 = torch.Generator().manual_seed(7)
g2 = torch.Generator().manual_seed(7)
weighted = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0, 1.0], num_samples=3,
                                      replacement=False, generator=g1))
weighted2 = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0, 1.0], num_samples=3,
                                       replacement=False, generator=g2))
with_replacement = list(WeightedRandomSampler([0.0, 0.0, 2.0], num_samples=6))
more = list(RandomSampler(data, replacement=True, num_samples=25))
fewer = list(RandomSampler(data, num_samples=5))
shuffled = DataLoader(data, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(0))
seen = sorted(int(i) for _, y in shuffled for i in range(len(y)))

RESULT = {"shards": shards, "set_epoch_repeatable": e0 == again,
          "set_epoch_changes": e0 != e1, "epoch_len": len(e0),
          "worker_epochs": worker_epochs, "worker_x": worker_x,
          "main_process": main_process, "two_workers": two_workers,
          "batched_workers": batched_workers, "buckets": buckets, "first_type": first_type,
          "n_buckets": len(bucket_sampler), "every_other": every_other, "lens": lens,
          "chained": chained, "stacked_item": list(stacked_item), "kw_batch": kw_batch,
          "nested": nested, "subset": sorted(subset),
          "weighted_set": sorted(weighted),
          "weighted_repeatable": weighted == weighted2, "weighted_len": len(weighted),
          "with_replacement": with_replacement, "more_len": len(more),
          "more_range": [min(more) >= 0, max(more) <= 10],
          "fewer": [len(fewer), len(set(fewer))], "seen": len(seen)}
