# ruff: noqa - written as PyTorch tutorials write it
# A character-level bigram model: an Embedding table as logits, cross_entropy on
# flattened (B*T, C) logits, AdamW, greedy generation with torch.cat.
import numpy as np
import torch
import torch.nn as nn
from torch.nn import functional as F

text = "hello world, hello there, the world is round and the hero is here. " * 4
chars = sorted(list(set(text)))
vocab_size = len(chars)
stoi = {ch: i for i, ch in enumerate(chars)}
itos = {i: ch for i, ch in enumerate(chars)}
encode = lambda s: [stoi[c] for c in s]  # noqa: E731
decode = lambda l: "".join([itos[i] for i in l])  # noqa: E731, E741
data = torch.tensor(encode(text), dtype=torch.long)
n = int(0.9 * len(data))
train_data, val_data = data[:n], data[n:]
block_size, batch_size = 8, 4
rng = np.random.default_rng(11)


def get_batch(split):
    d = train_data if split == "train" else val_data
    ix = torch.from_numpy(rng.integers(0, len(d) - block_size, (batch_size,)))
    x = torch.stack([d[i:i + block_size] for i in ix])
    y = torch.stack([d[i + 1:i + block_size + 1] for i in ix])
    return x, y


class BigramLanguageModel(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)

    def forward(self, idx, targets=None):
        logits = self.token_embedding_table(idx)
        if targets is None:
            loss = None
        else:
            B, T, C = logits.shape
            logits = logits.view(B * T, C)
            targets = targets.view(B * T)
            loss = F.cross_entropy(logits, targets)
        return logits, loss

    def generate(self, idx, max_new_tokens):
        for _ in range(max_new_tokens):
            logits, loss = self(idx)
            logits = logits[:, -1, :]
            probs = F.softmax(logits, dim=-1)
            idx_next = torch.argmax(probs, dim=-1, keepdim=True)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx


m = BigramLanguageModel(vocab_size)
with torch.no_grad():
    m.token_embedding_table.weight.copy_(
        torch.from_numpy(rng.standard_normal((vocab_size, vocab_size)).astype(np.float32)))
optimizer = torch.optim.AdamW(m.parameters(), lr=1e-2)
losses = []
for steps in range(60):
    xb, yb = get_batch("train")
    logits, loss = m(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

idx = torch.zeros((1, 1), dtype=torch.long)
generated = decode(m.generate(idx, max_new_tokens=20)[0].tolist())
RESULT = {"losses": losses, "generated": generated, "vocab": vocab_size}
