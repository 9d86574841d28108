"""Checkpoints: ``cr.save(state, path)`` / ``cr.load(path)`` in the safetensors format.

The container is written and read by the safetensors library; this module maps a
nested state onto it, and checks a file's header itself before the library reads it
(so that a damaged or hostile file costs no more than its size and always ends in
``CheckpointError``). A checkpoint is a nested structure of dicts, lists and tuples
whose leaves are arrays
(NumPy arrays, chainrule Tensors, NumPy scalars) or plain JSON values (numbers,
strings, booleans, None). Arrays become the file's named tensors, keyed by their path
in the structure (``model/0.weight``, ``optimizer/state/0/exp_avg``); everything else,
and the shape of the structure itself, goes as JSON into the safetensors header's
``__metadata__`` (under the key ``chainrule``). So any safetensors reader can list
and load the weights, and loading is pure parsing: nothing in the file is executed
(unlike pickle-based formats).

Writes are atomic: the bytes go to a temporary file in the target's folder, are
flushed to disk (fsync), and the temporary file then replaces the target in one
``os.replace``. A crash at any point leaves either the old or the new checkpoint,
never a mix.

>>> import os, tempfile, numpy as np, chainrule as cr
>>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
>>> cr.save({"model": {"w": np.eye(2, dtype=np.float32)}, "epoch": 3}, path)
>>> state = cr.load(path)
>>> state["epoch"], state["model"]["w"].tolist()
(3, [[1.0, 0.0], [0.0, 1.0]])
"""

from __future__ import annotations

import io
import json
import math
import os
from collections import OrderedDict
from pathlib import Path
from typing import IO, Any

import numpy as np

from . import backend
from .files import atomic_write, remove_stale_temp_files

__all__ = ["CheckpointError", "load", "read_header", "save"]

FORMAT_VERSION = 2  # 2: a module's state_dict keeps its modules' versions (_metadata)
_META_KEY = "chainrule"


class CheckpointError(ValueError):
    """A checkpoint file is truncated, corrupt or not a chainrule safetensors file."""


# ---------------------------------------------------------------------------
# flattening a nested state into (JSON skeleton, named arrays)
# ---------------------------------------------------------------------------
MAX_DEPTH = 64  # nesting of dicts/lists/tuples, on save and on load (a state is ~6 deep)


def _where(path: tuple) -> str:
    return "/".join(path) or "value"


def _store(arrays: dict, origins: dict, path: tuple, array: np.ndarray) -> str:
    """File key of the array at ``path``; two paths that would share one key are refused."""
    key = _where(path)
    if key == "__metadata__":  # the one name the safetensors header reserves for itself
        raise ValueError("save: the key '__metadata__' is reserved by the safetensors format "
                         "(it holds the file's metadata); rename that entry")
    if key in arrays:
        first, second = ("state" + "".join(f"[{k!r}]" for k in p) for p in (origins[key], path))
        raise ValueError(f"save: {first} and {second} would both be stored as the tensor "
                         f"name {key!r} in the file (nested keys are joined with '/'); "
                         "rename one of them so that neither silently replaces the other")
    arrays[key] = _contiguous(array, key)
    origins[key] = path
    return key


def _flatten(obj: Any, path: tuple, arrays: dict, origins: dict) -> Any:
    from ._tensor import Tensor

    if len(path) > MAX_DEPTH:
        raise ValueError(f"save: the state is nested more than {MAX_DEPTH} levels deep at "
                         f"{_where(path[:8])!r}/... (a list or dict that contains itself?)")
    if isinstance(obj, Tensor):
        from .nn.module import Parameter

        # a Parameter comes back a Parameter, a tensor that required grad still does (as
        # PyTorch's save keeps both)
        node = {"__tensor__": _store(arrays, origins, path, obj.detach().numpy()),
                "kind": "Parameter" if isinstance(obj, Parameter) else "Tensor"}
        if obj.requires_grad:
            node["requires_grad"] = True
        return node
    if isinstance(obj, np.ndarray):
        return {"__tensor__": _store(arrays, origins, path, obj)}
    if backend.is_device_array(obj):  # a CuPy array: stored from host memory
        return {"__tensor__": _store(arrays, origins, path, backend.to_numpy(obj))}
    if isinstance(obj, np.generic):
        # NumPy scalars keep their dtype (an optimizer's float32 step size must come back
        # as float32 for a bit-exact resume)
        return {"__tensor__": _store(arrays, origins, path, np.asarray(obj)), "kind": "scalar"}
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        return {"__float__": repr(obj)}  # JSON has no inf/nan
    if isinstance(obj, dict):
        node = _flatten_dict(obj, path, arrays, origins)
        versions = _module_versions(obj)
        if versions is not None:  # a module's state_dict: its modules' format versions too
            return {"__state_dict__": node, "versions": versions}
        return node
    if isinstance(obj, tuple):
        return {"__tuple__": [_flatten(v, path + (str(i),), arrays, origins)
                              for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_flatten(v, path + (str(i),), arrays, origins) for i, v in enumerate(obj)]
    # at the top (torch.save(model, f), which pickles in PyTorch) there is no key to name
    where = f" at {_where(path)!r}" if path else " (the object given to save)"
    raise TypeError(f"save: cannot store a {type(obj).__name__}{where}; a checkpoint "
                    "holds dicts, lists, tuples, arrays, Tensors, numbers, strings, booleans "
                    "and None (store a module or optimizer as its state_dict(): "
                    "save(model.state_dict(), f), then model.load_state_dict(load(f)); "
                    "nothing is pickled)")


def _flatten_dict(obj: dict, path: tuple, arrays: dict, origins: dict) -> Any:
    if all(isinstance(k, str) for k in obj) and not any(k.startswith("__") for k in obj):
        return {k: _flatten(v, path + (k,), arrays, origins) for k, v in obj.items()}
    # non-string keys (an optimizer's integer parameter ids) keep their type
    items = []
    for k, v in obj.items():
        if not isinstance(k, (str, int, bool, float)) and k is not None:
            raise TypeError(f"save: dict key {k!r} at {_where(path)!r} is a "
                            f"{type(k).__name__}; keys must be str, int, float, bool or None")
        items.append([k, _flatten(v, path + (str(k),), arrays, origins)])
    return {"__dict__": items}


def _module_versions(obj: dict) -> dict | None:
    """``{module path: version}`` from a state_dict's ``_metadata`` (what PyTorch's pickle
    keeps and ``_load_from_state_dict`` overrides read), or None for any other dict."""
    metadata = getattr(obj, "_metadata", None)
    if not isinstance(metadata, dict):
        return None
    versions = {}
    for key, local in metadata.items():
        version = local.get("version") if isinstance(local, dict) else None
        if isinstance(key, str) and isinstance(version, int) and not isinstance(version, bool):
            versions[key] = version
    return versions


# the dtypes a safetensors file can hold
_STORABLE = {np.dtype(t) for t in (np.float64, np.float32, np.float16, np.int64, np.int32,
                                   np.int16, np.int8, np.uint64, np.uint32, np.uint16,
                                   np.uint8, np.bool_)}


def _contiguous(a: np.ndarray, key: str) -> np.ndarray:
    native = a.dtype.newbyteorder("=")
    if native not in _STORABLE:
        raise TypeError(f"save: array {key!r} has dtype {a.dtype}, which safetensors cannot hold")
    out = np.asarray(a, dtype=native.newbyteorder("<"))  # safetensors is little-endian
    # (not np.ascontiguousarray: it turns 0-d arrays into 1-d ones)
    return out if out.flags.c_contiguous else out.copy(order="C")


def _unflatten(node: Any, arrays: dict, where: str, depth: int = 0) -> Any:
    """Rebuild the state from its JSON skeleton; anything malformed is a CheckpointError."""
    from ._tensor import tensor

    if depth > MAX_DEPTH:
        raise CheckpointError(f"{where}: the metadata is nested more than {MAX_DEPTH} levels deep")
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_unflatten(v, arrays, where, depth + 1) for v in node]
    if not isinstance(node, dict):  # json.loads makes nothing else
        raise CheckpointError(f"{where}: unexpected {type(node).__name__} in the metadata")
    if "__tensor__" in node:
        key, kind = node["__tensor__"], node.get("kind")
        requires_grad = node.get("requires_grad", False)
        if not isinstance(key, str) or kind not in (None, "Tensor", "Parameter", "scalar") or \
                set(node) - {"__tensor__", "kind", "requires_grad"} or \
                not isinstance(requires_grad, bool):
            raise CheckpointError(f"{where}: malformed tensor reference {_clip(node)} in the "
                                  "metadata")
        if key not in arrays:
            raise CheckpointError(f"{where}: the metadata names tensor {key!r}, which the file "
                                  "does not hold")
        a = arrays[key]
        if kind == "Parameter":
            from .nn.module import Parameter

            return Parameter(a, requires_grad=requires_grad)
        if kind == "Tensor":
            return tensor(a, requires_grad=requires_grad)
        if kind == "scalar":
            if a.ndim != 0:
                raise CheckpointError(f"{where}: tensor {key!r} is stored as a scalar but has "
                                      f"shape {a.shape}")
            return a[()]
        return a
    if "__float__" in node:
        text = node["__float__"]
        if len(node) != 1 or text not in ("nan", "inf", "-inf"):
            raise CheckpointError(f"{where}: malformed non-finite number {_clip(node)} in the "
                                  "metadata (expected 'nan', 'inf' or '-inf')")
        return float(text)
    if "__tuple__" in node:
        items = node["__tuple__"]
        if len(node) != 1 or not isinstance(items, list):
            raise CheckpointError(f"{where}: malformed tuple {_clip(node)} in the metadata")
        return tuple(_unflatten(v, arrays, where, depth + 1) for v in items)
    if "__state_dict__" in node:
        versions = node.get("versions")
        inner = _unflatten(node["__state_dict__"], arrays, where, depth + 1)
        if set(node) != {"__state_dict__", "versions"} or not isinstance(inner, dict) or \
                not isinstance(versions, dict) or not all(
                    isinstance(v, int) and not isinstance(v, bool) for v in versions.values()):
            raise CheckpointError(f"{where}: malformed state_dict {_clip(node)} in the "
                                  "metadata (expected its entries and module versions)")
        out = OrderedDict(inner)
        out._metadata = OrderedDict((k, {"version": v}) for k, v in versions.items())
        return out
    if "__dict__" in node:
        pairs = node["__dict__"]
        if len(node) != 1 or not isinstance(pairs, list) or not all(
                isinstance(p, list) and len(p) == 2
                and (p[0] is None or isinstance(p[0], (str, int, float, bool))) for p in pairs):
            raise CheckpointError(f"{where}: malformed dict {_clip(node)} in the metadata "
                                  "(expected a list of [key, value] pairs with plain keys)")
        return {k: _unflatten(v, arrays, where, depth + 1) for k, v in pairs}
    return {k: _unflatten(v, arrays, where, depth + 1) for k, v in node.items()}


def _clip(node: Any) -> str:
    text = json.dumps(node)[:80]
    return text if len(text) < 80 else text + "..."


# ---------------------------------------------------------------------------
# the safetensors container: 8-byte little-endian header length, a JSON header
# (tensor name -> dtype, shape, data offsets; "__metadata__" -> str: str), the data
# ---------------------------------------------------------------------------
MAX_HEADER_BYTES = 100_000_000  # the safetensors library refuses larger headers too

# safetensors dtype name -> how NumPy reads it (BF16: the top half of a float32)
_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4",
           "I16": "<i2", "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1",
           "BOOL": "?"}
# dtypes safetensors knows but NumPy cannot hold (their bit widths)
_UNREADABLE = {"F8_E4M3": 8, "F8_E5M2": 8, "F8_E8M0": 8, "F6_E2M3": 6, "F6_E3M2": 6, "F4": 4,
               "C64": 64}


def _safetensors():
    try:
        import safetensors
        import safetensors.numpy
    except ImportError:
        raise ImportError("cr.save/cr.load need the safetensors package: "
                          "pip install 'chainrule[train]' (or pip install safetensors)") from None
    return safetensors


def _encode(state: Any) -> bytes:
    arrays: dict[str, np.ndarray] = {}
    skeleton = _flatten(state, (), arrays, {})
    text = json.dumps(skeleton, separators=(",", ":"), allow_nan=False)
    # version 2 added state_dict nodes with module versions; files without one stay
    # version 1, so that an older chainrule still reads them
    version = FORMAT_VERSION if '"__state_dict__":' in text else 1
    metadata = {"format": "chainrule", "format_version": str(version), _META_KEY: text}
    return _sorted_header(_safetensors().numpy.save(arrays, metadata=metadata))


def _sorted_header(blob: bytes) -> bytes:
    """``blob`` with its JSON header's keys sorted. safetensors keeps the metadata in a hash
    map whose order changes from call to call; the same state must give the same bytes (a
    resumed training run is compared with an uninterrupted one byte for byte)."""
    size = int.from_bytes(blob[:8], "little")
    header = json.dumps(json.loads(blob[8:8 + size]), separators=(",", ":"),
                        sort_keys=True).encode()
    header += b" " * (-len(header) % 8)  # safetensors aligns the data to 8 bytes
    return len(header).to_bytes(8, "little") + header + blob[8 + size:]


def _torch_hint(prefix: bytes) -> str:
    # torch.save writes a zip archive (PK..) since PyTorch 1.6, a pickle (\x80\x02\x8a) before
    if prefix.startswith((b"PK\x03\x04", b"\x80\x02\x8a")):
        return ("; it looks like a PyTorch pickle/zip file (.pt/.pth), which chainrule never "
                "unpickles: convert it once with torch, e.g. safetensors.torch.save_file("
                "torch.load(path), 'model.safetensors')")
    return ""


def _foreign(name: str, prefix: bytes, why: str) -> CheckpointError:
    return CheckpointError(f"{name}: not a safetensors file ({why}){_torch_hint(prefix)}")


def _read_header(f, size: int, name: str) -> tuple[dict, dict, int]:
    """Parse and check the header of the safetensors data in ``f`` (``size`` bytes long).

    Returns (metadata, tensor entries, offset of the data). Every check that bounds what
    loading allocates (header length, each tensor's byte size against its offsets and the
    file) happens here, before any tensor is read.
    """
    if size < 8:
        raise CheckpointError(f"{name}: {size} bytes is too short for a safetensors file "
                              "(truncated or not a checkpoint)")
    prefix = f.read(8)
    claimed = int.from_bytes(prefix, "little")
    if claimed > MAX_HEADER_BYTES:
        if claimed < (1 << 40):  # plausible but absurd: say what it is
            why = f"its header claims {claimed} bytes, over the {MAX_HEADER_BYTES}-byte limit"
        else:
            why = "the first 8 bytes are no header length"
        raise _foreign(name, prefix, why)
    if 8 + claimed > size:
        raise CheckpointError(f"{name}: truncated or damaged checkpoint ({size} bytes): the "
                              f"header alone needs {8 + claimed}{_torch_hint(prefix)}")
    raw = f.read(claimed)
    if len(raw) != claimed:
        raise CheckpointError(f"{name}: truncated while reading ({len(raw)} of {claimed} header "
                              "bytes)")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise _foreign(name, prefix, f"the header is not valid JSON: {str(e)[:100]}") from None
    if not isinstance(header, dict):
        raise _foreign(name, prefix, "the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise CheckpointError(f"{name}: malformed header: __metadata__ must map strings to "
                              "strings")
    start = 8 + claimed
    data_size = size - start
    for key, entry in header.items():
        _check_entry(name, key, entry, data_size)
    return metadata, header, start


def _check_entry(name: str, key: str, entry: Any, data_size: int) -> None:
    def bad(why: str) -> CheckpointError:
        return CheckpointError(f"{name}: tensor {key[:100]!r}: {why}")

    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise bad("malformed header entry (expected dtype, shape and data_offsets)")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if isinstance(dtype, str) and dtype in _UNREADABLE:
        raise bad(f"dtype {dtype} cannot be read into NumPy; convert the file to float32")
    if not isinstance(dtype, str) or dtype not in _DTYPES:
        raise bad(f"unknown dtype {str(dtype)[:20]!r}")
    if not isinstance(shape, list) or len(shape) > MAX_DEPTH or not all(
            type(d) is int and d >= 0 for d in shape):
        raise bad(f"malformed shape {str(shape)[:60]} (expected a list of non-negative integers)")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(
            type(o) is int for o in offsets) or not 0 <= offsets[0] <= offsets[1]:
        raise bad(f"malformed data_offsets {str(offsets)[:60]}")
    nbytes = math.prod(shape) * np.dtype(_DTYPES[dtype]).itemsize  # Python ints: no overflow
    if nbytes > data_size or offsets[1] > data_size:
        raise bad(f"shape {shape} of {dtype} needs {nbytes} bytes (offsets {offsets}) but the "
                  f"file holds {data_size} data bytes: truncated or damaged")
    if offsets[1] - offsets[0] != nbytes:
        raise bad(f"shape {shape} of {dtype} needs {nbytes} bytes but its data_offsets "
                  f"{offsets} span {offsets[1] - offsets[0]}")


def _as_array(raw, dtype: str, shape: list) -> np.ndarray:
    """A writable native-order array from the tensor's bytes (BF16 widened to float32)."""
    a = np.frombuffer(raw, dtype=_DTYPES[dtype]).reshape(shape)
    if dtype == "BF16":  # bfloat16 is the top 16 bits of a float32: exact
        return (a.astype(np.uint32) << 16).view(np.float32)
    return a.astype(a.dtype.newbyteorder("="), copy=not a.flags.writeable)


def read_header(path: str | os.PathLike) -> dict:
    """The metadata and tensor names/dtypes/shapes of a safetensors file, without the data."""
    path = Path(path)
    with open(path, "rb") as f:
        metadata, entries, _ = _read_header(f, os.fstat(f.fileno()).st_size, str(path))
    header = {"__metadata__": metadata}
    for key, entry in entries.items():
        header[key] = {"dtype": entry["dtype"], "shape": list(entry["shape"])}
    return header


def _decode_file(path: Path) -> tuple[dict, dict]:
    """(metadata, arrays) of a safetensors file; the library reads the tensors."""
    st = _safetensors()
    name = str(path)
    with open(path, "rb") as f:
        metadata, entries, start = _read_header(f, os.fstat(f.fileno()).st_size, name)
        arrays = {}
        try:
            with st.safe_open(name, framework="numpy") as sf:
                for key, entry in entries.items():
                    if entry["dtype"] == "BF16":  # NumPy has no bfloat16: read the bits
                        f.seek(start + entry["data_offsets"][0])
                        raw = f.read(entry["data_offsets"][1] - entry["data_offsets"][0])
                        arrays[key] = _as_array(raw, "BF16", entry["shape"])
                    else:
                        arrays[key] = sf.get_tensor(key)
        except st.SafetensorError as e:
            raise CheckpointError(f"{name}: damaged safetensors file ({e})") from None
    return metadata, arrays


def _decode_bytes(blob: bytes, name: str) -> tuple[dict, dict]:
    """(metadata, arrays) of safetensors data held in memory (a file object's contents)."""
    st = _safetensors()
    metadata, _, _ = _read_header(io.BytesIO(blob), len(blob), name)
    try:
        tensors = st.deserialize(blob)
    except st.SafetensorError as e:
        raise CheckpointError(f"{name}: damaged safetensors data ({e})") from None
    arrays = {key: _as_array(bytearray(t["data"]), t["dtype"], t["shape"]) for key, t in tensors}
    return metadata, arrays


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------
def save(obj: Any, f: str | os.PathLike | IO[bytes], pickle_module: Any = None,
         pickle_protocol: Any = None, _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:
    """Write ``obj`` to ``f`` (a path or a binary file object), as ``torch.save``.

    ``obj`` is a nested structure of dicts, lists and tuples whose leaves are Tensors,
    NumPy arrays and scalars, numbers, strings, booleans and None: a module's
    ``state_dict()``, an optimizer's ``state_dict()``, or a dict holding both with an
    epoch number. Anything else (a module itself, a function) is a TypeError naming its
    key and type; two keys that would be stored under one name (``{'a/b': x,
    'a': {'b': y}}``: nested keys are joined with '/') are a ValueError naming both.
    Nothing is pickled: ``pickle_module``, ``pickle_protocol`` and PyTorch's
    underscore options are accepted so that PyTorch code runs unchanged (a
    ``pickle_module`` other than ``pickle`` is refused: it would never be used).

    The file is a standard safetensors file (tensors keyed by their path in ``obj``,
    the rest as JSON metadata). A write to a path is atomic: temporary file in the same
    folder, fsync, then ``os.replace``; a failure at any point leaves a previous file at
    ``path`` untouched and no temporary file behind. Temporary files that a killed
    earlier save to the same ``path`` left are removed first (see
    ``chainrule.files.remove_stale_temp_files``; reported on the ``chainrule.files``
    logger).

    >>> import os, tempfile, chainrule as cr
    >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
    >>> cr.save({"step": 10, "w": cr.ones(2)}, path)
    >>> cr.load(path)["w"]
    tensor([1., 1.])
    """
    if pickle_module is not None and getattr(pickle_module, "__name__", "") != "pickle":
        raise TypeError("save: chainrule never pickles (it writes safetensors); leave "
                        "pickle_module at its default")
    blob = _encode(obj)  # encode first: a state that cannot be stored never touches disk
    if hasattr(f, "write"):
        _write_all(f, blob)
        return
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"save: f must be a path or a binary file object, got {type(f).__name__}")
    path = Path(f)
    # what an earlier save to this target left when it was killed mid-write (reported on
    # the chainrule.files logger); removed first, as it may be what fills the disk
    remove_stale_temp_files(path.parent, target=path.name)
    with atomic_write(path, "wb", durable=True) as out:
        _write_all(out, blob)


def _write_all(f, blob: bytes) -> None:
    # written in chunks so that a failure part-way (disk full, a kill) can happen mid-file:
    # the tests simulate exactly that by making a later chunk fail
    chunk = 1 << 22
    for start in range(0, len(blob), chunk):
        f.write(blob[start:start + chunk])


def load(f: str | os.PathLike | IO[bytes], map_location: Any = None, pickle_module: Any = None,
         *, weights_only: bool | None = None, mmap: bool | None = None) -> Any:
    """Read a checkpoint written by ``save`` (a path or a binary file object), as ``torch.load``.

    Tensors saved as chainrule Tensors come back as Tensors, NumPy arrays as arrays,
    NumPy scalars as NumPy scalars of the same dtype. A plain safetensors file (no
    chainrule metadata, e.g. from ``safetensors.torch.save_file``) loads as a flat dict
    of arrays; BF16 tensors in it come back as float32 (exactly; NumPy has no bfloat16).

    Nothing in the file is executed: ``weights_only`` is accepted (True or False, both
    load only data) and so are ``pickle_module`` and ``mmap``, for PyTorch code.
    ``map_location``: None or ``"cpu"`` keeps everything on the CPU; ``"cuda"`` (or a
    device whose string starts so) moves the Tensors to the GPU backend; a callable is
    called as ``map_location(array, "cpu")`` per array, as PyTorch calls it per storage.

    A missing file raises ``FileNotFoundError``; every truncated, damaged or foreign file
    raises ``CheckpointError`` naming it. The header is checked before anything is
    allocated (header length at most ``MAX_HEADER_BYTES``, each tensor's byte size
    against the file, nesting at most ``MAX_DEPTH`` levels).
    """
    if weights_only not in (None, True, False):
        raise TypeError(f"load: weights_only must be True, False or None, got {weights_only!r}")
    del pickle_module, mmap  # nothing is unpickled; the library maps the file itself
    if hasattr(f, "read"):
        name = str(getattr(f, "name", "<file object>"))
        blob = f.read()
        if not isinstance(blob, (bytes, bytearray)):
            raise TypeError(f"load: {name} must be opened in binary mode ('rb')")
        metadata, arrays = _decode_bytes(bytes(blob), name)
    elif isinstance(f, (str, os.PathLike)):
        path = Path(f)
        if path.is_dir():
            raise IsADirectoryError(f"{path}: a folder, not a checkpoint file")
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such checkpoint file")
        name = str(path)
        metadata, arrays = _decode_file(path)
    else:
        raise TypeError(f"load: f must be a path or a binary file object, got {type(f).__name__}")
    arrays = _map_arrays(arrays, map_location)
    if _META_KEY not in metadata:
        return arrays  # a safetensors file from another tool: just the tensors
    try:
        version = int(metadata.get("format_version", "1"))
    except ValueError:
        version = -1
    if version > FORMAT_VERSION or version < 1:
        raise CheckpointError(f"{name}: checkpoint format version "
                              f"{metadata.get('format_version')!r:.40} is not supported (this "
                              f"chainrule reads up to {FORMAT_VERSION})")
    try:
        skeleton = json.loads(metadata[_META_KEY])
    except (ValueError, RecursionError):
        raise CheckpointError(f"{name}: corrupt chainrule metadata (not JSON, or nested "
                              "beyond what can be read)") from None
    state = _unflatten(skeleton, arrays, name)
    return _to_device(state, map_location)


def _device_name(map_location: Any) -> str | None:
    """'cpu', 'cuda' or None (a callable) for a map_location value; errors for the rest."""
    if map_location is None:
        return "cpu"
    if callable(map_location) and not isinstance(map_location, (str, dict)):
        return None
    if isinstance(map_location, dict):
        targets = {str(v).split(":")[0] for v in map_location.values()} or {"cpu"}
        if len(targets) != 1:
            raise ValueError(f"load: map_location {map_location!r} names several devices; "
                             "chainrule checkpoints record no device, so give one")
        return _device_name(targets.pop())
    kind = str(map_location).split(":")[0]
    if kind not in ("cpu", "cuda"):
        raise ValueError(f"load: map_location {map_location!r} is not a device chainrule has "
                         "(expected 'cpu', 'cuda', a dict of them or a callable)")
    return kind


def _map_arrays(arrays: dict, map_location: Any) -> dict:
    if _device_name(map_location) is not None:
        return arrays
    return {key: map_location(a, "cpu") for key, a in arrays.items()}


def _to_device(state: Any, map_location: Any) -> Any:
    if _device_name(map_location) != "cuda":
        return state
    from ._tensor import Tensor

    def move(node):
        if isinstance(node, Tensor):
            return node.to("cuda")
        if isinstance(node, dict):
            return {k: move(v) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return type(node)(move(v) for v in node)
        return node

    return move(state)
