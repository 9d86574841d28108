# ruff: noqa - written as PyTorch user code is written
# A data pipeline as training scripts write it: a map-style Dataset with a transform,
# DataLoader with batch_size / drop_last / a collate_fn for variable-length samples /
# an explicit sampler / a BatchSampler; shuffling with a seeded generator (the order is
# chainrule's own, so only what does not depend on it is compared: each epoch visits every
# sample once, the same seed gives the same order); WeightedRandomSampler's counts;
# random_split sizes; an IterableDataset; Subset and ConcatDataset.
import numpy as np
import torch
from torch.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset,
                              IterableDataset, RandomSampler, SequentialSampler, Subset,
                              SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
                              random_split)
from torch.nn.utils.rnn import pad_sequence

rng = np.random.default_rng(36)
features = rng.standard_normal((23, 3)).astype(np.float32)
labels = rng.integers(0, 2, 23)


class Points(Dataset):
    def __init__(self, x, y, transform=None):
        self.x, self.y, self.transform = x, y, transform

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        x = torch.from_numpy(self.x[i])
        if self.transform is not None:
            x = self.transform(x)
        return {"x": x, "y": int(self.y[i]), "id": i}


class Sentences(Dataset):
    def __init__(self):
        self.lengths = [3, 1, 4, 2, 5, 2]

    def __len__(self):
        return len(self.lengths)

    def __getitem__(self, i):
        return torch.arange(self.lengths[i]) + i, self.lengths[i]


def collate(batch):
    seqs, lengths = zip(*batch)
    return pad_sequence(list(seqs), batch_first=True, padding_value=-1), torch.tensor(lengths)


class Countdown(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        for k in range(self.n, 0, -1):
            yield torch.tensor([float(k), k * 0.5])


data = Points(features, labels, transform=lambda x: x * 2)
loader = DataLoader(data, batch_size=5, shuffle=False, drop_last=True)
batches = [(b["x"], b["y"], b["id"]) for b in loader]
full = DataLoader(data, batch_size=5)

gen = torch.Generator().manual_seed(7)
shuffled = DataLoader(TensorDataset(torch.from_numpy(features), torch.from_numpy(labels)),
                      batch_size=4, shuffle=True, generator=gen)
epochs = []
for epoch in range(2):
    seen = torch.cat([x for x, y in shuffled])
    epochs.append(sorted(seen[:, 0].tolist()))
order_a = [b[0].tolist() for b in DataLoader(TensorDataset(torch.from_numpy(labels)),
                                             batch_size=6, shuffle=True,
                                             generator=torch.Generator().manual_seed(3))]
order_b = [b[0].tolist() for b in DataLoader(TensorDataset(torch.from_numpy(labels)),
                                             batch_size=6, shuffle=True,
                                             generator=torch.Generator().manual_seed(3))]

padded = [(x, n) for x, n in DataLoader(Sentences(), batch_size=3, collate_fn=collate)]
explicit = [b["id"] for b in DataLoader(data, batch_size=4,
                                        sampler=SequentialSampler(range(10)))]
batch_sampler = BatchSampler(SequentialSampler(range(11)), batch_size=4, drop_last=False)
by_batches = [b["id"] for b in DataLoader(data, batch_sampler=batch_sampler)]
subset_ids = sorted(i for b in DataLoader(data, sampler=SubsetRandomSampler([1, 5, 9, 12]),
                                          batch_size=2) for i in b["id"].tolist())

weights = torch.tensor([0.0, 1.0, 0.0, 3.0])
ws = WeightedRandomSampler(weights, num_samples=400, replacement=True,
                           generator=torch.Generator().manual_seed(0))
drawn = torch.tensor(list(ws))
counts = torch.bincount(drawn, minlength=4)

train, val = random_split(data, [18, 5], generator=torch.Generator().manual_seed(1))
fractions = random_split(range(10), [0.7, 0.3])
both = ConcatDataset([Subset(data, [0, 1, 2]), Subset(data, [20, 21])])
stream = [b for b in DataLoader(Countdown(7), batch_size=3)]
rs = RandomSampler(range(6), replacement=True, num_samples=9)

RESULT = {
    "batches": batches, "n_batches": [len(loader), len(full)],
    "last_batch": [list(b["x"].shape) for b in full][-1],
    "epochs": epochs, "same_seed_same_order": order_a == order_b,
    "padded": padded, "explicit": explicit, "by_batches": by_batches,
    "subset_ids": subset_ids, "zero_weight_drawn": [int(counts[0]), int(counts[2])],
    "heavier_drawn_more": bool(counts[3] > counts[1]), "n_drawn": len(drawn),
    "split_sizes": [len(train), len(val), len(fractions[0]), len(fractions[1])],
    "split_disjoint": len(set(train.indices) | set(val.indices)) == 23,
    "concat": [both[i]["id"] for i in range(len(both))], "stream": stream,
    "rs_len": len(list(rs)), "default_collate_types": [type(b["y"]).__name__ for b in full][:1],
}
