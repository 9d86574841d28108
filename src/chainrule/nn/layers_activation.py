"""Activation layers beyond ReLU/Tanh/Sigmoid, with PyTorch's names and arguments. The
elementwise ones are one registry op each (``cr.gelu``, ``cr.silu``, ...); PReLU has a
learned slope (``weight``, 0.25 at the start, one or one per channel).

>>> import chainrule as cr
>>> cr.nn.GELU(approximate="tanh")(cr.tensor([0.0, 1.0])).tolist()
[0.0, 0.8411920070648193]
"""

from __future__ import annotations

import numpy as np

from .._tensor import as_dtype, get_default_dtype
from . import functional as F
from .module import Module, Parameter

__all__ = [
    "CELU",
    "ELU",
    "GELU",
    "GLU",
    "SELU",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "LogSigmoid",
    "Mish",
    "PReLU",
    "RReLU",
    "ReLU6",
    "SiLU",
    "Softmax2d",
    "Softmin",
    "Softplus",
    "Softshrink",
    "Softsign",
    "Tanhshrink",
    "Threshold",
]


class GELU(Module):
    """x·Φ(x), or the tanh approximation with ``approximate='tanh'``."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x·σ(x) (also called swish)."""

    def __init__(self, inplace: bool = False):
        super().__init__()

    def forward(self, x):
        return F.silu(x)


class ELU(Module):
    """x for x > 0, α(eˣ - 1) otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SELU(Module):
    """scale·ELU(x, α) with the self-normalizing constants (α ≈ 1.6733, scale ≈ 1.0507)."""

    def __init__(self, inplace: bool = False):
        super().__init__()

    def forward(self, x):
        return F.selu(x)


class Softplus(Module):
    """log(1 + e^(βx))/β, linear where βx > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = float(beta), float(threshold)

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Mish(Module):
    """x·tanh(softplus(x))."""

    def __init__(self, inplace: bool = False):
        super().__init__()

    def forward(self, x):
        return F.mish(x)


class Hardtanh(Module):
    """x clipped to [min_val, max_val] (default [-1, 1])."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val "
                             f"({max_val})")
        self.min_val, self.max_val = float(min_val), float(max_val)

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Hardtanh):
    """min(max(0, x), 6)."""

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0)

    def forward(self, x):
        return F.relu6(x)

    def extra_repr(self) -> str:
        return ""


class LogSigmoid(Module):
    """log σ(x)."""

    def forward(self, x):
        return F.logsigmoid(x)


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, x):
        return F.softsign(x)


class PReLU(Module):
    """x for x > 0, a·x otherwise, with a learned ``weight`` a (``num_parameters`` = 1
    or the number of channels, all ``init`` = 0.25 at the start)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        if int(num_parameters) < 1:
            raise ValueError(f"PReLU: num_parameters must be positive, got {num_parameters}")
        self.num_parameters = int(num_parameters)
        self.init = float(init)
        dt = get_default_dtype() if dtype is None else as_dtype(dtype)
        self.weight = Parameter(np.full(self.num_parameters, self.init, dtype=dt))

    def forward(self, x):
        try:
            return F.prelu(x, self.weight)
        except ValueError as e:
            raise ValueError(f"{self._describe()}: {e}") from None

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class GLU(Module):
    """a·σ(b) for the two halves a, b of the input along ``dim``."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = int(dim)

    def forward(self, x):
        return F.glu(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Hardsigmoid(Module):
    """relu6(x + 3) / 6."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.hardsigmoid(x, self.inplace)


class Hardswish(Module):
    """x · relu6(x + 3) / 6."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.hardswish(x, self.inplace)


class CELU(Module):
    """max(0, x) + min(0, α(e^(x/α) − 1))."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = float(alpha), inplace

    def forward(self, x):
        return F.celu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Threshold(Module):
    """x where x > threshold, else ``value``."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = float(threshold), float(value), inplace

    def forward(self, x):
        return F.threshold(x, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}"


class Tanhshrink(Module):
    """x − tanh(x)."""

    def forward(self, x):
        return F.tanhshrink(x)


class _Shrink(Module):
    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = float(lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Softshrink(_Shrink):
    """x − λ above λ, x + λ below −λ, 0 between."""

    def forward(self, x):
        return F.softshrink(x, self.lambd)


class Hardshrink(_Shrink):
    """x where |x| > λ, else 0."""

    def forward(self, x):
        return F.hardshrink(x, self.lambd)


class Softmin(Module):
    """softmax(−x) along ``dim``."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmin(x, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) input."""

    def forward(self, x):
        if x.ndim not in (3, 4):
            raise ValueError(f"{self._describe()}: expected a 3-D or 4-D input, got shape "
                             f"{x.shape}")
        return F.softmax(x, dim=-3)


class RReLU(Module):
    """Leaky ReLU with a random slope ~ U(lower, upper) per element while training, the
    mean slope in eval mode."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        if not 0 <= lower <= upper:
            raise ValueError(f"RReLU: expected 0 ≤ lower ≤ upper, got lower={lower}, "
                             f"upper={upper}")
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, x):
        return F.rrelu(x, self.lower, self.upper, self.training)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}"
