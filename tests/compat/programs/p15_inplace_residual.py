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
b = a * 1
c = b.sin()  # sin saves b
b.detach().mul_(2)  # ... which then changes behind autograd's back: backward must refuse
try:
    c.sum().backward()
    caught = False
except RuntimeError:
    caught = True

# an in-place op after another op used the tensor: the earlier op keeps the old value
p_ = torch.ones(3, requires_grad=True)
q = p_ * 1
r = q + 1
q.relu_()
(r.sum() + q.sum()).backward()

# x[index] = value on a tensor on the graph, and accumulating into a buffer
w = torch.ones(2, 3, requires_grad=True)
v = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
h = w * 2
h[0] = v * 3
h[:, 1] = 0
acc = torch.zeros(3)
acc += (h * torch.arange(6.0).view(2, 3)).sum(0)
acc.sum().backward()

RESULT = {"y": y, "grad": x.grad, "fc1_grad": block.fc1.weight.grad, "refused": refused,
          "caught": caught, "version_grew": b._version > 0, "w_grad": w.grad, "v_grad": v.grad,
          "h": h.detach(), "acc_requires_grad": acc.requires_grad, "p_grad": p_.grad}
