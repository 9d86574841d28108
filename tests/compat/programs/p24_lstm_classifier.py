# ruff: noqa - written as PyTorch tutorials write it
# A sequence classifier: Embedding -> LSTM(batch_first) -> last hidden state -> Linear,
# padded batches, CrossEntropyLoss, Adam, gradient clipping, accuracy with argmax.
import numpy as np
import torch
import torch.nn as nn


class SeqClassifier(nn.Module):
    def __init__(self, vocab, emb, hidden, classes):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, tokens):
        embedded = self.embedding(tokens)
        output, (h_n, c_n) = self.lstm(embedded)
        return self.head(h_n[-1])


rng = np.random.default_rng(24)
tokens = rng.integers(1, 12, (20, 7))
tokens[:, 5:][rng.random((20, 2)) < 0.5] = 0
labels = (tokens[:, 0] > 6).astype(np.int64)
X, y = torch.from_numpy(tokens), torch.from_numpy(labels)
model = SeqClassifier(12, 6, 8, 2)
with torch.no_grad():
    for name, p in model.named_parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))
    model.embedding.weight[0].zero_()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
losses, accs = [], []
for epoch in range(12):
    for i in range(0, 20, 5):
        optimizer.zero_grad()
        logits = model(X[i:i + 5])
        loss = criterion(logits, y[i:i + 5])
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        accs.append((model(X).argmax(dim=1) == y).float().mean().item())
RESULT = {"losses": losses, "accs": accs, "pad_row": model.embedding.weight[0],
          "head": model.head.weight}
