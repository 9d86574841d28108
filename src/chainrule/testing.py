"""``torch.testing.assert_close``: compare tensors (or numbers, or lists, tuples and dicts
of them) with PyTorch's default tolerances for their dtype.

>>> import chainrule as cr
>>> cr.testing.assert_close(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 2.0 + 1e-7]))
>>> cr.testing.assert_close(cr.tensor([1.0, 3.0]), cr.tensor([2.0, 3.0]))
Traceback (most recent call last):
AssertionError: Tensor-likes are not close!
<BLANKLINE>
Mismatched elements: 1 / 2 (50.0%)
Greatest absolute difference: 1.0 at index (0,) (up to 1e-05 allowed)
Greatest relative difference: 0.5 at index (0,) (up to 1.3e-06 allowed)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._tensor import Tensor

__all__ = ["assert_allclose", "assert_close"]

# PyTorch's defaults: (rtol, atol) by dtype
_TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7), np.dtype(np.complex64): (1.3e-6, 1e-5),
               np.dtype(np.complex128): (1e-7, 1e-7)}


def _array(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return np.asarray(value.detach().numpy())
    if isinstance(value, np.ndarray):
        return value
    return np.asarray(value)


def _fail(msg: str | None, default: str) -> None:
    raise AssertionError(msg if msg is not None else default)


def _compare(actual, expected, rtol, atol, equal_nan, check_dtype, msg, where: str) -> None:
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping) or set(actual) != set(expected):
            _fail(msg, f"The keys of the mappings do not match{where}")
        for key in expected:
            _compare(actual[key], expected[key], rtol, atol, equal_nan, check_dtype, msg,
                     f"{where} at key {key!r}")
        return
    if isinstance(expected, Sequence) and not isinstance(expected, (str, bytes)):
        if not isinstance(actual, Sequence) or len(actual) != len(expected):
            _fail(msg, f"The length of the sequences mismatch{where}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, rtol, atol, equal_nan, check_dtype, msg, f"{where} at index {i}")
        return
    both_tensors = isinstance(actual, Tensor) and isinstance(expected, Tensor)
    if isinstance(actual, Tensor) != isinstance(expected, Tensor):
        raise TypeError(f"assert_close: expected both inputs to be tensors (or both numbers)"
                        f"{where}, got {type(actual).__name__} and {type(expected).__name__}")
    a, e = _array(actual), _array(expected)
    if a.shape != e.shape:
        _fail(msg, f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}"
                   f"{where}.")
    if both_tensors and check_dtype and a.dtype != e.dtype:
        _fail(msg, f"The values for attribute 'dtype' do not match: {a.dtype} != {e.dtype}"
                   f"{where}.")
    if rtol is None:
        rtol, atol = _TOLERANCES.get(np.promote_types(a.dtype, e.dtype), (0.0, 0.0))
    if a.dtype.kind in "biu" and e.dtype.kind in "biu" and rtol == 0 and atol == 0:
        close = a == e
    else:
        a64, e64 = a.astype(np.float64), e.astype(np.float64)
        close = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if close.all():
        return
    bad = ~close
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    abs_diff = np.where(bad, np.abs(a64 - e64), 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_diff = np.where(bad, np.abs(a64 - e64) / np.abs(e64), 0)
    i_abs = np.unravel_index(np.nanargmax(abs_diff), a.shape) if a.ndim else ()
    i_rel = np.unravel_index(np.nanargmax(rel_diff), a.shape) if a.ndim else ()
    kind = "Tensor-likes" if both_tensors else "Scalars"
    n, total = int(bad.sum()), a.size
    verdict = "equal" if rtol == 0 and atol == 0 else "close"
    _fail(msg, f"{kind} are not {verdict}!\n\nMismatched elements: {n} / {total} "
               f"({100 * n / total:.1f}%)\n"
               f"Greatest absolute difference: {abs_diff[i_abs]} at index "
               f"{tuple(int(i) for i in i_abs)} (up to {atol} allowed)\n"
               f"Greatest relative difference: {rel_diff[i_rel]} at index "
               f"{tuple(int(i) for i in i_rel)} (up to {rtol} allowed){where}")


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None,
                 equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg: str | None = None) -> None:
    """Raise AssertionError unless ``actual`` and ``expected`` are close elementwise:
    |actual − expected| ≤ atol + rtol·|expected|, with PyTorch's defaults by dtype
    (float32: rtol 1.3e-6, atol 1e-5; float64: 1e-7, 1e-7; integers: exact)."""
    if (rtol is None) != (atol is None):
        raise ValueError("assert_close: give both rtol and atol, or neither (the dtype's "
                         "defaults are used then)")
    _compare(actual, expected, rtol, atol, equal_nan, check_dtype, msg, "")


def assert_allclose(actual: Any, expected: Any, rtol: float | None = None,
                    atol: float | None = None, equal_nan: bool = True,
                    msg: str = "") -> None:
    """PyTorch's deprecated ``assert_allclose`` (NaNs equal by default)."""
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan,
                 check_dtype=False, msg=msg or None)
