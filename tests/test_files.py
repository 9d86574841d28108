"""atomic_write and the removal of temporary files that interrupted writes left behind."""

import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import files

needs_flock = pytest.mark.skipif(files.fcntl is None, reason="liveness comes from flock (POSIX)")

_WRITER = """
import sys, time
from chainrule.files import atomic_write
with atomic_write(sys.argv[1], "wb") as f:
    f.write(b"x" * 100000)
    f.flush()
    print("writing", flush=True)
    time.sleep(60)
"""


def _start_writer(target: Path) -> subprocess.Popen:
    src = str(Path(cr.__file__).parents[1])
    env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)], env=env,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    return proc


@needs_flock
def test_temp_file_of_a_live_writer_is_kept_and_of_a_killed_one_removed(tmp_path):
    target = tmp_path / "last.safetensors"
    proc = _start_writer(target)
    try:
        (temp,) = [p for p in tmp_path.iterdir() if p.name.startswith(".last.safetensors.")]
        assert files.remove_stale_temp_files(tmp_path) == []  # still being written
        assert temp.exists()
    finally:
        proc.send_signal(signal.SIGKILL)  # as `kill -9`: no chance to clean up
        proc.wait()
        proc.stdout.close()
    assert temp.exists() and not target.exists()  # what a killed write leaves behind
    assert files.remove_stale_temp_files(tmp_path, target="last.safetensors") == [temp]
    assert list(tmp_path.iterdir()) == []


def test_only_our_naming_pattern_and_only_the_named_target(tmp_path):
    ours = [tmp_path / ".a.safetensors.k3j9x0a2.tmp", tmp_path / ".b.json.abc_1234.tmp"]
    foreign = [tmp_path / "notes.tmp", tmp_path / ".a.safetensors.tmp",
               tmp_path / ".a.safetensors.ABCDEFGH.tmp", tmp_path / ".a.safetensors.k3j9x0a2",
               tmp_path / "a.safetensors.k3j9x0a2.tmp", tmp_path / ".a.safetensors.k3j9x0a23.tmp"]
    for p in ours + foreign:
        p.write_bytes(b"partial")
    (tmp_path / ".d.txt.dir00000.tmp").mkdir()  # not a regular file
    elsewhere = tmp_path / "precious.bin"
    elsewhere.write_bytes(b"keep me")
    (tmp_path / ".c.bin.lnk00000.tmp").symlink_to(elsewhere)  # links are never followed

    assert files.remove_stale_temp_files(tmp_path, target="a.safetensors", log=False) == [ours[0]]
    assert files.remove_stale_temp_files(tmp_path, log=False) == [ours[1]]
    for p in foreign + [elsewhere, tmp_path / ".c.bin.lnk00000.tmp", tmp_path / ".d.txt.dir00000.tmp"]:
        assert os.path.lexists(p), p
    assert elsewhere.read_bytes() == b"keep me"


def test_missing_folder_is_nothing_to_remove(tmp_path):
    assert files.remove_stale_temp_files(tmp_path / "nowhere") == []


def test_removal_is_reported_on_the_logger(tmp_path, caplog):
    (tmp_path / ".w.bin.aaaaaaaa.tmp").write_bytes(b"x")
    with caplog.at_level(logging.WARNING, logger="chainrule.files"):
        removed = files.remove_stale_temp_files(tmp_path)
    assert len(removed) == 1
    assert "removed 1 stale temporary file left by interrupted writes" in caplog.text
    assert ".w.bin.aaaaaaaa.tmp" in caplog.text


def test_save_removes_stale_temp_files_of_its_own_target_only(tmp_path, caplog):
    stale = tmp_path / ".ckpt.safetensors.x1y2z3w4.tmp"
    stale.write_bytes(b"\0" * 1000)
    other = tmp_path / ".best.safetensors.x1y2z3w4.tmp"
    other.write_bytes(b"\0" * 1000)
    with caplog.at_level(logging.WARNING, logger="chainrule.files"):
        cr.save({"w": np.ones(3, dtype=np.float32)}, tmp_path / "ckpt.safetensors")
    assert not stale.exists() and other.exists()
    assert "ckpt.safetensors.x1y2z3w4.tmp" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, "ckpt.safetensors"]


@needs_flock
def test_a_writer_whose_new_temp_file_is_taken_for_stale_takes_another(tmp_path, monkeypatch):
    # a remover may see the temporary file between its creation and the writer's lock;
    # the writer must notice that its file lost its name instead of renaming nothing
    real_mkstemp = tempfile.mkstemp
    calls = []

    def mkstemp_then_removed(**kwargs):
        fd, name = real_mkstemp(**kwargs)
        calls.append(name)
        if len(calls) == 1:
            assert files.remove_stale_temp_files(kwargs["dir"], log=False) == [Path(name)]
        return fd, name

    monkeypatch.setattr(files.tempfile, "mkstemp", mkstemp_then_removed)
    with files.atomic_write(tmp_path / "out.txt", "w") as f:
        f.write("whole")
    assert len(calls) == 2
    assert (tmp_path / "out.txt").read_text() == "whole"
    assert os.listdir(tmp_path) == ["out.txt"]


@needs_flock
def test_lock_is_held_until_the_rename(tmp_path, monkeypatch):
    # between closing the data file and renaming it the temporary file is still ours
    seen = []
    real_replace = os.replace

    def replace_after_probe(src, dst):
        seen.append(files.remove_stale_temp_files(tmp_path, log=False))
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", replace_after_probe)
    with files.atomic_write(tmp_path / "x.bin") as f:
        f.write(b"data")
    assert seen == [[]] and (tmp_path / "x.bin").read_bytes() == b"data"


def test_without_flock_only_old_files_are_stale(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "fcntl", None)
    fresh = tmp_path / ".f.bin.aaaaaaaa.tmp"
    old = tmp_path / ".f.bin.bbbbbbbb.tmp"
    fresh.write_bytes(b"x")
    old.write_bytes(b"x")
    past = time.time() - files.STALE_AGE_WITHOUT_LOCKS - 10
    os.utime(old, (past, past))
    assert files.remove_stale_temp_files(tmp_path, log=False) == [old]
    assert fresh.exists()


@needs_flock
def test_file_system_without_locks_still_writes_and_removes_nothing(tmp_path, monkeypatch):
    def no_locks(fd, operation):
        raise OSError(37, "No locks available")

    monkeypatch.setattr(files.fcntl, "flock", no_locks)
    with files.atomic_write(tmp_path / "x.bin") as f:
        f.write(b"data")
    assert (tmp_path / "x.bin").read_bytes() == b"data"
    (tmp_path / ".x.bin.aaaaaaaa.tmp").write_bytes(b"?")  # cannot tell whether it is live
    assert files.remove_stale_temp_files(tmp_path, log=False) == []
