"""The process group: who is in the job, and what happens when one of them fails.

The job is started by an MPI launcher (``mpiexec -n K python train.py``); each process
reads its rank and the world size from MPI. A program started without a launcher is a
world of one process and needs no MPI at all, so the same script runs both ways.

Failure policy (an MPI job whose rank dies must not hang its peers in a collective):

- an uncaught exception on any rank prints the traceback and one line naming the rank,
  then calls ``MPI_Abort``: the launcher stops every rank at once;
- a rank killed by a signal (``kill -9``, out of memory) is noticed by the launcher,
  which stops the others; the PIDs it reports map to ranks through ``describe_world()``
  (``chainrule train`` prints that table when it starts);
- a rank that leaves normally waits for the others at exit without burning a core, and
  aborts the job when they have not all arrived after ``timeout`` (a peer that called
  ``sys.exit`` early would otherwise leave the rest blocked forever);
- a rank that has waited longer than ``timeout`` in one collective (a peer stuck in its
  own computation, or ranks that called collectives in different orders) aborts the
  job: MPI has no timeout of its own, so a watchdog thread keeps the time;
- a rank waiting in a collective that no rank can join any more (every other rank has
  left the program or waits in another collective: a rank with more batches than the
  others) aborts the job within seconds; the watchdogs tell each other where they wait.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import os
import socket
import sys
import threading
import time
from typing import Any, Self

import numpy as np

# Environment variables by which MPI launchers announce the world size of the job:
# MPICH/Intel MPI (Hydra), Open MPI, MVAPICH.
_LAUNCHER_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")
_LAUNCHER_RANK_VARS = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "MV2_COMM_WORLD_RANK")

DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)  # PyTorch's default for CPU backends


class DistributedError(RuntimeError):
    """Misuse of the process group (not initialized, wrong backend, mismatched ranks)."""


def launched_world_size() -> int:
    """The number of processes an MPI launcher started for this job (1 without one).

    Read from the launcher's environment, without starting MPI, so that a program can
    decide whether to go distributed before paying for it.

    >>> launched_world_size() >= 1
    True
    """
    return _launcher_number(_LAUNCHER_SIZE_VARS, low=1)


def launched_rank() -> int:
    """This process's rank as the MPI launcher announced it (0 without one), read from
    the environment without starting MPI: a program can let rank 0 alone speak before
    it joins the job (``chainrule``'s command line reports a bad flag once)."""
    return _launcher_number(_LAUNCHER_RANK_VARS, low=0)


def _launcher_number(names: tuple, low: int) -> int:
    """The first of the launcher's variables ``names`` that holds an integer (at least
    ``low``), or ``low`` when none does."""
    for var in names:
        value = os.environ.get(var)
        if value:
            try:
                return max(low, int(value))
            except ValueError:
                continue
    return low


def mpiexec_path() -> str | None:
    """The MPI launcher to start a job with: the ``mpiexec`` beside this Python (the
    mpich wheel's, in a virtual environment), else the one on PATH, else None."""
    import shutil
    from pathlib import Path

    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def is_mpi_available() -> bool:
    """Whether mpi4py can be imported (``pip install 'chainrule[distributed]'``)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def is_available() -> bool:
    """Distributed support is always available: a world of one needs no MPI."""
    return True


class _SingleProcess:
    """The world of one process: every collective leaves its data as it is."""

    rank = 0
    size = 1
    name = "single process"

    def allreduce(self, buf, op: str) -> None:
        pass

    def iallreduce(self, buf, op: str):
        return _Completed()

    def internal_view(self) -> _SingleProcess:
        return self

    def bcast(self, buf, src: int) -> None:
        pass

    def allgather(self, sendbuf, recvbuf) -> None:
        recvbuf[0] = sendbuf

    def gather(self, sendbuf, recvbuf, dst: int) -> None:
        recvbuf[0] = sendbuf

    def scatter(self, sendbuf, recvbuf, src: int) -> None:
        recvbuf[...] = sendbuf[0]

    def reduce_scatter(self, sendbuf, recvbuf, op: str) -> None:
        recvbuf[...] = sendbuf[0]

    def alltoall(self, sendbuf, recvbuf) -> None:
        recvbuf[...] = sendbuf

    def gather_object(self, obj, dst: int) -> list:
        return [obj]

    def scatter_object(self, objs, src: int):
        return objs[0]

    def reduce(self, buf, op: str, dst: int) -> None:
        pass

    def barrier(self) -> None:
        pass

    def allgather_object(self, obj) -> list:
        return [obj]

    def bcast_object(self, obj, src: int):
        return obj

    def waitall(self, requests) -> None:
        pass

    def abort(self, code: int) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _poll(request, deadline: float) -> bool:
    """Wait for ``request`` until ``deadline`` (monotonic), sleeping between tests;
    True when it completed."""
    pause = 1e-4
    while not request.Test():
        if time.monotonic() > deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
    return True


class _Completed:
    def Wait(self) -> None:
        pass

    def Test(self) -> bool:
        return True


class _MPIWorld:
    """COMM_WORLD of mpi4py, duplicated so a program's own MPI traffic cannot mix with ours."""

    name = "mpi"

    def __init__(self) -> None:
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise DistributedError(
                f"init_process_group: this process was started by an MPI launcher "
                f"(world size {launched_world_size()}) but mpi4py cannot be imported ({e}); "
                "install it with: pip install 'chainrule[distributed]' (mpi4py and mpich)"
            ) from None
        self.MPI = MPI
        self.comm = MPI.COMM_WORLD.Dup()
        # the exit barrier gets a communicator of its own: on ``comm`` it could match a
        # collective that a peer has started there and complete without that peer
        self.exit_comm = MPI.COMM_WORLD.Dup()
        self.monitor_comm = MPI.COMM_WORLD.Dup()  # monitored_barrier's messages
        # DDP's own collectives (see internal_view)
        self.internal_comm = MPI.COMM_WORLD.Dup()
        self.label = ""  # put before a collective's name in the watchdog's messages
        self._internal: _MPIWorld | None = None
        self._pool_owner = self
        self.failure_comm = MPI.COMM_WORLD.Dup()  # all_ranks_failed's agreement
        # the watchdogs tell each other where their ranks wait, and a rank at the end of
        # its program says so, so that ranks that can never meet again stop at once
        # (see _Watchdog); the watchdog's thread talks, which needs full thread support
        self.status_comm = MPI.COMM_WORLD.Dup()
        self.talks_from_thread = MPI.Query_thread() == MPI.THREAD_MULTIPLE
        self._status_sends: list = []
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.ops = {"sum": MPI.SUM, "product": MPI.PROD, "min": MPI.MIN, "max": MPI.MAX,
                    "band": MPI.BAND, "bor": MPI.BOR, "bxor": MPI.BXOR}
        self.watchdog = _Watchdog.start()
        self._shared_pool: Any = False  # not looked for yet

    def internal_view(self) -> _MPIWorld:
        """This world on a communicator of chainrule's own, for DistributedDataParallel's
        collectives. On the program's communicator, a DDP step that one rank makes and
        another does not (a forward on rank 0 only, a rank with one batch more) would
        have its messages matched by the other rank's ``dist.barrier()`` or
        ``all_reduce``: an MPI error, or values silently mixed. On their own they wait,
        and the watchdog names both sides."""
        if self._internal is None:
            import copy

            view = copy.copy(self)
            view.comm = self.internal_comm
            view.label = "DistributedDataParallel's "
            view._internal = view
            view._pool_owner = self  # one pool of shared-memory windows per process
            self._internal = view
        return self._internal

    def _blocking(self, what: str, call, *args, **kwargs):
        """Run the blocking MPI ``call`` under the watchdog's eye (mpi4py releases the GIL
        inside MPI, so the watchdog thread runs while this one waits). Collectives are
        counted: every rank of a correct program is at the same count in the same one."""
        watchdog = self.watchdog
        watchdog.what = self.label + what
        if what not in ("send", "recv"):
            watchdog.count += 1
        watchdog.since = time.monotonic()
        try:
            return call(*args, **kwargs)
        finally:
            watchdog.since = None

    def allreduce(self, buf, op: str) -> None:
        self._blocking("all_reduce", self.comm.Allreduce, self.MPI.IN_PLACE, buf,
                       op=self.ops[op])

    def iallreduce(self, buf, op: str):
        return self.comm.Iallreduce(self.MPI.IN_PLACE, buf, op=self.ops[op])

    def bcast(self, buf, src: int) -> None:
        self._blocking("broadcast", self.comm.Bcast, buf, root=src)

    def allgather(self, sendbuf, recvbuf) -> None:
        self._blocking("all_gather", self.comm.Allgather, sendbuf, recvbuf)

    def gather(self, sendbuf, recvbuf, dst: int) -> None:
        self._blocking("gather", self.comm.Gather, sendbuf,
                       recvbuf if self.rank == dst else None, root=dst)

    def scatter(self, sendbuf, recvbuf, src: int) -> None:
        self._blocking("scatter", self.comm.Scatter, sendbuf if self.rank == src else None,
                       recvbuf, root=src)

    def reduce_scatter(self, sendbuf, recvbuf, op: str) -> None:
        self._blocking("reduce_scatter", self.comm.Reduce_scatter_block, sendbuf, recvbuf,
                       op=self.ops[op])

    def alltoall(self, sendbuf, recvbuf) -> None:
        self._blocking("all_to_all", self.comm.Alltoall, sendbuf, recvbuf)

    def gather_object(self, obj, dst: int) -> list | None:
        return self._blocking("gather_object", self.comm.gather, obj, root=dst)

    def scatter_object(self, objs, src: int):
        return self._blocking("scatter_object_list", self.comm.scatter, objs, root=src)

    def send(self, buf, dst: int, tag: int) -> None:
        self._blocking("send", self.comm.Send, buf, dest=dst, tag=tag)

    def recv(self, src: int | None, tag: int) -> tuple[np.ndarray, int]:
        """The next message from ``src`` (any rank: None) with ``tag``, whatever its
        length, and its sender: probed first, so a message of another size is an
        error the caller can word, never a truncated or partly filled buffer."""
        status = self.MPI.Status()
        source = self.MPI.ANY_SOURCE if src is None else src
        self._blocking("recv", self.comm.Probe, source=source, tag=tag, status=status)
        buf = np.empty(status.Get_count(self.MPI.BYTE), dtype=np.uint8)
        self.comm.Recv(buf, source=status.Get_source(), tag=status.Get_tag())
        return buf, status.Get_source()

    def isend(self, buf, dst: int, tag: int):
        return self.comm.Isend(buf, dest=dst, tag=tag)

    def irecv(self, buf, src: int | None, tag: int):
        return self.comm.Irecv(buf, source=self.MPI.ANY_SOURCE if src is None else src,
                               tag=tag)

    def status(self):
        return self.MPI.Status()

    def byte_count(self, status) -> int:
        return status.Get_count(self.MPI.BYTE)

    def monitored_barrier(self, timeout_s: float, wait_all_ranks: bool) -> None:
        """Rank 0 hears from every other rank, then answers each; a rank that is not
        heard from within ``timeout_s`` is named (PyTorch's monitored_barrier)."""
        comm, token = self.monitor_comm, np.zeros(1, dtype=np.uint8)
        deadline = time.monotonic() + timeout_s
        if self.rank != 0:
            comm.Send(token, dest=0, tag=1)
            if not _poll(comm.Irecv(token, source=0, tag=2), deadline):
                raise RuntimeError(f"monitored_barrier: rank {self.rank} waited {timeout_s:g} s "
                                   "for rank 0's answer, which did not come (rank 0 may "
                                   "have timed out on another rank)")
            return
        pending = {r: comm.Irecv(np.zeros(1, dtype=np.uint8), source=r, tag=1)
                   for r in range(1, self.size)}
        missing = [r for r, request in pending.items() if not _poll(request, deadline)]
        if missing:
            shown = missing if wait_all_ranks else missing[:1]
            raise RuntimeError(f"monitored_barrier: rank(s) {shown} did not reach the "
                               f"barrier within {timeout_s:g} s")
        for r in range(1, self.size):
            comm.Send(token, dest=r, tag=2)

    def reduce(self, buf, op: str, dst: int) -> None:
        if self.rank == dst:
            self._blocking("reduce", self.comm.Reduce, self.MPI.IN_PLACE, buf,
                           op=self.ops[op], root=dst)
        else:
            self._blocking("reduce", self.comm.Reduce, buf, None, op=self.ops[op], root=dst)

    def barrier(self) -> None:
        self._blocking("barrier", self.comm.Barrier)

    def internal_barrier(self, what: str) -> None:
        """A barrier of chainrule's own (DDP's shared-memory sums), named ``what`` for
        the watchdog."""
        self._blocking(what, self.internal_comm.Barrier)

    def shared_pool(self):
        """The pool of shared-memory windows, or None when the ranks span machines;
        collective the first time."""
        if self._pool_owner is not self:
            return self._pool_owner.shared_pool()
        if self._shared_pool is False:
            from .bucket_sum import SharedPool

            # on chainrule's own communicator: the program's may hold a peer's collective
            node = self._blocking("DistributedDataParallel's set-up",
                                  self.internal_comm.Split_type, self.MPI.COMM_TYPE_SHARED)
            self._shared_pool = SharedPool(self, node) \
                if node.Get_size() == self.size else None
        return self._shared_pool

    def allgather_object(self, obj) -> list:
        return self._blocking("all_gather_object", self.comm.allgather, obj)

    def bcast_object(self, obj, src: int):
        return self._blocking("broadcast_object", self.comm.bcast, obj, root=src)

    def waitall(self, requests) -> None:
        self._blocking("waiting for all_reduce", self.MPI.Request.Waitall, requests)

    def abort(self, code: int) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        # the launcher forwards our output through a pipe; MPI_Abort tears the job down
        # at once, which can drop the last lines (the error itself) on the way
        time.sleep(0.25)
        _unlink_shared_memory_files()
        self.MPI.COMM_WORLD.Abort(code)
        # MPICH's MPI_Abort returns when a non-blocking collective of this rank is still
        # pending (an Ibarrier that timed out); the launcher ends the job, but this
        # process must not go on meanwhile
        os._exit(code)

    def tell_others(self, status: tuple) -> None:
        """Send this rank's ``status`` (a small tuple) to every other rank, in the
        background."""
        self._status_sends = [r for r in self._status_sends if not r.Test()]
        self._status_sends += [self.status_comm.isend(status, dest=r, tag=0)
                               for r in range(self.size) if r != self.rank]

    def statuses_arrived(self) -> list[tuple[int, tuple]]:
        """(rank, status) of every status message that has arrived, in order."""
        arrived, info = [], self.MPI.Status()
        while self.status_comm.iprobe(source=self.MPI.ANY_SOURCE, tag=0, status=info):
            source = info.Get_source()
            arrived.append((source, self.status_comm.recv(source=source, tag=0)))
        return arrived

    def finish_statuses(self) -> None:
        """Once every rank is at the exit (each sent "left" last): receive what is
        still on the way, finish the sends."""
        remaining = set(range(self.size)) - {self.rank} - self.watchdog.left
        while remaining:
            info = self.MPI.Status()
            status = self.status_comm.recv(source=self.MPI.ANY_SOURCE, tag=0, status=info)
            if status[0] == "left":
                remaining.discard(info.Get_source())
        self.MPI.Request.Waitall(self._status_sends)

    def polite_barrier(self, timeout_s: float) -> bool:
        """A barrier that sleeps between polls (a waiting rank leaves its core to the
        ranks still working) and gives up after ``timeout_s``; True when all arrived."""
        return _poll(self.exit_comm.Ibarrier(), time.monotonic() + timeout_s)

    def all_failed(self, message: str, timeout_s: float) -> list[str] | None:
        if not _poll(self.failure_comm.Ibarrier(), time.monotonic() + timeout_s):
            return None
        return self.failure_comm.allgather(message)


def _unlink_shared_memory_files() -> None:
    """Remove the names of the files in /dev/shm that MPICH mapped for this job: MPICH
    removes them at a normal finish, and an aborted job would leave them behind (2 MB
    each, for good). The ranks keep their mappings; only the names go."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split(None, 5)[5].strip() for line in maps
                     if line.count(" ") >= 5 and "/dev/shm/mpich_shm_" in line}
    except OSError:
        return  # not Linux
    for path in paths:
        with contextlib.suppress(OSError):
            os.unlink(path)


_DDP_HINT = ("; a forward or backward through DistributedDataParallel must run on every "
             "rank: to evaluate on one rank only, call ddp.module(x)")


class _Watchdog:
    """Ends the job when its rank can no longer get out of a blocking collective.

    The rank in the collective stamps ``since`` on the way in and clears it on the way
    out (a few attribute writes per collective); a daemon thread looks at the stamp
    about once a second. It ends the job when the wait has lasted longer than
    init_process_group's ``timeout``, or sooner when no rank can move any more: the
    watchdogs tell each other when their rank has waited a second in a collective (and
    in which: its name and count) and when it is out, and each rank at the end of its
    program says so (with its count); when for ``GRACE_S`` a rank has left after fewer
    collectives than this one's count, or waits in another collective at the same
    count, this one can never finish (a rank that ran more steps than the others, ranks
    that called different collectives). A program without such a mistake only ever
    sends these messages during waits of more than a second. One per process."""

    GRACE_S = 3.0  # how long the picture must stay still before it counts as stuck
    REPORT_AFTER_S = 1.0  # a wait this long is told to the others

    _instance = None

    def __init__(self) -> None:
        self.since: float | None = None  # when this rank entered the collective
        self.what = ""
        self.count = 0  # collectives this rank has entered (the same on every rank)
        self.lock = threading.Lock()  # held while the thread talks to the other ranks
        self.stopped = False  # the rank is leaving: the thread says nothing more
        # rank -> ("waiting", count, what) or ("left", count); absent: computing
        self.peers: dict[int, tuple] = {}
        self.left: set[int] = set()
        self.reported: tuple | None = None  # (since, count, what) told to the others
        self.changed = 0.0  # when the picture last changed

    @classmethod
    def start(cls) -> _Watchdog:
        if cls._instance is None:
            cls._instance = cls()
            threading.Thread(target=cls._instance._watch, daemon=True,
                             name="chainrule.distributed watchdog").start()
        return cls._instance

    def _watch(self) -> None:
        while True:
            timeout = _state.timeout_s
            time.sleep(min(max(timeout / 8, 0.05), 1.0))
            since = self.since
            # a quarter of slack: when a peer has left the program early, its own wait
            # at exit (same timeout) speaks first, and it can say that it left
            if since is not None and time.monotonic() - since > timeout * 1.25:
                abort(f"{self.what} waited more than {timeout:g} s for the other ranks "
                      "(init_process_group's timeout): a rank is stuck in its own "
                      "computation, or the ranks called collectives in different orders",
                      1, verb="gave up")
            world = _state.mpi
            if world is None or not world.talks_from_thread:
                continue
            with self.lock:
                if self.stopped:
                    return
                self._talk(world, since, time.monotonic())

    def _talk(self, world, since: float | None, now: float) -> None:
        for source, status in world.statuses_arrived():
            if source in self.left:
                continue
            if status[0] == "left":
                self.left.add(source)
                self.peers[source] = status
            elif status[0] == "waiting":
                self.peers[source] = status
            else:  # ("done",): out of its collective, computing again
                self.peers.pop(source, None)
            self.changed = now
        if self.reported is not None and self.reported[0] != since:
            world.tell_others(("done",))
            self.reported, self.changed = None, now
        if since is None:
            return
        if self.reported is None:
            count, what = self.count, self.what
            if now - since >= self.REPORT_AFTER_S and self.since == since:
                world.tell_others(("waiting", count, what))
                self.reported, self.changed = (since, count, what), now
            return
        if now - self.changed < self.GRACE_S:
            return
        count, what = self.reported[1:]
        # certain, whatever the ranks not named here do: a rank that left after fewer
        # collectives than this one's count never makes this one; a rank waiting in
        # another collective at the same count needs this rank there, not here. (Ranks
        # at other counts can be a slow collective's stragglers: left to the timeout.)
        blockers = {r: status for r, status in self.peers.items()
                    if (status[0] == "left" and status[1] < count)
                    or (status[0] == "waiting" and status[1] == count and status[2] != what)}
        if not blockers or self.since != since:
            return
        described = "; ".join(
            f"rank {r} " + ("has reached the end of the program after "
                            f"{status[1]} collectives" if status[0] == "left"
                            else f"waits in {status[2]} (its collective #{status[1]})")
            for r, status in sorted(blockers.items()))
        hint = _DDP_HINT if "DistributedDataParallel" in described + self.what else ""
        abort(f"{self.what} (its collective #{count}) cannot finish: {described}. The "
              "ranks ran different numbers of steps or called collectives in different "
              "orders (data of different lengths on different ranks? DistributedSampler "
              "gives every rank the same number of batches; wrap loops over inputs that "
              f"are uneven by design in `with ddp.join():`{hint})", 1, verb="gave up")

    def stop(self) -> None:
        """The rank is leaving: after this the thread sends and receives nothing."""
        with self.lock:
            self.stopped = True


class _State:
    world: Any = None  # _SingleProcess or _MPIWorld once initialized
    mpi: Any = None  # the MPI world, kept after destroy_process_group for failure handling
    timeout_s: float = DEFAULT_TIMEOUT.total_seconds()
    table: tuple = ()  # (pid, host) by rank
    hooks_installed = False
    previous_excepthook = None
    exit_status: Any = None  # what sys.exit was given, if it was called
    failed_together = False  # every rank met in all_ranks_failed: leaving is agreed


_state = _State()


class _Group:
    """``chainrule.distributed.group.WORLD``: the one process group there is."""

    WORLD = "WORLD"


group = _Group()


def init_process_group(backend: str | None = "mpi", init_method: str | None = None,
                       timeout: datetime.timedelta | None = None, world_size: int = -1,
                       rank: int = -1, **kwargs: Any) -> None:
    """Join the job: afterwards ``get_rank()`` and ``get_world_size()`` answer and the
    collectives work.

    Rank and world size come from the MPI launcher (``mpiexec -n 4 python train.py``);
    a program started without one is a world of one process and needs no MPI. The
    ``backend`` is ``"mpi"``; ``"gloo"`` (what CPU PyTorch programs pass) is accepted and
    also runs on MPI. ``world_size``/``rank``, when given, must agree with the
    launcher's. ``init_method`` may be PyTorch's ``env://``, ``tcp://host:port`` or
    ``file://path``: the launcher has already connected the processes, so the address
    is not used (``chainrule.multiprocessing.spawn`` starts them under ``mpiexec``).
    ``timeout`` (default 30 minutes, as PyTorch) bounds how long a rank waits
    in one collective, and at exit for the others, before it aborts the whole job with
    a line naming itself and the collective.

    >>> import chainrule.distributed as dist
    >>> dist.init_process_group(backend="mpi")        # no launcher: a world of one
    >>> dist.get_rank(), dist.get_world_size()
    (0, 1)
    >>> dist.destroy_process_group()
    """
    if _state.world is not None:
        raise DistributedError("init_process_group: the default process group is already "
                               "initialized; call destroy_process_group() first")
    name = "mpi" if backend is None else str(backend).lower()
    if name not in ("mpi", "gloo"):
        raise DistributedError(
            f"init_process_group: backend {backend!r} is not supported; chainrule "
            "communicates over MPI: use backend='mpi' ('gloo' is accepted as a synonym) "
            "and start the job with mpiexec -n K")
    if init_method is not None and not (isinstance(init_method, str) and init_method.split(
            "://")[0] in ("env", "tcp", "file")):
        raise DistributedError(
            f"init_process_group: init_method {init_method!r} is not supported; the MPI "
            "launcher (mpiexec) tells each process its rank and the world size")
    unknown = set(kwargs) - {"store", "group_name", "pg_options", "device_id"}
    if unknown:
        raise TypeError(f"init_process_group: unexpected argument(s) {sorted(unknown)}")
    if timeout is not None:
        seconds = timeout.total_seconds() if isinstance(timeout, datetime.timedelta) \
            else float(timeout)
        if seconds <= 0:
            raise ValueError(f"init_process_group: timeout must be positive, got {timeout!r}")
        _state.timeout_s = seconds
    launched = launched_world_size()
    asked = str(world_size) if world_size not in (-1, None) else os.environ.get("WORLD_SIZE", "")
    if launched == 1 and asked.isdigit() and int(asked) > 1:
        # torchrun (or a user) says this process is one of several, but no MPI launcher
        # started it: as a world of one, each process would silently train alone
        raise DistributedError(
            f"init_process_group: world_size={asked} says this process is one of {asked} "
            "(started by torchrun, or by Python's multiprocessing?), but chainrule's "
            "processes are started by an MPI launcher, which connects them: run `mpiexec -n "
            f"{asked} python SCRIPT.py`, or start them with chainrule.multiprocessing.spawn")
    world = _MPIWorld() if launched > 1 else _SingleProcess()
    for given, actual, what in ((world_size, world.size, "world_size"),
                                (rank, world.rank, "rank")):
        if given not in (-1, None) and int(given) != actual:
            raise DistributedError(
                f"init_process_group: {what}={given} was passed but the MPI launcher started "
                f"this process as {what} {actual}; leave {what} out (the launcher decides)")
    _state.world = world
    _state.table = world.allgather_object((os.getpid(), socket.gethostname()))
    if world.size > 1:
        _state.mpi = world
        _install_failure_handling()


def _install_failure_handling() -> None:
    if _state.hooks_installed:
        return
    _state.hooks_installed = True
    _state.previous_excepthook = sys.excepthook
    sys.excepthook = _abort_on_uncaught_exception
    _record_exit_status()
    # registered after mpi4py's own exit handler (which finalizes MPI), so it runs first
    atexit.register(_wait_for_peers_at_exit)


def _rank_label() -> str:
    world = _state.mpi
    pid, host = _state.table[world.rank] if _state.table else (os.getpid(), "?")
    return f"rank {world.rank} of {world.size} (pid {pid} on {host})"


def _abort_on_uncaught_exception(exc_type, exc, tb) -> None:
    previous = _state.previous_excepthook or sys.__excepthook__
    previous(exc_type, exc, tb)
    if _state.mpi is None:
        return
    summary = "".join(f"{exc_type.__name__}: {exc}".splitlines()[:1])
    abort(f"{summary}", 1)


def abort(reason: str, code: int = 1, verb: str = "failed") -> None:
    """Stop the whole job now: print one line naming this rank and ``reason`` on stderr,
    then ``MPI_Abort`` (the launcher ends every rank). In a world of one, exit."""
    world = _state.mpi
    if world is None:
        sys.stderr.write(f"chainrule.distributed: {reason}\n")
        sys.stderr.flush()
        os._exit(code)
    sys.stderr.write(f"chainrule.distributed: {_rank_label()} {verb}: {reason}; "
                     f"stopping all {world.size} ranks\n")
    world.abort(code)


def _record_exit_status() -> None:
    """Remember the status passed to ``sys.exit`` (and ``exit``/``quit``): at exit the
    interpreter no longer tells it, and a rank leaving with a failure status must end
    the job at once instead of waiting for peers that will never come."""
    import builtins

    def recording(original):
        def leave(status=None):
            _state.exit_status = status
            original(status)

        leave.__wrapped__ = original
        leave.__doc__ = original.__doc__
        return leave

    sys.exit = recording(sys.exit)
    for name in ("exit", "quit"):
        if callable(getattr(builtins, name, None)):
            setattr(builtins, name, recording(getattr(builtins, name)))


def _wait_for_peers_at_exit() -> None:
    world = _state.mpi
    if world is None:
        return
    status = _state.exit_status
    if status not in (None, 0) and not _state.failed_together:
        code = status if isinstance(status, int) else 1
        abort(f"it called sys.exit({status!r}) while the other ranks go on", code,
              verb="left")
    if world.talks_from_thread:
        world.watchdog.stop()
        world.tell_others(("left", world.watchdog.count))
    if not world.polite_barrier(_state.timeout_s):
        abort(f"it reached the end of the program; the other ranks did not within "
              f"{_state.timeout_s:g} s (init_process_group's timeout): one of them is stuck, "
              "or still waits in a collective that this rank did not make (a different "
              "number of steps?)", 1, verb="gave up")
    if world.talks_from_thread:
        world.finish_statuses()


def all_ranks_failed(message: str, timeout_s: float = 5.0) -> list[str] | None:
    """For a rank that has failed and is about to stop: wait up to ``timeout_s`` for every
    other rank to fail too (each calling this). When all do, returns their messages by
    rank, and each rank may then leave with a failure status (``sys.exit(2)`` ends the
    job with status 2, without an abort); otherwise ``None``: some rank is still working
    or waits in a collective, and the caller should :func:`abort`. A world of one returns
    ``[message]``. (For errors that every rank finds alike, such as bad settings: one
    rank reports them instead of all.)"""
    world = _state.mpi
    if world is None:
        return [message]
    messages = world.all_failed(message, timeout_s)
    if messages is not None:
        _state.failed_together = True
    return messages


def _world(caller: str):
    world = _state.world
    if world is None:
        raise DistributedError(
            f"{caller}: the default process group has not been initialized; call "
            "chainrule.distributed.init_process_group(backend='mpi') first")
    return world


def _check_group(group_arg, caller: str) -> None:
    if group_arg not in (None, group.WORLD):
        raise DistributedError(f"{caller}: only the default group (None or group.WORLD) "
                               f"exists, got {group_arg!r}")


def is_initialized() -> bool:
    """Whether ``init_process_group`` has been called (and not destroyed)."""
    return _state.world is not None


def get_rank(group: Any = None) -> int:
    """This process's number in the job, 0 … world size − 1."""
    _check_group(group, "get_rank")
    return _world("get_rank").rank


def get_world_size(group: Any = None) -> int:
    """The number of processes in the job."""
    _check_group(group, "get_world_size")
    return _world("get_world_size").size


def get_backend(group: Any = None) -> str:
    _check_group(group, "get_backend")
    _world("get_backend")
    return "mpi"


def describe_world() -> list[tuple[int, int, str]]:
    """(rank, pid, host) of every process, the same list on all ranks. When a launcher
    reports a failed PID, this tells which rank it was."""
    _world("describe_world")
    return [(r, pid, host) for r, (pid, host) in enumerate(_state.table)]


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> None:
    """Wait until every rank has reached this call."""
    _check_group(group, "barrier")
    _world("barrier").barrier()


def monitored_barrier(group: Any = None, timeout: datetime.timedelta | None = None,
                      wait_all_ranks: bool = False) -> None:
    """A barrier that names the ranks that do not arrive: rank 0 waits up to ``timeout``
    (default init_process_group's) for each other rank and raises a RuntimeError naming
    the first one missing (all of them with ``wait_all_ranks=True``); the other ranks
    raise when rank 0's answer does not come. As PyTorch's, for finding a stuck rank."""
    _check_group(group, "monitored_barrier")
    world = _world("monitored_barrier")
    seconds = _state.timeout_s if timeout is None else (
        timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else float(timeout))
    if not seconds > 0:
        raise ValueError(f"monitored_barrier: timeout must be positive, got {timeout!r}")
    if world.size > 1:
        world.monitored_barrier(seconds, bool(wait_all_ranks))


def new_group(ranks: Any = None, timeout: Any = None, backend: Any = None,
              pg_options: Any = None, **kwargs: Any):
    """PyTorch's ``new_group``: the group of all ranks (``ranks=None`` or every rank) is
    the default group, returned as ``group.WORLD``. Groups of some of the ranks are not
    supported (every collective runs over all ranks): asking for one is an error."""
    world = _world("new_group")
    if ranks is None or sorted(int(r) for r in ranks) == list(range(world.size)):
        return group.WORLD
    raise DistributedError(
        f"new_group: a group of ranks {sorted(ranks)} out of {world.size} is not supported; "
        "chainrule's collectives run over all ranks (the default group)")


def get_process_group_ranks(group_arg: Any = None) -> list[int]:
    """The global ranks in ``group_arg`` (the default group: all of them)."""
    _check_group(group_arg, "get_process_group_ranks")
    return list(range(_world("get_process_group_ranks").size))


def get_global_rank(group_arg: Any, group_rank: int) -> int:
    """The global rank of ``group_rank`` in ``group_arg``: the same in the default group."""
    _check_group(group_arg, "get_global_rank")
    return _group_rank_check(group_rank, "get_global_rank")


def get_group_rank(group_arg: Any, global_rank: int) -> int:
    """The rank of ``global_rank`` within ``group_arg``: the same in the default group."""
    _check_group(group_arg, "get_group_rank")
    return _group_rank_check(global_rank, "get_group_rank")


def _group_rank_check(rank: Any, caller: str) -> int:
    size = _world(caller).size
    if not isinstance(rank, (int, np.integer)) or not 0 <= rank < size:
        raise ValueError(f"{caller}: {rank!r} is not a rank of this world (0 … {size - 1})")
    return int(rank)


class Backend(str):
    """Backend names, as ``torch.distributed.Backend``: ``Backend("gloo")`` is
    ``"gloo"``. Each of them runs on MPI here."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"

    def __new__(cls, name: str) -> Self:
        value = str(name).lower()
        if value not in ("gloo", "nccl", "mpi", "undefined"):
            raise ValueError(f"Backend: unknown backend {name!r} (gloo, nccl, mpi)")
        return super().__new__(cls, value)


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """This process's rank among the processes on its machine: ``LOCAL_RANK`` (set by
    torchrun, and by ``import chainrule`` under an MPI launcher), else ``fallback_rank``,
    as PyTorch's."""
    value = os.environ.get("LOCAL_RANK")
    if value is not None:
        return int(value)
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("get_node_local_rank: LOCAL_RANK is not set (start the job with "
                       "mpiexec, or pass fallback_rank=...)")


def is_gloo_available() -> bool:
    """True: ``backend="gloo"`` is accepted and runs on MPI (CPU PyTorch programs ask
    for it)."""
    return True


def is_nccl_available() -> bool:
    """False: NCCL (NVIDIA GPUs' collectives) is not a backend of chainrule."""
    return False


def is_torchelastic_launched() -> bool:
    """False: chainrule's jobs are started by an MPI launcher, not torchrun."""
    return False


def export_launcher_environment(environ: Any = None) -> None:
    """Under an MPI launcher, set the variables torchrun sets (``RANK``, ``WORLD_SIZE``,
    ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``) from the launcher's own, where they are not set
    already: PyTorch programs read them (``int(os.environ["LOCAL_RANK"])``), often before
    ``init_process_group``. ``import chainrule`` calls this; it starts no MPI."""
    env = os.environ if environ is None else environ
    if "RANK" in env:
        return  # torchrun's, or the user's own: left alone
    sources = {  # (MPICH/Hydra, Open MPI, MVAPICH)
        "RANK": _LAUNCHER_RANK_VARS,
        "WORLD_SIZE": _LAUNCHER_SIZE_VARS,
        "LOCAL_RANK": ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK",
                       "MV2_COMM_WORLD_LOCAL_RANK"),
        "LOCAL_WORLD_SIZE": ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE",
                             "MV2_COMM_WORLD_LOCAL_SIZE"),
    }
    found = {}
    for name, candidates in sources.items():
        value = next((env[c] for c in candidates if env.get(c)), None)
        if value is not None:
            found[name] = value
    if "RANK" in found and "WORLD_SIZE" in found:
        for name, value in found.items():
            env.setdefault(name, value)


def destroy_process_group(group: Any = None) -> None:
    """Leave the job's process group. MPI itself stays up until the program exits (it
    cannot be started twice), so a new ``init_process_group`` joins the same world, and
    the failure handling stays on."""
    _check_group(group, "destroy_process_group")
    _state.world = None
