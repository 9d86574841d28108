# ruff: noqa - written as PyTorch tutorials write it
# Weight initialisation through model.apply and nn.init's deterministic schemes,
# module traversal, train/eval flags, requires_grad_ to freeze a layer.
import torch
import torch.nn as nn


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.constant_(m.weight, 0.05)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.Conv2d):
        nn.init.dirac_(m.weight)
        nn.init.ones_(m.bias)


net = nn.Sequential(nn.Conv2d(2, 2, 3, padding=1), nn.ReLU(), nn.Flatten(),
                    nn.Linear(2 * 4 * 4, 5), nn.Tanh(), nn.Linear(5, 2))
net.apply(init_weights)
nn.init.eye_(net[5].weight[:, :2])
net[0].requires_grad_(False)
x = torch.arange(32, dtype=torch.float32).view(1, 2, 4, 4) / 32
out = net(x)
out.sum().backward()
names = [name for name, _ in net.named_modules()]
kinds = [type(m).__name__ for m in net.children()]
trainable = [n for n, p in net.named_parameters() if p.requires_grad]
net.eval()
flags = [m.training for m in net.modules()]
RESULT = {"out": out, "names": names, "kinds": kinds, "trainable": trainable, "flags": flags,
          "grad": net[3].weight.grad, "frozen_grad": net[0].weight.grad is None,
          "gain": nn.init.calculate_gain("relu"), "gain_tanh": nn.init.calculate_gain("tanh")}
