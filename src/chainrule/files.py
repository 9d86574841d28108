"""Writing files so that a failed run never costs the user what they had saved.

``atomic_write`` writes through a temporary file named ``.NAME.XXXXXXXX.tmp`` beside the
target (``XXXXXXXX``: 8 characters of ``[a-z0-9_]``) and renames it over the target.
A process killed mid-write (``kill -9``, a power cut) cannot remove its temporary file;
``remove_stale_temp_files`` does so later.

How a temporary file is known to be stale: the writer holds an exclusive ``flock`` on
its temporary file from creation to rename, and the kernel drops that lock when the
writer's process ends, however it ends. A temporary file of our naming pattern whose
lock can be taken is therefore not being written by any live process: it is removed.
One whose lock is held (another run writing into the same folder right now) is kept.
The remover takes the lock before unlinking and the writer checks, once it holds its
lock, that its file still has a name, taking a new one if not, so the two never race.
On platforms without ``flock`` (Windows) a temporary file counts as stale only once it
has not been modified for ``STALE_AGE_WITHOUT_LOCKS`` seconds; on file systems that
refuse locks, temporary files are never taken for stale (none is removed).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

__all__ = ["STALE_AGE_WITHOUT_LOCKS", "atomic_write", "remove_stale_temp_files"]

_log = logging.getLogger("chainrule.files")

STALE_AGE_WITHOUT_LOCKS = 3600.0  # seconds; only used where flock is missing

# .NAME.XXXXXXXX.tmp, as tempfile.mkstemp(prefix=".NAME.", suffix=".tmp") names it
_TEMP_NAME = re.compile(r"\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp")


def _create_locked_temp(folder: Path, name: str) -> tuple[int, str]:
    """A new temporary file for ``name`` in ``folder``, opened and exclusively locked."""
    while True:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
        if fcntl is None:
            return fd, tmp
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # blocks only while a remover inspects it
        except OSError:
            # a file system without locks (some network/FUSE mounts): write unlocked; the
            # remover cannot lock it either, so it never takes this file for stale
            return fd, tmp
        try:
            if os.fstat(fd).st_ino == os.lstat(tmp).st_ino:
                return fd, tmp
        except FileNotFoundError:
            pass
        os.close(fd)  # a remover took it for stale between mkstemp and flock: take another


def remove_stale_temp_files(folder: str | os.PathLike, target: str | None = None,
                            log: bool = True) -> list[Path]:
    """Remove the temporary files that interrupted ``atomic_write`` calls left in ``folder``.

    Only files of our naming pattern (``.NAME.XXXXXXXX.tmp``, regular files, not links)
    are considered, and of those only the stale ones: no live process holds their lock
    (see the module docstring). ``target`` (a file name such as ``"last.safetensors"``)
    restricts the clean-up to that file's temporary files. Files that cannot be removed
    (another user's, a read-only folder) are left alone. Returns the removed paths,
    sorted; with ``log`` each removal is also reported on the ``chainrule.files`` logger
    (a warning, shown on stderr when logging is not configured).

    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> open(os.path.join(folder, ".ckpt.safetensors.k3j9x0a2.tmp"), "wb").close()
    >>> [p.name for p in remove_stale_temp_files(folder, log=False)]
    ['.ckpt.safetensors.k3j9x0a2.tmp']
    """
    folder = Path(folder)
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []
    removed = []
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match is None or (target is not None and match["target"] != target):
            continue
        if _remove_if_stale(Path(entry.path)):
            removed.append(Path(entry.path))
    removed.sort()
    if log and removed:
        _log.warning("removed %d stale temporary file%s left by interrupted writes in %s: %s",
                     len(removed), "" if len(removed) == 1 else "s", folder,
                     ", ".join(p.name for p in removed[:5]) + (" ..." if len(removed) > 5 else ""))
    return removed


def _remove_if_stale(path: Path) -> bool:
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            return False
        if fcntl is None:
            if time.time() - info.st_mtime < STALE_AGE_WITHOUT_LOCKS:
                return False
            os.unlink(path)
            return True
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a live writer holds it
        if os.fstat(fd).st_ino != os.lstat(path).st_ino:
            return False  # replaced under us by another file of the same name
        os.unlink(path)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", durable: bool = False) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` in one step.

    A crash or an exception while writing leaves the previous ``path`` untouched and no
    temporary file behind. ``durable=True`` also flushes the data and the rename to disk
    (fsync), for checkpoints that must survive a power cut.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> with atomic_write(path, "w") as f:
    ...     _ = f.write("kept whole or not at all")
    >>> open(path).read()
    'kept whole or not at all'
    """
    path = Path(path)
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_locked_temp(folder, path.name)
    # a second descriptor of the same open file keeps the lock (flock belongs to the open
    # file, not the descriptor) from the file object's close until the rename is done
    lock_fd = os.dup(fd)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"newline": ""})) as f:
            yield f
            if durable:
                f.flush()
                os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the mode open() would
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    finally:
        os.close(lock_fd)
    if durable:
        _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable; not every platform can open a directory."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
