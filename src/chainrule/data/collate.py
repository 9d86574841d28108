"""Turning a list of samples into one batch, as PyTorch's ``default_collate``.

Tensors and arrays are stacked along a new first dimension into a Tensor; Python floats
become a float64 Tensor and ints an int64 one; strings stay a list; dicts, named tuples,
tuples and lists are collated field by field (a tuple of fields gives a *list* of
batches, as in PyTorch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .._tensor import Tensor, wrap

__all__ = ["default_collate", "default_convert"]

_NOT_NUMBERS = "USOV"  # NumPy kinds of strings, objects and raw bytes


def _unsupported(what) -> TypeError:
    return TypeError(f"default_collate: a batch must hold Tensors, NumPy arrays, numbers, "
                     f"dicts or lists; found {what}")


def default_collate(batch: Sequence):
    """Stack a list of samples into a batch (see the module's docstring).

    >>> import numpy as np
    >>> xb, yb = default_collate([(np.zeros(2), 0), (np.ones(2), 1)])
    >>> xb.shape, yb.tolist()
    ((2, 2), [0, 1])
    >>> default_collate([{"x": 1.5}, {"x": 2.5}])["x"].dtype
    dtype('float64')
    """
    if len(batch) == 0:
        raise ValueError("default_collate: got an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        shapes = {t.shape for t in batch}
        if len(shapes) > 1:
            raise RuntimeError(f"default_collate: stacking Tensors of different shapes "
                               f"{sorted(shapes)}; pad them, or pass a collate_fn")
        return wrap(np.stack([t.array for t in batch]))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in _NOT_NUMBERS:
            raise _unsupported(f"an array of dtype {elem.dtype}")
        shapes = {a.shape for a in batch}
        if len(shapes) > 1:
            raise RuntimeError(f"default_collate: stacking arrays of different shapes "
                               f"{sorted(shapes)}; pad them, or pass a collate_fn")
        return wrap(np.stack(batch))
    if isinstance(elem, np.generic):
        if elem.dtype.kind in _NOT_NUMBERS:
            raise _unsupported(f"a NumPy scalar of dtype {elem.dtype}")
        return wrap(np.array(batch))
    if isinstance(elem, bool):
        return wrap(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return wrap(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:  # a mapping type that cannot be built from a dict
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a named tuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        sizes = {len(s) for s in batch}
        if len(sizes) > 1:
            raise RuntimeError(f"default_collate: each element in a batch of sequences "
                               f"should have the same length, got lengths {sorted(sizes)}")
        fields = [default_collate(list(field)) for field in zip(*batch)]
        if isinstance(elem, tuple):
            return fields  # a list, as PyTorch does for tuples
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    raise _unsupported(type(elem).__name__)


def default_convert(data):
    """Arrays to Tensors, inside dicts, tuples and lists too; everything else unchanged
    (what the loader applies to single samples when ``batch_size=None``)."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in _NOT_NUMBERS else wrap(data)
    if isinstance(data, np.generic):
        return data if data.dtype.kind in _NOT_NUMBERS else wrap(np.asarray(data))
    if isinstance(data, Mapping):
        converted = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
