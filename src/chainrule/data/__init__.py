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

from .distributed import DistributedSampler
from .loader import DataLoader, Dataset, TensorDataset
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

__all__ = [
    "FASHION_CLASSES",
    "MNIST_FILES",
    "CSVData",
    "DataError",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "Standardizer",
    "TensorDataset",
    "load_csv",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "read_idx",
    "read_idx_header",
    "train_val_split",
]
