"""The one part of PyTorch's ``torch.distributed.elastic`` that training scripts use
themselves: ``multiprocessing.errors.record``, the decorator that torchrun scripts put
on ``main``. chainrule's jobs are started by an MPI launcher with a fixed number of
processes, so the rest of torchelastic (rendezvous, agents, restarts) has no part here.
"""


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(
        f"module 'chainrule.distributed.elastic' has no attribute {name!r}: chainrule's "
        "jobs are started by mpiexec -n K (a fixed number of processes), not by "
        "torchelastic; only multiprocessing.errors.record is here, for scripts that "
        "decorate their main with it")
