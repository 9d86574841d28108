# ruff: noqa - written as PyTorch user code is written
# Recurrent layers with their options: two layers, bidirectional, batch_first, given
# initial states, RNN with relu, packed variable-length batches, the cells one step at a time.
import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

rng = np.random.default_rng(28)


def fill(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, 0.4, tuple(p.shape)).astype(np.float32)))


lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True)
gru = nn.GRU(3, 4, num_layers=2)
rnn = nn.RNN(3, 4, nonlinearity="relu", bias=False, bidirectional=True)
cell = nn.GRUCell(3, 4)
lcell = nn.LSTMCell(3, 4)
for m in (lstm, gru, rnn, cell, lcell):
    fill(m)

x = torch.from_numpy(rng.standard_normal((3, 6, 3)).astype(np.float32)).requires_grad_()
h0 = torch.from_numpy(rng.standard_normal((4, 3, 5)).astype(np.float32))
c0 = torch.from_numpy(rng.standard_normal((4, 3, 5)).astype(np.float32))
out, (hn, cn) = lstm(x, (h0, c0))
xt = x.transpose(0, 1)
gout, ghn = gru(xt, torch.zeros(2, 3, 4))
rout, rhn = rnn(xt)
loss = out.pow(2).sum() + hn.sum() * cn.mean() + gout.tanh().sum() + rout.mean() + rhn.sum()
loss.backward()

# variable lengths: pad, pack, run, unpack
seqs = [torch.from_numpy(rng.standard_normal((n, 3)).astype(np.float32)) for n in (5, 2, 4)]
lengths = torch.tensor([5, 2, 4])
padded = pad_sequence(seqs, batch_first=True)
packed = pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False)
p_out, (p_h, p_c) = lstm(packed)
unpacked, out_lengths = pad_packed_sequence(p_out, batch_first=True)
g_packed = pack_padded_sequence(padded.transpose(0, 1), lengths, enforce_sorted=False)
g_out, g_h = gru(g_packed)
g_unpacked, _ = pad_packed_sequence(g_out, total_length=6)
(unpacked.sum() + p_h.pow(2).sum() + g_unpacked.sum() + g_h.sum()).backward()

# cells over time
h = torch.zeros(3, 4)
hc = (torch.zeros(3, 4), torch.zeros(3, 4))
steps = []
for t in range(4):
    h = cell(x[:, t].detach(), h)
    hc = lcell(x[:, t].detach(), hc)
    steps.append(h + hc[0])

RESULT = {"out": out, "hn": hn, "cn": cn, "gout": gout, "ghn": ghn, "rout": rout, "rhn": rhn,
          "x_grad": x.grad, "lstm_grads": [p.grad for p in lstm.parameters()],
          "gru_grads": [p.grad for p in gru.parameters()],
          "rnn_grads": [p.grad for p in rnn.parameters()],
          "names": [n for n, _ in lstm.named_parameters()],
          "unpacked": unpacked, "out_lengths": out_lengths, "p_h": p_h, "p_c": p_c,
          "g_unpacked": g_unpacked, "g_h": g_h, "steps": torch.stack(steps),
          "data_shape": list(packed.data.shape), "batch_sizes": packed.batch_sizes}
