"""Data: datasets, the mini-batch loader, readers, splitting and standardization.

>>> import numpy as np, chainrule as cr
>>> (x, y), (x_test, y_test) = cr.data.load_digits()
>>> scaler = cr.data.Standardizer().fit(x)
>>> loader = cr.data.DataLoader(cr.data.TensorDataset(scaler.transform(x), y),
...                             batch_size=64, shuffle=True, seed=0)
>>> xb, yb = next(iter(loader))
>>> xb.shape, yb.dtype
((64, 64), dtype('int64'))
"""

from .collate import default_collate, default_convert
from .datasets import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .distributed import DistributedSampler
from .loader import DataLoader, WorkerInfo, get_worker_info
from .preprocessing import Standardizer, train_val_split
from .readers import (
    FASHION_CLASSES,
    MNIST_FILES,
    CSVData,
    DataError,
    load_csv,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    read_idx,
    read_idx_header,
)
from .samplers import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "FASHION_CLASSES",
    "MNIST_FILES",
    "BatchSampler",
    "CSVData",
    "ConcatDataset",
    "DataError",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Standardizer",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "load_csv",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "random_split",
    "read_idx",
    "read_idx_header",
    "train_val_split",
]
