# ruff: noqa - written as PyTorch tutorials write it
# The cubic fit again, with autograd and a manual update under no_grad.
import math

import numpy as np
import torch

x = torch.linspace(-math.pi, math.pi, 200)
y = torch.sin(x)
rng = np.random.default_rng(1)
a, b, c, d = (torch.tensor(float(v), requires_grad=True) for v in rng.standard_normal(4))

learning_rate = 1e-6
losses = []
for t in range(200):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum()
    if t % 40 == 39:
        losses.append(loss.item())
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None

RESULT = {"losses": losses, "params": [a.item(), b.item(), c.item(), d.item()],
          "leaf": [a.is_leaf, y_pred.is_leaf, y_pred.requires_grad]}
