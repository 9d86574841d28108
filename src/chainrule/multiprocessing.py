"""``torch.multiprocessing.spawn`` on MPI: PyTorch's data-parallel tutorials start their
processes with ``mp.spawn(main, args=(world_size,), nprocs=world_size)`` and connect
them with ``init_process_group("gloo", rank=rank, world_size=world_size)``. chainrule's
processes are connected by an MPI launcher, so ``spawn`` starts the program itself again
under ``mpiexec -n nprocs`` (the same interpreter, the same command line) and waits for
it; in each of those processes the same ``spawn`` call runs ``fn(rank, *args)`` with the
launcher's rank. The program's code before ``spawn`` therefore runs once in the first
process and once more in each spawned one (PyTorch's spawn re-imports the main module
too, but skips its ``if __name__ == "__main__":`` block).

>>> def work(rank, total):
...     print("rank", rank, "of", total)
>>> spawn(work, args=(1,), nprocs=1)      # one process: fn runs here, with rank 0
rank 0 of 1
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["ProcessContext", "ProcessExitedException", "spawn", "start_processes"]


class ProcessExitedException(Exception):
    """The spawned job ended with a failure status (its processes' own errors are
    printed above, each naming its rank)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ProcessContext:
    """The spawned job, for ``spawn(..., join=False)``: ``join()`` waits for it."""

    def __init__(self, process: subprocess.Popen, nprocs: int) -> None:
        self._process = process
        self.nprocs = nprocs

    def pids(self) -> list[int]:
        return [self._process.pid]

    def join(self, timeout: float | None = None) -> bool:
        """Wait (up to ``timeout`` seconds) for the job; True once it has ended, and a
        ProcessExitedException when it ended with a failure status."""
        try:
            status = self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        if status != 0:
            raise ProcessExitedException(
                f"spawn: the {self.nprocs} processes ended with exit status {status} (their "
                "errors are printed above)", status)
        return True


def spawn(fn: Callable, args: tuple = (), nprocs: int = 1, join: bool = True,
          daemon: bool = False, start_method: str = "spawn") -> ProcessContext | None:
    """Run ``fn(rank, *args)`` in ``nprocs`` processes connected by MPI (ranks 0 …
    nprocs − 1), as PyTorch's ``torch.multiprocessing.spawn``; with ``join`` wait for
    them (a ProcessExitedException when one fails), else return a ProcessContext."""
    from .distributed.process_group import launched_rank, launched_world_size

    if not isinstance(nprocs, int) or nprocs < 1:
        raise ValueError(f"spawn: nprocs must be a positive integer, got {nprocs!r}")
    if not callable(fn):
        raise TypeError(f"spawn: fn must be callable, got {type(fn).__name__}")
    launched = launched_world_size()
    if launched > 1:  # one of the processes the launcher started: do this rank's work
        if launched != nprocs:
            raise ValueError(f"spawn: nprocs={nprocs}, but the MPI launcher started "
                             f"{launched} processes")
        fn(launched_rank(), *args)
        return None
    if nprocs == 1:
        fn(0, *args)
        return None
    process = subprocess.Popen([_mpiexec(), "-n", str(nprocs), *_this_program()])
    context = ProcessContext(process, nprocs)
    if not join:
        return context
    try:
        context.join()
    except KeyboardInterrupt:
        process.terminate()
        raise
    return None


def start_processes(fn: Callable, args: tuple = (), nprocs: int = 1, join: bool = True,
                    daemon: bool = False, start_method: str = "spawn"):
    """PyTorch's general form of ``spawn``; every start method starts them under MPI."""
    return spawn(fn, args, nprocs, join, daemon, start_method)


def _this_program() -> list[str]:
    """The command line that started this process (interpreter and its options
    included), to start it again."""
    argv = list(getattr(sys, "orig_argv", []))[1:] or list(sys.argv)
    if not argv or argv[0] in ("", "-") or (sys.argv and sys.argv[0] in ("", "-")):
        raise RuntimeError("spawn: this program was not started from a file or `-c`/`-m` "
                           "(an interactive session?), so it cannot be started again under "
                           "mpiexec; save it as a script, or run mpiexec -n K python "
                           "script.py yourself")
    return [sys.executable, *argv]


def _mpiexec() -> str:
    from .distributed.process_group import mpiexec_path

    found = mpiexec_path()
    if found is None:
        raise RuntimeError("spawn: no mpiexec found (beside this Python or on PATH); "
                           "install it with: pip install 'chainrule[distributed]'")
    return found


def set_start_method(method: str, force: bool = False) -> None:
    """Accepted for PyTorch programs: every start method starts the processes under
    MPI."""


def get_start_method(allow_none: bool = False) -> str:
    return "spawn"


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    if name == "Process":  # the "Writing Distributed Applications" tutorial's launch
        raise AttributeError(
            "module 'chainrule.multiprocessing' has no attribute 'Process': the ranks of "
            "a job are started together by MPI, not one Process at a time; replace the "
            "loop of mp.Process(target=fn, args=(rank, size, ...)).start() by "
            "mp.spawn(fn, args=(size, ...), nprocs=size) (fn gets the rank first), or "
            "run the script with mpiexec -n SIZE")
    raise AttributeError(
        f"module 'chainrule.multiprocessing' has no attribute {name!r}: chainrule has "
        "PyTorch's spawn/start_processes (processes started under mpiexec); for other "
        "process tools use Python's own multiprocessing module")
