# ruff: noqa - written as PyTorch user code is written
# A character-level name classifier in the style of the "NLP from scratch" tutorials:
# one-hot letter tensors, a hand-written RNN cell (i2h / h2o on torch.cat), LogSoftmax +
# NLLLoss, plain-SGD updates through p.data.add_(p.grad.data, alpha=-lr), topk to read
# the prediction, and the same model as nn.RNN with pack_sequence for a batch.
import string

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_sequence

all_letters = string.ascii_letters + " .,;'"
n_letters = len(all_letters)
categories = ["A", "B", "C"]
data = {"A": ["anna", "ada", "abba"], "B": ["bob", "bebe", "bart"], "C": ["cid", "cora", "cc"]}
rng = np.random.default_rng(49)


def letter_to_index(letter):
    return all_letters.find(letter)


def line_to_tensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][letter_to_index(letter)] = 1
    return tensor


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = torch.tanh(self.i2h(combined))
        output = self.softmax(self.h2o(hidden))
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


rnn = RNN(n_letters, 8, len(categories))
with torch.no_grad():
    for p in rnn.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.2, tuple(p.shape)).astype(np.float32)))
criterion = nn.NLLLoss()
learning_rate = 0.05


def train(category_tensor, line_tensor):
    hidden = rnn.initHidden()
    rnn.zero_grad()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    loss = criterion(output, category_tensor)
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    return output, loss.item()


losses, guesses = [], []
order = [(c, n) for c in categories for n in data[c]]
for epoch in range(3):
    for idx in rng.permutation(len(order)):
        category, line = order[idx]
        category_tensor = torch.tensor([categories.index(category)], dtype=torch.long)
        output, loss = train(category_tensor, line_to_tensor(line))
        top_n, top_i = output.topk(1)
        guesses.append(categories[top_i[0].item()])
        losses.append(loss)

# the same cell as nn.RNN over a packed batch
batch_rnn = nn.RNN(n_letters, 8, nonlinearity="tanh", bias=True)
with torch.no_grad():
    batch_rnn.weight_ih_l0.copy_(rnn.i2h.weight[:, :n_letters])
    batch_rnn.weight_hh_l0.copy_(rnn.i2h.weight[:, n_letters:])
    batch_rnn.bias_ih_l0.copy_(rnn.i2h.bias)
    batch_rnn.bias_hh_l0.zero_()
names = ["anna", "bob", "cc"]
packed = pack_sequence([line_to_tensor(n)[:, 0] for n in names], enforce_sorted=False)
_, h_n = batch_rnn(packed)
batch_out = rnn.softmax(rnn.h2o(h_n[0]))
single = []
with torch.no_grad():
    for name in names:
        hidden = rnn.initHidden()
        for letter in line_to_tensor(name):
            out, hidden = rnn(letter, hidden)
        single.append(out[0])
RESULT = {"losses": losses, "guesses": guesses, "batch_out": batch_out,
          "single": torch.stack(single), "params": [p.detach().clone() for p in rnn.parameters()]}
