# ruff: noqa - written as PyTorch user code is written
# Lazy layers: a model written without input sizes (LazyConv2d, LazyBatchNorm2d,
# LazyLinear), a dry run to materialize them, weights set after it, an optimizer built
# afterwards (as PyTorch recommends), training, and the printed model before and after.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(61)
model = nn.Sequential(nn.LazyConv2d(4, 3, padding=1, bias=False), nn.LazyBatchNorm2d(),
                      nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.LazyLinear(8), nn.ReLU(),
                      nn.LazyLinear(3))
before = repr(model)
uninitialized = [m.has_uninitialized_params() for m in model if hasattr(m, "has_uninitialized_params")]
x = torch.from_numpy(rng.standard_normal((6, 2, 6, 6)).astype(np.float32))
y = torch.from_numpy(rng.integers(0, 3, 6))
with torch.no_grad():
    model(x[:1].repeat(2, 1, 1, 1))  # dry run: the shapes are known from here on
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))
    model[1].reset_running_stats()
opt = torch.optim.Adam(model.parameters(), lr=0.01)
losses = []
for step in range(4):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())
RESULT = {"before": before, "after": repr(model), "uninitialized": uninitialized,
          "losses": losses, "shapes": [list(p.shape) for p in model.parameters()],
          "keys": list(model.state_dict().keys()), "running": model[1].running_mean}
