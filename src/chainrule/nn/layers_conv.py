"""Convolution and pooling layers, with PyTorch's arguments, parameter names, shapes,
initialization and state_dict keys (``weight`` (O, C/groups, kh, kw), ``bias`` (O,)).

>>> import chainrule as cr
>>> net = cr.nn.Sequential(cr.nn.Conv2d(1, 8, 3, padding=1), cr.nn.ReLU(),
...                        cr.nn.MaxPool2d(2), cr.nn.Flatten(), cr.nn.Linear(8 * 14 * 14, 10))
>>> net(cr.ones(4, 1, 28, 28)).shape
(4, 10)
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor, as_dtype, as_tensor, get_default_dtype
from . import functional as F
from . import init
from .module import Module, Parameter

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "ChannelShuffle",
    "CircularPad1d",
    "CircularPad2d",
    "ConstantPad1d",
    "ConstantPad2d",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "Fold",
    "LPPool1d",
    "LPPool2d",
    "LPPool3d",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "PixelShuffle",
    "PixelUnshuffle",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "Unfold",
    "Upsample",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
    "ZeroPad1d",
    "ZeroPad2d",
]


def _tuple(value, n: int) -> tuple:
    return (int(value),) * n if isinstance(value, (int, np.integer)) else tuple(value)


_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _kernel_text(kernel: tuple) -> str:
    return f"k{kernel[0]}" if len(set(kernel)) == 1 else "k" + "×".join(map(str, kernel))


class _ConvNd(Module):
    """What Conv1d, Conv2d and ConvTranspose2d share: arguments, parameters, init,
    and the input check that names the layer."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1,
                 padding=0, dilation=1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device=None, dtype=None, output_padding=0):
        super().__init__()
        name = type(self).__name__
        if int(in_channels) <= 0 or int(out_channels) <= 0:
            raise ValueError(f"{name}: in_channels and out_channels must be positive, got "
                             f"{in_channels} and {out_channels}")
        if int(groups) <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels "
                             f"({in_channels}) and out_channels ({out_channels})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of "
                             f"{', '.join(map(repr, _PADDING_MODES))}, got {padding_mode!r}")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported for transposed "
                             f"convolutions, got {padding_mode!r}")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"{name}: padding must be an int, a tuple, 'same' or 'valid', "
                             f"got {padding!r}")
        if device not in (None, "cpu"):
            raise NotImplementedError(f"{name}: device={device!r}: layers are built on the "
                                      "CPU")
        n = self._dims
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _tuple(kernel_size, n)
        self.stride = _tuple(stride, n)
        self.padding = padding if isinstance(padding, str) else _tuple(padding, n)
        self.dilation = _tuple(dilation, n)
        self.output_padding = _tuple(output_padding, n)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        if isinstance(padding, str) and padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError(f"{name}: padding='same' is not supported for strided "
                             f"convolutions (stride={self.stride})")
        dt = get_default_dtype() if dtype is None else as_dtype(dtype)
        if self._transposed:
            shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        else:
            shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dt))
        self.bias = Parameter(np.empty(self.out_channels, dtype=dt)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: W ~ kaiming_uniform(a=√5), i.e. U(±1/√fan_in), and
        b ~ U(±1/√fan_in), fan_in = weight.shape[1]·kh·kw."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def _check_input(self, x) -> Tensor:
        """x as a Tensor of the weight's dtype with the expected rank and channels."""
        if not isinstance(x, Tensor):
            x = as_tensor(x, self.weight)
        shape = x.shape
        spatial = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}[self._dims]
        n_dims = len(spatial) + 2
        if len(shape) not in (n_dims, n_dims - 1) or shape[-len(spatial) - 1] != self.in_channels:
            want = ", ".join(("N", str(self.in_channels)) + spatial)
            raise ValueError(f"{self._describe()}: expected input of shape ({want}), got "
                             f"{shape}")
        if x.array.dtype != self.weight.array.dtype:
            x = F._like(x, self.weight)
        return x

    def _padded(self, x: Tensor) -> tuple:
        """(input, padding for the convolution): with padding_mode 'zeros' the
        convolution pads; otherwise the input is padded here (F.pad with that mode, the
        odd extra of 'same' on the far side as PyTorch) and the convolution pads nothing."""
        if self.padding_mode == "zeros":
            return x, self.padding
        if self.padding == "valid":
            return x, self.padding
        if self.padding == "same":
            totals = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            amounts = [(t // 2, t - t // 2) for t in totals]
        else:
            amounts = [(p, p) for p in self.padding]
        flat = [a for pair in reversed(amounts) for a in pair]  # F.pad: last dim first
        if any(flat):
            try:
                x = F.pad(x, flat, mode=self.padding_mode)
            except ValueError as e:
                raise ValueError(f"{self._describe()}: padding_mode={self.padding_mode!r}: "
                                 f"{e}") from None
        return x, (0,) * self._dims

    def _short_name(self) -> str:
        return (f"{type(self).__name__} {self.in_channels}→{self.out_channels}, "
                f"{_kernel_text(self.kernel_size)}")

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, " \
            f"stride={self.stride}"
        if self.padding not in (0, (0,) * self._dims):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            s += f", dilation={self.dilation}"
        if self._transposed and self.output_padding != (0,) * self._dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) images: ``Conv2d(1, 32, 3, padding=1)``.

    Arguments as PyTorch: kernel_size, stride, padding (int, pair, 'same', 'valid'),
    dilation, groups (``groups=in_channels`` for depthwise), bias. Runs as im2col + one
    BLAS matrix product, channels-last inside.

    >>> import chainrule as cr
    >>> conv = cr.nn.Conv2d(3, 16, kernel_size=3, stride=2, padding=1)
    >>> conv.weight.shape, conv(cr.ones(2, 3, 32, 32)).shape
    ((16, 3, 3, 3), (2, 16, 16, 16))
    """

    def forward(self, x):
        x, padding = self._padded(self._check_input(x))
        return F._conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                         self.groups, "conv2d")

    def _forward_relu(self, x):
        """relu(conv(x)) as one node (Sequential's fusion of Conv2d + ReLU)."""
        x, padding = self._padded(self._check_input(x))
        return F._conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                         self.groups, "conv2d", relu=True)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) sequences: ``Conv1d(16, 32, 5, padding=2)``."""

    _dims = 1

    def forward(self, x):
        x, padding = self._padded(self._check_input(x))
        return F.conv1d(x, self.weight, self.bias, self.stride,
                        padding if isinstance(padding, str) else padding[0],
                        self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (the gradient of Conv2d, used to upsample): weight of
    shape (C_in, C_out/groups, kh, kw); H_out = (H - 1)·stride - 2·padding +
    dilation·(kh - 1) + output_padding + 1.

    >>> import chainrule as cr
    >>> up = cr.nn.ConvTranspose2d(8, 4, 2, stride=2)
    >>> up(cr.ones(1, 8, 5, 5)).shape
    (1, 4, 10, 10)
    """

    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1,
                 padding=0, output_padding=0, groups: int = 1, bias: bool = True,
                 dilation=1, padding_mode: str = "zeros", device=None, dtype=None):
        if isinstance(padding, str):
            raise TypeError("ConvTranspose2d: padding must be an int or a pair")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, output_padding)

    def forward(self, x, output_size=None):
        x = self._check_input(x)
        extra = self.output_padding
        if output_size is not None:  # PyTorch's way of choosing among the possible sizes
            want = tuple(output_size)[-2:]
            h, w = x.shape[-2:]
            base = tuple((n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
                         zip((h, w), self.stride, self.padding, self.dilation,
                             self.kernel_size))
            extra = tuple(a - b for a, b in zip(want, base))
            if any(e < 0 or e >= max(s, d) for e, s, d in zip(extra, self.stride,
                                                                 self.dilation)):
                raise ValueError(f"{self._describe()}: requested output size {want} is not "
                                 f"reachable from input {h}×{w} (smallest {base})")
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, extra,
                                  self.groups, self.dilation)


class ConvTranspose1d(_ConvNd):
    """Transposed 1-D convolution of (N, C_in, L) input: weight (C_in, C_out/groups, k);
    L_out = (L - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1."""

    _dims = 1
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1,
                 padding=0, output_padding=0, groups: int = 1, bias: bool = True,
                 dilation=1, padding_mode: str = "zeros", device=None, dtype=None):
        if isinstance(padding, str):
            raise TypeError("ConvTranspose1d: padding must be an int")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, output_padding)

    def forward(self, x, output_size=None):
        x = self._check_input(x)
        extra = self.output_padding[0]
        if output_size is not None:
            want = int(tuple(output_size)[-1])
            base = (x.shape[-1] - 1) * self.stride[0] - 2 * self.padding[0] + \
                self.dilation[0] * (self.kernel_size[0] - 1) + 1
            extra = want - base
            if extra < 0 or extra >= max(self.stride[0], self.dilation[0]):
                raise ValueError(f"{self._describe()}: requested output size {want} is not "
                                 f"reachable from input length {x.shape[-1]} (smallest "
                                 f"{base})")
        return F.conv_transpose1d(x, self.weight, self.bias, self.stride, self.padding, extra,
                                  self.groups, self.dilation)


class _Pool2d(Module):
    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 ceil_mode: bool = False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.dilation = dilation
        self.ceil_mode = bool(ceil_mode)

    def _check_input(self, x) -> Tensor:
        x = x if isinstance(x, Tensor) else as_tensor(x)
        want = self._dims + 2
        if x.ndim not in (want, want - 1):
            spatial = {1: "L", 2: "H, W", 3: "D, H, W"}[self._dims]
            raise ValueError(f"{self._describe()}: expected input of shape (N, C, {spatial}) "
                             f"or (C, {spatial}), got {x.shape}")
        return x

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                f", dilation={self.dilation}, ceil_mode={self.ceil_mode}")

    def _short_name(self) -> str:
        k = _tuple(self.kernel_size, self._dims)
        return f"{type(self).__name__} {_kernel_text(k)}"

    def _call(self, fn, x, *args, **kwargs):
        """Run ``fn``, re-raising an argument error with the layer's path in front."""
        try:
            return fn(self._check_input(x), *args, **kwargs)
        except ValueError as e:
            raise ValueError(f"{self._describe()}: {e}") from None


class MaxPool2d(_Pool2d):
    """The maximum over kernel_size windows of (N, C, H, W) input (stride defaults to the
    kernel size); PyTorch's padding, dilation, ceil_mode and return_indices.

    >>> import chainrule as cr
    >>> cr.nn.MaxPool2d(2)(cr.ones(1, 3, 28, 28)).shape
    (1, 3, 14, 14)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__(kernel_size, stride, padding, dilation, ceil_mode)
        self.return_indices = bool(return_indices)

    def forward(self, x):
        return self._call(F.max_pool2d, x, self.kernel_size, self.stride, self.padding,
                          self.dilation, self.ceil_mode, self.return_indices)


class MaxPool1d(MaxPool2d):
    """The maximum over windows of (N, C, L) input."""

    _dims = 1

    def forward(self, x):
        return self._call(F.max_pool1d, x, self.kernel_size, self.stride, self.padding,
                          self.dilation, self.ceil_mode, self.return_indices)


class AvgPool2d(_Pool2d):
    """The mean over kernel_size windows of (N, C, H, W) input, with PyTorch's
    count_include_pad, ceil_mode and divisor_override."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__(kernel_size, stride, padding, 1, ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, x):
        return self._call(F.avg_pool2d, x, self.kernel_size, self.stride, self.padding,
                          self.ceil_mode, self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(AvgPool2d):
    """The mean over windows of (N, C, L) input."""

    _dims = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)

    def forward(self, x):
        return self._call(F.avg_pool1d, x, self.kernel_size, self.stride, self.padding,
                          self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:  # PyTorch shows AvgPool1d's arguments as 1-tuples
        return (f"kernel_size={_tuple(self.kernel_size, 1)}, stride={_tuple(self.stride, 1)}"
                f", padding={_tuple(self.padding, 1)}")


class AdaptiveAvgPool1d(Module):
    """Average pooling of (N, C, L) input to ``output_size`` steps (PyTorch's bins)."""

    def __init__(self, output_size: int):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        try:
            return F.adaptive_avg_pool1d(x, self.output_size)
        except ValueError as e:
            raise ValueError(f"{self._describe()}: {e}") from None

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(Module):
    """Max pooling of (N, C, L) input to ``output_size`` steps (PyTorch's bins)."""

    def __init__(self, output_size: int, return_indices: bool = False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = bool(return_indices)

    def forward(self, x):
        try:
            return F.adaptive_max_pool1d(x, self.output_size, self.return_indices)
        except ValueError as e:
            raise ValueError(f"{self._describe()}: {e}") from None

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, whatever the input size (PyTorch's bins):
    ``AdaptiveAvgPool2d(1)`` is global average pooling."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        try:
            return F.adaptive_avg_pool2d(x, self.output_size)
        except ValueError as e:
            raise ValueError(f"{self._describe()}: {e}") from None

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed output size over PyTorch's adaptive bins."""

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = bool(return_indices)

    def forward(self, x):
        try:
            return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)
        except ValueError as e:
            raise ValueError(f"{self._describe()}: {e}") from None

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class Upsample(Module):
    """Resize by ``scale_factor`` or to ``size`` with 'nearest', 'nearest-exact',
    'linear' or 'bilinear' interpolation (see ``F.interpolate``).

    >>> import chainrule as cr
    >>> cr.nn.Upsample(scale_factor=2)(cr.ones(1, 3, 4, 4)).shape
    (1, 3, 8, 8)
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor: bool | None = None):
        super().__init__()
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x):
        try:
            return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                                 self.recompute_scale_factor)
        except ValueError as e:
            raise ValueError(f"{self._describe()}: {e}") from None

    def extra_repr(self) -> str:
        if self.size is not None:
            what = f"size={self.size}"
        elif isinstance(self.scale_factor, (tuple, list)):
            what = f"scale_factor={tuple(float(f) for f in self.scale_factor)}"
        else:
            what = f"scale_factor={float(self.scale_factor)}"
        return f"{what}, mode={self.mode!r}"


class Unfold(Module):
    """Sliding windows as columns (im2col): (N, C, H, W) -> (N, C·kh·kw, L)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, x):
        return F.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Columns summed back into images (col2im): (N, C·kh·kw, L) -> (N, C, H, W)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size, self.dilation = output_size, kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, x):
        return F.fold(x, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")


class UpsamplingNearest2d(Upsample):
    """``Upsample(mode='nearest')`` under its older name."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(mode='bilinear', align_corners=True)`` under its older name."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class _PadNd(Module):
    """Padding of the last ``_dims`` dimensions: an int (every side) or a tuple in F.pad's
    order (left, right[, top, bottom])."""

    _dims = 1
    _mode = "constant"

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        n = 2 * self._dims
        if isinstance(padding, (int, np.integer)):
            padding = (int(padding),) * n
        padding = tuple(int(p) for p in padding)
        if len(padding) != n:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of "
                             f"{n} ints, got {padding}")
        self.padding = padding
        self.value = float(value)

    def forward(self, x):
        if x.ndim not in (self._dims + 1, self._dims + 2):
            raise ValueError(f"{self._describe()}: expected a {self._dims + 1}-D or "
                             f"{self._dims + 2}-D input, got shape {x.shape}")
        try:
            if self._mode == "constant":
                return F.pad(x, self.padding, mode="constant", value=self.value)
            return F.pad(x, self.padding, mode=self._mode)
        except ValueError as e:
            raise ValueError(f"{self._describe()}: {e}") from None

    def extra_repr(self) -> str:
        if type(self).__name__.startswith("Constant"):
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


class ConstantPad1d(_PadNd):
    """Pad the last dimension with ``value``: ``ConstantPad1d((1, 2), 0.5)``."""

    def __init__(self, padding, value: float):
        super().__init__(padding, value)


class ConstantPad2d(ConstantPad1d):
    """Pad the last two dimensions with ``value``: (left, right, top, bottom)."""

    _dims = 2


class ZeroPad1d(_PadNd):
    """Pad the last dimension with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ZeroPad2d(ZeroPad1d):
    """Pad the last two dimensions with zeros: (left, right, top, bottom)."""

    _dims = 2


class ReflectionPad1d(ZeroPad1d):
    """Pad the last dimension with its mirror image (the edge not repeated)."""

    _mode = "reflect"


class ReflectionPad2d(ReflectionPad1d):
    """Pad the last two dimensions with their mirror images."""

    _dims = 2


class ReplicationPad1d(ZeroPad1d):
    """Pad the last dimension by repeating its edge values."""

    _mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    """Pad the last two dimensions by repeating their edges."""

    _dims = 2


class CircularPad1d(ZeroPad1d):
    """Pad the last dimension by wrapping around."""

    _mode = "circular"


class CircularPad2d(CircularPad1d):
    """Pad the last two dimensions by wrapping around."""

    _dims = 2


class ConstantPad3d(ConstantPad1d):
    """Pad the last three dimensions with ``value``: (left, right, top, bottom, front,
    back)."""

    _dims = 3


class ZeroPad3d(ZeroPad1d):
    """Pad the last three dimensions with zeros."""

    _dims = 3


class ReflectionPad3d(ReflectionPad1d):
    """Pad the last three dimensions with their mirror images."""

    _dims = 3


class ReplicationPad3d(ReplicationPad1d):
    """Pad the last three dimensions by repeating their edges."""

    _dims = 3


class CircularPad3d(CircularPad1d):
    """Pad the last three dimensions by wrapping around."""

    _dims = 3


class PixelShuffle(Module):
    """(N, C·r², H, W) -> (N, C, H·r, W·r) (sub-pixel upsampling)."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = int(upscale_factor)

    def forward(self, x):
        return F.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(N, C, H·r, W·r) -> (N, C·r², H, W)."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = int(downscale_factor)

    def forward(self, x):
        return F.pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Regroup the channels of (N, g·k, ...) input as (k, g)."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = int(groups)

    def forward(self, x):
        return F.channel_shuffle(x, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class _LPPool(Module):
    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPool):
    """(Σ x^p over each window)^(1/p) of (N, C, L) input."""

    def forward(self, x):
        return F.lp_pool1d(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool2d(_LPPool):
    """(Σ x^p over each window)^(1/p) of (N, C, H, W) input."""

    def forward(self, x):
        return F.lp_pool2d(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool3d(_LPPool):
    """(Σ x^p over each window)^(1/p) of (N, C, D, H, W) input."""

    def forward(self, x):
        return F.lp_pool3d(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class MaxUnpool1d(Module):
    """The inverse of ``MaxPool1d(..., return_indices=True)``: each value back at its
    position, zeros elsewhere; ``unpool(x, indices, output_size=...)``."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _tuple(kernel_size, 1)
        self.stride = self.kernel_size if stride is None else _tuple(stride, 1)
        self.padding = _tuple(padding, 1)

    def forward(self, x, indices, output_size=None):
        return F.max_unpool1d(x, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(Module):
    """The inverse of ``MaxPool2d(..., return_indices=True)``: each value back at its
    position, zeros elsewhere; ``unpool(x, indices, output_size=...)``."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _tuple(kernel_size, 2)
        self.stride = self.kernel_size if stride is None else _tuple(stride, 2)
        self.padding = _tuple(padding, 2)

    def forward(self, x, indices, output_size=None):
        return F.max_unpool2d(x, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W) volumes (video, medical scans); the same
    arguments as Conv2d."""

    _dims = 3

    def forward(self, x):
        x, padding = self._padded(self._check_input(x))
        return F.conv3d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                        self.groups)


class ConvTranspose3d(_ConvNd):
    """Transposed 3-D convolution: weight (C_in, C_out/groups, kd, kh, kw)."""

    _dims = 3
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1,
                 padding=0, output_padding=0, groups: int = 1, bias: bool = True,
                 dilation=1, padding_mode: str = "zeros", device=None, dtype=None):
        if isinstance(padding, str):
            raise TypeError("ConvTranspose3d: padding must be an int or a triple")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, output_padding)

    def forward(self, x, output_size=None):
        if output_size is not None:
            raise NotImplementedError(f"{self._describe()}: output_size= is not supported; "
                                      "pass output_padding to the constructor")
        return F.conv_transpose3d(self._check_input(x), self.weight, self.bias, self.stride,
                                  self.padding, self.output_padding, self.groups,
                                  self.dilation)


class MaxPool3d(MaxPool2d):
    """The maximum over windows of (N, C, D, H, W) input."""

    _dims = 3

    def forward(self, x):
        return self._call(F.max_pool3d, x, self.kernel_size, self.stride, self.padding,
                          self.dilation, self.ceil_mode, self.return_indices)


class AvgPool3d(AvgPool2d):
    """The mean over windows of (N, C, D, H, W) input."""

    _dims = 3

    def forward(self, x):
        return self._call(F.avg_pool3d, x, self.kernel_size, self.stride, self.padding,
                          self.ceil_mode, self.count_include_pad, self.divisor_override)


class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    """Average pooling of (N, C, D, H, W) input to ``output_size``."""

    def forward(self, x):
        try:
            return F.adaptive_avg_pool3d(x, self.output_size)
        except ValueError as e:
            raise ValueError(f"{self._describe()}: {e}") from None


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    """Max pooling of (N, C, D, H, W) input to ``output_size``."""

    def forward(self, x):
        try:
            return F.adaptive_max_pool3d(x, self.output_size, self.return_indices)
        except ValueError as e:
            raise ValueError(f"{self._describe()}: {e}") from None
