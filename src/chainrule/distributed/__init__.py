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
    P2POp,
    ReduceOp,
    Work,
    all_gather,
    all_gather_into_tensor,
    all_gather_object,
    all_reduce,
    all_to_all,
    all_to_all_single,
    batch_isend_irecv,
    broadcast,
    broadcast_object_list,
    gather,
    gather_object,
    irecv,
    isend,
    recv,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
    scatter_object_list,
    send,
)
from .process_group import (
    DEFAULT_TIMEOUT,
    Backend,
    DistributedError,
    abort,
    barrier,
    describe_world,
    destroy_process_group,
    get_backend,
    get_global_rank,
    get_group_rank,
    get_node_local_rank,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_gloo_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    is_torchelastic_launched,
    launched_world_size,
    monitored_barrier,
    new_group,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "Backend",
    "DistributedError",
    "P2POp",
    "ReduceOp",
    "Work",
    "abort",
    "all_gather",
    "all_gather_into_tensor",
    "all_gather_object",
    "all_reduce",
    "all_to_all",
    "all_to_all_single",
    "barrier",
    "batch_isend_irecv",
    "broadcast",
    "broadcast_object_list",
    "describe_world",
    "destroy_process_group",
    "gather",
    "gather_object",
    "get_backend",
    "get_global_rank",
    "get_group_rank",
    "get_node_local_rank",
    "get_process_group_ranks",
    "get_rank",
    "get_world_size",
    "group",
    "init_process_group",
    "irecv",
    "is_available",
    "is_gloo_available",
    "is_initialized",
    "is_mpi_available",
    "is_nccl_available",
    "is_torchelastic_launched",
    "isend",
    "launched_world_size",
    "monitored_barrier",
    "new_group",
    "recv",
    "reduce",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "scatter",
    "scatter_object_list",
    "send",
]

# PyTorch's torch.distributed names that chainrule does not have, with what to use instead
_NEAREST = {
    "TCPStore": "not needed: the MPI launcher (mpiexec) introduces the processes to each other",
    "FileStore": "not needed: the MPI launcher (mpiexec) introduces the processes to each other",
    "HashStore": "not needed: the MPI launcher (mpiexec) introduces the processes to each other",
    "PrefixStore": "not needed: the MPI launcher (mpiexec) introduces the processes to each other",
    "Store": "not needed: the MPI launcher (mpiexec) introduces the processes to each other",
    "ProcessGroup": "use the default group (group.WORLD), the only one",
    "DeviceMesh": "use data parallel over all ranks (nn.parallel.DistributedDataParallel)",
    "init_device_mesh": "use data parallel over all ranks "
                        "(nn.parallel.DistributedDataParallel)",
    "fsdp": "use nn.parallel.DistributedDataParallel (every rank holds the whole model)",
    "rpc": "use point-to-point send/recv and the object collectives",
    "pipelining": "use nn.parallel.DistributedDataParallel",
    "launch": "use mpiexec -n K python script.py",
    "run": "use mpiexec -n K python script.py",
}


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    if name in ("elastic", "optim"):  # imported when first asked (optim imports optim)
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    near = _NEAREST.get(name)
    hint = f"; in chainrule: {near}" if near else ""
    raise AttributeError(f"module 'chainrule.distributed' has no attribute {name!r}: "
                         f"PyTorch's torch.distributed.{name} is not part of chainrule{hint} "
                         "(see docs/distributed.md)")
