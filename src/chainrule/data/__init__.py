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
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
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
    "StackDataset",
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


# what torch.utils.data has and chainrule does not: a clear error naming it
_MISSING = {
    "IterDataPipe": "DataPipes (deprecated in PyTorch) are not supported; write an "
                    "IterableDataset",
    "MapDataPipe": "DataPipes (deprecated in PyTorch) are not supported; write a Dataset",
    "datapipes": "DataPipes (deprecated in PyTorch) are not supported",
}


def __getattr__(name: str):
    if name in _MISSING:
        raise AttributeError(f"chainrule.data has no {name}: {_MISSING[name]}")
    raise AttributeError(f"module 'chainrule.data' has no attribute {name!r}")
