"""``torch.utils.data.dataset``: the dataset classes under PyTorch's module path."""

from ...data import (
                     ChainDataset,
                     ConcatDataset,
                     Dataset,
                     IterableDataset,
                     StackDataset,
                     Subset,
                     TensorDataset,
                     random_split,
)

__all__ = ["ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "StackDataset",
           "Subset", "TensorDataset", "random_split"]
