# ruff: noqa - written as PyTorch user code is written
# Normalization as image-model code handles it: a small pre-activation ResNet whose norm
# layer is a constructor argument (norm_layer=nn.BatchNorm2d, a GroupNorm partial, an
# InstanceNorm2d with affine and running statistics, LayerNorm over (C, H, W) without
# affine), trained in train() and checked in eval(); the running statistics, momentum
# changed after construction and momentum=None; fine-tuning with the BatchNorm layers
# frozen (eval() through apply after model.train(), affine parameters not trained);
# reset_running_stats; SyncBatchNorm.convert_sync_batchnorm and back by hand;
# F.batch_norm / F.group_norm / F.layer_norm / F.instance_norm called directly;
# LocalResponseNorm; LPPool2d after a ReLU; an eval batch of one.
from functools import partial

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(110)


class PreActBlock(nn.Module):
    def __init__(self, c_in, c_out, stride, norm_layer):
        super().__init__()
        self.bn1 = norm_layer(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn2 = norm_layer(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.shortcut = None
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Conv2d(c_in, c_out, 1, stride, bias=False)

    def forward(self, x):
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class PreActResNet(nn.Module):
    def __init__(self, norm_layer=nn.BatchNorm2d, num_classes=3):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1, 1, bias=False)
        self.layer1 = PreActBlock(4, 4, 1, norm_layer)
        self.layer2 = PreActBlock(4, 8, 2, norm_layer)
        self.bn = norm_layer(8)
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        out = self.layer2(self.layer1(self.conv1(x)))
        out = F.relu(self.bn(out))
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))


def numpy_init(model):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim > 1:
                p.copy_(torch.from_numpy(rng.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))
            elif name == "fc.bias":
                p.zero_()


X = torch.from_numpy(rng.standard_normal((12, 1, 8, 8)).astype(np.float32))
Y = torch.from_numpy(rng.integers(0, 3, 12))
norms = {
    "batch": nn.BatchNorm2d,
    "group": partial(nn.GroupNorm, 2),
    "instance": partial(nn.InstanceNorm2d, affine=True, track_running_stats=True),
    "layer": lambda c: nn.GroupNorm(1, c, affine=False),
}
results = {}
for name, norm_layer in norms.items():
    model = PreActResNet(norm_layer)
    numpy_init(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    losses = []
    for epoch in range(3):
        model.train()
        for xb, yb in zip(X.split(4), Y.split(4)):
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        results[name] = {"losses": losses, "eval": model(X), "one": model(X[:1]),
                         "buffers": {k: v for k, v in model.state_dict().items()
                                     if "running" in k or "num_batches" in k}}

# LayerNorm over (C, H, W) without affine on a feature map
ln = nn.LayerNorm([4, 8, 8], elementwise_affine=False)
ln_x = torch.from_numpy(rng.standard_normal((2, 4, 8, 8)).astype(np.float32)).requires_grad_()
ln_out = ln(ln_x)
(ln_out * torch.arange(256.0).view(4, 8, 8)).sum().backward()
ln_nobias = nn.LayerNorm(8, bias=False)
ln_nobias_keys = list(ln_nobias.state_dict().keys())

# fine-tuning with frozen BatchNorm
model = PreActResNet()
numpy_init(model)
model.train()
for xb, yb in zip(X.split(4), Y.split(4)):
    F.cross_entropy(model(xb), yb).backward()
stats_before = model.layer1.bn1.running_mean.clone()


def freeze_bn(m):
    if isinstance(m, nn.BatchNorm2d):
        m.eval()
        m.weight.requires_grad_(False)
        m.bias.requires_grad_(False)


model.train()
model.apply(freeze_bn)
ft_opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.01)
ft_losses = []
for xb, yb in zip(X.split(4), Y.split(4)):
    ft_opt.zero_grad()
    loss = F.cross_entropy(model(xb), yb)
    loss.backward()
    ft_opt.step()
    ft_losses.append(loss.item())
frozen_same = bool(torch.equal(stats_before, model.layer1.bn1.running_mean))
bn_grad_none = model.layer1.bn1.weight.grad is None
modes = [m.training for m in model.modules() if isinstance(m, nn.BatchNorm2d)]

# momentum changed after construction, then momentum=None, then reset
bn = nn.BatchNorm1d(3)
data = torch.from_numpy(rng.standard_normal((6, 3)).astype(np.float32))
bn(data)
bn.momentum = 0.5
bn(data * 2)
after_momentum = [bn.running_mean.clone(), bn.running_var.clone()]
bn.momentum = None
bn(data + 1)
bn(data - 1)
cumulative = [bn.running_mean.clone(), bn.running_var.clone(), bn.num_batches_tracked.clone()]
bn.reset_running_stats()
reset = [bn.running_mean.clone(), bn.running_var.clone(), bn.num_batches_tracked.clone()]

# SyncBatchNorm conversion (used in single-process scripts before DDP is set up)
sync_model = nn.SyncBatchNorm.convert_sync_batchnorm(PreActResNet())
sync_types = sorted({type(m).__name__ for m in sync_model.modules() if "Norm" in type(m).__name__})
sync_keys = list(sync_model.state_dict().keys())[:6]

# the functional forms
fx = torch.from_numpy(rng.standard_normal((4, 6, 3, 3)).astype(np.float32)).requires_grad_()
rm, rv = torch.zeros(6), torch.ones(6)
w = torch.from_numpy(rng.uniform(0.5, 1.5, 6).astype(np.float32)).requires_grad_()
bvec = torch.from_numpy(rng.normal(0, 0.1, 6).astype(np.float32)).requires_grad_()
f_bn = F.batch_norm(fx, rm, rv, w, bvec, training=True, momentum=0.2, eps=1e-3)
f_gn = F.group_norm(fx, 3, w, bvec, eps=1e-4)
f_ln = F.layer_norm(fx, (3, 3))
f_in = F.instance_norm(fx, weight=w, bias=bvec)
lrn = nn.LocalResponseNorm(3, alpha=1e-2, beta=0.75, k=2.0)
f_lrn = lrn(fx)
f_lp = nn.LPPool2d(2, 2, stride=1)(F.relu(fx - 0.5))  # windows of zeros after the ReLU
(f_bn.sum() + f_gn.pow(2).sum() + f_ln[:, 0].sum() + f_in.abs().sum() + f_lrn.sum()
 + f_lp.sum()).backward()

RESULT = {"results": results, "ln_out": ln_out, "ln_grad": ln_x.grad,
          "ln_nobias_keys": ln_nobias_keys, "ft_losses": ft_losses, "frozen_same": frozen_same,
          "bn_grad_none": bn_grad_none, "modes": modes, "after_momentum": after_momentum,
          "cumulative": cumulative, "reset": reset, "sync_types": sync_types,
          "sync_keys": sync_keys, "f_bn": f_bn, "rm": rm, "rv": rv, "f_gn": f_gn,
          "f_in": f_in, "f_lrn": f_lrn, "f_lp": f_lp, "fx_grad": fx.grad, "w_grad": w.grad,
          "b_grad": bvec.grad}
