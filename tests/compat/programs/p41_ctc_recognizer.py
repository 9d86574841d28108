# ruff: noqa - written as PyTorch user code is written
# A small sequence recognizer in the shape of speech/handwriting models: a Conv1d front
# end, a bidirectional GRU over packed variable-length batches, log_softmax, CTCLoss with
# padded and concatenated targets, AdamW with gradient clipping, and greedy CTC decoding.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

BLANK, CLASSES = 0, 6
rng = np.random.default_rng(41)


class Recognizer(nn.Module):
    def __init__(self, features=4, hidden=8):
        super().__init__()
        self.front = nn.Sequential(nn.Conv1d(features, 8, 3, padding=1), nn.GELU(),
                                   nn.Conv1d(8, 8, 3, padding=1, groups=2))
        self.rnn = nn.GRU(8, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, CLASSES)

    def forward(self, x, lengths):
        h = self.front(x.transpose(1, 2)).transpose(1, 2)  # (N, T, 8)
        packed = pack_padded_sequence(h, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return self.out(out).log_softmax(dim=-1).transpose(0, 1)  # (T, N, C)


model = Recognizer()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.4, tuple(p.shape)).astype(np.float32)))
x = torch.from_numpy(rng.standard_normal((4, 12, 4)).astype(np.float32))
lengths = torch.tensor([12, 9, 11, 7])
targets = torch.tensor([[1, 2, 3, 3], [4, 5, 0, 0], [2, 2, 1, 0], [5, 0, 0, 0]])
target_lengths = torch.tensor([4, 2, 3, 1])
flat_targets = torch.cat([targets[i, :n] for i, n in enumerate(target_lengths.tolist())])
ctc = nn.CTCLoss(blank=BLANK, zero_infinity=True)
opt = torch.optim.AdamW(model.parameters(), lr=0.01)
losses, norms = [], []
for step in range(6):
    opt.zero_grad()
    log_probs = model(x, lengths)
    tgt = targets if step % 2 == 0 else flat_targets
    loss = ctc(log_probs, tgt, lengths, target_lengths)
    loss.backward()
    norms.append(nn.utils.clip_grad_norm_(model.parameters(), 5.0).item())
    opt.step()
    losses.append(loss.item())

model.eval()
with torch.no_grad():
    log_probs = model(x, lengths)
    per_sample = F.ctc_loss(log_probs, targets, lengths, target_lengths, reduction="none")
    best = log_probs.argmax(dim=-1).transpose(0, 1)  # (N, T)
decoded = []
for seq, n in zip(best.tolist(), lengths.tolist()):
    out, prev = [], BLANK
    for k in seq[:n]:
        if k != prev and k != BLANK:
            out.append(k)
        prev = k
    decoded.append(out)
RESULT = {"losses": losses, "norms": norms, "per_sample": per_sample, "decoded": decoded,
          "log_probs": log_probs, "grads": [p.grad for p in model.parameters()]}
