# ruff: noqa - written as PyTorch tutorials write it
# torch.utils.data: TensorDataset, Subset, ConcatDataset, samplers, BatchSampler,
# a collate_fn, dict samples, drop_last, and random_split with a seeded generator.
import numpy as np
import torch
from torch.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset,
                              SequentialSampler, Subset, TensorDataset, random_split)

features = torch.arange(20, dtype=torch.float32).view(10, 2)
labels = torch.arange(10) % 3
ds = TensorDataset(features, labels)
sub = Subset(ds, [9, 0, 4, 5])
both = ConcatDataset([sub, Subset(ds, [1, 2])])
batches = [[xb.tolist(), yb.tolist()] for xb, yb in DataLoader(both, batch_size=4)]
dropped = len(DataLoader(ds, batch_size=4, drop_last=True))
bs = list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False))


class Words(Dataset):
    def __init__(self):
        self.items = [{"x": np.full(2, i, dtype=np.float32), "n": i} for i in range(5)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


dict_batches = [{k: v.tolist() for k, v in b.items()}
                for b in DataLoader(Words(), batch_size=2)]


def pad_collate(batch):
    xs = [torch.tensor(x) for x, _ in batch]
    return torch.stack(xs), torch.tensor([y for _, y in batch])


custom = [b[0].shape[0] for b in DataLoader([(np.ones(3), 1)] * 5, batch_size=2,
                                             collate_fn=pad_collate)]
train, val = random_split(ds, [0.8, 0.2], generator=torch.Generator().manual_seed(42))
RESULT = {"batches": batches, "dropped": dropped, "bs": bs, "dict": dict_batches,
          "custom": custom, "split_sizes": [len(train), len(val)],
          "disjoint": not set(train.indices) & set(val.indices), "len": len(ds)}
