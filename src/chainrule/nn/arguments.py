"""Argument handling shared by ``nn.functional``, the loss functions and the layers: the
prediction as a floating Tensor, targets and weights in its dtype, the reduction and its
check, and the dtype-mismatch message. Below all of them, so none imports another."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, as_tensor, get_default_dtype
from ..ops import nn_ops
from ..ops import primitives as P

_REDUCTIONS = ("mean", "sum", "none")


def _input(x) -> Tensor:
    """The prediction as a floating Tensor (arrays and lists are wrapped)."""
    if not isinstance(x, Tensor):
        x = as_tensor(x)
    if x.array.dtype.kind != "f":
        x = as_tensor(x.array.astype(get_default_dtype()))
    return x


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _like(t, ref: Tensor) -> Tensor:
    """``t`` as a Tensor of ``ref``'s dtype; a target that requires grad stays on the graph."""
    if isinstance(t, Tensor):
        if t.array.dtype == ref.array.dtype:
            return t
        if t.requires_grad:
            return P.cast(t, ref.array.dtype)
        return as_tensor(t.array.astype(ref.array.dtype))
    arr = np.asarray(t)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"expected numbers, got {type(t).__name__} of dtype {arr.dtype}")
    return as_tensor(arr.astype(ref.array.dtype, copy=False))


def _same_shape_target(input, target, op: str) -> tuple[Tensor, Tensor]:
    x = _input(input)
    try:
        t = _like(target, x)
    except TypeError as e:
        raise TypeError(f"{op}: target: {e}") from None
    if t.shape != x.shape:
        raise ValueError(
            f"{op}: input shape {x.shape} and target shape {t.shape} differ; reshape one of "
            f"them (e.g. target.reshape({', '.join(map(str, x.shape)) or '()'})); a loss "
            "does not broadcast its operands")
    return x, t


def _constant(value, ref: Tensor, name: str, op: str, shape=None) -> np.ndarray | None:
    """A weight given as Tensor/array/list, as a constant array of ``ref``'s dtype."""
    if value is None:
        return None
    arr = np.asarray(value.array if isinstance(value, Tensor) else value)
    arr = arr.astype(ref.array.dtype, copy=False)
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{op}: {name} must have shape {shape}, got {arr.shape}")
    if shape is None:
        try:
            np.broadcast_shapes(arr.shape, ref.shape)
        except ValueError:
            raise ValueError(f"{op}: {name} of shape {arr.shape} cannot be broadcast to the "
                             f"input's shape {ref.shape}") from None
    return arr


_reduce = nn_ops.reduce_loss  # the one reduction of losses, on Tensors and inside fused ops


def _dtype_mismatch(where: str, got, want) -> str:
    """The message for an input whose dtype differs from the weights' (PyTorch refuses
    it too: a silent conversion would hide a float64 pipeline or lose precision)."""
    fix = "x.float()" if np.dtype(want) == np.float32 else f"x.to({np.dtype(want).name!r})"
    return (f"{where}: input has dtype {np.dtype(got)} but the weights have dtype "
            f"{np.dtype(want)}; convert the input ({fix}) or the model "
            f"(model.to({np.dtype(got).name!r}))")


def _constant_like(arr: np.ndarray, x: Tensor) -> Tensor:
    """A constant NumPy array as a Tensor on ``x``'s device (CuPy when x is on the GPU)."""
    from .. import backend

    device = str(x.device)
    return as_tensor(arr if device == "cpu" else backend.to_device(arr, device))
