"""Lazy layers: ``LazyLinear(out_features)``, ``LazyConv2d(out_channels, ...)``,
``LazyBatchNorm2d()`` ... learn their input size from the first batch. Until then their
parameters are ``UninitializedParameter``s (no shape); the first call builds them as the
ordinary layer would (same initialization), turns the module into that layer
(``LazyLinear`` becomes ``Linear``, as PyTorch's ``cls_to_become``) and runs it. The
parameter objects stay the same, so they may be handed to an optimizer after a first
(dry) run, as PyTorch recommends.

>>> import chainrule as cr
>>> layer = cr.nn.LazyLinear(3)
>>> layer.has_uninitialized_params()
True
>>> layer(cr.ones(2, 5)).shape, type(layer).__name__, layer.weight.shape
((2, 3), 'Linear', (3, 5))
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, get_default_dtype
from .layers import Linear
from .layers_conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .layers_norm import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
)
from .module import Module, Parameter

__all__ = ["LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv1d",
           "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
           "LazyConvTranspose3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
           "LazyInstanceNorm3d", "LazyLinear", "UninitializedBuffer", "UninitializedParameter"]


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (a lazy layer's before its first call);
    ``materialize`` gives it one. Reading its values before that is an error."""

    __slots__ = ()

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        super().__init__(np.zeros((0,), dtype=get_default_dtype() if dtype is None
                                  else np.dtype(dtype)), requires_grad)

    def materialize(self, array: np.ndarray) -> None:
        """Become an ordinary Parameter holding ``array``."""
        self.array = array
        self._version += 1
        self.__class__ = Parameter

    def __repr__(self) -> str:
        return "<UninitializedParameter>"


class UninitializedBuffer(Tensor):
    """A buffer whose shape is not known yet (a lazy BatchNorm's running statistics)."""

    __slots__ = ()

    def __init__(self, dtype=None):
        super().__init__(np.zeros((0,), dtype=get_default_dtype() if dtype is None
                                  else np.dtype(dtype)))

    def materialize(self, array: np.ndarray) -> None:
        self.array = array
        self._version += 1
        self.__class__ = Tensor


class _LazyMixin(Module):
    """Holds the constructor arguments; the first forward builds ``cls_to_become`` with
    the input's size, moves its arrays into the waiting parameters and buffers, takes
    its attributes and class, and runs it."""

    cls_to_become: type = Module
    _size_name = "in_features"

    def _lazy_init(self, args: tuple, kwargs: dict, params: tuple, buffers: tuple = ()):
        Module.__init__(self)
        self.__dict__["_lazy_args"] = (args, kwargs)
        for name in params:
            self.register_parameter(name, UninitializedParameter())
        for name in buffers:
            self.register_buffer(name, UninitializedBuffer())

    def has_uninitialized_params(self) -> bool:
        return any(isinstance(t, (UninitializedParameter, UninitializedBuffer))
                   for t in list(self._parameters.values()) + list(self._buffers.values()))

    def _input_size(self, x) -> int:
        raise NotImplementedError

    def initialize_parameters(self, x) -> None:
        args, kwargs = self.__dict__["_lazy_args"]
        real = self.cls_to_become(self._input_size(x), *args, **kwargs)
        for registry in ("_parameters", "_buffers"):
            own, theirs = getattr(self, registry), getattr(real, registry)
            for name, waiting in own.items():
                if isinstance(waiting, (UninitializedParameter, UninitializedBuffer)):
                    waiting.materialize(theirs[name].array)
        for key, value in real.__dict__.items():
            if not key.startswith("_") and key != "training" and key not in self._parameters \
                    and key not in self._buffers:
                object.__setattr__(self, key, value)
        del self.__dict__["_lazy_args"]
        self.__class__ = self.cls_to_become

    def forward(self, *args, **kwargs):
        if not args:
            raise TypeError(f"{type(self).__name__}: the first call needs an input to learn "
                            "its size from")
        x = args[0] if isinstance(args[0], Tensor) else Tensor(np.asarray(args[0]))
        self.initialize_parameters(x)
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        """The layer's own text with size 0, as PyTorch prints an uninitialized one."""
        args, kwargs = self.__dict__["_lazy_args"]
        # any size the layer accepts will do (a grouped convolution needs a multiple of groups)
        real = self.cls_to_become(int(kwargs.get("groups", 1)), *args, **kwargs)
        object.__setattr__(real, self._size_name, 0)
        return real.extra_repr()


class LazyLinear(_LazyMixin):
    """A Linear whose ``in_features`` is the last dimension of its first input."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None):
        self._lazy_init((out_features,), {"bias": bias, "dtype": dtype},
                        ("weight", "bias") if bias else ("weight",))
        if not bias:
            self.register_parameter("bias", None)
        self.out_features = int(out_features)
        self.in_features = 0

    def _input_size(self, x) -> int:
        return x.shape[-1]


class _LazyConv(_LazyMixin):
    _size_name = "in_channels"
    _dims = 2

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None,
                 dtype=None):
        self._lazy_init((out_channels, kernel_size),
                        {"stride": stride, "padding": padding, "dilation": dilation,
                         "groups": groups, "bias": bias, "padding_mode": padding_mode,
                         "dtype": dtype}, ("weight", "bias") if bias else ("weight",))
        if not bias:
            self.register_parameter("bias", None)
        self.out_channels = int(out_channels)
        self.in_channels = 0

    def _input_size(self, x) -> int:
        return x.shape[1] if x.ndim == self._dims + 2 else x.shape[0]


class LazyConv1d(_LazyConv):
    """A Conv1d whose ``in_channels`` comes from its first input."""

    cls_to_become = Conv1d
    _dims = 1


class LazyConv2d(_LazyConv):
    """A Conv2d whose ``in_channels`` comes from its first input."""

    cls_to_become = Conv2d


class LazyConv3d(_LazyConv):
    """A Conv3d whose ``in_channels`` comes from its first input."""

    cls_to_become = Conv3d
    _dims = 3


class _LazyConvTranspose(_LazyConv):
    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros",
                 device=None, dtype=None):
        self._lazy_init((out_channels, kernel_size),
                        {"stride": stride, "padding": padding, "output_padding": output_padding,
                         "groups": groups, "bias": bias, "dilation": dilation,
                         "padding_mode": padding_mode, "dtype": dtype},
                        ("weight", "bias") if bias else ("weight",))
        if not bias:
            self.register_parameter("bias", None)
        self.out_channels = int(out_channels)
        self.in_channels = 0


class LazyConvTranspose1d(_LazyConvTranspose):
    """A ConvTranspose1d whose ``in_channels`` comes from its first input."""

    cls_to_become = ConvTranspose1d
    _dims = 1


class LazyConvTranspose2d(_LazyConvTranspose):
    """A ConvTranspose2d whose ``in_channels`` comes from its first input."""

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTranspose):
    """A ConvTranspose3d whose ``in_channels`` comes from its first input."""

    cls_to_become = ConvTranspose3d
    _dims = 3


class _LazyBatchNorm(_LazyMixin):
    _size_name = "num_features"

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None):
        self._lazy_init((), {"eps": eps, "momentum": momentum, "affine": affine,
                             "track_running_stats": track_running_stats, "dtype": dtype},
                        ("weight", "bias") if affine else (),
                        ("running_mean", "running_var") if track_running_stats else ())
        if track_running_stats:
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        self.num_features = 0

    def _input_size(self, x) -> int:
        return x.shape[1]


class LazyBatchNorm1d(_LazyBatchNorm):
    """A BatchNorm1d whose ``num_features`` comes from its first input."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm):
    """A BatchNorm2d whose ``num_features`` comes from its first input."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyBatchNorm):
    """A BatchNorm3d whose ``num_features`` comes from its first input."""

    cls_to_become = BatchNorm3d


class _LazyInstanceNorm(_LazyBatchNorm):
    """PyTorch's lazy instance norms share the lazy batch norms' defaults (affine=True,
    track_running_stats=True), unlike InstanceNorm's own (False, False)."""

    _dims = 2

    def _input_size(self, x) -> int:
        return x.shape[1] if x.ndim == self._dims + 2 else x.shape[0]  # unbatched: (C, ...)


class LazyInstanceNorm1d(_LazyInstanceNorm):
    """An InstanceNorm1d whose ``num_features`` comes from its first input."""

    cls_to_become = InstanceNorm1d
    _dims = 1


class LazyInstanceNorm2d(_LazyInstanceNorm):
    """An InstanceNorm2d whose ``num_features`` comes from its first input."""

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm):
    """An InstanceNorm3d whose ``num_features`` comes from its first input."""

    cls_to_become = InstanceNorm3d
    _dims = 3
