# ruff: noqa - written as PyTorch user code is written
# Weight averaging as training scripts use it: stochastic weight averaging (AveragedModel,
# SWALR after a CosineAnnealingLR phase, update_bn over a DataLoader for the BatchNorm
# statistics) and an exponential moving average of the weights (get_ema_multi_avg_fn,
# use_buffers), then evaluating the averaged models.
import numpy as np
import torch
import torch.nn as nn
from torch.optim.swa_utils import AveragedModel, SWALR, get_ema_multi_avg_fn, update_bn
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(44)
X = torch.from_numpy(rng.standard_normal((40, 5)).astype(np.float32))
Y = torch.from_numpy((rng.standard_normal((40, 1)) > 0).astype(np.float32))
loader = DataLoader(TensorDataset(X, Y), batch_size=10)

model = nn.Sequential(nn.Linear(5, 8, bias=False), nn.BatchNorm1d(8), nn.ReLU(),
                      nn.Linear(8, 1))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.5, tuple(p.shape)).astype(np.float32)))
swa_model = AveragedModel(model)
ema_model = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
swa_sched = SWALR(opt, swa_lr=0.05, anneal_epochs=2, anneal_strategy="cos")
criterion = nn.BCEWithLogitsLoss()
losses, lrs = [], []
for epoch in range(8):
    model.train()
    for xb, yb in loader:
        opt.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        opt.step()
        ema_model.update_parameters(model)
        losses.append(loss.item())
    if epoch >= 4:
        swa_model.update_parameters(model)
        swa_sched.step()
    else:
        cosine.step()
    lrs.append(opt.param_groups[0]["lr"])

update_bn(loader, swa_model)
swa_model.eval()
ema_model.eval()
model.eval()
with torch.no_grad():
    outs = [swa_model(X), ema_model(X), model(X)]
RESULT = {"losses": losses, "lrs": lrs, "outs": outs,
          "n_averaged": [swa_model.n_averaged, ema_model.n_averaged],
          "swa_bn": [swa_model.module[1].running_mean, swa_model.module[1].running_var],
          "ema_bn": [ema_model.module[1].running_mean, ema_model.module[1].running_var],
          "swa_keys": list(swa_model.state_dict().keys()),
          "swa_weights": [p.detach().clone() for p in swa_model.parameters()]}
