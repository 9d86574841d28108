# ruff: noqa - written as PyTorch user code is written
# A toy translation model in the shape of the nn.Transformer tutorials: token embeddings
# scaled by √d plus sinusoidal positions (a buffer), nn.Transformer with causal and
# padding masks, a generator head, CrossEntropyLoss(ignore_index=PAD, label_smoothing),
# Adam with a Noam LambdaLR schedule, weight decay only on matrices (two param groups),
# greedy decoding, and print(model).
import math

import numpy as np
import torch
import torch.nn as nn

PAD, BOS, EOS = 0, 1, 2
rng = np.random.default_rng(39)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=32):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return x + self.pe[: x.size(0)]


class Seq2Seq(nn.Module):
    def __init__(self, vocab=12, d_model=16):
        super().__init__()
        self.d_model = d_model
        self.src_emb = nn.Embedding(vocab, d_model, padding_idx=PAD)
        self.tgt_emb = nn.Embedding(vocab, d_model, padding_idx=PAD)
        self.pos = PositionalEncoding(d_model)
        self.transformer = nn.Transformer(d_model, nhead=4, num_encoder_layers=2,
                                          num_decoder_layers=2, dim_feedforward=32,
                                          dropout=0.0)
        self.generator = nn.Linear(d_model, vocab)

    def encode(self, src, src_pad):
        return self.transformer.encoder(self.pos(self.src_emb(src) * math.sqrt(self.d_model)),
                                        src_key_padding_mask=src_pad)

    def decode(self, tgt, memory, src_pad):
        mask = self.transformer.generate_square_subsequent_mask(tgt.size(0))
        h = self.transformer.decoder(self.pos(self.tgt_emb(tgt) * math.sqrt(self.d_model)),
                                     memory, tgt_mask=mask, memory_key_padding_mask=src_pad)
        return self.generator(h)

    def forward(self, src, tgt_in):
        src_pad = (src == PAD).transpose(0, 1)
        tgt_pad = (tgt_in == PAD).transpose(0, 1)
        mask = self.transformer.generate_square_subsequent_mask(tgt_in.size(0))
        out = self.transformer(self.pos(self.src_emb(src) * math.sqrt(self.d_model)),
                               self.pos(self.tgt_emb(tgt_in) * math.sqrt(self.d_model)),
                               tgt_mask=mask, src_key_padding_mask=src_pad,
                               tgt_key_padding_mask=tgt_pad, memory_key_padding_mask=src_pad)
        return self.generator(out)


# the task: reverse a sequence of tokens 3..11
def batch(n=6, length=5):
    src = np.full((length + 1, n), PAD)
    tgt = np.full((length + 2, n), PAD)
    for j in range(n):
        k = rng.integers(2, length + 1)
        seq = rng.integers(3, 12, k)
        src[:k, j], src[k, j] = seq, EOS
        tgt[0, j], tgt[1:k + 1, j], tgt[k + 1, j] = BOS, seq[::-1], EOS
    return torch.from_numpy(src), torch.from_numpy(tgt)


model = Seq2Seq()
with torch.no_grad():
    for name, p in model.named_parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.2, tuple(p.shape)).astype(np.float32)))
decay = [p for n, p in model.named_parameters() if p.dim() > 1]
no_decay = [p for n, p in model.named_parameters() if p.dim() <= 1]
opt = torch.optim.Adam([{"params": decay, "weight_decay": 1e-4},
                        {"params": no_decay, "weight_decay": 0.0}],
                       lr=1.0, betas=(0.9, 0.98), eps=1e-9)
warmup = 4
sched = torch.optim.lr_scheduler.LambdaLR(
    opt, lambda step: 16 ** -0.5 * min((step + 1) ** -0.5, (step + 1) * warmup ** -1.5))
criterion = nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=0.1)
losses, lrs = [], []
for step in range(8):
    src, tgt = batch()
    logits = model(src, tgt[:-1])
    loss = criterion(logits.reshape(-1, logits.shape[-1]), tgt[1:].reshape(-1))
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    sched.step()
    losses.append(loss.item())
    lrs.append(sched.get_last_lr())

model.eval()
src, _ = batch(2)
with torch.no_grad():
    src_pad = (src == PAD).transpose(0, 1)
    memory = model.encode(src, src_pad)
    ys = torch.full((1, 2), BOS, dtype=torch.long)
    step_logits = []
    for i in range(5):
        out = model.decode(ys, memory, src_pad)[-1]
        step_logits.append(out)
        ys = torch.cat([ys, out.argmax(dim=-1, keepdim=True).transpose(0, 1)], dim=0)

RESULT = {"losses": losses, "lrs": lrs, "decoded": ys, "step_logits": step_logits,
          "memory": memory, "repr": repr(model), "pe": model.pos.pe[:4, 0],
          "mask": nn.Transformer.generate_square_subsequent_mask(3),
          "grads": [p.grad for p in model.parameters()][-6:],
          "n_params": sum(p.numel() for p in model.parameters())}
