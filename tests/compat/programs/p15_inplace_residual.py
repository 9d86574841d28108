# ruff: noqa - written as PyTorch tutorials write it
# In-place ops on non-leaf tensors as residual networks write them: relu_,
# F.relu(inplace=True), nn.ReLU(inplace=True), out += identity; and what is refused.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class ResidualBlock(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        identity = x
        out = self.fc1(x)
        out = self.relu(out)
        out = self.fc2(out)
        out += identity
        out = F.relu(out, inplace=True)
        return out


torch.manual_seed(0)
block = ResidualBlock(4)
rng = np.random.default_rng(15)
with torch.no_grad():
    for p in block.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.5, tuple(p.shape)).astype(np.float32)))
x = torch.from_numpy(rng.standard_normal((5, 4)).astype(np.float32)).requires_grad_()
y = block(x)
h = (y * 2).relu_() * 3
h.add_(1)
h.sum().backward()

leaf = torch.ones(3, requires_grad=True)
try:
    leaf.add_(1)
    refused = False
except RuntimeError:
    refused = True

a = torch.ones(3, requires_grad=True)
b = a.exp()
c = b * 2
b.add_(1)  # exp saved its output: changing it must be caught at backward
try:
    b.sum().backward()  # fine: nothing saved b ... but exp's output was changed
    caught = False
except RuntimeError:
    caught = True

RESULT = {"y": y, "grad": x.grad, "fc1_grad": block.fc1.weight.grad, "refused": refused,
          "caught": caught, "version_grew": b._version > 0}
