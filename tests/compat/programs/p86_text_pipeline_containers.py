# ruff: noqa - written as PyTorch user code is written
# A text-classification script in the style of many repositories: imports from
# torch.utils.data's submodules (dataset, sampler, dataloader), a map-style Dataset that
# returns dicts, a collate_fn that pads with pad_sequence and builds a padding mask,
# torch.isin to drop stop-word ids, a model holding nn.ModuleDict heads, an
# nn.ParameterList of per-layer scales, an nn.ParameterDict of biases and a
# non-persistent buffer, masked mean pooling, per-head losses, evaluation under
# torch.inference_mode with argmax accuracy, torch.testing.assert_close between two code
# paths, torch.random.fork_rng around a random draw, and cholesky_ex with a jitter retry.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data.dataloader import DataLoader, default_collate
from torch.utils.data.dataset import Dataset
from torch.utils.data.sampler import BatchSampler, SequentialSampler

rng = np.random.default_rng(86)
PAD, VOCAB = 0, 20
STOP_IDS = torch.tensor([3, 7])


class ReviewDataset(Dataset):
    def __init__(self, n):
        self.items = []
        for i in range(n):
            length = int(rng.integers(3, 9))
            ids = rng.integers(1, VOCAB, length)
            label = int(ids.sum() % 2)
            topic = int(ids[0] % 3)
            self.items.append({"ids": torch.tensor(ids), "label": label, "topic": topic})

    def __len__(self):
        return len(self.items)

    def __getitem__(self, idx):
        item = self.items[idx]
        ids = item["ids"][~torch.isin(item["ids"], STOP_IDS)]
        return {"ids": ids, "label": item["label"], "topic": item["topic"]}


def collate_batch(batch):
    ids = pad_sequence([b["ids"] for b in batch], batch_first=True, padding_value=PAD)
    mask = ids != PAD
    labels = default_collate([{"label": b["label"], "topic": b["topic"]} for b in batch])
    return ids, mask, labels


class Classifier(nn.Module):
    def __init__(self, dim=8, layers=2):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, dim, padding_idx=PAD)
        self.layers = nn.ModuleList([nn.Linear(dim, dim) for _ in range(layers)])
        self.scales = nn.ParameterList([nn.Parameter(torch.ones(dim)) for _ in range(layers)])
        self.biases = nn.ParameterDict({"sentiment": nn.Parameter(torch.zeros(2)),
                                        "topic": nn.Parameter(torch.zeros(3))})
        self.heads = nn.ModuleDict({"sentiment": nn.Linear(dim, 2), "topic": nn.Linear(dim, 3)})
        self.register_buffer("position_decay", torch.linspace(1.0, 0.5, 16), persistent=False)

    def forward(self, ids, mask):
        h = self.embedding(ids) * self.position_decay[: ids.size(1)].unsqueeze(-1)
        for layer, scale in zip(self.layers, self.scales):
            h = h + torch.tanh(layer(h)) * scale
        m = mask.unsqueeze(-1).float()
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return {name: head(pooled) + self.biases[name] for name, head in self.heads.items()}


train_set, test_set = ReviewDataset(24), ReviewDataset(8)
sampler = BatchSampler(SequentialSampler(train_set), batch_size=6, drop_last=False)
train_loader = DataLoader(train_set, batch_sampler=sampler, collate_fn=collate_batch)
test_loader = DataLoader(test_set, batch_size=4, shuffle=False, collate_fn=collate_batch)
model = Classifier()
with torch.no_grad():
    for name, p in model.named_parameters():
        if "scales" not in name:
            p.copy_(torch.from_numpy(rng.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))
    model.embedding.weight[PAD].zero_()
optimizer = torch.optim.AdamW(model.parameters(), lr=0.02)
weights = {"sentiment": 1.0, "topic": 0.5}
history = []
for epoch in range(4):
    model.train()
    total = 0.0
    for ids, mask, labels in train_loader:
        out = model(ids, mask)
        losses = {k: F.cross_entropy(out[k], labels[{"sentiment": "label", "topic": "topic"}[k]])
                  for k in out}
        loss = sum(weights[k] * v for k, v in losses.items())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * ids.size(0)
    model.eval()
    correct = {"sentiment": 0, "topic": 0}
    with torch.inference_mode():
        for ids, mask, labels in test_loader:
            out = model(ids, mask)
            correct["sentiment"] += (out["sentiment"].argmax(1) == labels["label"]).sum().item()
            correct["topic"] += (out["topic"].argmax(dim=-1) == labels["topic"]).sum().item()
    history.append((total / len(train_set), correct["sentiment"] / len(test_set),
                    correct["topic"] / len(test_set)))

ids, mask, labels = next(iter(test_loader))
with torch.no_grad():
    one = model(ids, mask)["topic"]
    separately = torch.cat([model(ids[i:i + 1, : int(mask[i].sum())],
                                  mask[i:i + 1, : int(mask[i].sum())])["topic"] for i in range(4)])
torch.testing.assert_close(one, separately, rtol=1e-5, atol=1e-6)

torch.manual_seed(0)
with torch.random.fork_rng():
    noise = torch.randn(3)
after = torch.rand(2)
torch.manual_seed(0)
same_stream = torch.equal(after, torch.rand(2))

K = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 2.0]], dtype=torch.float64)
jitter, tries = 0.0, 0
L, info = torch.linalg.cholesky_ex(K)
while info.item() != 0:
    jitter = 1e-6 if jitter == 0 else jitter * 10
    L, info = torch.linalg.cholesky_ex(K + jitter * torch.eye(3, dtype=torch.float64))
    tries += 1

RESULT = {"history": history, "state_keys": sorted(model.state_dict().keys()),
          "n_params": sum(p.numel() for p in model.parameters()),
          "scales": list(model.scales), "topic": one, "same_stream": same_stream,
          "jitter": jitter, "tries": tries, "L": L, "first_ids": ids[0], "mask": mask.sum(1),
          "dropped": sum(int(torch.isin(train_set[i]["ids"], STOP_IDS).any()) for i in range(24))}
