# ruff: noqa - written as PyTorch tutorials write it
# Gradient clipping (by norm and by value) with the common schedules, checked per step.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(14)
X = torch.tensor(rng.standard_normal((40, 3)), dtype=torch.float32)
Y = torch.tensor(rng.standard_normal((40, 1)) * 3, dtype=torch.float32)
model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.normal(0, 0.5, tuple(p.shape)), dtype=torch.float32))

optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[5, 10], gamma=0.5)
plateau_opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(plateau_opt, mode="min", factor=0.5,
                                                     patience=1)
norms, lrs, plateau_lrs, losses = [], [], [], []
for step in range(15):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(X), Y)
    loss.backward()
    total = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.2)
    norms.append(total.item())
    optimizer.step()
    scheduler.step()
    lrs.append(scheduler.get_last_lr()[0])
    losses.append(loss.item())
    plateau.step(1.0)
    plateau_lrs.append(plateau_opt.param_groups[0]["lr"])

vec = torch.nn.utils.parameters_to_vector(model.parameters())
RESULT = {"norms": norms, "lrs": lrs, "plateau": plateau_lrs, "losses": losses,
          "vector": vec, "group": {k: optimizer.state_dict()["param_groups"][0][k]
                                   for k in ("lr", "momentum", "nesterov", "initial_lr")}}
