# ruff: noqa - written as PyTorch tutorials write it
# The cubic fit with an optimizer (SGD with momentum) and a custom nn.Module.
import math

import numpy as np
import torch


class Polynomial3(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(0.1))
        self.b = torch.nn.Parameter(torch.tensor(-0.2))
        self.c = torch.nn.Parameter(torch.tensor(0.3))
        self.d = torch.nn.Parameter(torch.tensor(0.05))

    def forward(self, x):
        return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

    def string(self):
        return f"y = {self.a.item():.3f} + {self.b.item():.3f} x"


x = torch.linspace(-math.pi, math.pi, 200)
y = torch.sin(x)
model = Polynomial3()
criterion = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.SGD(model.parameters(), lr=1e-6, momentum=0.9)
losses = []
for t in range(150):
    y_pred = model(x)
    loss = criterion(y_pred, y)
    if t % 30 == 29:
        losses.append(loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

RESULT = {"losses": losses, "params": [p.item() for p in model.parameters()],
          "names": [n for n, _ in model.named_parameters()], "string": model.string(),
          "count": sum(p.numel() for p in model.parameters())}
