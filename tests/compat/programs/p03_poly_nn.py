# ruff: noqa - written as PyTorch tutorials write it
# The cubic fit with nn.Sequential, MSELoss(reduction='sum') and manual parameter updates.
import math

import numpy as np
import torch

x = torch.linspace(-math.pi, math.pi, 200)
y = torch.sin(x)
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)

model = torch.nn.Sequential(
    torch.nn.Linear(3, 1),
    torch.nn.Flatten(0, 1),
)
rng = np.random.default_rng(2)
with torch.no_grad():
    for param in model.parameters():
        param.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, param.shape).astype(np.float32)))

loss_fn = torch.nn.MSELoss(reduction="sum")
learning_rate = 1e-6
losses = []
for t in range(200):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    if t % 50 == 49:
        losses.append(loss.item())
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad

linear_layer = model[0]
RESULT = {"losses": losses, "bias": linear_layer.bias.item(),
          "weights": [linear_layer.weight[:, i].item() for i in range(3)],
          "xx_shape": list(xx.shape), "xx_dtype": str(xx.dtype)}
