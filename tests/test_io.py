"""cr.save / cr.load: safetensors checkpoints, atomic writes, clear errors."""

import json
import os
import struct

import numpy as np
import pytest

import chainrule as cr
from chainrule import io as crio
from chainrule.io import CheckpointError


def _state():
    rng = np.random.default_rng(0)
    return {
        "model": {"0.weight": cr.tensor(rng.normal(size=(3, 2)).astype(np.float32)),
                  "0.bias": rng.normal(size=3).astype(np.float32)},
        "optimizer": {"state": {0: {"step": np.float32(3.0), "exp_avg": np.ones((3, 2))},
                                1: {"momentum_buffer": None}},
                      "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1],
                                        "nesterov": False, "name": "all"}]},
        "epoch": 7,
        "best": float("inf"),
        "nan": float("nan"),
        "rng": np.random.default_rng(42).bit_generator.state,
        "labels": np.arange(4, dtype=np.int64),
        "mask": np.array([True, False]),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "half": np.ones(2, dtype=np.float16),
    }


def test_round_trip_keeps_structure_types_and_bits(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    state = _state()
    cr.save(state, path)
    back = cr.load(path)
    assert isinstance(back["model"]["0.weight"], cr.Tensor)
    np.testing.assert_array_equal(back["model"]["0.weight"].numpy(),
                                  state["model"]["0.weight"].numpy())
    assert back["model"]["0.bias"].dtype == np.float32
    assert list(back["optimizer"]["state"]) == [0, 1]  # integer keys stay integers
    step = back["optimizer"]["state"][0]["step"]
    assert isinstance(step, np.float32) and step == 3.0
    assert back["optimizer"]["state"][1]["momentum_buffer"] is None
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["optimizer"]["param_groups"][0]["lr"] == 1e-3
    assert back["epoch"] == 7 and back["best"] == float("inf") and np.isnan(back["nan"])
    assert back["rng"] == state["rng"]  # 128-bit PCG64 state survives JSON
    assert back["labels"].dtype == np.int64 and back["mask"].dtype == np.bool_
    assert back["empty"].shape == (0, 3) and back["half"].dtype == np.float16


def test_rng_state_restores_generator(tmp_path):
    g = np.random.default_rng(3)
    g.normal(size=5)
    cr.save({"rng": g.bit_generator.state}, tmp_path / "r.safetensors")
    expected = g.normal(size=4)
    h = np.random.default_rng()
    h.bit_generator.state = cr.load(tmp_path / "r.safetensors")["rng"]
    np.testing.assert_array_equal(h.normal(size=4), expected)


def test_file_is_standard_safetensors(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    cr.save(_state(), path)
    header = crio.read_header(path)
    assert header["model/0.weight"]["dtype"] == "F32"
    assert header["model/0.weight"]["shape"] == [3, 2]
    assert header["__metadata__"]["format"] == "chainrule"
    json.loads(header["__metadata__"]["chainrule"])
    (n,) = struct.unpack("<Q", path.read_bytes()[:8])
    assert n % 8 == 0
    st = pytest.importorskip("safetensors.numpy")
    arrays = st.load_file(str(path))
    np.testing.assert_array_equal(arrays["optimizer/state/0/exp_avg"], np.ones((3, 2)))


def test_reads_plain_safetensors_from_other_tools(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "other.safetensors"
    st.save_file({"w": np.arange(6, dtype=np.float32).reshape(2, 3)}, str(path))
    back = cr.load(path)
    assert back["w"].tolist() == [[0, 1, 2], [3, 4, 5]]


def test_crash_mid_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    cr.save({"epoch": 1, "w": np.zeros(10, dtype=np.float32)}, path)
    before = path.read_bytes()

    real_write = crio._write_all

    def dying_write(f, blob):
        f.write(blob[: len(blob) // 2])  # half the new file is on disk ...
        raise OSError(28, "No space left on device")  # ... when the write fails

    monkeypatch.setattr(crio, "_write_all", dying_write)
    with pytest.raises(OSError, match="No space"):
        cr.save({"epoch": 2, "w": np.ones(1000, dtype=np.float32)}, path)
    assert path.read_bytes() == before
    assert cr.load(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # no temporary file left behind

    # a crash between writing and renaming (fsync failing) also keeps the old file
    monkeypatch.setattr(crio, "_write_all", real_write)
    monkeypatch.setattr(crio.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("I/O error")))
    with pytest.raises(OSError, match="I/O error"):
        cr.save({"epoch": 3}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_unstorable_state_never_touches_disk(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    cr.save({"epoch": 1}, path)
    with pytest.raises(TypeError, match="cannot store a builtin_function_or_method at 'callbacks/fn'"):
        cr.save({"callbacks": {"fn": print}}, path)
    assert cr.load(path) == {"epoch": 1}


@pytest.mark.parametrize("keep", [0, 5, 8, 20, -7])
def test_truncated_file_is_a_clear_error(tmp_path, keep):
    path = tmp_path / "ckpt.safetensors"
    cr.save(_state(), path)
    blob = path.read_bytes()
    path.write_bytes(blob[:keep])
    with pytest.raises(CheckpointError, match="ckpt.safetensors.*(truncated|too short)"):
        cr.load(path)


def test_foreign_files_are_clear_errors(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"\x80\x04\x95 pickle data from a .pt file, not safetensors at all....")
    with pytest.raises(CheckpointError, match="model.safetensors: not a safetensors file"):
        cr.load(path)
    path.write_bytes(struct.pack("<Q", 4) + b"abcd")
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        cr.load(path)
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        cr.load(tmp_path / "missing.safetensors")


def test_overwrites_and_creates_folder(tmp_path):
    path = tmp_path / "sub" / "dir" / "c.safetensors"
    cr.save({"a": 1}, path)
    cr.save({"a": 2}, path)
    assert cr.load(path) == {"a": 2}
    assert sorted(os.listdir(path.parent)) == ["c.safetensors"]


def test_saved_file_has_the_usual_permissions(tmp_path):
    # mkstemp creates 0600 files; a checkpoint gets the mode an ordinary open() would give
    umask = os.umask(0)
    os.umask(umask)
    path = tmp_path / "w.safetensors"
    cr.save({"w": cr.ones(2)}, path)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
