"""``y += a·x`` in one pass, through the BLAS that NumPy already loaded (optional).

The plain SGD update θ ← θ − η g is the one step every training loop runs. NumPy has no
fused multiply-add ufunc, so without help it costs two passes over every parameter and
a scratch array (``tmp = −η g; θ += tmp``; the gradient array itself must not be
scaled in place: it may be shared). BLAS ``axpy`` does it in one pass: on the
784-256-128-10 MLP that is ~30 µs instead of ~80 µs per step, about 8% of a whole
training step at batch 32.

We call the ``cblas_?axpy`` of the OpenBLAS bundled in NumPy's wheels through ctypes
(no SciPy import: that would cost ~0.2 s and ~25 MiB). When that library or symbol
is not found (other NumPy builds, CuPy arrays, odd strides), :func:`axpy` returns False
and the caller falls back to the two ufunc passes; results agree to rounding.
"""

from __future__ import annotations

import ctypes
import glob
import os

import numpy as np

# (symbol, integer type of n / inc): scipy-openblas64 (ILP64, NumPy >= 2 wheels) and
# scipy-openblas32 (LP64). Plain `cblas_saxpy` is not tried: its integer width is unknown.
_SYMBOLS = (("scipy_cblas_{}axpy64_", ctypes.c_int64), ("scipy_cblas_{}axpy", ctypes.c_int32))
_funcs: dict | None = None
# Arrays are passed as byref(c_char.from_buffer(a)): half the cost of a.ctypes.data, which
# builds a helper object per call (this runs for every parameter at every step).
_ptr = ctypes.POINTER(ctypes.c_char)
_from_buffer = ctypes.c_char.from_buffer
_byref = ctypes.byref


def _load() -> dict:
    """``{dtype: cfunc}`` for float32/float64, empty when no usable BLAS is found."""
    funcs: dict = {}
    if os.environ.get("CHAINRULE_NO_BLAS_AXPY"):
        return funcs
    libdir = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libdir, "*openblas*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for pattern, int_t in _SYMBOLS:
            for letter, dtype, real_t in (("s", np.float32, ctypes.c_float),
                                          ("d", np.float64, ctypes.c_double)):
                fn = getattr(lib, pattern.format(letter), None)
                if fn is None:
                    continue
                fn.restype = None
                fn.argtypes = [int_t, real_t, _ptr, int_t, _ptr, int_t]
                funcs[np.dtype(dtype)] = fn
            if funcs:
                return funcs
    return funcs


def axpy(alpha: float, x, y) -> bool:
    """``y += alpha * x`` in place, when both are NumPy arrays of the same float dtype and
    shape, laid out alike (both C- or both Fortran-contiguous: then element k of the flat
    memory is the same element of both), and a BLAS was found; returns whether it did it."""
    global _funcs
    if _funcs is None:
        _funcs = _load()
    if type(x) is not np.ndarray or type(y) is not np.ndarray:
        return False
    fn = _funcs.get(y.dtype)
    if fn is None or x.dtype != y.dtype or x.shape != y.shape or not y.flags.writeable:
        return False
    if y.size == 0:
        return True
    xf, yf = x.flags, y.flags
    if xf.c_contiguous and yf.c_contiguous:
        # from_buffer needs a writeable buffer: a read-only x goes through its address
        xp = _byref(_from_buffer(x)) if xf.writeable else _address(x)
        fn(y.size, alpha, xp, 1, _byref(_from_buffer(y)), 1)
        return True
    if xf.f_contiguous and yf.f_contiguous:  # e.g. a weight kept as the transpose of (in, out)
        fn(y.size, alpha, _address(x), 1, _address(y), 1)
        return True
    return False


def _address(a):
    return ctypes.cast(a.ctypes.data, _ptr)
