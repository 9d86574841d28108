"""A tanh network trained with squared error, in mini-batches with momentum.

Fits y = sin(x1) cos(x2) with a 2-32-32-1 tanh MLP, using the library's modules,
loss, optimizer and data loader:

    python examples/tanh_squared_error.py
"""

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.data import DataLoader, TensorDataset

cr.manual_seed(0)
rng = np.random.default_rng(0)
x = rng.uniform(-2, 2, size=(512, 2)).astype(np.float32)
y = (np.sin(x[:, :1]) * np.cos(x[:, 1:])).astype(np.float32)

model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
optimizer = cr.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, seed=0)


def full_loss() -> float:
    with cr.no_grad():
        return nn.functional.mse_loss(model(cr.tensor(x)), cr.tensor(y)).item()


first = full_loss()
for epoch in range(1, 61):
    for xb, yb in loader:
        loss = nn.functional.mse_loss(model(xb), yb)   # (1/N) Σ (f(x) − y)²
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if epoch == 1 or epoch % 10 == 0:
        print(f"epoch {epoch:3d}  loss {full_loss():.5f}")

print(f"final loss: {full_loss():.5f} (from {first:.5f})")
