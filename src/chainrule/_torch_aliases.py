"""More of PyTorch's top-level namespace: names that are other spellings of what chainrule
has (``torch.greater``, ``torch.conv2d``, ``torch.relu_``), the spectral windows, and the
complex-number helpers that are the identity on real tensors.

The functional layers (``torch.conv2d``, ``torch.layer_norm``, ...) resolve through
``chainrule.nn.functional`` on first use, keeping ``import chainrule`` light.
"""

from __future__ import annotations

import builtins

import numpy as np

from ._tensor import Tensor, as_dtype, as_tensor, get_default_dtype, tensor

# ---------------------------------------------------------------------------
# spectral windows (audio front ends): periodic by default, as PyTorch
# ---------------------------------------------------------------------------


def _window(name: str, length: int, periodic: bool, values, dtype, requires_grad: bool):
    if not isinstance(length, (int, np.integer)) or length < 0:
        raise ValueError(f"{name}: window_length must be a non-negative int, got {length!r}")
    dt = get_default_dtype() if dtype is None else as_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{name}: expected a floating-point dtype, got {dt}")
    if length == 0:
        return tensor(np.zeros(0), dtype=dt, requires_grad=requires_grad)
    if length == 1:
        return tensor(np.ones(1), dtype=dt, requires_grad=requires_grad)
    # a periodic window is the symmetric window one longer, without its last point
    n = length + 1 if periodic else length
    return tensor(values(n)[:length], dtype=dt, requires_grad=requires_grad)


def hann_window(window_length: int, periodic: bool = True, *, dtype=None,
                requires_grad: bool = False, **_device) -> Tensor:
    """½ − ½ cos(2πk/(N−1)) over the symmetric length N (periodic: N = length + 1)."""
    return _window("hann_window", window_length, periodic, np.hanning, dtype, requires_grad)


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype=None, requires_grad: bool = False,
                   **_device) -> Tensor:
    """α − β cos(2πk/(N−1))."""
    def values(n):
        return alpha - beta * np.cos(2 * np.pi * np.arange(n) / (n - 1))
    return _window("hamming_window", window_length, periodic, values, dtype, requires_grad)


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None,
                    requires_grad: bool = False, **_device) -> Tensor:
    """0.42 − 0.5 cos(2πk/(N−1)) + 0.08 cos(4πk/(N−1))."""
    return _window("blackman_window", window_length, periodic, np.blackman, dtype,
                   requires_grad)


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None,
                    requires_grad: bool = False, **_device) -> Tensor:
    """The triangle 1 − |2k/(N−1) − 1|."""
    return _window("bartlett_window", window_length, periodic, np.bartlett, dtype,
                   requires_grad)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *,
                  dtype=None, requires_grad: bool = False, **_device) -> Tensor:
    """I₀(β √(1 − (2k/(N−1) − 1)²)) / I₀(β)."""
    return _window("kaiser_window", window_length, periodic, lambda n: np.kaiser(n, beta),
                   dtype, requires_grad)


# ---------------------------------------------------------------------------
# other spellings
# ---------------------------------------------------------------------------
def _ops():
    from . import ops

    return ops


def _later(module: str):
    """A sub-package imported on first use (nn and linalg sit above this module: a static
    import would make the package's import reach them)."""
    import importlib

    return importlib.import_module(f"chainrule.{module}")


def greater(a, b, *, out=None) -> Tensor:
    return _ops().gt(a, b, out=out) if out is not None else _ops().gt(a, b)


def greater_equal(a, b, *, out=None) -> Tensor:
    return _ops().ge(a, b, out=out) if out is not None else _ops().ge(a, b)


def less(a, b, *, out=None) -> Tensor:
    return _ops().lt(a, b, out=out) if out is not None else _ops().lt(a, b)


def less_equal(a, b, *, out=None) -> Tensor:
    return _ops().le(a, b, out=out) if out is not None else _ops().le(a, b)


def not_equal(a, b, *, out=None) -> Tensor:
    return _ops().ne(a, b, out=out) if out is not None else _ops().ne(a, b)


def multiply(a, b, *, out=None) -> Tensor:
    return _ops().mul(a, b, out=out) if out is not None else _ops().mul(a, b)


def subtract(a, b, *, alpha=1) -> Tensor:
    return _ops().sub(a, b, alpha=alpha)


def row_stack(tensors) -> Tensor:
    """PyTorch's older name of ``vstack``."""
    return _ops().vstack(tensors)


def detach(x) -> Tensor:
    return as_tensor(x).detach()


def is_same_size(a, b) -> builtins.bool:
    return as_tensor(a).shape == as_tensor(b).shape


def is_signed(x) -> builtins.bool:
    return as_tensor(x).is_signed()


def get_device(x) -> int:
    return as_tensor(x).get_device()


def fill(x, value) -> Tensor:
    """A new tensor of x's shape and dtype holding ``value`` (``fill_`` out of place)."""
    from .creation import full_like

    x = as_tensor(x)
    return full_like(x, value.item() if isinstance(value, Tensor) else value)


def frobenius_norm(x, dim, keepdim: builtins.bool = False) -> Tensor:
    """√(Σ x²) over ``dim``."""
    return _later("linalg").vector_norm(x, 2, dim=dim, keepdim=keepdim)


def nuclear_norm(x, dim=(-2, -1), keepdim: builtins.bool = False) -> Tensor:
    """The sum of the singular values over the matrix dims ``dim``."""
    return _later("linalg").matrix_norm(x, "nuc", dim=dim, keepdim=keepdim)


# complex helpers on real tensors: the identity (complex tensors are not part of chainrule)
def real(x) -> Tensor:
    return as_tensor(x)


def conj(x) -> Tensor:
    return as_tensor(x)


def resolve_conj(x) -> Tensor:
    return as_tensor(x)


def resolve_neg(x) -> Tensor:
    return as_tensor(x)


def is_conj(x) -> builtins.bool:
    return False


def is_neg(x) -> builtins.bool:
    return False


def isreal(x) -> Tensor:
    """True everywhere: a chainrule tensor is real."""
    from .creation import ones_like

    return ones_like(as_tensor(x), dtype=np.bool_)


def imag(x) -> Tensor:
    return as_tensor(x).imag  # refuses, naming what is missing


# ---------------------------------------------------------------------------
# torch.NAME for layers that live in nn.functional, and torch.NAME_ in-place forms
# ---------------------------------------------------------------------------
# the same arguments in the same order as nn.functional's
_SAME_AS_FUNCTIONAL = frozenset({
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "avg_pool1d", "max_pool1d", "max_pool2d", "max_pool3d", "adaptive_avg_pool1d",
    "layer_norm", "group_norm", "rms_norm", "pixel_shuffle", "pixel_unshuffle",
    "channel_shuffle", "cosine_similarity", "pairwise_distance", "prelu", "rrelu", "celu",
    "celu_", "selu_", "rrelu_", "threshold", "threshold_", "hardshrink", "bilinear",
    "native_channel_shuffle", "embedding_bag",
})


def _functional_form(name: str):
    F = _later("nn.functional")

    if name in _SAME_AS_FUNCTIONAL:
        fn = getattr(F, name.removeprefix("native_"), None)
        return fn
    if name in ("dropout", "alpha_dropout", "feature_alpha_dropout", "feature_dropout"):
        layer = getattr(F, {"feature_dropout": "dropout2d"}.get(name, name))

        def dropout_form(input, p: float, train: builtins.bool):
            return layer(input, p, train)
        dropout_form.__name__ = name
        return dropout_form
    if name == "embedding":  # torch.embedding(weight, indices): the weight first
        def embedding(weight, indices, padding_idx: int = -1, scale_grad_by_freq=False,
                      sparse=False):
            return F.embedding(indices, weight, None if padding_idx < 0 else padding_idx,
                               scale_grad_by_freq=scale_grad_by_freq)
        return embedding
    if name == "batch_norm":  # torch.batch_norm: weight and bias before the running stats
        def batch_norm(input, weight, bias, running_mean, running_var, training, momentum,
                       eps, cudnn_enabled=True):
            return F.batch_norm(input, running_mean, running_var, weight, bias, training,
                                momentum, eps)
        return batch_norm
    if name == "instance_norm":
        def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats,
                          momentum, eps, cudnn_enabled=True):
            return F.instance_norm(input, running_mean, running_var, weight, bias,
                                   use_input_stats, momentum, eps)
        return instance_norm
    if name == "adaptive_max_pool1d":  # torch's returns (values, indices)
        def adaptive_max_pool1d(input, output_size):
            return F.adaptive_max_pool1d(input, output_size, return_indices=True)
        return adaptive_max_pool1d
    return None


def lazy_name(name: str):
    """``torch.NAME`` for the names above that need nn, or an in-place ``torch.f_(x, ...)``
    as ``x.f_(...)``; None where there is none."""
    fn = _functional_form(name)
    if fn is not None:
        return fn
    if name.endswith("_") and not name.startswith("_") and callable(getattr(Tensor, name, None)):
        def in_place(x, *args, **kwargs):
            return getattr(as_tensor(x), name)(*args, **kwargs)
        in_place.__name__ = in_place.__qualname__ = name
        in_place.__doc__ = f"``torch.{name}(x, ...)`` is ``x.{name}(...)``."
        return in_place
    return None


__all__ = [
    "bartlett_window", "blackman_window", "conj", "detach", "fill", "frobenius_norm",
    "get_device", "greater", "greater_equal", "hamming_window", "hann_window", "imag",
    "is_conj", "is_neg", "is_same_size", "is_signed", "isreal", "kaiser_window", "less",
    "less_equal", "multiply", "not_equal", "nuclear_norm", "real", "resolve_conj",
    "resolve_neg", "row_stack", "subtract",
]
