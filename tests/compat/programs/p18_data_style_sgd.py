# ruff: noqa - written as PyTorch tutorials write it
# Old-style training loops that update through .data: p.data -= lr * p.grad.data,
# p.grad.data.zero_(), p.data.clamp_ (weight clipping), p.data = ... replacement.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(18)
x = torch.from_numpy(rng.standard_normal((30, 4)).astype(np.float32))
target = torch.from_numpy((rng.standard_normal((30, 2)) > 0).astype(np.float32))
model = nn.Sequential(nn.Linear(4, 6), nn.Sigmoid(), nn.Linear(6, 2))
for p in model.parameters():
    p.data = torch.from_numpy(rng.normal(0, 0.4, tuple(p.shape)).astype(np.float32))
lr = 0.5
losses = []
for epoch in range(40):
    loss = ((model(x) - target) ** 2).mean()
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad.data
        p.grad.data.zero_()
    for p in model[2].parameters():
        p.data.clamp_(-0.6, 0.6)
    losses.append(loss.item())

w = model[0].weight
view = w.data
view[0, 0] = 7.0  # .data shares storage: the parameter sees the change
shares = w[0, 0].item() == 7.0
detached = [w.data.requires_grad, w.data.grad_fn is None, w.requires_grad]
RESULT = {"losses": losses, "params": [p.detach().numpy().copy() for p in model.parameters()],
          "detached": detached, "shares": shares}
