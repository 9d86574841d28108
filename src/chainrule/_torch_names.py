"""PyTorch's top-level names that are not ops: dtype aliases, type checks, the legacy
typed constructors, ``as_tensor``. Dtypes are NumPy's: ``x.dtype == cr.float32`` holds
and ``str(x.dtype)`` is ``'float32'``; NumPy has no bfloat16, so ``bfloat16`` is float32
(docs/pytorch.md)."""

from __future__ import annotations

import builtins
import numbers

import numpy as np

from ._tensor import Tensor, set_printoptions, tensor
from .creation import from_numpy, zeros

dtype = np.dtype
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
float = float32
double = float64
half = float16
bfloat16 = float32  # stored as float32: NumPy has no bfloat16
int = np.dtype(np.int32)
int32 = int
long = np.dtype(np.int64)
int64 = long
short = np.dtype(np.int16)
bool = np.dtype(np.bool_)
complex64 = cfloat = np.dtype(np.complex64)

inf = builtins.float("inf")
nan = builtins.float("nan")
pi = np.pi
e = np.e


def is_tensor(obj) -> builtins.bool:
    return isinstance(obj, Tensor)


def is_floating_point(x: Tensor) -> builtins.bool:
    return x.is_floating_point()


def numel(x: Tensor) -> builtins.int:
    return x.numel()


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """PyTorch's ``as_tensor``: no copy when ``data`` already is a tensor or NumPy array of
    that dtype (the array's memory is shared, as torch.as_tensor)."""
    if isinstance(data, Tensor):
        out = data if dtype is None else data.to(dtype)
    elif isinstance(data, np.ndarray) and (dtype is None or np.dtype(dtype) == data.dtype):
        out = from_numpy(data)
    else:
        out = tensor(data, dtype=dtype)
    return out if device is None else out.to(device)


def _all_ints(args) -> builtins.bool:
    return builtins.all(isinstance(a, numbers.Integral) and not isinstance(a, builtins.bool)
                        for a in args)


def _typed(name: str, dt):
    def make(*args, requires_grad: builtins.bool = False, device=None) -> Tensor:
        if args and _all_ints(args):  # a shape: FloatTensor(2, 3)
            out = zeros(*args, dtype=dt, requires_grad=requires_grad)
        elif len(args) == 1:
            out = tensor(args[0], dtype=dt, requires_grad=requires_grad)
        else:
            raise TypeError(f"{name}: expected data (a list or array) or a shape, got "
                            f"{len(args)} arguments")
        return out if device is None else out.to(device)

    make.__name__ = make.__qualname__ = name
    make.dtype = dt
    make.__doc__ = f"PyTorch's legacy ``{name}(data)`` / ``{name}(*shape)`` (zero-filled)."
    return make


FloatTensor = _typed("FloatTensor", float32)
DoubleTensor = _typed("DoubleTensor", float64)
HalfTensor = _typed("HalfTensor", float16)
LongTensor = _typed("LongTensor", long)
IntTensor = _typed("IntTensor", int)
BoolTensor = _typed("BoolTensor", bool)
ByteTensor = _typed("ByteTensor", np.dtype(np.uint8))

__all__ = [
    "BoolTensor",
    "ByteTensor",
    "DoubleTensor",
    "FloatTensor",
    "HalfTensor",
    "IntTensor",
    "LongTensor",
    "as_tensor",
    "bfloat16",
    "bool",
    "cfloat",
    "complex64",
    "double",
    "dtype",
    "e",
    "float",
    "half",
    "inf",
    "int",
    "is_floating_point",
    "is_tensor",
    "long",
    "nan",
    "numel",
    "pi",
    "set_printoptions",
    "short",
]
