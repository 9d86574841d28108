"""Normalization, embedding and channel-dropout layers with PyTorch's arguments,
parameter and buffer names (``weight``, ``bias``, ``running_mean``, ``running_var``,
``num_batches_tracked``) and initialization.

>>> import chainrule as cr
>>> bn = cr.nn.BatchNorm2d(8)
>>> [k for k in bn.state_dict()]
['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
>>> bn(cr.randn(4, 8, 5, 5)).shape
(4, 8, 5, 5)
"""

from __future__ import annotations

import warnings

import numpy as np

from .._tensor import Tensor, as_dtype, as_tensor, get_default_dtype
from . import functional as F
from . import init
from .module import Module, Parameter

__all__ = [
    "AlphaDropout",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "Embedding",
    "EmbeddingBag",
    "FeatureAlphaDropout",
    "GroupNorm",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LayerNorm",
    "LocalResponseNorm",
    "RMSNorm",
]


def _dtype(dtype) -> np.dtype:
    return get_default_dtype() if dtype is None else as_dtype(dtype)


class _BatchNorm(Module):
    _ndims: tuple = (2, 3)
    _layout = "(N, C) or (N, C, L)"
    _version = 2  # PyTorch's: version 1 checkpoints had no num_batches_tracked

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        if int(num_features) <= 0:
            raise ValueError(f"{type(self).__name__}: num_features must be positive, got "
                             f"{num_features}")
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        dt = _dtype(dtype)
        c = self.num_features
        if self.affine:
            self.weight = Parameter(np.ones(c, dtype=dt))
            self.bias = Parameter(np.zeros(c, dtype=dt)) if bias else None
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(c, dtype=dt)))
            self.register_buffer("running_var", Tensor(np.ones(c, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        if device is not None:  # PyTorch's factory argument: made here, then moved
            self.to(device)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array = np.asarray(0, dtype=np.int64)
            for t in (self.running_mean, self.running_var, self.num_batches_tracked):
                t._version += 1

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, x):
        x = x if isinstance(x, Tensor) else as_tensor(x)
        if x.ndim not in self._ndims or x.shape[1] != self.num_features:
            raise ValueError(f"{self._describe()}: expected input of shape "
                             f"{self._layout.replace('C', str(self.num_features))}, got "
                             f"{x.shape}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            nbt = self.num_batches_tracked
            nbt.array = np.asarray(nbt.array + 1, dtype=np.int64)  # a 0-d value: replace it
            nbt._version += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(nbt.array)
        use_batch = self.training or not self.track_running_stats
        stats = not self.training or self.track_running_stats
        try:
            return F.batch_norm(x, self.running_mean if stats else None,
                                self.running_var if stats else None, self.weight, self.bias,
                                use_batch, factor, self.eps)
        except ValueError as e:
            raise ValueError(f"{self._describe()}: {e}") from None

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs) -> None:
        # a checkpoint from before num_batches_tracked existed (version 1, or without
        # metadata) keeps the current count, as PyTorch does, instead of a missing key
        version = local_metadata.get("version")
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats \
                and key not in state_dict:
            state_dict[key] = self.num_batches_tracked.detach().clone()
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)

    def _short_name(self) -> str:
        return f"{type(self).__name__} {self.num_features}"

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) input, per feature C: in training the
    batch statistics (and the running ones move toward them), in eval the running
    statistics."""


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) images, per channel."""

    _ndims = (4,)
    _layout = "(N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalization of (N, C, D, H, W) volumes, per channel."""

    _ndims = (5,)
    _layout = "(N, C, D, H, W)"


class LocalResponseNorm(Module):
    """x / (k + α·mean of x² over ``size`` neighbouring channels)^β (AlexNet)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = int(size), float(alpha), float(beta), \
            float(k)

    def forward(self, x):
        try:
            return F.local_response_norm(x, self.size, self.alpha, self.beta, self.k)
        except ValueError as e:
            raise ValueError(f"{self._describe()}: {e}") from None

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class _InstanceNorm(_BatchNorm):
    """Per-sample, per-channel normalization over the spatial positions; PyTorch's
    defaults: no affine parameters, no running statistics."""

    _spatial = 1

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, x):
        x = x if isinstance(x, Tensor) else as_tensor(x)
        n = self._spatial
        if x.ndim not in (n + 1, n + 2):
            raise ValueError(f"{self._describe()}: expected a {n + 2}-D (N, C, ...) or "
                             f"{n + 1}-D (C, ...) input, got shape {x.shape}")
        unbatched = x.ndim == n + 1
        if unbatched:
            x = x.unsqueeze(0)
        if x.shape[1] != self.num_features:
            message = (f"{self._describe()}: expected {self.num_features} channels, got "
                       f"input of shape {x.shape}")
            if self.affine:
                raise ValueError(message)
            warnings.warn(message, stacklevel=2)
        use_input_stats = self.training or not self.track_running_stats
        try:
            y = F.instance_norm(x, self.running_mean, self.running_var, self.weight,
                                self.bias, use_input_stats,
                                0.0 if self.momentum is None else self.momentum, self.eps)
        except ValueError as e:
            raise ValueError(f"{self._describe()}: {e}") from None
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Normalize each channel of each (C, L) sample over its length."""


class InstanceNorm2d(_InstanceNorm):
    """Normalize each channel of each (C, H, W) sample over its positions."""

    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Normalize each channel of each (C, D, H, W) sample over its positions."""

    _spatial = 3


class RMSNorm(Module):
    """x / √(mean(x²) + eps) over the trailing ``normalized_shape`` dimensions, times a
    learned ``weight`` (ones); ``eps`` None means the dtype's machine epsilon."""

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=None):
        super().__init__()
        shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(int(s) for s in normalized_shape)
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(shape, dtype=_dtype(dtype)))
        else:
            self.register_parameter("weight", None)
        if device is not None:  # PyTorch's factory argument: made here, then moved
            self.to(device)

    def forward(self, x):
        try:
            return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)
        except ValueError as e:
            raise ValueError(f"{self._describe()}: {e}") from None

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class LayerNorm(Module):
    """Normalize over the trailing ``normalized_shape`` dimensions of each sample, with a
    learned elementwise scale (``weight``, ones) and shift (``bias``, zeros)."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(int(s) for s in normalized_shape)
        self.normalized_shape = shape
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        dt = _dtype(dtype)
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(shape, dtype=dt))
            self.bias = Parameter(np.zeros(shape, dtype=dt)) if bias else None
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if device is not None:  # PyTorch's factory argument: made here, then moved
            self.to(device)

    def forward(self, x):
        try:
            return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        except ValueError as e:
            raise ValueError(f"{self._describe()}: {e}") from None

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalize each of ``num_groups`` groups of channels per sample, then scale and
    shift per channel."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps = float(eps)
        self.affine = bool(affine)
        dt = _dtype(dtype)
        if self.affine:
            self.weight = Parameter(np.ones(num_channels, dtype=dt))
            self.bias = Parameter(np.zeros(num_channels, dtype=dt)) if bias else None
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if device is not None:  # PyTorch's factory argument: made here, then moved
            self.to(device)

    def forward(self, x):
        try:
            return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)
        except ValueError as e:
            raise ValueError(f"{self._describe()}: {e}") from None

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class Embedding(Module):
    """A lookup table: ``Embedding(num_embeddings, embedding_dim)`` maps integer indices to
    rows of ``weight`` (initialized N(0, 1), as PyTorch; the ``padding_idx`` row starts
    at zero and gets no gradient).

    >>> import chainrule as cr
    >>> emb = cr.nn.Embedding(10, 3, padding_idx=0)
    >>> emb(cr.tensor([[1, 2, 0]])).shape
    (1, 3, 3)
    >>> emb.weight[0].tolist()
    [0.0, 0.0, 0.0]
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False, _weight=None,
                 _freeze: bool = False, device=None, dtype=None):
        super().__init__()
        n, d = int(num_embeddings), int(embedding_dim)
        if n <= 0 or d <= 0:
            raise ValueError(f"Embedding: num_embeddings and embedding_dim must be positive, "
                             f"got {num_embeddings} and {embedding_dim}")
        if padding_idx is not None:
            if not -n <= padding_idx < n:
                raise ValueError(f"Embedding: padding_idx must be within num_embeddings "
                                 f"[-{n}, {n}), got {padding_idx}")
            padding_idx = int(padding_idx) % n
        self.num_embeddings, self.embedding_dim = n, d
        self.padding_idx = padding_idx
        self.max_norm, self.norm_type = max_norm, float(norm_type)
        self.scale_grad_by_freq, self.sparse = bool(scale_grad_by_freq), bool(sparse)
        if _weight is None:
            self.weight = Parameter(np.empty((n, d), dtype=_dtype(dtype)),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            w = _weight.array if isinstance(_weight, Tensor) else np.asarray(_weight)
            if w.shape != (n, d):
                raise ValueError(f"Embedding: _weight must have shape {(n, d)}, got {w.shape}")
            self.weight = Parameter(np.array(w, dtype=_dtype(dtype) if dtype else None),
                                    requires_grad=not _freeze)
        if device is not None:  # PyTorch's factory argument: made here, then moved
            self.to(device)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, sparse: bool = False) -> Embedding:
        """An Embedding holding ``embeddings`` (2-D); ``freeze`` keeps them fixed."""
        w = embeddings.array if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if w.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: expected a 2-D array, got shape "
                             f"{w.shape}")
        return cls(w.shape[0], w.shape[1], padding_idx, max_norm, norm_type,
                   scale_grad_by_freq, sparse, _weight=w, _freeze=freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0
            self.weight._version += 1

    def forward(self, input):
        try:
            return F.embedding(input, self.weight, self.padding_idx, self.max_norm,
                               self.norm_type, self.scale_grad_by_freq)
        except (ValueError, IndexError, TypeError) as e:
            raise type(e)(f"{self._describe()}: {e}") from None

    def _short_name(self) -> str:
        return f"Embedding {self.num_embeddings}×{self.embedding_dim}"

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        return s


class EmbeddingBag(Module):
    """Sum, mean or max of the embeddings of each bag of indices: ``bag(input)`` with
    a 2-D input (one bag per row) or ``bag(input, offsets)`` with a 1-D input (bags
    start at the offsets). ``weight`` ~ N(0, 1) as PyTorch.

    >>> import chainrule as cr
    >>> bag = cr.nn.EmbeddingBag(10, 3, mode="sum")
    >>> bag(cr.tensor([1, 2, 4, 5, 4]), cr.tensor([0, 2])).shape
    (2, 3)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight=None, include_last_offset: bool = False,
                 padding_idx: int | None = None, device=None, dtype=None):
        super().__init__()
        n, d = int(num_embeddings), int(embedding_dim)
        if n <= 0 or d <= 0:
            raise ValueError(f"EmbeddingBag: num_embeddings and embedding_dim must be "
                             f"positive, got {num_embeddings} and {embedding_dim}")
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', got "
                             f"{mode!r}")
        if padding_idx is not None:
            if not -n <= padding_idx < n:
                raise ValueError(f"EmbeddingBag: padding_idx must be within num_embeddings "
                                 f"[-{n}, {n}), got {padding_idx}")
            padding_idx = int(padding_idx) % n
        self.num_embeddings, self.embedding_dim = n, d
        self.max_norm, self.norm_type = max_norm, float(norm_type)
        self.scale_grad_by_freq, self.sparse = bool(scale_grad_by_freq), bool(sparse)
        self.mode, self.include_last_offset = mode, bool(include_last_offset)
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(np.empty((n, d), dtype=_dtype(dtype)))
            self.reset_parameters()
        else:
            w = _weight.array if isinstance(_weight, Tensor) else np.asarray(_weight)
            if w.shape != (n, d):
                raise ValueError(f"EmbeddingBag: _weight must have shape {(n, d)}, got "
                                 f"{w.shape}")
            self.weight = Parameter(np.array(w, dtype=_dtype(dtype) if dtype else None))
        if device is not None:  # PyTorch's factory argument: made here, then moved
            self.to(device)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        mode: str = "mean", sparse: bool = False,
                        include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An EmbeddingBag holding ``embeddings`` (2-D); ``freeze`` keeps them fixed."""
        w = embeddings.array if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if w.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: expected a 2-D array, got "
                             f"shape {w.shape}")
        bag = cls(w.shape[0], w.shape[1], max_norm, norm_type, scale_grad_by_freq, mode,
                  sparse, w, include_last_offset, padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0
            self.weight._version += 1

    def forward(self, input, offsets=None, per_sample_weights=None):
        try:
            return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                                   self.scale_grad_by_freq, self.mode, self.sparse,
                                   per_sample_weights, self.include_last_offset,
                                   self.padding_idx)
        except (ValueError, IndexError, TypeError) as e:
            raise type(e)(f"{self._describe()}: {e}") from None

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s


class _ChannelDropout(Module):
    _fn = staticmethod(F.dropout2d)

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: probability p must be in [0, 1], got {p}")
        self.p = float(p)

    def forward(self, x):
        try:
            return type(self)._fn(x, self.p, self.training)
        except ValueError as e:
            raise ValueError(f"{self._describe()}: {e}") from None

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace=False"


class Dropout1d(_ChannelDropout):
    """While training, zero whole channels of (N, C, L) input with probability p (and
    scale the rest by 1/(1-p)); the identity in eval mode."""

    _fn = staticmethod(F.dropout1d)


class Dropout2d(_ChannelDropout):
    """While training, zero whole feature maps of (N, C, H, W) input with probability p
    (and scale the rest by 1/(1-p)); the identity in eval mode."""


class Dropout3d(_ChannelDropout):
    """While training, zero whole channels of (N, C, D, H, W) input with probability p
    (and scale the rest by 1/(1-p)); the identity in eval mode."""

    _fn = staticmethod(F.dropout3d)


class AlphaDropout(_ChannelDropout):
    """Dropout that keeps SELU's mean and variance (see ``F.alpha_dropout``); the
    identity in eval mode."""

    _fn = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(_ChannelDropout):
    """``AlphaDropout`` of whole channels."""

    _fn = staticmethod(F.feature_alpha_dropout)
