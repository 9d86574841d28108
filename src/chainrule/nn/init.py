"""Weight initialization, in place, with PyTorch's names and formulas.

Start from small random noise, never from zeros: with equal weights every hidden unit
computes the same function and receives the same gradient, so they stay identical
forever. The scale matters too: Xavier/Glorot keeps the variance of activations and
gradients about constant across layers for tanh/sigmoid (Var w = 2 / (fan_in + fan_out)),
Kaiming/He does the same for ReLU (Var w = 2 / fan_in).

Every function works under ``no_grad``, writes into the tensor's array, bumps its
version, draws from ``chainrule.random`` (seed with ``cr.manual_seed``) unless a
``generator`` is given, and returns the tensor.

>>> import chainrule as cr
>>> w = cr.nn.Parameter(cr.zeros(256, 784))
>>> _ = cr.nn.init.kaiming_normal_(w, nonlinearity="relu")
>>> round(float(w.array.std()) * 784 ** 0.5, 1)   # ≈ gain √2
1.4
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ..autograd import no_grad
from ..random import numpy_generator

__all__ = [
    "calculate_gain",
    "constant_",
    "dirac_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "sparse_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale of weights feeding ``nonlinearity`` (as torch.nn.init).

    linear, conv*, sigmoid: 1; tanh: 5/3; relu: √2; leaky_relu: √(2 / (1 + slope²))
    (slope ``param``, default 0.01); selu: 3/4.
    """
    linear_fns = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d", "identity")
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r} (expected one "
                     f"of {', '.join(linear_fns + ('sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu'))})")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) as PyTorch: a Linear weight (out, in) has fan_in = in and
    fan_out = out; an N-D weight (out, in, k1, k2, ...) multiplies both by k1·k2·...
    (the receptive field). Fewer than 2 dimensions have no fans: a ValueError."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"init: fan in and fan out cannot be computed for a tensor with fewer "
                         f"than 2 dimensions (got shape {shape}); use uniform_/normal_/"
                         f"constant_ for biases")
    receptive = 1
    for n in shape[2:]:
        receptive *= n
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _write(tensor: Tensor, values) -> Tensor:
    """Write into the tensor's array (keeping its dtype) and bump its version."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init: expected a Tensor or Parameter, got {type(tensor).__name__}")
    with no_grad():
        tensor._assign("init", values)
    return tensor


def _gen(generator):
    return numpy_generator(generator)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0 (biases; never all the weights of a hidden layer)."""
    return _write(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    return _write(tensor, 1)


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _write(tensor, val)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (2-D tensors only)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: expected a 2-D tensor, got shape {tensor.shape}")
    return _write(tensor, np.eye(*tensor.shape))


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Draw from U(a, b)."""
    if a > b:
        raise ValueError(f"uniform_: lower bound {a} exceeds upper bound {b}")
    return _write(tensor, _gen(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Draw from N(mean, std²)."""
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    return _write(tensor, _gen(generator).normal(mean, std, tensor.shape))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """N(mean, std²) restricted to [a, b] (resampling what falls outside)."""
    rng = _gen(generator)
    values = rng.normal(mean, std, tensor.shape)
    bad = (values < a) | (values > b)
    for _ in range(100):
        if not bad.any():
            break
        values[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = (values < a) | (values > b)
    return _write(tensor, np.clip(values, a, b))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot uniform: U(-r, r) with r = gain·√(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _write(tensor, _gen(generator).uniform(-bound, bound, tensor.shape))


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot normal: N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _write(tensor, _gen(generator).normal(0.0, std, tensor.shape))


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He uniform: U(-r, r) with r = gain·√(3 / fan), gain = calculate_gain(nonlinearity, a).

    ``a=√5`` with the default leaky_relu gives r = 1/√fan_in: PyTorch's Linear default.
    """
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return _write(tensor, _gen(generator).uniform(-bound, bound, tensor.shape))


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He normal: N(0, σ²) with σ = gain / √fan, gain = calculate_gain(nonlinearity, a)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return _write(tensor, _gen(generator).normal(0.0, std, tensor.shape))


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2013), as PyTorch: the Q
    of a QR decomposition of a Gaussian matrix, signs fixed by R's diagonal so the draw
    is uniform. Dimensions after the first are flattened.

    >>> import chainrule as cr
    >>> w = orthogonal_(cr.empty(3, 5))
    >>> bool(np.allclose(w.numpy() @ w.numpy().T, np.eye(3), atol=1e-5))
    True
    """
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: expected a tensor with at least 2 dimensions, got "
                         f"shape {tensor.shape}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _gen(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (gain * q).reshape(tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """The identity of a convolution: a 3-, 4- or 5-D weight (out, in, *kernel) that
    passes each of the first channels through unchanged (per group).

    >>> import chainrule as cr
    >>> dirac_(cr.empty(2, 2, 3))[0].tolist()
    [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
    """
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: expected a 3-, 4- or 5-D tensor, got shape {tensor.shape}")
    out_channels = tensor.shape[0]
    if out_channels % groups:
        raise ValueError(f"dirac_: dim 0 ({out_channels}) is not divisible by groups={groups}")
    per_group = out_channels // groups
    values = np.zeros(tensor.shape)
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(per_group, tensor.shape[1])):
            values[(g * per_group + d, d) + centre] = 1
    return _write(tensor, values)


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """A 2-D weight drawn from N(0, std²) with a fraction ``sparsity`` of each column set
    to zero (Martens, 2010), as PyTorch."""
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: expected a 2-D tensor, got shape {tensor.shape}")
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparse_: sparsity must be in [0, 1], got {sparsity}")
    rows, cols = tensor.shape
    rng = _gen(generator)
    values = rng.normal(0.0, std, (rows, cols))
    zeros = math.ceil(sparsity * rows)
    for c in range(cols):
        values[rng.permutation(rows)[:zeros], c] = 0
    return _write(tensor, values)



def _deprecated(new):
    """PyTorch's old names without the trailing underscore: they warn and call the new."""
    def old(*args, **kwargs):
        import warnings

        warnings.warn(f"nn.init.{new.__name__[:-1]} is deprecated in favour of "
                      f"nn.init.{new.__name__}", FutureWarning, stacklevel=2)
        return new(*args, **kwargs)

    old.__name__ = old.__qualname__ = new.__name__[:-1]
    old.__doc__ = f"Deprecated: use :func:`{new.__name__}`."
    return old


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
