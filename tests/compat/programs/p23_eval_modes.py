# ruff: noqa - written as PyTorch tutorials write it
# Training with a validation pass: torch.autograd.backward on several losses, eval under
# inference_mode and a no_grad-decorated function, set_grad_enabled as a statement,
# the legacy Tensor(2, 3) constructor, squeeze/unsqueeze with dims, .T and .mT.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(23)
X = torch.from_numpy(rng.standard_normal((24, 3)).astype(np.float32))
Y = torch.from_numpy(rng.standard_normal((24, 2)).astype(np.float32))
net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.5, tuple(p.shape)).astype(np.float32)))
opt = torch.optim.Adam(net.parameters(), lr=0.01)


@torch.no_grad()
def validate(model):
    model.eval()
    out = model(X[16:])
    model.train()
    return ((out - Y[16:]) ** 2).mean().item(), out.requires_grad


history = []
for step in range(20):
    opt.zero_grad()
    out = net(X[:16])
    mse = ((out - Y[:16]) ** 2).mean()
    l1 = sum(p.abs().sum() for p in net.parameters()) * 1e-3
    torch.autograd.backward([mse, l1])
    opt.step()
    history.append([mse.item(), l1.item(), validate(net)[0]])

with torch.inference_mode():
    preds = net(X)
    inference_tracked = preds.requires_grad
torch.set_grad_enabled(False)
frozen = net(X).requires_grad
torch.set_grad_enabled(True)
blank = torch.Tensor(2, 3).zero_()  # uninitialized in PyTorch until filled
z = X[:4].unsqueeze(1).unsqueeze(-1)
RESULT = {"history": history, "tracked": [inference_tracked, frozen, validate(net)[1]],
          "blank": blank, "shapes": [list(z.shape), list(z.squeeze(1).shape),
                                     list(z.squeeze(-1).squeeze(1).shape), list(X.T.shape),
                                     list(z.mT.shape)]}
