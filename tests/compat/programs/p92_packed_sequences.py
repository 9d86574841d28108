# ruff: noqa - written as PyTorch user code is written
# Variable-length batches: pad_sequence, pack_padded_sequence (unsorted), an LSTM and a
# bidirectional GRU on packed input, pad_packed_sequence, masking by lengths, gradients.
import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import (pack_padded_sequence, pack_sequence, pad_packed_sequence,
                                pad_sequence, unpad_sequence, unpack_sequence)

rng = np.random.default_rng(92)
lengths = [5, 2, 4, 1]
seqs = [torch.tensor(rng.standard_normal((n, 3)), dtype=torch.float32, requires_grad=True)
        for n in lengths]
out = {}
padded = pad_sequence(seqs, batch_first=True)
padded_t = pad_sequence(seqs, padding_value=-1.0)
out["pad"] = [padded, padded_t, list(padded.shape), list(padded_t.shape)]
tokens = [torch.tensor([4, 2, 7]), torch.tensor([1]), torch.tensor([3, 3])]
out["pad_int"] = pad_sequence(tokens, batch_first=True, padding_value=0)
out["pad_left"] = pad_sequence(tokens, batch_first=True, padding_side="left")

lstm = nn.LSTM(3, 4, batch_first=True)
gru = nn.GRU(3, 2, num_layers=2, bidirectional=True)
for module in (lstm, gru):
    for name, p in module.named_parameters():
        with torch.no_grad():
            p.copy_(torch.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)), dtype=torch.float32))

lens = torch.tensor(lengths)
packed = pack_padded_sequence(padded, lens, batch_first=True, enforce_sorted=False)
out["packed"] = [packed.data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices]
y, (h, c) = lstm(packed)
y_pad, y_lens = pad_packed_sequence(y, batch_first=True, total_length=6)
out["lstm"] = [y_pad, y_lens, h, c]
# last valid time step per sequence, the usual gather
idx = (lens - 1).view(-1, 1, 1).expand(-1, 1, y_pad.size(2))
last = y_pad.gather(1, idx).squeeze(1)
out["last_equals_h"] = (last - h[0]).abs().max()

sorted_packed = pack_sequence(sorted(seqs, key=len, reverse=True))
gy, gh = gru(sorted_packed)
gy_pad, gy_lens = pad_packed_sequence(gy)
out["gru"] = [gy_pad, gy_lens, gh]
unsorted_packed = pack_sequence(seqs, enforce_sorted=False)
out["unpack"] = unpack_sequence(unsorted_packed)
out["unpad"] = unpad_sequence(padded, lens, batch_first=True)

mask = torch.arange(padded.size(1))[None, :] < lens[:, None]
masked_mean = (y_pad[:, :5] * mask[..., None]).sum(1) / lens[:, None]
out["mask"], out["masked_mean"] = mask, masked_mean
loss = masked_mean.pow(2).sum() + gy_pad.sum() + gh.pow(2).sum() + c.sum()
loss.backward()
out["grads"] = [s.grad for s in seqs] + [lstm.weight_hh_l0.grad, gru.weight_ih_l1_reverse.grad]
RESULT = out
