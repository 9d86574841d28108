# ruff: noqa - written as PyTorch user code is written
# A captioning-style decoder as small research repos write it: image patches projected to
# a "memory", nn.TransformerDecoder over pre-norm TransformerDecoderLayers (batch_first,
# activation given as a callable, bias=False, a final LayerNorm), a causal tgt_mask from
# nn.Transformer.generate_square_subsequent_mask with tgt_is_causal=True, boolean
# tgt/memory key-padding masks, a boolean memory_mask; a post-norm layer with relu and
# layer_norm_eps; MultiheadAttention with add_bias_kv / add_zero_attn and its in_proj
# weights read back; trained with AdamW + warmup LambdaLR; then greedy decoding in eval
# (dropout on in the layers, off in eval); and CLIP's AttentionPool2d, which calls
# F.multi_head_attention_forward with separate q/k/v projection weights, trained a few steps;
# a TransformerEncoder evaluated under no_grad with a padding mask (zeros at the pads).
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PAD, BOS, EOS, VOCAB, D = 0, 1, 2, 10, 16
rng = np.random.default_rng(101)


class Captioner(nn.Module):
    def __init__(self, dropout=0.0):
        super().__init__()
        self.patch_proj = nn.Linear(12, D)
        self.embed = nn.Embedding(VOCAB, D, padding_idx=PAD)
        self.pos = nn.Parameter(torch.zeros(1, 8, D))
        layer = nn.TransformerDecoderLayer(D, nhead=4, dim_feedforward=32, dropout=dropout,
                                           activation=F.gelu, batch_first=True,
                                           norm_first=True, bias=False)
        self.decoder = nn.TransformerDecoder(layer, num_layers=2, norm=nn.LayerNorm(D))
        self.head = nn.Linear(D, VOCAB)

    def forward(self, patches, tokens, patch_pad=None, token_pad=None):
        memory = self.patch_proj(patches)
        T = tokens.size(1)
        x = self.embed(tokens) * math.sqrt(D) + self.pos[:, :T]
        causal = nn.Transformer.generate_square_subsequent_mask(T)
        h = self.decoder(x, memory, tgt_mask=causal, tgt_key_padding_mask=token_pad,
                         memory_key_padding_mask=patch_pad, tgt_is_causal=True)
        return self.head(h)


def numpy_init(model, scale=0.2):
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.from_numpy(rng.normal(0, scale, tuple(p.shape)).astype(np.float32)))


def make_batch(n=4):
    patches = torch.from_numpy(rng.standard_normal((n, 5, 12)).astype(np.float32))
    n_patches = rng.integers(3, 6, n)
    patch_pad = torch.arange(5)[None, :] >= torch.from_numpy(n_patches)[:, None]
    tokens = np.full((n, 7), PAD)
    for j in range(n):
        k = rng.integers(2, 6)
        tokens[j, 0], tokens[j, 1:k + 1], tokens[j, k + 1] = BOS, rng.integers(3, VOCAB, k), EOS
    tokens = torch.from_numpy(tokens)
    return patches, patch_pad, tokens


model = Captioner(dropout=0.0)
numpy_init(model)
decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "pos" not in n]
rest = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "pos" not in n)]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                         {"params": rest, "weight_decay": 0.0, "lr": 2e-3}], lr=5e-3)
sched = torch.optim.lr_scheduler.LambdaLR(opt, [lambda s: min(1.0, (s + 1) / 3),
                                                lambda s: 0.9 ** s])
criterion = nn.CrossEntropyLoss(ignore_index=PAD)
losses, lrs = [], []
for step in range(6):
    patches, patch_pad, tokens = make_batch()
    inp, target = tokens[:, :-1], tokens[:, 1:]
    logits = model(patches, inp, patch_pad, inp == PAD)
    loss = criterion(logits.reshape(-1, VOCAB), target.reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    opt.step()
    sched.step()
    losses.append(loss.item())
    lrs.append(sched.get_last_lr())

# greedy decoding
model.eval()
patches, patch_pad, _ = make_batch(2)
with torch.no_grad():
    ys = torch.full((2, 1), BOS, dtype=torch.long)
    for _ in range(5):
        nxt = model(patches, ys, patch_pad)[:, -1].argmax(-1, keepdim=True)
        ys = torch.cat([ys, nxt], dim=1)

# a post-norm layer on its own, boolean masks, memory_mask
post = nn.TransformerDecoderLayer(D, 2, dim_feedforward=24, dropout=0.0, activation="relu",
                                  layer_norm_eps=1e-6)
numpy_init(post)
tgt = torch.from_numpy(rng.standard_normal((4, 3, D)).astype(np.float32)).requires_grad_()
mem = torch.from_numpy(rng.standard_normal((6, 3, D)).astype(np.float32))
bool_causal = torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1)
memory_mask = torch.zeros(4, 6, dtype=torch.bool)
memory_mask[:, -1] = True
out_post = post(tgt, mem, tgt_mask=bool_causal, memory_mask=memory_mask,
                memory_key_padding_mask=torch.tensor([[False] * 6, [False] * 5 + [True],
                                                      [False] * 4 + [True] * 2]))
out_post.pow(2).mean().backward()

# attention with a learned bias key/value and a zero attention slot
mha = nn.MultiheadAttention(D, 4, add_bias_kv=True, add_zero_attn=True, batch_first=True)
numpy_init(mha)
q = torch.from_numpy(rng.standard_normal((2, 3, D)).astype(np.float32))
kv = torch.from_numpy(rng.standard_normal((2, 5, D)).astype(np.float32))
attn_out, attn_w = mha(q, kv, kv, key_padding_mask=torch.tensor([[False] * 5,
                                                                 [False] * 3 + [True] * 2]))
attn_out.sum().backward()

# dropout in the layers: off in eval, so two eval passes agree exactly
dropped = Captioner(dropout=0.3)
dropped.load_state_dict(model.state_dict())
dropped.eval()
with torch.no_grad():
    e1 = dropped(patches, ys[:, :4], patch_pad)
    e2 = model(patches, ys[:, :4], patch_pad)



class AttentionPool2d(nn.Module):
    def __init__(self, spacial_dim, embed_dim, num_heads, output_dim=None):
        super().__init__()
        self.positional_embedding = nn.Parameter(
            torch.randn(spacial_dim ** 2 + 1, embed_dim) / embed_dim ** 0.5)
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.c_proj = nn.Linear(embed_dim, output_dim or embed_dim)
        self.num_heads = num_heads

    def forward(self, x):
        x = x.flatten(start_dim=2).permute(2, 0, 1)  # NCHW -> (HW)NC
        x = torch.cat([x.mean(dim=0, keepdim=True), x], dim=0)  # (HW+1)NC
        x = x + self.positional_embedding[:, None, :].to(x.dtype)
        x, _ = F.multi_head_attention_forward(
            query=x[:1], key=x, value=x,
            embed_dim_to_check=x.shape[-1],
            num_heads=self.num_heads,
            q_proj_weight=self.q_proj.weight,
            k_proj_weight=self.k_proj.weight,
            v_proj_weight=self.v_proj.weight,
            in_proj_weight=None,
            in_proj_bias=torch.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias]),
            bias_k=None,
            bias_v=None,
            add_zero_attn=False,
            dropout_p=0,
            out_proj_weight=self.c_proj.weight,
            out_proj_bias=self.c_proj.bias,
            use_separate_proj_weight=True,
            training=self.training,
            need_weights=False
        )
        return x.squeeze(0)


clip_like = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
                          AttentionPool2d(3, 8, 2, output_dim=5))
numpy_init(clip_like)
clip_opt = torch.optim.Adam(clip_like.parameters(), lr=0.01)
images = torch.from_numpy(rng.standard_normal((4, 3, 6, 6)).astype(np.float32))
classes = torch.from_numpy(rng.integers(0, 5, 4))
clip_losses = []
for _ in range(4):
    clip_loss = F.cross_entropy(clip_like(images), classes)
    clip_opt.zero_grad()
    clip_loss.backward()
    clip_opt.step()
    clip_losses.append(clip_loss.item())

# a batch-first encoder evaluated with a padding mask under no_grad: PyTorch's inference
# fast path leaves zeros at the padded positions, which a plain mean over the sequence sees
enc_layer = nn.TransformerEncoderLayer(D, 4, 32, dropout=0.1, batch_first=True)
encoder = nn.TransformerEncoder(enc_layer, 2)
numpy_init(encoder)
encoder.eval()
tokens_in = torch.from_numpy(rng.standard_normal((3, 6, D)).astype(np.float32))
pad_mask = torch.arange(6)[None, :] >= torch.tensor([[6], [4], [2]])
with torch.no_grad():
    encoded = encoder(tokens_in, src_key_padding_mask=pad_mask)
pooled = encoded.mean(dim=1)

RESULT = {"encoded": encoded, "pooled": pooled, "clip_losses": clip_losses, "clip_pos_grad": clip_like[3].positional_embedding.grad,
          "clip_q_grad": clip_like[3].q_proj.weight.grad,"losses": losses, "lrs": lrs, "decoded": ys, "eval_same": bool(torch.equal(e1, e2)),
          "eval": e1,
          "grads": [p.grad for p in model.decoder.layers[0].parameters()][:4],
          "post": out_post, "post_grad": tgt.grad,
          "post_keys": list(post.state_dict().keys()),
          "mha": attn_out, "mha_w": attn_w, "bias_k_grad": mha.bias_k.grad,
          "in_proj_grad": mha.in_proj_weight.grad,
          "mha_shapes": [list(mha.in_proj_weight.shape), list(mha.bias_k.shape),
                         list(mha.out_proj.weight.shape)],
          "decoder_keys": [k for k in model.state_dict() if k.startswith("decoder.layers.0")],
          "n_params": sum(p.numel() for p in model.parameters())}
