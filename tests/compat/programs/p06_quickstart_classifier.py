# ruff: noqa - written as PyTorch tutorials write it
# The quickstart pattern: a Dataset, DataLoaders, a Module with Flatten + Sequential,
# train and test loops, device probing, accuracy counting and saving the weights.
import os

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


class Blobs(Dataset):
    """8x8 'images' of four classes: a bright quadrant per class, plus noise."""

    def __init__(self, n, seed):
        rng = np.random.default_rng(seed)
        self.labels = rng.integers(0, 4, n)
        images = rng.normal(0, 0.3, (n, 1, 8, 8)).astype(np.float32)
        for i, label in enumerate(self.labels):
            r, c = divmod(int(label), 2)
            images[i, 0, 4 * r:4 * r + 4, 4 * c:4 * c + 4] += 1.0
        self.images = images

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return torch.tensor(self.images[idx]), int(self.labels[idx])


training_data, test_data = Blobs(96, 0), Blobs(40, 1)
batch_size = 16
train_dataloader = DataLoader(training_data, batch_size=batch_size)
test_dataloader = DataLoader(test_data, batch_size=batch_size)
for X, y in test_dataloader:
    first_shapes = [list(X.shape), list(y.shape), str(y.dtype)]
    break

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() \
    else "cpu"
if torch.cuda.is_available():
    device = "cuda"


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(8 * 8, 32),
            nn.ReLU(),
            nn.Linear(32, 32),
            nn.ReLU(),
            nn.Linear(32, 4),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork().to(device)
rng = np.random.default_rng(5)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.normal(0, 0.2, tuple(p.shape)), dtype=torch.float32))

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)


def train(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    losses = []
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if batch % 2 == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            losses.append(loss)
            assert current <= size
    return losses


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    return test_loss, correct


history = []
for t in range(3):
    history.append(train(train_dataloader, model, loss_fn, optimizer))
    history.append(list(test(test_dataloader, model, loss_fn)))

path = os.path.join(TMP, "model.pth")  # noqa: F821 - the test harness sets TMP
torch.save(model.state_dict(), path)
model2 = NeuralNetwork().to(device)
model2.load_state_dict(torch.load(path, weights_only=True))
model2.eval()
x, y = test_data[0][0], test_data[0][1]
with torch.no_grad():
    x = x.to(device)
    pred = model2(x)
    predicted = pred[0].argmax(0).item()

RESULT = {"first": first_shapes, "history": history, "predicted": predicted, "label": y,
          "device": device}
