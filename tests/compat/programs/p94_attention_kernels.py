# ruff: noqa - written as PyTorch user code is written
# Attention as people call it: F.scaled_dot_product_attention with boolean and additive
# masks, is_causal, scale=, grouped heads; nn.MultiheadAttention with padding masks,
# per-head weights, kdim/vdim; a causal encoder layer; gradients through all of it.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(94)
B, H, L, S, E = 2, 3, 5, 6, 4
q = torch.tensor(rng.standard_normal((B, H, L, E)), dtype=torch.float32, requires_grad=True)
k = torch.tensor(rng.standard_normal((B, H, S, E)), dtype=torch.float32, requires_grad=True)
v = torch.tensor(rng.standard_normal((B, H, S, E)), dtype=torch.float32, requires_grad=True)
out = {}
bool_mask = torch.tensor(rng.uniform(size=(L, S)) > 0.3)
bool_mask[:, 0] = True  # no fully masked row
add_mask = torch.tensor(rng.standard_normal((B, 1, L, S)), dtype=torch.float32)
q_sq = q[:, :, :, :]
k_sq = k[:, :, :L]
v_sq = v[:, :, :L]
att = {
    "plain": F.scaled_dot_product_attention(q, k, v),
    "bool": F.scaled_dot_product_attention(q, k, v, attn_mask=bool_mask),
    "additive": F.scaled_dot_product_attention(q, k, v, attn_mask=add_mask),
    "causal": F.scaled_dot_product_attention(q_sq, k_sq, v_sq, is_causal=True),
    "scaled": F.scaled_dot_product_attention(q, k, v, scale=0.3),
    "three_d": F.scaled_dot_product_attention(q[0], k[0], v[0], attn_mask=bool_mask),
    "gqa": F.scaled_dot_product_attention(q, k[:, :1], v[:, :1], enable_gqa=True),
}
# the same by hand, as tutorials write it
scores = q @ k.transpose(-2, -1) / math.sqrt(E)
scores = scores.masked_fill(~bool_mask, float("-inf"))
manual = torch.softmax(scores, dim=-1) @ v
out["manual_gap"] = (manual - att["bool"]).abs().max()
causal = torch.ones(L, L, dtype=torch.bool).tril()
out["causal_gap"] = (F.scaled_dot_product_attention(q_sq, k_sq, v_sq, attn_mask=causal) - att["causal"]).abs().max()

mha = nn.MultiheadAttention(embed_dim=6, num_heads=2, batch_first=True)
cross = nn.MultiheadAttention(embed_dim=6, num_heads=3, kdim=4, vdim=5)
for module in (mha, cross):
    for name, p in module.named_parameters():
        with torch.no_grad():
            p.copy_(torch.tensor(rng.uniform(-0.4, 0.4, tuple(p.shape)), dtype=torch.float32))
x = torch.tensor(rng.standard_normal((2, 5, 6)), dtype=torch.float32, requires_grad=True)
pad = torch.tensor([[False, False, False, True, True], [False, False, False, False, False]])
y, w = mha(x, x, x, key_padding_mask=pad)
y_heads, w_heads = mha(x, x, x, attn_mask=~causal, need_weights=True, average_attn_weights=False)
y_nw, w_none = mha(x, x, x, need_weights=False)
kk = torch.tensor(rng.standard_normal((7, 2, 4)), dtype=torch.float32)
vv = torch.tensor(rng.standard_normal((7, 2, 5)), dtype=torch.float32)
yc, wc = cross(x.transpose(0, 1), kk, vv)
float_mask = torch.tensor(rng.standard_normal((5, 5)), dtype=torch.float32)
yf, _ = mha(x, x, x, attn_mask=float_mask)
out["mha"] = [y, w, y_heads, w_heads, y_nw, w_none is None, yc, wc, yf]

layer = nn.TransformerEncoderLayer(d_model=6, nhead=2, dim_feedforward=8, dropout=0.0,
                                   batch_first=True, norm_first=True)
for name, p in layer.named_parameters():
    with torch.no_grad():
        p.copy_(torch.tensor(rng.uniform(-0.4, 0.4, tuple(p.shape)), dtype=torch.float32))
mask = nn.Transformer.generate_square_subsequent_mask(5)
enc = layer(x, src_mask=mask, is_causal=True)
enc_pad = layer(x, src_key_padding_mask=pad)
out["mask"], out["enc"], out["enc_pad"] = mask, enc, enc_pad
out["att"] = att
loss = sum((t * torch.linspace(-1.0, 1.0, t.numel()).reshape(t.shape)).sum() for t in att.values())
loss = loss + y.pow(2).sum() + w_heads.sum() + yc.sum() + yf.sum() + enc.pow(2).sum() + enc_pad[0, :3].sum()
loss.backward()
out["grads"] = [q.grad, k.grad, v.grad, x.grad, mha.in_proj_weight.grad, cross.k_proj_weight.grad,
                layer.linear1.weight.grad]
RESULT = out
