# ruff: noqa - written as PyTorch user code is written
# Convolutions and pooling with their options: stride, padding (ints, 'same', 'valid'),
# padding_mode, dilation, groups, bias=False, transposed convolutions, pooling with
# ceil_mode / count_include_pad / return_indices, adaptive pooling to odd sizes.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 6, kernel_size=3, stride=2, padding=1, bias=False)
        self.c2 = nn.Conv2d(6, 6, kernel_size=3, padding="same", groups=3, dilation=2)
        self.c3 = nn.Conv2d(6, 4, kernel_size=(3, 2), padding=(1, 0), padding_mode="reflect")
        self.c4 = nn.Conv2d(4, 4, 3, padding=1, padding_mode="circular", groups=4)
        self.c5 = nn.Conv2d(4, 4, 3, padding=1, padding_mode="replicate")
        self.up = nn.ConvTranspose2d(4, 3, kernel_size=3, stride=2, padding=1,
                                     output_padding=1)
        self.up2 = nn.ConvTranspose2d(3, 2, kernel_size=2, stride=2, bias=False)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.adapt = nn.AdaptiveAvgPool2d((3, 5))
        self.adapt_max = nn.AdaptiveMaxPool2d(3)

    def forward(self, x):
        h = F.relu(self.c1(x))
        h = F.relu(self.c2(h))
        h = self.c3(h)
        h = self.c4(h) + self.c5(h)
        u = self.up2(torch.tanh(self.up(h)))
        feats = [self.pool(u), self.avg(u), self.adapt(u), self.adapt_max(u)]
        return torch.cat([f.flatten(1) for f in feats], dim=1)


class Net1d(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv1d(2, 4, kernel_size=5, stride=2, padding=2, dilation=1)
        self.b = nn.Conv1d(4, 4, kernel_size=3, padding="same", dilation=3, groups=2,
                           bias=False)
        self.c = nn.Conv1d(4, 3, kernel_size=3, padding="valid", padding_mode="zeros")
        self.d = nn.Conv1d(3, 3, kernel_size=3, padding=1, padding_mode="circular")
        self.pool = nn.MaxPool1d(2, stride=2, ceil_mode=True)

    def forward(self, x):
        h = torch.relu(self.a(x))
        h = torch.relu(self.b(h)) + h
        h = self.d(self.c(h))
        return self.pool(h).flatten(1)


rng = np.random.default_rng(26)


def init_from_numpy(model):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))


net, net1 = Net(), Net1d()
init_from_numpy(net)
init_from_numpy(net1)
x = torch.from_numpy(rng.standard_normal((2, 3, 13, 11)).astype(np.float32))
s = torch.from_numpy(rng.standard_normal((3, 2, 17)).astype(np.float32))
opt = torch.optim.SGD(list(net.parameters()) + list(net1.parameters()), lr=0.01,
                      momentum=0.5)
losses = []
for step in range(4):
    opt.zero_grad()
    out = net(x)
    out1 = net1(s)
    loss = out.pow(2).mean() + out1.abs().mean()
    loss.backward()
    opt.step()
    losses.append(loss.item())

pooled, idx = F.max_pool2d(x, kernel_size=2, stride=2, return_indices=True)
pool1d, idx1 = nn.MaxPool1d(3, stride=2, padding=1, return_indices=True)(s)
shapes = [list(net.c1(x).shape), list(net.up(torch.zeros(1, 4, 5, 4)).shape),
          list(net.up(torch.zeros(1, 4, 5, 4), output_size=[9, 8]).shape),
          list(F.avg_pool2d(x, 2, ceil_mode=True).shape),
          list(F.conv2d(x, torch.ones(2, 3, 3, 3), stride=(2, 1), padding=(0, 2)).shape)]
RESULT = {"losses": losses, "out": net(x), "out1": net1(s), "grads":
          [p.grad for p in net.parameters()] + [p.grad for p in net1.parameters()],
          "pooled": pooled, "idx": idx, "pool1d": pool1d, "idx1": idx1, "shapes": shapes,
          "avg_incl": F.avg_pool2d(x, 3, stride=2, padding=1),
          "avg_div": F.avg_pool2d(x, 2, divisor_override=3),
          "adaptive": F.adaptive_avg_pool2d(x, (4, 7)), "adaptive_none": F.adaptive_max_pool2d(x, (None, 2)),
          "conv_functional": F.conv1d(s, torch.ones(4, 1, 3) / 3, groups=2, stride=2),
          "transpose_functional": F.conv_transpose2d(x, torch.ones(3, 2, 2, 2), stride=2, padding=1, dilation=2)}
