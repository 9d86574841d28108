"""``torch.utils.data.dataloader``: DataLoader and its collate functions under PyTorch's
module path."""

from ...data import DataLoader, default_collate, default_convert, get_worker_info

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]
