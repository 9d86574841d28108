"""Factory functions: zeros, ones, arange, eye, rand, randn, ..."""

from __future__ import annotations

import numpy as np

from . import backend
from .random import _rng
from .tensor import Tensor, _wrap, as_dtype, get_default_dtype


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"expected a shape of non-negative integers, got {size}")
    return tuple(int(n) for n in size)


def _leaf(data, requires_grad=False, name=None, device=None) -> Tensor:
    if device is not None:
        data = backend.to_device(data, device)
    t = _wrap(data)
    t.name = name
    if requires_grad:
        t.requires_grad_(True)
    return t


def _dt(dtype):
    return get_default_dtype() if dtype is None else as_dtype(dtype)


def zeros(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    """``cr.zeros(2, 3)`` or ``cr.zeros((2, 3))``."""
    return _leaf(np.zeros(_shape(size), _dt(dtype)), requires_grad, device=device)


def ones(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _leaf(np.ones(_shape(size), _dt(dtype)), requires_grad, device=device)


def full(size, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    size = (size,) if isinstance(size, int) else tuple(size)
    return _leaf(np.full(_shape(size), fill_value, _dt(dtype)), requires_grad, device=device)


def empty(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _leaf(np.empty(_shape(size), _dt(dtype)), requires_grad, device=device)


def zeros_like(t, dtype=None, requires_grad=False) -> Tensor:
    data = t.array if isinstance(t, Tensor) else np.asarray(t)
    xp = backend.namespace(data)
    return _leaf(xp.zeros(data.shape, dtype or data.dtype), requires_grad)


def ones_like(t, dtype=None, requires_grad=False) -> Tensor:
    data = t.array if isinstance(t, Tensor) else np.asarray(t)
    xp = backend.namespace(data)
    return _leaf(xp.ones(data.shape, dtype or data.dtype), requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False) -> Tensor:
    data = t.array if isinstance(t, Tensor) else np.asarray(t)
    xp = backend.namespace(data)
    return _leaf(xp.full(data.shape, fill_value, dtype or data.dtype), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False) -> Tensor:
    """Integers by default when all arguments are integers (as PyTorch)."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else get_default_dtype()
    return _leaf(np.arange(start, end, step, dtype=as_dtype(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False) -> Tensor:
    return _leaf(np.linspace(start, end, steps, dtype=_dt(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False) -> Tensor:
    return _leaf(np.eye(n, m, dtype=_dt(dtype)), requires_grad)


def rand(*size, dtype=None, requires_grad=False, generator=None) -> Tensor:
    """Uniform on [0, 1), from the generator seeded by ``cr.manual_seed``."""
    rng = _rng(generator)
    return _leaf(rng.random(_shape(size)).astype(_dt(dtype)), requires_grad)


def randn(*size, dtype=None, requires_grad=False, generator=None) -> Tensor:
    """Standard normal, from the generator seeded by ``cr.manual_seed``."""
    rng = _rng(generator)
    return _leaf(rng.standard_normal(_shape(size)).astype(_dt(dtype)), requires_grad)


def randint(low, high=None, size=(), dtype=np.int64, generator=None) -> Tensor:
    if high is None:
        low, high = 0, low
    rng = _rng(generator)
    return _leaf(rng.integers(low, high, size=tuple(size)).astype(dtype))


def randperm(n, generator=None) -> Tensor:
    rng = _rng(generator)
    return _leaf(rng.permutation(n).astype(np.int64))


def from_numpy(array: np.ndarray) -> Tensor:
    """Share the array's memory (no copy), as torch.from_numpy."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    return _leaf(array)
