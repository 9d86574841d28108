# ruff: noqa - written as PyTorch user code is written
# Recurrent cells unrolled by hand as seq2seq and forecasting code does: an LSTMCell
# encoder / GRUCell decoder with teacher forcing chosen per step (the coin flips come from
# NumPy), an RNNCell with tanh and with relu, hidden states from new_zeros / zeros_like,
# truncated backpropagation through time with .detach() between chunks, an LSTM with
# proj_size (h and c of different widths), a GRU with dropout between layers in eval,
# nn.utils.rnn's unpad_sequence / unpack_sequence, and per-step losses summed.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import (pack_padded_sequence, pad_sequence, unpack_sequence,
                                unpad_sequence)

rng = np.random.default_rng(102)


def numpy_init(module, scale=0.3):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, scale, tuple(p.shape)).astype(np.float32)))


class Seq2Seq(nn.Module):
    def __init__(self, n_in=3, hidden=12, n_out=2):
        super().__init__()
        self.enc = nn.LSTMCell(n_in, hidden)
        self.dec = nn.GRUCell(n_out, hidden)
        self.bridge = nn.Linear(2 * hidden, hidden)
        self.out = nn.Linear(hidden, n_out)

    def forward(self, src, tgt, teacher_flags):
        B = src.size(0)
        h = src.new_zeros(B, self.enc.hidden_size)
        c = torch.zeros_like(h)
        for t in range(src.size(1)):
            h, c = self.enc(src[:, t], (h, c))
        s = torch.tanh(self.bridge(torch.cat([h, c], dim=1)))
        y = tgt.new_zeros(B, tgt.size(2))
        outputs = []
        for t in range(tgt.size(1)):
            s = self.dec(y, s)
            pred = self.out(s)
            outputs.append(pred)
            y = tgt[:, t] if teacher_flags[t] else pred.detach()
        return torch.stack(outputs, dim=1)


def series(n=6, t_in=5, t_out=4):
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    t = np.arange(t_in + t_out)[None, :] * 0.6 + phase
    full = np.stack([np.sin(t), np.cos(t), 0.1 * t], axis=-1).astype(np.float32)
    return torch.from_numpy(full[:, :t_in]), torch.from_numpy(full[:, t_in:, :2])


model = Seq2Seq()
numpy_init(model)
opt = torch.optim.Adam(model.parameters(), lr=0.01)
teacher_forcing_ratio = 0.5
losses, flags_seen = [], []
for step in range(8):
    src, tgt = series()
    flags = (rng.random(tgt.size(1)) < teacher_forcing_ratio).tolist()
    flags_seen.append(flags)
    opt.zero_grad()
    pred = model(src, tgt, flags)
    loss = sum(F.mse_loss(pred[:, t], tgt[:, t]) for t in range(tgt.size(1))) / tgt.size(1)
    loss.backward()
    opt.step()
    losses.append(loss.item())

# RNNCell with both nonlinearities; truncated BPTT over chunks of a long sequence
cells = {"tanh": nn.RNNCell(2, 6), "relu": nn.RNNCell(2, 6, nonlinearity="relu", bias=False)}
long_x = torch.from_numpy(rng.standard_normal((12, 3, 2)).astype(np.float32))
long_y = torch.from_numpy(rng.standard_normal((12, 3, 6)).astype(np.float32))
tbptt = {}
for name, cell in cells.items():
    numpy_init(cell, 0.4)
    cell_opt = torch.optim.SGD(cell.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    h = torch.zeros(3, 6)
    chunk_losses = []
    for start in range(0, 12, 4):
        h = h.detach()
        loss = 0.0
        for t in range(start, start + 4):
            h = cell(long_x[t], h)
            loss = loss + F.smooth_l1_loss(h, long_y[t])
        cell_opt.zero_grad()
        loss.backward()
        cell_opt.step()
        chunk_losses.append(loss.item())
    tbptt[name] = {"losses": chunk_losses, "h": h, "w_hh": cell.weight_hh}
    # a single unbatched step
    tbptt[name]["unbatched"] = cell(long_x[0, 0], h[0].detach())

# LSTM with a projection: h has proj_size features, c has hidden_size
lstm = nn.LSTM(4, 8, num_layers=2, proj_size=3, batch_first=True)
numpy_init(lstm)
x = torch.from_numpy(rng.standard_normal((2, 5, 4)).astype(np.float32)).requires_grad_()
out, (hn, cn) = lstm(x)
(out.sum() + hn.pow(2).sum() + cn.sum()).backward()
lstm_shapes = [list(out.shape), list(hn.shape), list(cn.shape),
               [list(v.shape) for k, v in lstm.state_dict().items() if "l0" in k]]

# GRU with dropout between layers: off in eval
gru = nn.GRU(3, 5, num_layers=2, dropout=0.5)
numpy_init(gru)
gru.eval()
seqs = [torch.from_numpy(rng.standard_normal((k, 3)).astype(np.float32)) for k in (4, 2, 3)]
padded = pad_sequence(seqs)
lengths = torch.tensor([4, 2, 3])
packed = pack_padded_sequence(padded, lengths, enforce_sorted=False)
with torch.no_grad():
    gru_out, gru_h = gru(packed)
pieces = unpack_sequence(gru_out)
back = unpad_sequence(padded, lengths)

RESULT = {"losses": losses, "flags": flags_seen, "tbptt": tbptt,
          "enc_grad": model.enc.weight_hh.grad, "dec_grad": model.dec.weight_ih.grad,
          "lstm_out": out, "lstm_h": hn, "lstm_c": cn, "lstm_x_grad": x.grad,
          "lstm_shapes": lstm_shapes, "w_hr_grad": lstm.weight_hr_l1.grad,
          "gru_pieces": pieces, "gru_h": gru_h,
          "unpadded_same": [bool(torch.equal(a, b)) for a, b in zip(back, seqs)]}
