# ruff: noqa - written as PyTorch user code is written
# Attention with masks: MultiheadAttention (batch_first, key_padding_mask, boolean and
# float attn_mask, per-head weights, kdim/vdim), a causal TransformerEncoder (norm_first,
# gelu) with a padding mask, trained a few steps with AdamW.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(29)


def fill(module, scale=0.3):
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.from_numpy(rng.normal(0, scale, tuple(p.shape)).astype(np.float32)))


B, T, E = 3, 5, 8
x = torch.from_numpy(rng.standard_normal((B, T, E)).astype(np.float32))
pad = torch.tensor([[False] * 5, [False] * 3 + [True] * 2, [False] * 4 + [True]])
causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
float_mask = torch.from_numpy(rng.normal(0, 1, (T, T)).astype(np.float32))

mha = nn.MultiheadAttention(E, num_heads=2, batch_first=True, dropout=0.0)
fill(mha)
out, weights = mha(x, x, x, key_padding_mask=pad)
out_c, weights_heads = mha(x, x, x, attn_mask=causal, average_attn_weights=False)
out_f, _ = mha(x, x, x, attn_mask=float_mask, need_weights=False)
cross = nn.MultiheadAttention(E, 4, kdim=6, vdim=3, bias=False)
fill(cross)
mem_k = torch.from_numpy(rng.standard_normal((7, B, 6)).astype(np.float32))
mem_v = torch.from_numpy(rng.standard_normal((7, B, 3)).astype(np.float32))
out_x, w_x = cross(x.transpose(0, 1), mem_k, mem_v)
(out.sum() + out_c.pow(2).sum() + out_f.mean() + out_x.sum()).backward()

layer = nn.TransformerEncoderLayer(d_model=E, nhead=2, dim_feedforward=16, dropout=0.0,
                                   activation="gelu", batch_first=True, norm_first=True)
encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
head = nn.Linear(E, 1)
fill(encoder)
fill(head)
target = torch.from_numpy(rng.standard_normal((B, T, 1)).astype(np.float32))
opt = torch.optim.AdamW(list(encoder.parameters()) + list(head.parameters()), lr=0.01,
                        weight_decay=0.05)
losses = []
for step in range(5):
    opt.zero_grad()
    h = encoder(x, mask=causal, src_key_padding_mask=pad)
    keep = (~pad).unsqueeze(-1).float()
    loss = (((head(h) - target) ** 2) * keep).sum() / keep.sum()
    loss.backward()
    opt.step()
    losses.append(loss.item())

post = nn.TransformerEncoderLayer(E, 2, 16, dropout=0.0)  # post-norm, relu, (T, B, E)
fill(post)
y = post(x.transpose(0, 1), src_mask=causal)
RESULT = {"out": out, "weights": weights, "out_c": out_c, "weights_heads": weights_heads,
          "out_f": out_f, "out_x": out_x, "w_x": w_x,
          "mha_grads": [p.grad for p in mha.parameters()],
          "cross_grads": [p.grad for p in cross.parameters()],
          "names": [n for n, _ in encoder.named_parameters()], "losses": losses,
          "final": encoder(x, mask=causal, src_key_padding_mask=pad)[~pad], "post": y,
          "sdpa": nn.functional.scaled_dot_product_attention(x, x, x, is_causal=True)}
