"""Scaled dot-product attention as a function: softmax(Q Kᵀ / √E + mask) V, composed from
differentiable ops (so it differentiates to any order). ``nn.functional`` exposes it and
the attention layers (nn/layers_attention.py) build on it.

Mask convention, as PyTorch's ``scaled_dot_product_attention``: a boolean ``attn_mask``
marks the pairs that TAKE PART (True = attend); a float mask is added to the scores.
"""

from __future__ import annotations

import contextlib
import enum
import math

import numpy as np

from .._tensor import Tensor
from ..ops import nn_ops
from ..ops import primitives as P
from ..random import numpy_generator
from .arguments import _constant_like, _input

__all__ = ["SDPBackend", "scaled_dot_product_attention", "sdpa_kernel"]


def _float_mask(mask, dtype, op: str, masked_when: bool) -> np.ndarray | None:
    """A mask as an additive float array: boolean entries equal to ``masked_when`` become
    -inf, the others 0; float masks are used as they are."""
    if mask is None:
        return None
    arr = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    if arr.dtype == np.bool_:
        out = np.zeros(arr.shape, dtype=dtype)
        out[arr == masked_when] = -np.inf
        return out
    if arr.dtype.kind != "f":
        raise TypeError(f"{op}: a mask must be boolean or floating point, got dtype {arr.dtype}")
    return arr.astype(dtype, copy=False)


def _causal(l_q: int, l_k: int, dtype) -> np.ndarray:
    """-inf above the diagonal (position i attends to j ≤ i), as PyTorch's is_causal."""
    return np.triu(np.full((l_q, l_k), -np.inf, dtype=dtype), k=1)


def _attend(q: Tensor, k: Tensor, v: Tensor, mask: np.ndarray | None, dropout_p: float,
            scale: float, training: bool = True) -> tuple[Tensor, Tensor]:
    """softmax(q kᵀ · scale + mask) v on (..., L, E) tensors; returns (output, weights)."""
    scores = P.matmul(P.mul(q, scale), P.transpose(k, -2, -1))
    if mask is not None:
        scores = P.add(scores, _constant_like(mask, scores))
    weights = P.softmax(scores, axis=-1)
    if dropout_p > 0.0 and training:
        weights = nn_ops.dropout(weights, float(dropout_p), numpy_generator())
    return P.matmul(weights, v), weights


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q Kᵀ / √E + mask) V over the last two dimensions of (..., L, E) query and
    (..., S, E) key/value. ``attn_mask``: boolean (True = take part) or float (added),
    broadcast to (..., L, S); ``is_causal``: position i attends to j ≤ i.

    >>> import chainrule as cr
    >>> q = cr.randn(2, 3, 4, 8)
    >>> cr.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True).shape
    (2, 3, 4, 8)
    """
    op = "scaled_dot_product_attention"
    q, k, v = (_input(t) for t in (query, key, value))
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2 or q.shape[-1] != k.shape[-1] or \
            k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{op}: expected query (..., L, E), key (..., S, E) and value "
                         f"(..., S, Ev), got {q.shape}, {k.shape} and {v.shape}")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    if enable_gqa and k.ndim >= 3 and q.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        # grouped-query attention: each key/value head serves hq/hkv query heads
        hq, hkv = q.shape[-3], k.shape[-3]
        if hkv == 0 or hq % hkv or v.shape[-3] != hkv:
            raise ValueError(f"{op}: with enable_gqa the query heads ({hq}) must be a "
                             f"multiple of the key/value heads (key {hkv}, value "
                             f"{v.shape[-3]})")
        heads = (Ellipsis, np.repeat(np.arange(hkv), hq // hkv), slice(None), slice(None))
        k, v = P.getitem(k, heads), P.getitem(v, heads)
    dt = q.array.dtype
    l_q, l_k = q.shape[-2], k.shape[-2]
    mask = _float_mask(attn_mask, dt, op, masked_when=False)
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{op}: pass either attn_mask or is_causal=True, not both")
        mask = _causal(l_q, l_k, dt)
    if mask is not None:
        try:
            np.broadcast_shapes(mask.shape, q.shape[:-2] + (l_q, l_k))
        except ValueError:
            raise ValueError(f"{op}: attn_mask of shape {mask.shape} does not broadcast to "
                             f"the scores' shape {q.shape[:-2] + (l_q, l_k)}") from None
    factor = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    return _attend(q, k, v, mask, dropout_p, factor)[0]


class SDPBackend(enum.IntEnum):
    """PyTorch's ``torch.nn.attention.SDPBackend``: the kernels PyTorch can choose between.
    chainrule has one, the MATH formula above, whatever is chosen."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority: bool = False):
    """``torch.nn.attention.sdpa_kernel``: accepted (and the backends checked); attention
    here always runs the math formula, which is the MATH backend's result."""
    chosen = list(backends) if isinstance(backends, (list, tuple, set)) else [backends]
    for b in chosen:
        if not isinstance(b, SDPBackend):
            raise TypeError(f"sdpa_kernel: expected SDPBackend members, got {b!r}")
    yield
