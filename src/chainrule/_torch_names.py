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
int16 = short
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool = np.dtype(np.bool_)
complex64 = cfloat = np.dtype(np.complex64)

class layout:
    """A memory layout (PyTorch's ``torch.strided``, ...): chainrule's tensors are all
    strided (dense)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


strided = layout("strided")
sparse_coo = layout("sparse_coo")
Tensor.layout = property(lambda self: strided)

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


class memory_format:
    """PyTorch's memory-format names (``torch.contiguous_format``, ``channels_last``, ...):
    accepted where PyTorch takes ``memory_format=``; chainrule's tensors are NumPy arrays in
    row-major order, so the values are the same and only ``stride()`` can differ."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")


def asarray(obj, *, dtype=None, device=None, copy=None,
            requires_grad: builtins.bool = False) -> Tensor:
    """PyTorch's ``asarray``: ``as_tensor`` (memory shared where it can be), a copy with
    ``copy=True``."""
    out = as_tensor(obj, dtype=dtype, device=device)
    if copy and (out is obj or (isinstance(obj, np.ndarray) and np.shares_memory(out.array,
                                                                                 obj))):
        out = tensor(np.array(out.array, copy=True))
    if requires_grad:
        out.requires_grad_(True)
    return out


def is_nonzero(x: Tensor) -> builtins.bool:
    return x.is_nonzero()


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


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _category(dt) -> builtins.int:
    return _CATEGORY[np.dtype(dt).kind]


def promote_types(type1, type2) -> np.dtype:
    """PyTorch's promotion of two dtypes: the higher category (bool < integer < float <
    complex) decides, so int32 with float16 is float16; within a category the wider."""
    a, b = np.dtype(type1), np.dtype(type2)
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def can_cast(from_, to) -> builtins.bool:
    """Whether PyTorch casts ``from_`` to ``to`` implicitly: never to a lower category
    (float to int, int to bool); any width within one."""
    return _category(from_) <= _category(to)


class finfo:
    """Machine limits of a float dtype as Python floats, as ``torch.finfo``: ``bits``,
    ``eps``, ``max``, ``min``, ``tiny`` (= ``smallest_normal``), ``resolution``; the default
    dtype if none is given."""

    def __init__(self, type=None):
        from ._tensor import get_default_dtype

        dt = np.dtype(get_default_dtype() if type is None else type)
        if dt.kind not in "fc":
            raise TypeError(f"finfo: {dt} is not a floating-point dtype (use iinfo)")
        info = np.finfo(dt)
        self.dtype = str(np.dtype(info.dtype))
        self.bits = builtins.int(info.bits)
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = builtins.float(info.resolution)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, "
                f"eps={self.eps}, smallest_normal={self.tiny}, bits={self.bits}, "
                f"dtype={self.dtype})")


class iinfo:
    """Machine limits of an integer dtype as Python ints (``bits``, ``max``, ``min``)."""

    def __init__(self, type):
        dt = np.dtype(type)
        if dt.kind not in "iub":
            raise TypeError(f"iinfo: {dt} is not an integer dtype (use finfo)")
        info = np.iinfo(np.uint8 if dt.kind == "b" else dt)
        self.dtype = str(dt)
        self.bits = builtins.int(info.bits)
        self.max = builtins.int(info.max)
        self.min = builtins.int(info.min)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, bits={self.bits}, dtype={self.dtype})"


def scalar_tensor(s, dtype=None, device=None, requires_grad: builtins.bool = False) -> Tensor:
    """A 0-d tensor of the default float dtype (PyTorch's scalar_tensor)."""
    from ._tensor import get_default_dtype

    return tensor(s, dtype=dtype or get_default_dtype(), requires_grad=requires_grad)


_MATMUL_PRECISIONS = ("highest", "high", "medium")
_matmul_precision = ["highest"]


def set_float32_matmul_precision(precision: str) -> None:
    """Accepted as PyTorch's ('highest', 'high', 'medium'); chainrule's float32 matmuls are
    NumPy's (BLAS, full float32: 'highest') whatever is chosen, so the setting is kept only
    to be read back."""
    if precision not in _MATMUL_PRECISIONS:
        raise ValueError(f"set_float32_matmul_precision: expected one of {_MATMUL_PRECISIONS}, "
                         f"got {precision!r}")
    _matmul_precision[0] = precision


def get_float32_matmul_precision() -> str:
    return _matmul_precision[0]


def is_complex(x: Tensor) -> builtins.bool:
    """False: chainrule has no complex tensors."""
    if not isinstance(x, Tensor):
        raise TypeError(f"is_complex(): argument 'input' must be a Tensor, not "
                        f"{type(x).__name__}")
    return False


def is_storage(obj) -> builtins.bool:
    """False: chainrule tensors hold NumPy arrays, not storages."""
    return False


_TENSOR_TYPES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                 "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
                 "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def typename(obj) -> str:
    """PyTorch's name of a tensor's type (``'torch.FloatTensor'``), else the object's
    qualified type name."""
    if isinstance(obj, Tensor):
        return "torch." + _TENSOR_TYPES.get(obj.array.dtype.name, "Tensor")
    cls = obj if isinstance(obj, type) or callable(obj) and hasattr(obj, "__qualname__") \
        else type(obj)
    module = cls.__module__
    if module in ("builtins", None):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def set_default_tensor_type(t) -> None:
    """PyTorch's older form of ``set_default_dtype``: ``torch.DoubleTensor`` or
    ``'torch.FloatTensor'`` (a CUDA tensor type is refused: chainrule makes tensors on
    the CPU)."""
    from ._tensor import set_default_dtype

    name = t if isinstance(t, str) else getattr(t, "__name__", repr(t))
    if "cuda" in name:
        raise NotImplementedError(f"set_default_tensor_type({name!r}): chainrule makes "
                                  "tensors on the CPU; move them with .to('cuda') instead")
    short = name.rsplit(".", 1)[-1]
    dtypes = {v: k for k, v in _TENSOR_TYPES.items()}
    if short not in ("FloatTensor", "DoubleTensor", "HalfTensor"):
        raise TypeError(f"set_default_tensor_type: only floating point types are allowed "
                        f"(FloatTensor, DoubleTensor, HalfTensor), got {name!r}")
    set_default_dtype(np.dtype(dtypes[short]))


def unravel_index(indices, shape) -> tuple:
    """The coordinates in ``shape`` of flat ``indices``: one int64 tensor per dimension."""
    flat = indices.array if isinstance(indices, Tensor) else np.asarray(indices)
    if flat.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected integer indices, got dtype {flat.dtype}")
    flat = flat.astype(np.int64)  # (small integer types would overflow below)
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if any(builtins.int(n) < 0 for n in shape):
        raise ValueError(f"unravel_index: shape must not be negative, got {shape}")
    size = builtins.int(np.prod(shape))
    if flat.size and (flat.min() < -size or flat.max() >= size):
        raise RuntimeError(f"unravel_index: an index is out of range for shape {shape} "
                           f"(size {size})")
    coords = np.unravel_index(np.where(flat < 0, flat + size, flat), shape)
    return tuple(from_numpy(np.asarray(c, dtype=np.int64)) for c in coords)


def range(start, end=None, step=1, *, dtype=None, requires_grad: builtins.bool = False) -> Tensor:
    """PyTorch's deprecated ``range``: like ``arange`` but ``end`` included, floats by
    default."""
    from ._tensor import get_default_dtype

    if end is None:
        raise TypeError("range: give start and end (PyTorch's range includes end; "
                        "arange(n) counts to n - 1)")
    if step == 0:
        raise ValueError("range: step must be nonzero")
    if not (np.isfinite(start) and np.isfinite(end)):
        raise ValueError(f"range: start and end must be finite, got {start} and {end}")
    if (end - start) * step < 0:
        raise ValueError(f"range: the bounds {start} and {end} are inconsistent with the "
                         f"sign of step {step}")
    count = builtins.int(np.floor((end - start) / step)) + 1
    values = start + step * np.arange(builtins.max(count, 0), dtype=np.float64)
    return tensor(values, dtype=dtype or get_default_dtype(), requires_grad=requires_grad)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad: builtins.bool = False,
                  **_options) -> Tensor:
    """An uninitialized tensor of ``size``; chainrule's tensors are contiguous, so the
    strides asked for are not kept."""
    from .creation import empty

    if len(tuple(stride)) != len(tuple(size)):
        raise ValueError(f"empty_strided: {len(tuple(size))} sizes but {len(tuple(stride))} "
                         "strides")
    return empty(*size, dtype=dtype, requires_grad=requires_grad)


def frombuffer(buffer, *, dtype, count: builtins.int = -1, offset: builtins.int = 0,
               requires_grad: builtins.bool = False) -> Tensor:
    """A 1-D tensor over the bytes of ``buffer`` (shared when it is writable, as
    PyTorch's; a read-only buffer such as ``bytes`` is copied)."""
    from ._tensor import as_dtype

    if len(memoryview(buffer)) == 0:
        raise ValueError("frombuffer: the buffer is empty (PyTorch refuses it too)")
    array = np.frombuffer(buffer, dtype=as_dtype(dtype), count=count, offset=offset)
    out = from_numpy(array if array.flags.writeable else array.copy())
    if requires_grad:
        out.requires_grad_(True)
    return out


def cholesky(input: Tensor, upper: builtins.bool = False) -> Tensor:
    """PyTorch's older ``cholesky``: ``linalg.cholesky`` (its transpose with ``upper``)."""
    from .linalg import cholesky as lower_factor

    factor = lower_factor(input)
    return factor.transpose(-2, -1) if upper else factor


def trapz(y: Tensor, x=None, *, dx=None, dim: builtins.int = -1) -> Tensor:
    """PyTorch's older name of ``trapezoid``."""
    from .ops.tensor_api import trapezoid

    return trapezoid(y, x, dx=dx, dim=dim)


_deterministic = {"on": False, "warn_only": False}


def use_deterministic_algorithms(mode: builtins.bool, *,
                                 warn_only: builtins.bool = False) -> None:
    """PyTorch's switch for reproducible runs. chainrule's ops on the CPU are deterministic
    (NumPy: the same inputs give the same bits, run after run), so the setting is kept to
    be read back; on a GPU, CuPy's kernels are not checked for a varying order of
    additions, as PyTorch's deterministic mode does."""
    if not isinstance(mode, (builtins.bool, np.bool_)):
        raise TypeError(f"use_deterministic_algorithms: mode must be a bool, got "
                        f"{type(mode).__name__}")
    _deterministic["on"] = builtins.bool(mode)
    _deterministic["warn_only"] = builtins.bool(warn_only)


def are_deterministic_algorithms_enabled() -> builtins.bool:
    return _deterministic["on"]


def is_deterministic_algorithms_warn_only_enabled() -> builtins.bool:
    return _deterministic["warn_only"]


_interop_threads = [1]


def set_num_interop_threads(n: builtins.int) -> None:
    """Accepted as PyTorch's; chainrule runs no inter-op thread pool (ops run one after
    another on the calling thread; ``set_num_threads`` sets BLAS's threads)."""
    if not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"set_num_interop_threads: expected a positive int, got {n!r}")
    _interop_threads[0] = builtins.int(n)


def get_num_interop_threads() -> builtins.int:
    return _interop_threads[0]


def set_flush_denormal(mode: builtins.bool) -> builtins.bool:
    """False, as PyTorch answers where it cannot: NumPy keeps denormal floats."""
    return False


def set_default_device(device) -> None:
    """Accepted for 'cpu' (where chainrule makes tensors); another device is refused with
    what to do instead, since chainrule does not create tensors on a GPU by default."""
    name = str(getattr(device, "type", device)).split(":")[0] if device is not None else "cpu"
    if name != "cpu":
        raise NotImplementedError(f"set_default_device({device!r}): chainrule makes tensors on "
                                  "the CPU; move a model or tensor with .to('cuda') instead")


def get_default_device():
    from ._tensor import device

    return device("cpu")


def compile(model=None, *, fullgraph: builtins.bool = False, dynamic=None,
            backend="inductor", mode=None, options=None, disable: builtins.bool = False):
    """PyTorch's ``torch.compile``: chainrule runs eagerly, so the module or function comes
    back unchanged (the numbers are those of the uncompiled model, as compile promises).
    Works as ``torch.compile(model)`` and as a decorator, with or without arguments."""
    if model is None:
        return lambda fn: fn
    if not callable(model):
        raise TypeError(f"compile: expected a module or a function, got "
                        f"{type(model).__name__}")
    return model


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
    "are_deterministic_algorithms_enabled",
    "as_tensor",
    "asarray",
    "bfloat16",
    "bool",
    "can_cast",
    "cfloat",
    "channels_last",
    "channels_last_3d",
    "cholesky",
    "compile",
    "complex64",
    "contiguous_format",
    "double",
    "dtype",
    "e",
    "empty_strided",
    "finfo",
    "float",
    "frombuffer",
    "get_default_device",
    "get_float32_matmul_precision",
    "get_num_interop_threads",
    "half",
    "iinfo",
    "inf",
    "int",
    "int8",
    "int16",
    "is_complex",
    "is_deterministic_algorithms_warn_only_enabled",
    "is_floating_point",
    "is_nonzero",
    "is_storage",
    "is_tensor",
    "layout",
    "long",
    "memory_format",
    "nan",
    "numel",
    "pi",
    "preserve_format",
    "promote_types",
    "range",
    "scalar_tensor",
    "set_default_device",
    "set_default_tensor_type",
    "set_float32_matmul_precision",
    "set_flush_denormal",
    "set_num_interop_threads",
    "set_printoptions",
    "short",
    "sparse_coo",
    "strided",
    "trapz",
    "typename",
    "uint8",
    "unravel_index",
    "use_deterministic_algorithms",
]
