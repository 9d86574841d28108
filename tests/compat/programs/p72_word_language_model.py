# ruff: noqa - written as PyTorch user code is written
# A word-level language model in the shape of pytorch/examples' word_language_model:
# a Corpus/Dictionary over a tiny text, batchify into columns, get_batch with bptt,
# RNNModel (Embedding -> Dropout -> LSTM -> Linear) with the decoder weight tied to the
# encoder's, init_hidden via next(self.parameters()).new_zeros, repackage_hidden,
# clip_grad_norm_, the manual SGD step p.data.add_(p.grad, alpha=-lr), evaluation in
# eval() under no_grad, perplexity with math.exp, lr annealing, and torch.save of the
# whole model's state.
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Dictionary(object):
    def __init__(self):
        self.word2idx = {}
        self.idx2word = []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


class Corpus(object):
    def __init__(self, lines):
        self.dictionary = Dictionary()
        self.train = self.tokenize(lines[:6])
        self.valid = self.tokenize(lines[6:])

    def tokenize(self, lines):
        idss = []
        for line in lines:
            words = line.split() + ['<eos>']
            ids = []
            for word in words:
                ids.append(self.dictionary.add_word(word))
            idss.append(torch.tensor(ids).type(torch.int64))
        return torch.cat(idss)


text = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog met",
        "the mat was red and the log was brown", "on the mat a cat slept",
        "the dog ran to the log", "the cat sat on the log", "a dog slept on the mat"]
corpus = Corpus(text)
ntokens = len(corpus.dictionary)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    data = data.view(bsz, -1).t().contiguous()
    return data


class RNNModel(nn.Module):
    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super(RNNModel, self).__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError('When using the tied flag, nhid must be equal to emsize')
            self.decoder.weight = self.encoder.weight
        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == 'LSTM':
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        else:
            return weight.new_zeros(self.nlayers, bsz, self.nhid)


train_data = batchify(corpus.train, 3)
val_data = batchify(corpus.valid, 2)
bptt = 5


def get_batch(source, i):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].view(-1)
    return data, target


def repackage_hidden(h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    else:
        return tuple(repackage_hidden(v) for v in h)


rng = np.random.default_rng(72)
results = {}
for rnn_type in ["LSTM", "GRU"]:
    model = RNNModel(rnn_type, ntokens, 8, 8, 2, dropout=0.0, tie_weights=True)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(p.shape)).astype(np.float32)))
    criterion = nn.NLLLoss()
    lr, clip = 2.0, 0.25
    history, norms = [], []
    best_val_loss = None

    def evaluate(data_source):
        model.eval()
        total_loss = 0.
        hidden = model.init_hidden(2)
        with torch.no_grad():
            for i in range(0, data_source.size(0) - 1, bptt):
                data, targets = get_batch(data_source, i)
                output, hidden = model(data, hidden)
                hidden = repackage_hidden(hidden)
                total_loss += len(data) * criterion(output, targets).item()
        return total_loss / (len(data_source) - 1)

    for epoch in range(1, 4):
        model.train()
        total_loss = 0.
        hidden = model.init_hidden(3)
        for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
            data, targets = get_batch(train_data, i)
            model.zero_grad()
            hidden = repackage_hidden(hidden)
            output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), clip).item())
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)
            total_loss += loss.item()
        val_loss = evaluate(val_data)
        history.append((total_loss, val_loss, math.exp(val_loss)))
        if not best_val_loss or val_loss < best_val_loss:
            with open(os.path.join(TMP, f"model_{rnn_type}.pt"), 'wb') as f:
                torch.save(model.state_dict(), f)
            best_val_loss = val_loss
        else:
            lr /= 4.0
    with open(os.path.join(TMP, f"model_{rnn_type}.pt"), 'rb') as f:
        model.load_state_dict(torch.load(f))
    model.eval()
    hidden = model.init_hidden(1)
    word = torch.tensor([[corpus.dictionary.word2idx["the"]]])
    words = []
    with torch.no_grad():
        for _ in range(6):
            output, hidden = model(word, hidden)
            word_idx = output.squeeze().argmax().item()
            word.fill_(word_idx)
            words.append(corpus.dictionary.idx2word[word_idx])
    results[rnn_type] = {"history": history, "norms": norms, "lr": lr, "words": " ".join(words),
                         "tied": model.decoder.weight is model.encoder.weight,
                         "n_params": sum(p.numel() for p in model.parameters()),
                         "test_ppl": math.exp(evaluate(val_data))}

RESULT = results
