"""Helpers the distributions share (PyTorch's torch.distributions.utils)."""

from __future__ import annotations

import numbers

import numpy as np

from .. import _tensor
from .._tensor import Tensor, as_tensor

__all__ = ["broadcast_all", "clamp_probs", "logits_to_probs", "probs_to_logits"]


def broadcast_all(*values) -> tuple:
    """Tensors and numbers brought to one broadcast shape; numbers become tensors of the
    tensors' dtype (the default dtype when all are numbers), as PyTorch's broadcast_all."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    for v in values:
        if not isinstance(v, (Tensor, numbers.Number)):
            raise TypeError(f"broadcast_all: expected tensors or numbers, got "
                            f"{type(v).__name__}")
    dtype = tensors[0].dtype if tensors else _tensor.get_default_dtype()
    made = [v if isinstance(v, Tensor) else as_tensor(np.asarray(v, dtype=dtype))
            for v in values]
    shape = np.broadcast_shapes(*[t.shape for t in made])
    return tuple(t if t.shape == shape else t.expand(shape) for t in made)


def clamp_probs(probs: Tensor) -> Tensor:
    """Probabilities kept inside (eps, 1 - eps) of their dtype, so logs stay finite."""
    eps = float(np.finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    ps = clamp_probs(probs)
    return ps.log() - (-ps).log1p() if is_binary else ps.log()


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    return logits.sigmoid() if is_binary else logits.softmax(-1)
