"""Factory functions: zeros, ones, arange, eye, rand, randn, ..."""

from __future__ import annotations

import numpy as np

from . import backend
from ._tensor import Tensor, as_dtype, complex_refusal, get_default_dtype, wrap
from .random import numpy_generator


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
    t = wrap(data)
    t.name = name
    if requires_grad:
        t.requires_grad_(True)
    return t


def _dt(dtype):
    return get_default_dtype() if dtype is None else as_dtype(dtype)


_ACCEPTED = frozenset({"layout", "pin_memory", "memory_format", "non_blocking"})


def _size_keyword(op: str, size: tuple, extra: dict) -> tuple:
    """The shape given positionally or as PyTorch's ``size=`` keyword (``zeros(size=(2,
    3))``), not both."""
    if "size" not in extra:
        return size
    if size:
        raise TypeError(f"{op}: the shape is given twice, positionally {size} and as "
                        f"size={extra['size']!r}")
    return (extra.pop("size"),)


def _torch_only(op: str, extra: dict) -> None:
    """PyTorch's keywords that change nothing here (layout, pin_memory, ...) are accepted;
    any other (``out=``, a misspelling) is an error, never silently ignored."""
    unknown = sorted(k for k in extra if k not in _ACCEPTED)
    if unknown:
        hint = " (out= is not supported: use the returned tensor)" if "out" in unknown else ""
        raise TypeError(f"{op}: unexpected keyword argument(s) {unknown}{hint}")


def _check_device(device) -> None:
    if device is not None and str(device).split(":")[0] not in ("cpu", "cuda"):
        raise RuntimeError(f"device {str(device)!r} is not available in chainrule (NumPy on the "
                           "CPU, CuPy for 'cuda'); use 'cpu'")


def _device(device):
    _check_device(device)
    return None if device is None or str(device).startswith("cpu") else str(device)


def zeros(*size, dtype=None, requires_grad=False, device=None, **_torch) -> Tensor:
    """``cr.zeros(2, 3)`` or ``cr.zeros((2, 3))``."""
    size = _size_keyword("zeros", size, _torch)
    _torch_only("zeros", _torch)
    return _leaf(np.zeros(_shape(size), _dt(dtype)), requires_grad, device=_device(device))


def ones(*size, dtype=None, requires_grad=False, device=None, **_torch) -> Tensor:
    size = _size_keyword("ones", size, _torch)
    _torch_only("ones", _torch)
    return _leaf(np.ones(_shape(size), _dt(dtype)), requires_grad, device=_device(device))


def full(size, fill_value, dtype=None, requires_grad=False, device=None, **_torch) -> Tensor:
    """As PyTorch: the dtype follows ``fill_value`` (int64 for an int, bool for a bool)."""
    _torch_only("full", _torch)
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    if dtype is None:
        if isinstance(fill_value, (bool, np.bool_)):
            dtype = np.bool_
        elif isinstance(fill_value, (int, np.integer)):
            dtype = np.int64
    return _leaf(np.full(_shape(size), fill_value, _dt(dtype)), requires_grad,
                 device=_device(device))


def empty(*size, dtype=None, requires_grad=False, device=None, **_torch) -> Tensor:
    """Zero-filled (NumPy's uninitialized memory would make results depend on chance)."""
    size = _size_keyword("empty", size, _torch)
    _torch_only("empty", _torch)
    return _leaf(np.zeros(_shape(size), _dt(dtype)), requires_grad, device=_device(device))


def _like(t):
    return t.array if isinstance(t, Tensor) else np.asarray(t)


def zeros_like(t, dtype=None, requires_grad=False, device=None, **_torch) -> Tensor:
    _torch_only("zeros_like", _torch)
    data = _like(t)
    xp = backend.namespace(data)
    return _leaf(xp.zeros(data.shape, dtype or data.dtype), requires_grad, device=_device(device))


def ones_like(t, dtype=None, requires_grad=False, device=None, **_torch) -> Tensor:
    _torch_only("ones_like", _torch)
    data = _like(t)
    xp = backend.namespace(data)
    return _leaf(xp.ones(data.shape, dtype or data.dtype), requires_grad, device=_device(device))


def full_like(t, fill_value, dtype=None, requires_grad=False, device=None, **_torch) -> Tensor:
    _torch_only("full_like", _torch)
    data = _like(t)
    xp = backend.namespace(data)
    return _leaf(xp.full(data.shape, fill_value, dtype or data.dtype), requires_grad,
                 device=_device(device))


def empty_like(t, dtype=None, requires_grad=False, device=None, **_torch) -> Tensor:
    _torch_only("empty_like", _torch)
    return zeros_like(t, dtype, requires_grad, device)


def rand_like(t, dtype=None, requires_grad=False, device=None, generator=None,
              **_torch) -> Tensor:
    _torch_only("rand_like", _torch)
    data = _like(t)
    return rand(*data.shape, dtype=dtype or data.dtype, requires_grad=requires_grad,
                device=device, generator=generator)


def randn_like(t, dtype=None, requires_grad=False, device=None, generator=None,
               **_torch) -> Tensor:
    _torch_only("randn_like", _torch)
    data = _like(t)
    return randn(*data.shape, dtype=dtype or data.dtype, requires_grad=requires_grad,
                 device=device, generator=generator)


def randint_like(t, low, high=None, dtype=None, requires_grad=False, device=None,
                 generator=None, **_torch) -> Tensor:
    _torch_only("randint_like", _torch)
    data = _like(t)
    return randint(low, high, data.shape, dtype=dtype or data.dtype, device=device,
                   generator=generator)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None,
           **_torch) -> Tensor:
    """Integers by default when all arguments are integers (as PyTorch)."""
    _torch_only("arange", _torch)
    # 0-d tensors as bounds (arange(n) with n = x.shape-derived tensor): their numbers
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else get_default_dtype()
    return _leaf(np.arange(start, end, step, dtype=as_dtype(dtype)), requires_grad,
                 device=_device(device))


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None,
             **_torch) -> Tensor:
    _torch_only("linspace", _torch)
    # computed in float64 and rounded once, as PyTorch's values
    return _leaf(np.linspace(start, end, steps).astype(_dt(dtype)), requires_grad,
                 device=_device(device))


def logspace(start, end, steps, base=10.0, dtype=None, requires_grad=False, device=None,
             **_torch) -> Tensor:
    _torch_only("logspace", _torch)
    return _leaf(np.logspace(start, end, steps, base=base).astype(_dt(dtype)), requires_grad,
                 device=_device(device))


def eye(n, m=None, dtype=None, requires_grad=False, device=None, **_torch) -> Tensor:
    _torch_only("eye", _torch)
    return _leaf(np.eye(n, m, dtype=_dt(dtype)), requires_grad, device=_device(device))


def rand(*size, dtype=None, requires_grad=False, generator=None, device=None,
         **_torch) -> Tensor:
    """Uniform on [0, 1), from the generator seeded by ``cr.manual_seed`` (chainrule's
    own stream: the same seed gives other numbers than PyTorch's)."""
    size = _size_keyword("rand", size, _torch)
    _torch_only("rand", _torch)
    rng = numpy_generator(generator)
    return _leaf(rng.random(_shape(size)).astype(_dt(dtype)), requires_grad,
                 device=_device(device))


def randn(*size, dtype=None, requires_grad=False, generator=None, device=None,
          **_torch) -> Tensor:
    """Standard normal, from the generator seeded by ``cr.manual_seed``."""
    size = _size_keyword("randn", size, _torch)
    _torch_only("randn", _torch)
    rng = numpy_generator(generator)
    return _leaf(rng.standard_normal(_shape(size)).astype(_dt(dtype)), requires_grad,
                 device=_device(device))


def randint(low, high=None, size=None, dtype=None, generator=None, device=None,
            requires_grad=False, **_torch) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``, as PyTorch."""
    _torch_only("randint", _torch)
    if isinstance(high, (tuple, list)) and size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint: missing the size argument (randint(high, size) or "
                        "randint(low, high, size))")
    if not low < high:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    rng = numpy_generator(generator)
    out = rng.integers(low, high, size=_shape(tuple(size) if not isinstance(size, int)
                                              else (size,)))
    return _leaf(out.astype(np.int64 if dtype is None else as_dtype(dtype)),
                 device=_device(device))


def randperm(n, generator=None, dtype=None, device=None, **_torch) -> Tensor:
    _torch_only("randperm", _torch)
    rng = numpy_generator(generator)
    return _leaf(rng.permutation(n).astype(np.int64 if dtype is None else as_dtype(dtype)),
                 device=_device(device))


def from_numpy(array: np.ndarray) -> Tensor:
    """Share the array's memory (no copy), as torch.from_numpy."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    if array.dtype.kind == "c":
        raise TypeError(complex_refusal(f"from_numpy: array of dtype {array.dtype}"))
    return _leaf(array)

