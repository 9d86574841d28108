"""cr.save / cr.load: safetensors checkpoints, atomic writes, clear errors."""

import io
import json
import os
import struct
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hst

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
    with pytest.raises(IsADirectoryError, match=r"a folder, not a checkpoint file"):
        cr.load(tmp_path)  # as PyTorch's type, with a message that does not say "no such"


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


# ---------------------------------------------------------------------------
# keys that would collide in the file
# ---------------------------------------------------------------------------
def test_colliding_keys_are_refused_naming_both(tmp_path):
    path = tmp_path / "c.safetensors"
    state = {"a/b": np.zeros(2, dtype=np.float32), "a": {"b": np.ones(2, dtype=np.float32)}}
    with pytest.raises(ValueError, match=r"state\['a/b'\] and state\['a'\]\['b'\] would both be "
                                         r"stored as the tensor name 'a/b'"):
        cr.save(state, path)
    assert not path.exists()
    with pytest.raises(ValueError, match=r"state\[1\]|state\['1'\]"):
        cr.save({1: np.zeros(1), "1": np.ones(1)}, path)


def test_too_deep_or_cyclic_state_is_a_clear_error(tmp_path):
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(ValueError, match=r"nested more than \d+ levels"):
        cr.save({"x": cyclic}, tmp_path / "c.safetensors")


# ---------------------------------------------------------------------------
# torch.save / torch.load's form
# ---------------------------------------------------------------------------
def test_module_and_optimizer_state_dicts_round_trip_as_with_torch(tmp_path):
    model = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.ReLU(), cr.nn.Linear(4, 2))
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    x = cr.tensor(np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32))

    def step(m, o):
        o.zero_grad()
        loss = (m(x) ** 2).mean()
        loss.backward()
        o.step()
        return loss.item()

    step(model, opt)
    cr.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 1},
            tmp_path / "ckpt.pt")
    back = cr.load(tmp_path / "ckpt.pt", map_location="cpu", weights_only=True)
    model2 = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.ReLU(), cr.nn.Linear(4, 2))
    model2.load_state_dict(back["model"])
    opt2 = cr.optim.Adam(model2.parameters(), lr=0.01)
    opt2.load_state_dict(back["optimizer"])
    assert back["epoch"] == 1
    assert step(model, opt) == step(model2, opt2)
    for p, q in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_file_objects_and_torch_keyword_arguments(tmp_path):
    buffer = io.BytesIO()
    cr.save({"w": cr.ones(2), "n": [1, 2.5, None]}, buffer, _use_new_zipfile_serialization=True)
    buffer.seek(0)
    back = cr.load(buffer, weights_only=False, map_location=lambda storage, loc: storage)
    assert back["w"].tolist() == [1.0, 1.0] and back["n"] == [1, 2.5, None]
    path = tmp_path / "m.pth"
    cr.save([cr.zeros(1)], path)
    with open(path, "rb") as f:
        assert cr.load(f, map_location={"cuda:0": "cpu"})[0].tolist() == [0.0]
    with pytest.raises(TypeError, match="never pickles"):
        cr.save({}, path, pickle_module=json)
    with pytest.raises(ValueError, match="map_location 'tpu'"):
        cr.load(path, map_location="tpu")
    with pytest.raises(TypeError, match="binary mode"), open(path, encoding="latin-1") as f:
        cr.load(f)


def test_map_location_accepts_a_torch_device(tmp_path):
    torch = pytest.importorskip("torch")
    cr.save({"w": cr.ones(1)}, tmp_path / "w.pt")
    assert cr.load(tmp_path / "w.pt", map_location=torch.device("cpu"))["w"].tolist() == [1.0]


def test_unstorable_objects_name_key_and_type(tmp_path):
    with pytest.raises(TypeError, match=r"cannot store a Linear at 'model'.*state_dict\(\)"):
        cr.save({"model": cr.nn.Linear(1, 1)}, tmp_path / "x.pt")
    with pytest.raises(TypeError, match=r"cannot store a Linear \(the object given to save\)"
                                         r".*save\(model.state_dict\(\), f\)"):
        cr.save(cr.nn.Linear(1, 1), tmp_path / "x.pt")  # torch.save(model, f) pickles
    with pytest.raises(TypeError, match=r"cannot store a set at 'tags'"):
        cr.save({"tags": {1, 2}}, tmp_path / "x.pt")
    with pytest.raises(TypeError, match=r"'z' has dtype complex128"):
        cr.save({"z": np.ones(2, dtype=complex)}, tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()


# ---------------------------------------------------------------------------
# malformed files: always CheckpointError, never a raw Python error
# ---------------------------------------------------------------------------
def _container(header: dict | bytes, data: bytes = b"") -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def _chainrule_file(path, skeleton_text: str, arrays=None):
    st = pytest.importorskip("safetensors.numpy")
    st.save_file(arrays or {"t": np.zeros(1, dtype=np.float32)}, str(path),
                 metadata={"format": "chainrule", "format_version": "1",
                           "chainrule": skeleton_text})


@pytest.mark.parametrize("skeleton, message", [
    ("[" * 200_000 + "]" * 200_000, "nested beyond"),
    (json.dumps(json.loads("[" * 500 + "]" * 500)), "nested more than"),
    ('{"a": {"__dict__": 5}}', "malformed dict"),
    ('{"__dict__": [[[1], 2]]}', "malformed dict"),
    ('{"__dict__": [[1]]}', "malformed dict"),
    ('{"x": {"__float__": "abc"}}', "malformed non-finite number"),
    ('{"__tuple__": 3}', "malformed tuple"),
    ('{"w": {"__tensor__": 5}}', "malformed tensor reference"),
    ('{"w": {"__tensor__": "t", "kind": "pickle"}}', "malformed tensor reference"),
    ('{"w": {"__tensor__": "missing"}}', "does not hold"),
    ('{"w": {"__tensor__": "t", "kind": "scalar"}}', "stored as a scalar"),
    ('{"bad json', "corrupt chainrule metadata"),
    ('{"__state_dict__": {}, "versions": {"": "1"}}', "malformed state_dict"),
    ('{"__state_dict__": [], "versions": {}}', "malformed state_dict"),
    ('{"__state_dict__": {}}', "malformed state_dict"),
])
def test_malformed_metadata_is_a_checkpoint_error(tmp_path, skeleton, message):
    path = tmp_path / "m.safetensors"
    _chainrule_file(path, skeleton)
    with pytest.raises(CheckpointError, match=message):
        cr.load(path)


_F32 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


@pytest.mark.parametrize("blob, message", [
    (struct.pack("<Q", 10**12) + b"{}", "over the 100000000-byte limit"),
    (struct.pack("<Q", 2**63) + b"{}", "no header length"),
    (struct.pack("<Q", 50) + b"{}", "truncated"),
    (_container(b"\xff\xfe not utf-8"), "not valid JSON"),
    (_container(b"[1, 2]"), "not a JSON object"),
    (_container(b"[" * 200_000 + b"]" * 200_000), "not valid JSON"),
    (_container({"__metadata__": {"a": 1}}), "__metadata__ must map strings to strings"),
    (_container({"w": {"dtype": "F32", "shape": [10**12], "data_offsets": [0, 4 * 10**12]}},
                b"\0" * 8), r"needs 4000000000000 bytes .* holds 8 data bytes"),
    (_container({"w": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 8]}},
                b"\0" * 8), "truncated or damaged"),
    (_container({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 12),
     "data_offsets"),
    (_container({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, b"\0" * 8),
     "malformed shape"),
    (_container({"w": {"dtype": "F32", "shape": "2", "data_offsets": [0, 8]}}, b"\0" * 8),
     "malformed shape"),
    (_container({"w": {"dtype": ["F32"], "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8),
     "unknown dtype"),
    (_container({"w": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}}, b"\0" * 8),
     "cannot be read into NumPy"),
    (_container({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}, b"\0" * 8),
     "malformed data_offsets"),
    (_container({"w": 5}), "malformed header entry"),
    (_container({"w": _F32, "v": _F32}, b"\0" * 8), "damaged"),  # overlapping tensors
    (_container({"w": _F32}, b"\0" * 16), "damaged"),  # bytes no tensor covers
    (b"PK\x03\x04" + b"\0" * 60, "PyTorch pickle/zip"),
])
def test_malformed_container_is_a_checkpoint_error(tmp_path, blob, message):
    path = tmp_path / "x.safetensors"
    path.write_bytes(blob)
    with pytest.raises(CheckpointError, match=message):
        cr.load(path)
    with pytest.raises(CheckpointError, match=message):
        cr.load(io.BytesIO(blob))


def _bf16_file(path, values: np.ndarray) -> np.ndarray:
    """A plain safetensors file holding ``values`` rounded to bfloat16; returns them."""
    bits = (values.astype(np.float32).view(np.uint32) >> 16).astype("<u2")
    header = {"w": {"dtype": "BF16", "shape": list(values.shape),
                    "data_offsets": [0, bits.nbytes]},
              "b": {"dtype": "F32", "shape": [1], "data_offsets": [bits.nbytes, bits.nbytes + 4]}}
    path.write_bytes(_container(header, bits.tobytes() + np.float32(7).tobytes()))
    return (bits.astype(np.uint32) << 16).view(np.float32)


def test_plain_bf16_file_loads_as_float32(tmp_path):
    path = tmp_path / "bf16.safetensors"
    expected = _bf16_file(path, np.array([[0.1, -2.5, 3e30], [1.0, 0.0, -0.0]]))
    back = cr.load(path)
    assert back["w"].dtype == np.float32 and back["w"].shape == (2, 3)
    np.testing.assert_array_equal(back["w"], expected)
    assert back["b"].tolist() == [7.0]
    assert crio.read_header(path)["w"] == {"dtype": "BF16", "shape": [2, 3]}


def test_bf16_file_written_by_torch_matches_torch(tmp_path):
    torch = pytest.importorskip("torch")
    stt = pytest.importorskip("safetensors.torch")
    w = torch.linspace(-3, 3, 12, dtype=torch.bfloat16).reshape(3, 4)
    stt.save_file({"w": w}, str(tmp_path / "t.safetensors"))
    np.testing.assert_array_equal(cr.load(tmp_path / "t.safetensors")["w"], w.float().numpy())


# property-based: whatever the bytes, load answers with data or CheckpointError


def _valid_blob() -> bytes:
    buffer = io.BytesIO()
    cr.save(_state(), buffer)
    return buffer.getvalue()


_VALID = _valid_blob()


_FUZZ_FILE = os.path.join(tempfile.mkdtemp(prefix="chainrule-fuzz-"), "fuzz.safetensors")


def _load_or_checkpoint_error(blob: bytes) -> None:
    """Load ``blob`` from memory and from a file: data or CheckpointError, nothing else."""
    with open(_FUZZ_FILE, "wb") as f:
        f.write(blob)
    for source in (io.BytesIO(blob), _FUZZ_FILE):
        try:
            cr.load(source)
        except CheckpointError:
            pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hst.integers(0, len(_VALID) - 1))
def test_fuzz_every_truncation(cut):
    with pytest.raises(CheckpointError):
        cr.load(io.BytesIO(_VALID[:cut]))


@settings(max_examples=200, deadline=None)
@given(hst.lists(hst.tuples(hst.integers(0, len(_VALID) - 1), hst.integers(0, 255)),
                 min_size=1, max_size=8))
def test_fuzz_flipped_bytes(edits):
    blob = bytearray(_VALID)
    for position, value in edits:
        blob[position] = value
    _load_or_checkpoint_error(bytes(blob))


@settings(max_examples=200, deadline=None)
@given(hst.binary(max_size=300))
def test_fuzz_random_bytes(blob):
    _load_or_checkpoint_error(blob)
    _load_or_checkpoint_error(struct.pack("<Q", len(blob)) + blob)


_json_values = hst.recursive(
    hst.none() | hst.booleans() | hst.integers() | hst.floats(allow_nan=False)
    | hst.text(max_size=5) | hst.sampled_from(["__tensor__", "__dict__", "__float__",
                                               "__tuple__", "kind", "t", "nan", "Tensor",
                                               "scalar"]),
    lambda children: hst.lists(children, max_size=4)
    | hst.dictionaries(hst.sampled_from(["__tensor__", "__dict__", "__float__", "__tuple__",
                                         "kind", "a", "b"]), children, max_size=3),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_fuzz_crafted_metadata(skeleton):
    st = pytest.importorskip("safetensors.numpy")
    blob = st.save({"t": np.zeros(1, dtype=np.float32)},
                   metadata={"format": "chainrule", "format_version": "1",
                             "chainrule": json.dumps(skeleton)})
    _load_or_checkpoint_error(blob)


@settings(max_examples=200, deadline=None)
@given(hst.dictionaries(hst.text(max_size=3), _json_values, max_size=3))
def test_fuzz_crafted_headers(header):
    _load_or_checkpoint_error(_container(header, b"\0" * 16))


# property-based: whatever a state holds, save either refuses it up front or loads it back equal
_keys = hst.text(alphabet="ab/_.0", max_size=4)
_leaves = (hst.none() | hst.booleans() | hst.integers(-(2**70), 2**70)
           | hst.floats(allow_nan=True, allow_infinity=True) | hst.text(max_size=6)
           | hst.builds(lambda n, dt: np.arange(n, dtype=dt), hst.integers(0, 4),
                        hst.sampled_from([np.float32, np.float64, np.int64, np.uint8]))
           | hst.builds(np.float32, hst.floats(width=32)))
_states = hst.recursive(
    _leaves,
    lambda children: hst.lists(children, max_size=3) | hst.tuples(children, children)
    | hst.dictionaries(_keys | hst.integers(-3, 3), children, max_size=3),
    max_leaves=12)


def _same(a, b) -> bool:
    if isinstance(a, (np.ndarray, np.generic)):
        return type(a) is type(b) and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, float):
        return isinstance(b, float) and (a == b or (np.isnan(a) and np.isnan(b)))
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=200, deadline=None)
@given(hst.dictionaries(_keys, _states, max_size=4))
def test_fuzz_round_trip_or_refusal(state):
    buffer = io.BytesIO()
    try:
        cr.save(state, buffer)
    except ValueError as e:
        assert "would both be stored as the tensor name" in str(e)
        return
    buffer.seek(0)
    assert _same(state, cr.load(buffer))


@pytest.mark.skipif(not cr.backend.gpu_available(), reason="no CUDA GPU with CuPy")
def test_gpu_tensors_and_arrays_save_from_host_and_map_back(tmp_path):
    import cupy

    w = cr.ones(3).to("cuda")
    cr.save({"w": w, "raw": cupy.arange(2)}, tmp_path / "g.pt")
    back = cr.load(tmp_path / "g.pt")
    assert back["w"].device == "cpu" and back["raw"].tolist() == [0, 1]
    assert cr.load(tmp_path / "g.pt", map_location="cuda")["w"].device == "cuda"


def test_save_refuses_the_reserved_metadata_key(tmp_path):
    with pytest.raises(ValueError, match="'__metadata__' is reserved"):
        cr.save({"__metadata__": cr.ones(2), "w": cr.zeros(3)}, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_parameters_and_requires_grad_survive_a_round_trip(tmp_path):
    path = tmp_path / "state.pt"
    cr.save({"p": cr.nn.Parameter(cr.ones(2, dtype=cr.float64)),
             "frozen": cr.nn.Parameter(cr.ones(1), requires_grad=False),
             "t": cr.ones(2, requires_grad=True) * 2, "plain": cr.ones(1)}, path)
    state = cr.load(path)
    assert isinstance(state["p"], cr.nn.Parameter) and state["p"].requires_grad
    assert state["p"].dtype == cr.float64
    assert isinstance(state["frozen"], cr.nn.Parameter) and not state["frozen"].requires_grad
    assert type(state["t"]) is cr.Tensor and state["t"].requires_grad and state["t"].is_leaf
    assert state["t"].tolist() == [2.0, 2.0] and not state["plain"].requires_grad


def test_state_dict_module_versions_survive_save_and_load(tmp_path):
    torch = pytest.importorskip("torch")
    import io as _io

    model = cr.nn.Sequential(cr.nn.Linear(2, 2), cr.nn.BatchNorm1d(2))
    cr.save({"model": model.state_dict(), "epoch": 3}, tmp_path / "ckpt.safetensors")
    loaded = cr.load(tmp_path / "ckpt.safetensors")
    # as PyTorch's pickle keeps them (BatchNorm saves version 2)
    buffer = _io.BytesIO()
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2)).state_dict(),
               buffer)
    buffer.seek(0)
    assert loaded["model"]._metadata == torch.load(buffer)._metadata
    assert list(loaded["model"]) == list(model.state_dict()) and loaded["epoch"] == 3
    assert cr.io.read_header(tmp_path / "ckpt.safetensors")["__metadata__"]["format_version"] == "2"
    # a state without module versions is still written as version 1 (older readers)
    cr.save({"w": cr.ones(2)}, tmp_path / "plain.safetensors")
    assert cr.io.read_header(tmp_path / "plain.safetensors")["__metadata__"]["format_version"] == "1"
