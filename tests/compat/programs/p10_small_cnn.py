# ruff: noqa - written as PyTorch tutorials write it
# A small CNN in the classic tutorial layout: conv/pool/relu, view to flatten, fc layers.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.fc1 = nn.Linear(8 * 3 * 3, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2, ceil_mode=True)
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


net = Net()
rng = np.random.default_rng(10)
with torch.no_grad():
    for name, p in net.named_parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))

inputs = torch.from_numpy(rng.standard_normal((12, 1, 14, 14)).astype(np.float32))
labels = torch.from_numpy(rng.integers(0, 3, 12))
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
losses = []
for epoch in range(8):
    running_loss = 0.0
    for i in range(0, 12, 4):
        optimizer.zero_grad()
        outputs = net(inputs[i:i + 4])
        loss = criterion(outputs, labels[i:i + 4])
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    losses.append(running_loss)

correct = 0
total = 0
with torch.no_grad():
    outputs = net(inputs)
    _, predicted = torch.max(outputs.data, 1)
    total += labels.size(0)
    correct += (predicted == labels).sum().item()

RESULT = {"losses": losses, "correct": correct, "total": total, "predicted": predicted,
          "conv1_grad": net.conv1.weight.grad}
