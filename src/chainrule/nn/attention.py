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

__all__ = ["SDPBackend", "multi_head_attention_forward", "scaled_dot_product_attention",
           "sdpa_kernel"]


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


def _check_qkv(query: Tensor, key: Tensor, value: Tensor, embed_dim: int, kdim: int,
               vdim: int, op: str) -> bool:
    """Whether query/key/value are batched (3-D); a ValueError naming ``op`` on a shape
    mistake."""
    batched = query.ndim == 3
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise ValueError(f"{op}: expected 3-D (batched) or 2-D (unbatched) query, key and "
                         f"value, got shapes {query.shape}, {key.shape}, {value.shape}")
    if query.shape[-1] != embed_dim or key.shape[-1] != kdim or value.shape[-1] != vdim:
        raise ValueError(f"{op}: expected feature sizes query {embed_dim}, key {kdim}, value "
                         f"{vdim}, got {query.shape[-1]}, {key.shape[-1]}, {value.shape[-1]}")
    if key.shape[:-1] != value.shape[:-1]:
        raise ValueError(f"{op}: key {key.shape} and value {value.shape} must agree in all "
                         "but the last dimension")
    return batched


def _mha_mask(attn_mask, key_padding_mask, is_causal: bool, n: int, h: int, l_q: int,
              l_k: int, dtype, batched: bool, op: str) -> np.ndarray | None:
    """attn_mask and key_padding_mask (True = left out) as one additive (N or 1, H or 1,
    L, S) array."""
    mask = _float_mask(attn_mask, dtype, op, masked_when=True)
    if mask is None and is_causal:
        mask = _causal(l_q, l_k, dtype)
    if mask is not None:
        if mask.shape == (l_q, l_k):
            mask = mask.reshape(1, 1, l_q, l_k)
        elif mask.shape == (n * h, l_q, l_k):
            mask = mask.reshape(n, h, l_q, l_k)
        else:
            raise ValueError(f"{op}: attn_mask must have shape ({l_q}, {l_k}) or "
                             f"({n * h}, {l_q}, {l_k}), got {mask.shape}")
    pad = _float_mask(key_padding_mask, dtype, op, masked_when=True)
    if pad is not None:
        want = (n, l_k) if batched else (l_k,)
        if pad.shape != want:
            raise ValueError(f"{op}: key_padding_mask must have shape {want}, got {pad.shape}")
        pad = pad.reshape(n, 1, 1, l_k)
        mask = pad if mask is None else mask + pad
    return mask


def _multi_head_attention(query: Tensor, key: Tensor, value: Tensor, num_heads: int,
                          in_proj_weight, in_proj_bias, separate_weights, bias_k, bias_v,
                          add_zero_attn: bool, dropout_p: float, out_proj_weight,
                          out_proj_bias, key_padding_mask, attn_mask, need_weights: bool,
                          average_attn_weights: bool, is_causal: bool, batched: bool,
                          op: str) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention on batch-first (N, L, E) query and (N, S, ·) key/value (the
    layer and ``multi_head_attention_forward`` bring theirs to this layout): one packed
    (3E, E) ``in_proj_weight``, or ``separate_weights`` = (q, k, v) projections; then
    ``bias_k``/``bias_v`` and a zero key/value appended, the masks, softmax attention and
    the output projection. Returns (N, L, E) and the weights (N, H, L, S) or averaged
    over the heads, or None without ``need_weights``."""
    n, l_q, e = query.shape
    l_k = key.shape[1]
    h = num_heads
    d = e // h
    b = in_proj_bias
    bq, bk, bv = (None, None, None) if b is None else \
        (P.getitem(b, slice(0, e)), P.getitem(b, slice(e, 2 * e)),
         P.getitem(b, slice(2 * e, 3 * e)))
    if separate_weights is not None:
        wq, wk, wv = separate_weights
        q, k, v = nn_ops.linear(query, wq, bq), nn_ops.linear(key, wk, bk), \
            nn_ops.linear(value, wv, bv)
    elif query is key and key is value:  # self-attention: one product, then split
        qkv = nn_ops.linear(query, in_proj_weight, b)
        q, k, v = (P.getitem(qkv, (Ellipsis, slice(i * e, (i + 1) * e))) for i in range(3))
    else:
        wq, wk, wv = (P.getitem(in_proj_weight, slice(i * e, (i + 1) * e)) for i in range(3))
        q, k, v = nn_ops.linear(query, wq, bq), nn_ops.linear(key, wk, bk), \
            nn_ops.linear(value, wv, bv)
    if bias_k is not None:  # one learned key/value at the end of the sequence
        k = P.concatenate([k, P.broadcast_to(P.reshape(bias_k, (1, 1, e)), (n, 1, e))], axis=1)
        v = P.concatenate([v, P.broadcast_to(P.reshape(bias_v, (1, 1, e)), (n, 1, e))], axis=1)
    q, k, v = (P.transpose(P.reshape(t, (n, t.shape[1], h, d)), 1, 2) for t in (q, k, v))
    if add_zero_attn:  # and a zero one
        zeros = _constant_like(np.zeros((n, h, 1, d), dtype=k.array.dtype), k)
        k, v = P.concatenate([k, zeros], axis=2), P.concatenate([v, zeros], axis=2)
    mask = _mha_mask(attn_mask, key_padding_mask, is_causal, n, h, l_q, l_k,
                     query.array.dtype, batched, op)
    extra = k.shape[2] - l_k
    if mask is not None and extra:  # the added keys are never masked
        mask = np.concatenate([mask, np.zeros(mask.shape[:-1] + (extra,), mask.dtype)],
                              axis=-1)
    out, weights = _attend(q, k, v, mask, dropout_p, 1.0 / math.sqrt(d))
    out = nn_ops.linear(P.reshape(P.transpose(out, 1, 2), (n, l_q, e)), out_proj_weight,
                        out_proj_bias)
    if not need_weights:
        return out, None
    return out, (P.mean(weights, axis=1) if average_attn_weights else weights)


def multi_head_attention_forward(
        query, key, value, embed_dim_to_check: int, num_heads: int, in_proj_weight,
        in_proj_bias, bias_k, bias_v, add_zero_attn: bool, dropout_p: float, out_proj_weight,
        out_proj_bias, training: bool = True, key_padding_mask=None, need_weights: bool = True,
        attn_mask=None, use_separate_proj_weight: bool = False, q_proj_weight=None,
        k_proj_weight=None, v_proj_weight=None, static_k=None, static_v=None,
        average_attn_weights: bool = True, is_causal: bool = False):
    """``torch.nn.functional.multi_head_attention_forward``: ``nn.MultiheadAttention``'s
    computation with the weights passed in (as CLIP's attention pooling calls it).

    Sequence-first inputs: query (L, N, E), key/value (S, N, ·), or unbatched (L, E).
    Returns ``(output (L, N, E), weights)`` with weights (N, L, S) averaged over the heads,
    (N, H, L, S) per head, or None with ``need_weights=False``.
    """
    op = "multi_head_attention_forward"
    query, key, value = (_input(t) for t in (query, key, value))
    if static_k is not None or static_v is not None:
        raise NotImplementedError(f"{op}: static_k / static_v (precomputed keys and values) "
                                  "are not supported by chainrule; pass key and value")
    e = query.shape[-1] if query.ndim else 0
    if e != embed_dim_to_check:
        raise ValueError(f"{op}: query has {e} features, but embed_dim_to_check is "
                         f"{embed_dim_to_check}")
    if num_heads <= 0 or e % num_heads:
        raise ValueError(f"{op}: embed_dim ({e}) must be a positive multiple of num_heads "
                         f"({num_heads})")
    if use_separate_proj_weight:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ValueError(f"{op}: use_separate_proj_weight=True needs q_proj_weight, "
                             "k_proj_weight and v_proj_weight")
        separate = tuple(_input(w) for w in (q_proj_weight, k_proj_weight, v_proj_weight))
        kdim, vdim = separate[1].shape[-1], separate[2].shape[-1]
        in_proj_weight = None
    else:
        if in_proj_weight is None:
            raise ValueError(f"{op}: in_proj_weight is None; pass the packed (3E, E) weight "
                             "or use_separate_proj_weight=True with q/k/v_proj_weight")
        in_proj_weight = _input(in_proj_weight)
        if in_proj_weight.shape != (3 * e, e):
            raise ValueError(f"{op}: in_proj_weight must have shape ({3 * e}, {e}), got "
                             f"{in_proj_weight.shape}")
        separate, kdim, vdim = None, e, e
    if (bias_k is None) != (bias_v is None):
        raise ValueError(f"{op}: bias_k and bias_v go together; got only one of them")
    batched = _check_qkv(query, key, value, e, kdim, vdim, op)
    same = (query is key, key is value)
    if batched:  # (L, N, E) -> (N, L, E)
        query, key, value = (P.transpose(t, 0, 1) for t in (query, key, value))
    else:
        query, key, value = (P.reshape(t, (1,) + t.shape) for t in (query, key, value))
    if same[0] and same[1]:
        key = value = query
    elif same[1]:
        value = key
    in_proj_bias, bias_k, bias_v, out_proj_bias = (
        None if t is None else _input(t) for t in (in_proj_bias, bias_k, bias_v, out_proj_bias))
    out, weights = _multi_head_attention(
        query, key, value, int(num_heads), in_proj_weight, in_proj_bias, separate, bias_k,
        bias_v, bool(add_zero_attn), float(dropout_p) if training else 0.0,
        _input(out_proj_weight), out_proj_bias, key_padding_mask, attn_mask, need_weights,
        average_attn_weights, is_causal, batched, op)
    if batched:
        out = P.transpose(out, 0, 1)
    else:
        out = P.reshape(out, out.shape[1:])
        if weights is not None:
            weights = P.reshape(weights, weights.shape[1:])
    return out, weights


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
