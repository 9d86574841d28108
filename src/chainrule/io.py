"""Checkpoints: ``cr.save(state, path)`` / ``cr.load(path)`` in the safetensors format.

The container is written and read by the safetensors library; this module maps a
nested state onto it. A checkpoint is a nested structure of dicts, lists and tuples whose leaves are arrays
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

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .files import atomic_write, remove_stale_temp_files

__all__ = ["CheckpointError", "load", "read_header", "save"]

FORMAT_VERSION = 1
_META_KEY = "chainrule"


class CheckpointError(ValueError):
    """A checkpoint file is truncated, corrupt or not a chainrule safetensors file."""


# ---------------------------------------------------------------------------
# flattening a nested state into (JSON skeleton, named arrays)
# ---------------------------------------------------------------------------
def _flatten(obj: Any, path: tuple, arrays: dict) -> Any:
    from .tensor import Tensor

    key = "/".join(path) or "value"
    if isinstance(obj, Tensor):
        arrays[key] = _contiguous(np.asarray(obj.numpy()), key)
        return {"__tensor__": key, "kind": "Tensor"}
    if isinstance(obj, np.ndarray):
        arrays[key] = _contiguous(obj, key)
        return {"__tensor__": key}
    if isinstance(obj, np.generic):
        # NumPy scalars keep their dtype (an optimizer's float32 step size must come back
        # as float32 for a bit-exact resume)
        arrays[key] = _contiguous(np.asarray(obj), key)
        return {"__tensor__": key, "kind": "scalar"}
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        return {"__float__": repr(obj)}  # JSON has no inf/nan
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj) and not any(k.startswith("__") for k in obj):
            return {k: _flatten(v, path + (k,), arrays) for k, v in obj.items()}
        # non-string keys (an optimizer's integer parameter ids) keep their type
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int, bool, float)) and k is not None:
                raise TypeError(f"save: dict key {k!r} at {key!r} is a {type(k).__name__}; "
                                "keys must be str, int, float, bool or None")
            items.append([k, _flatten(v, path + (str(k),), arrays)])
        return {"__dict__": items}
    if isinstance(obj, tuple):
        return {"__tuple__": [_flatten(v, path + (str(i),), arrays) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_flatten(v, path + (str(i),), arrays) for i, v in enumerate(obj)]
    raise TypeError(f"save: cannot store a {type(obj).__name__} at {key!r}; a checkpoint holds "
                    "dicts, lists, tuples, arrays, Tensors, numbers, strings, booleans and None")


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


def _unflatten(node: Any, arrays: dict, path: str) -> Any:
    from .tensor import tensor

    if isinstance(node, list):
        return [_unflatten(v, arrays, path) for v in node]
    if not isinstance(node, dict):
        return node
    if "__tensor__" in node:
        key = node["__tensor__"]
        if key not in arrays:
            raise CheckpointError(f"{path}: the metadata names tensor {key!r}, which the file "
                                  "does not hold")
        a = arrays[key]
        kind = node.get("kind")
        if kind == "Tensor":
            return tensor(a)
        if kind == "scalar":
            return a[()]
        return a
    if "__float__" in node:
        return float(node["__float__"])
    if "__tuple__" in node:
        return tuple(_unflatten(v, arrays, path) for v in node["__tuple__"])
    if "__dict__" in node:
        return {k: _unflatten(v, arrays, path) for k, v in node["__dict__"]}
    return {k: _unflatten(v, arrays, path) for k, v in node.items()}


# ---------------------------------------------------------------------------
# the safetensors container: the safetensors library reads and writes it
# ---------------------------------------------------------------------------
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
    skeleton = _flatten(state, (), arrays)
    metadata = {"format": "chainrule", "format_version": str(FORMAT_VERSION),
                _META_KEY: json.dumps(skeleton, separators=(",", ":"), allow_nan=False)}
    return _safetensors().numpy.save(arrays, metadata=metadata)


def _explain(path: Path, error: Exception) -> CheckpointError:
    """A safetensors parse error, said in terms of the user's file."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        prefix = f.read(8)
    # the file starts with the header's length: if that is plausible but runs past the
    # end, the file was cut short (a crash mid-copy), else it is not safetensors at all
    claimed = int.from_bytes(prefix, "little") if len(prefix) == 8 else 0
    cut_short = size < 8 or (8 + claimed > size and claimed < (1 << 27))
    if cut_short or "not fully covered" in str(error):
        return CheckpointError(f"{path}: truncated or damaged checkpoint ({size} bytes): "
                               f"{error}")
    return CheckpointError(f"{path}: not a safetensors file ({error})")


def read_header(path: str | os.PathLike) -> dict:
    """The metadata and tensor names/dtypes/shapes of a safetensors file, without the data."""
    path = Path(path)
    st = _safetensors()
    try:
        with st.safe_open(str(path), framework="numpy") as f:
            header = {"__metadata__": f.metadata() or {}}
            for key in f.keys():  # noqa: SIM118 (safe_open is not iterable)
                sl = f.get_slice(key)
                header[key] = {"dtype": sl.get_dtype(), "shape": list(sl.get_shape())}
    except st.SafetensorError as e:
        raise _explain(path, e) from None
    return header


def _decode(path: Path) -> dict:
    """Read a whole safetensors file into (metadata, arrays)."""
    st = _safetensors()
    try:
        with st.safe_open(str(path), framework="numpy") as f:
            metadata = f.metadata() or {}
            arrays = {key: f.get_tensor(key) for key in f.keys()}  # noqa: SIM118
    except st.SafetensorError as e:
        raise _explain(path, e) from None
    return {"metadata": metadata, "arrays": arrays}


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------
def save(state: Any, path: str | os.PathLike) -> None:
    """Write ``state`` (a nested dict of arrays, Tensors and plain values) to ``path``.

    The file is a standard safetensors file (tensors keyed by their path in ``state``,
    the rest as JSON metadata). The write is atomic: temporary file in the same folder,
    fsync, then ``os.replace``; a failure at any point leaves a previous file at
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
    path = Path(path)
    blob = _encode(state)  # encode first: a state that cannot be stored never touches disk
    # what an earlier save to this target left when it was killed mid-write (reported on
    # the chainrule.files logger); removed first, as it may be what fills the disk
    remove_stale_temp_files(path.parent, target=path.name)
    with atomic_write(path, "wb", durable=True) as f:
        _write_all(f, blob)


def _write_all(f, blob: bytes) -> None:
    # written in chunks so that a failure part-way (disk full, a kill) can happen mid-file:
    # the tests simulate exactly that by making a later chunk fail
    chunk = 1 << 22
    for start in range(0, len(blob), chunk):
        f.write(blob[start:start + chunk])


def load(path: str | os.PathLike) -> Any:
    """Read a checkpoint written by ``save``; arrays come back as NumPy arrays.

    Tensors saved as chainrule Tensors come back as Tensors, NumPy scalars as NumPy
    scalars of the same dtype. A plain safetensors file (no chainrule metadata) loads as
    a flat dict of arrays. A missing file raises ``FileNotFoundError``; a truncated or
    foreign one ``CheckpointError`` naming the file. Nothing in the file is executed.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint file")
    if path.stat().st_size < 8:
        raise CheckpointError(f"{path}: {path.stat().st_size} bytes is too short for a "
                              "safetensors file (truncated or not a checkpoint)")
    parsed = _decode(path)
    meta, arrays = parsed["metadata"], parsed["arrays"]
    if not isinstance(meta, dict) or _META_KEY not in meta:
        return arrays  # a safetensors file from another tool: just the tensors
    try:
        skeleton = json.loads(meta[_META_KEY])
    except (TypeError, json.JSONDecodeError):
        raise CheckpointError(f"{path}: corrupt chainrule metadata (not JSON)") from None
    try:
        version = int(meta.get("format_version", "1"))
    except ValueError:
        version = -1
    if version > FORMAT_VERSION or version < 1:
        raise CheckpointError(f"{path}: checkpoint format version {meta.get('format_version')} "
                              f"is not supported (this chainrule reads up to {FORMAT_VERSION})")
    return _unflatten(skeleton, arrays, str(path))
