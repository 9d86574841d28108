"""Training across processes and machines: collectives and data parallel over MPI.

PyTorch's ``torch.distributed`` names on mpi4py. Start a job with an MPI launcher
(``mpiexec -n 4 python train.py``); each process calls ``init_process_group`` and
then reads its ``get_rank()`` among ``get_world_size()`` processes. Collectives act on
Tensors in place. Without a launcher a program is a world of one process, so the same
script runs on a laptop and on a cluster. ``chainrule.nn.parallel.
DistributedDataParallel`` averages gradients across the ranks; see docs/distributed.md.

>>> import chainrule as cr
>>> import chainrule.distributed as dist
>>> dist.init_process_group(backend="mpi")
>>> t = cr.tensor([1.0, 4.0])
>>> dist.all_reduce(t, op=dist.ReduceOp.MAX)
>>> t.tolist(), dist.get_world_size()
([1.0, 4.0], 1)
>>> dist.destroy_process_group()
"""

from .collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_gather_object,
    all_reduce,
    broadcast,
    broadcast_object_list,
    reduce,
)
from .process_group import (
    DEFAULT_TIMEOUT,
    DistributedError,
    abort,
    barrier,
    describe_world,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
    launched_world_size,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "DistributedError",
    "ReduceOp",
    "Work",
    "abort",
    "all_gather",
    "all_gather_object",
    "all_reduce",
    "barrier",
    "broadcast",
    "broadcast_object_list",
    "describe_world",
    "destroy_process_group",
    "get_backend",
    "get_rank",
    "get_world_size",
    "group",
    "init_process_group",
    "is_available",
    "is_initialized",
    "is_mpi_available",
    "launched_world_size",
    "reduce",
]
