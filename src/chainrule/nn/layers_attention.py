"""Attention and Transformer layers with PyTorch's arguments, parameter names
(``in_proj_weight``, ``out_proj.weight``, ``linear1``, ``norm1``, ...), initialization
and mask conventions, composed from differentiable ops (so they differentiate to any
order).

Mask conventions, as PyTorch:
* ``scaled_dot_product_attention``: a boolean ``attn_mask`` marks the pairs that TAKE
  PART (True = attend); a float mask is added to the scores.
* ``MultiheadAttention`` / Transformer layers: a boolean ``attn_mask`` or
  ``key_padding_mask`` marks the pairs to LEAVE OUT (True = masked); float masks are
  added.

>>> import chainrule as cr
>>> mha = cr.nn.MultiheadAttention(16, 4, batch_first=True)
>>> out, weights = mha(cr.randn(2, 5, 16), cr.randn(2, 7, 16), cr.randn(2, 7, 16))
>>> out.shape, weights.shape
((2, 5, 16), (2, 5, 7))
"""

from __future__ import annotations

import copy

import numpy as np

from .. import backend
from .._tensor import Tensor, as_dtype, as_tensor, get_default_dtype, is_grad_enabled
from ..ops import primitives as P
from . import functional as F
from . import init
from .arguments import _constant_like
from .attention import _check_qkv, _multi_head_attention, scaled_dot_product_attention
from .layers import Dropout, Linear, ModuleList
from .layers_norm import LayerNorm
from .module import Module, Parameter

__all__ = [
    "MultiheadAttention",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "scaled_dot_product_attention",
]


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under the name PyTorch gives MultiheadAttention's output projection (so
    ``print(model)`` reads the same); nothing else differs."""


class MultiheadAttention(Module):
    """Attention with ``num_heads`` heads of ``embed_dim // num_heads`` features each, as
    ``torch.nn.MultiheadAttention``: parameters ``in_proj_weight`` (3E, E) and
    ``in_proj_bias`` (or ``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` when
    kdim/vdim differ from embed_dim) and ``out_proj`` (a Linear); inputs (L, N, E), or
    (N, L, E) with ``batch_first``, or unbatched (L, E). Returns ``(output, weights)``;
    weights (N, L, S) averaged over the heads (``average_attn_weights``) or per head
    (N, H, L, S), or None with ``need_weights=False``."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be a positive "
                             f"multiple of num_heads ({num_heads})")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        self.kdim = embed_dim if kdim is None else int(kdim)
        self.vdim = embed_dim if vdim is None else int(vdim)
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)
        dt = get_default_dtype() if dtype is None else as_dtype(dtype)
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * e, e), dtype=dt))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = Parameter(np.empty((e, e), dtype=dt))
            self.k_proj_weight = Parameter(np.empty((e, self.kdim), dtype=dt))
            self.v_proj_weight = Parameter(np.empty((e, self.vdim), dtype=dt))
        if bias:
            self.in_proj_bias = Parameter(np.zeros(3 * e, dtype=dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(e, e, bias=bias, dtype=dt)
        if add_bias_kv:  # one learned extra key and value every query can attend to
            self.bias_k = Parameter(np.empty((1, 1, e), dtype=dt))
            self.bias_v = Parameter(np.empty((1, 1, e), dtype=dt))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = bool(add_zero_attn)
        self._reset_parameters()
        if device is not None:  # PyTorch's factory argument: made here, then moved
            self.to(device)

    def _reset_parameters(self) -> None:
        """PyTorch's: xavier_uniform on the input projections, zero biases."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _check(self, query: Tensor, key: Tensor, value: Tensor) -> bool:
        """Whether the inputs are batched; raises naming the layer on a shape mistake."""
        return _check_qkv(query, key, value, self.embed_dim, self.kdim, self.vdim,
                          self._describe())

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        query, key, value = (t if isinstance(t, Tensor) else as_tensor(t)
                             for t in (query, key, value))
        batched = self._check(query, key, value)
        same = (query is key, key is value)
        if not batched:  # (L, E) -> (1, L, E)
            query, key, value = (P.reshape(t, (1,) + t.shape) for t in (query, key, value))
        elif not self.batch_first:  # (L, N, E) -> (N, L, E)
            query, key, value = (P.transpose(t, 0, 1) for t in (query, key, value))
        if same[0] and same[1]:
            key = value = query
        elif same[1]:
            value = key
        separate = not self._qkv_same_embed_dim
        out, weights = _multi_head_attention(
            query, key, value, self.num_heads,
            None if separate else self.in_proj_weight, self.in_proj_bias,
            (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight) if separate else None,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout if self.training else 0.0,
            self.out_proj.weight, self.out_proj.bias, key_padding_mask, attn_mask,
            need_weights, average_attn_weights, is_causal, batched, self._describe())
        if not batched:
            out = P.reshape(out, out.shape[1:])
        elif not self.batch_first:
            out = P.transpose(out, 0, 1)
        if weights is not None and not batched:
            weights = P.reshape(weights, weights.shape[1:])
        return out, weights

    def _short_name(self) -> str:
        return f"MultiheadAttention {self.embed_dim}, {self.num_heads} heads"



def _activation_fn(activation):
    if callable(activation) and not isinstance(activation, str):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return lambda x: F.gelu(x)
    raise ValueError(f"activation should be relu/gelu, not {activation!r}")


def _relu_or_gelu(activation) -> int:
    if activation in ("relu", F.relu) or type(activation).__name__ == "ReLU":
        return 1
    if activation in ("gelu", F.gelu) or type(activation).__name__ == "GELU":
        return 2
    return 0


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with dropout, a residual connection
    and LayerNorm (after each block, or before it with ``norm_first``), as
    ``torch.nn.TransformerEncoderLayer``."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation_name = activation if isinstance(activation, str) else \
            getattr(activation, "__name__", "custom")
        self.activation = _activation_fn(activation)
        # PyTorch's flag (1 relu, 2 gelu, 0 other), one of its inference fast path's conditions
        self.activation_relu_or_gelu = _relu_or_gelu(activation)
        if device is not None:  # PyTorch's factory argument: made here, then moved
            self.to(device)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        x = src if isinstance(src, Tensor) else as_tensor(src)
        if self.norm_first:
            x = P.add(x, self._sa_block(self.norm1(x), src_mask, src_key_padding_mask,
                                        is_causal))
            return P.add(x, self._ff_block(self.norm2(x)))
        x = self.norm1(P.add(x, self._sa_block(x, src_mask, src_key_padding_mask, is_causal)))
        return self.norm2(P.add(x, self._ff_block(x)))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        out = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                             need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(out)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's ``memory``, then a feed-forward block,
    each with dropout, a residual connection and LayerNorm, as
    ``torch.nn.TransformerDecoderLayer``."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation_fn(activation)
        if device is not None:  # PyTorch's factory argument: made here, then moved
            self.to(device)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False):
        x = tgt if isinstance(tgt, Tensor) else as_tensor(tgt)
        mem = memory if isinstance(memory, Tensor) else as_tensor(memory)
        if self.norm_first:
            x = P.add(x, self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask,
                                        tgt_is_causal))
            x = P.add(x, self._mha_block(self.norm2(x), mem, memory_mask,
                                         memory_key_padding_mask, memory_is_causal))
            return P.add(x, self._ff_block(self.norm3(x)))
        x = self.norm1(P.add(x, self._sa_block(x, tgt_mask, tgt_key_padding_mask,
                                                tgt_is_causal)))
        x = self.norm2(P.add(x, self._mha_block(x, mem, memory_mask, memory_key_padding_mask,
                                                 memory_is_causal)))
        return self.norm3(P.add(x, self._ff_block(x)))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        out = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                             need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(out)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        out = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                  key_padding_mask=key_padding_mask, need_weights=False,
                                  is_causal=is_causal)[0]
        return self.dropout2(out)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class _Stack(Module):
    """``num_layers`` deep copies of a layer (``layers.0``, ``layers.1``, ...) and an
    optional final ``norm``, as torch.nn.TransformerEncoder/Decoder."""

    def __init__(self, layer: Module, num_layers: int, norm: Module | None = None):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"{type(self).__name__}: num_layers must be positive, got "
                             f"{num_layers}")
        self.layers = ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])
        self.num_layers = int(num_layers)
        self.norm = norm


class TransformerEncoder(_Stack):
    """A stack of ``num_layers`` copies of ``encoder_layer`` (+ an optional ``norm``)."""

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__(encoder_layer, num_layers, norm)
        self.enable_nested_tensor = bool(enable_nested_tensor)
        self.mask_check = bool(mask_check)
        # PyTorch's inference fast path (nested tensors) applies to post-norm, batch-first
        # layers with packed biased projections, relu/gelu and an even number of heads
        attn = getattr(encoder_layer, "self_attn", None)
        self.use_nested_tensor = self.enable_nested_tensor and \
            isinstance(encoder_layer, TransformerEncoderLayer) and \
            not encoder_layer.norm_first and attn.batch_first and \
            attn._qkv_same_embed_dim and attn.in_proj_bias is not None and \
            encoder_layer.activation_relu_or_gelu != 0 and \
            encoder_layer.norm1.eps == encoder_layer.norm2.eps and attn.num_heads % 2 == 0

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal: bool | None = None):
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=bool(is_causal))
        padded = self._fast_path_padding(src, mask, src_key_padding_mask)
        if padded is not None:  # PyTorch's fast path returns zeros at the padded positions
            # (chosen, not multiplied: a fully padded row's NaNs become zeros there too)
            pads = np.broadcast_to(padded[:, :, None], x.shape)
            x = P.where(_constant_like(pads, x), 0.0, x)
        return x if self.norm is None else self.norm(x)

    def _fast_path_padding(self, src, mask, key_padding_mask):
        """The padded positions (N, S) where PyTorch would take its inference fast path
        (eval, no gradient needed, a left-aligned key padding mask and no attention mask;
        its nested tensors leave zeros there), else None."""
        from .. import backends
        from ..amp import is_autocast_enabled

        first = self.layers[0]
        if not (self.use_nested_tensor and backends.mha.get_fastpath_enabled()) or \
                first.training or key_padding_mask is None or mask is not None or \
                not isinstance(src, Tensor) or src.ndim != 3 or is_autocast_enabled():
            return None
        attn = first.self_attn
        weights = (src, attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.weight,
                   attn.out_proj.bias, first.norm1.weight, first.norm1.bias,
                   first.norm2.weight, first.norm2.bias, first.linear1.weight,
                   first.linear1.bias, first.linear2.weight, first.linear2.bias)
        if is_grad_enabled() and any(t is not None and t.requires_grad for t in weights):
            return None
        arr = key_padding_mask.array if isinstance(key_padding_mask, Tensor) else \
            np.asarray(key_padding_mask)
        padded = backend.to_numpy(arr) != 0  # a float mask pads where it is not 0
        keep = ~padded
        if self.mask_check and not (keep[:, 1:] <= keep[:, :-1]).all():
            return None  # not left-aligned: PyTorch's ordinary path
        return padded


class TransformerDecoder(_Stack):
    """A stack of ``num_layers`` copies of ``decoder_layer`` (+ an optional ``norm``)."""

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False):
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                      memory_key_padding_mask, bool(tgt_is_causal), memory_is_causal)
        return x if self.norm is None else self.norm(x)


class Transformer(Module):
    """The encoder-decoder model of "Attention is all you need", as
    ``torch.nn.Transformer``: ``num_encoder_layers`` encoder layers and
    ``num_decoder_layers`` decoder layers, each stack ending in a LayerNorm; every
    weight matrix starts Xavier-uniform. ``model(src, tgt, tgt_mask=...)`` returns the
    decoder's output ((T, N, E), or (N, T, E) with ``batch_first``).

    >>> import chainrule as cr
    >>> model = cr.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1,
    ...                           num_decoder_layers=1, dim_feedforward=16, dropout=0.0)
    >>> mask = model.generate_square_subsequent_mask(4)
    >>> model(cr.randn(5, 2, 8), cr.randn(4, 2, 8), tgt_mask=mask).shape
    (4, 2, 8)
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                            activation, layer_norm_eps, batch_first,
                                            norm_first, bias, dtype=dtype)
            self.encoder = TransformerEncoder(
                layer, num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout,
                                            activation, layer_norm_eps, batch_first,
                                            norm_first, bias, dtype=dtype)
            self.decoder = TransformerDecoder(
                layer, num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        self.d_model, self.nhead, self.batch_first = int(d_model), int(nhead), batch_first
        self._reset_parameters()
        if device is not None:  # PyTorch's factory argument: made here, then moved
            self.to(device)

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False):
        src = src if isinstance(src, Tensor) else as_tensor(src)
        tgt = tgt if isinstance(tgt, Tensor) else as_tensor(tgt)
        batch_axis = 0 if self.batch_first else 1
        if src.ndim == 3 and tgt.ndim == 3 and src.shape[batch_axis] != tgt.shape[batch_axis]:
            raise ValueError(f"{self._describe()}: src and tgt must have the same batch size "
                             f"(axis {batch_axis}, batch_first={self.batch_first}), got "
                             f"{src.shape} and {tgt.shape}")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError(f"{self._describe()}: the feature size of src and tgt must be "
                             f"d_model={self.d_model}, got {src.shape} and {tgt.shape}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """(sz, sz) float mask: 0 on and below the diagonal, −inf above (a position may
        attend to itself and the ones before it)."""
        dt = get_default_dtype() if dtype is None else as_dtype(dtype)
        mask = np.triu(np.full((int(sz), int(sz)), -np.inf, dtype=dt), k=1)
        return as_tensor(mask)

    def _short_name(self) -> str:
        return f"Transformer d_model={self.d_model}, {self.nhead} heads"
