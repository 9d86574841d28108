"""``torch.utils.data.distributed``: ``DistributedSampler`` under PyTorch's path
(``from torch.utils.data.distributed import DistributedSampler``)."""

from ...data.distributed import DistributedSampler

__all__ = ["DistributedSampler"]
