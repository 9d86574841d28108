# ruff: noqa - written as PyTorch user code is written
# The less common layers a model zoo reaches for: InstanceNorm (with and without running
# statistics), RMSNorm, EmbeddingBag (offsets, per-sample weights, max, padding_idx),
# padding layers, PixelShuffle/Unshuffle, ChannelShuffle, 1-D pooling, ConvTranspose1d,
# Bilinear, and the extra activations, trained a few steps with Adam.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(35)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.pad = nn.ReflectionPad2d((1, 2, 0, 1))
        self.conv = nn.Conv2d(2, 8, 3, bias=False)  # normalized next
        self.inorm = nn.InstanceNorm2d(8, affine=True)
        self.shuffle = nn.ChannelShuffle(2)
        self.ps = nn.PixelShuffle(2)
        self.unps = nn.PixelUnshuffle(2)
        self.zpad = nn.ZeroPad2d(1)
        self.rpad = nn.ReplicationPad2d((0, 1, 1, 0))
        self.cpad = nn.ConstantPad1d((2, 1), 0.5)
        self.conv1 = nn.Conv1d(2, 3, 3, bias=False)
        self.in1 = nn.InstanceNorm1d(3, track_running_stats=True, momentum=0.2)
        self.up1 = nn.ConvTranspose1d(3, 2, 4, stride=2, padding=1)
        self.avg1 = nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False)
        self.adapt1 = nn.AdaptiveAvgPool1d(5)
        self.amax1 = nn.AdaptiveMaxPool1d(3)
        self.bag = nn.EmbeddingBag(10, 4, mode="sum")
        self.bag_mean = nn.EmbeddingBag(10, 4, mode="mean", padding_idx=0)
        self.bag_max = nn.EmbeddingBag(10, 4, mode="max")
        self.bil = nn.Bilinear(4, 6, 3)
        self.rms = nn.RMSNorm(6, eps=1e-6)
        self.acts = nn.ModuleList([nn.Hardswish(), nn.Hardsigmoid(), nn.CELU(0.7),
                                   nn.Softshrink(0.3), nn.Hardshrink(0.2), nn.Tanhshrink(),
                                   nn.Threshold(0.1, -1.0), nn.Softmin(dim=1), nn.SELU(),
                                   nn.Softsign(), nn.LogSigmoid()])

    def forward(self, img, seq, tokens, offsets, psw):
        h = self.shuffle(torch.relu(self.inorm(self.conv(self.pad(img)))))
        h = self.unps(self.ps(h))  # a round trip
        h = self.rpad(self.zpad(h))
        s = self.in1(self.conv1(self.cpad(seq)))
        s = self.up1(torch.tanh(s))
        pooled = torch.cat([self.avg1(s), self.adapt1(s), self.amax1(s)], dim=2).flatten(1)
        bags = self.bag(tokens, offsets, per_sample_weights=psw)
        bags = bags + self.bag_mean(tokens, offsets) + self.bag_max(tokens, offsets)
        feats = self.rms(torch.cat([h.mean((2, 3))[:, :3], pooled[:, :3]], dim=1))
        z = self.bil(bags, feats)
        outs = [act(z) for act in self.acts]
        return torch.stack(outs).sum(0), h, s


net = Net()
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.4, tuple(p.shape)).astype(np.float32)))
img = torch.from_numpy(rng.standard_normal((2, 2, 6, 5)).astype(np.float32))
seq = torch.from_numpy(rng.standard_normal((2, 2, 9)).astype(np.float32))
tokens = torch.tensor([1, 2, 0, 4, 5, 0, 0, 7, 3])
offsets = torch.tensor([0, 4])
psw = torch.from_numpy(rng.random(9).astype(np.float32))
target = torch.from_numpy(rng.standard_normal((2, 3)).astype(np.float32))
h_weight = torch.from_numpy(rng.standard_normal((2, 8, 8, 9)).astype(np.float32))
opt = torch.optim.Adam(net.parameters(), lr=0.01)
losses = []
for step in range(4):
    opt.zero_grad()
    out, h, s = net(img, seq, tokens, offsets, psw)
    loss = F.mse_loss(out, target) + (h * h_weight).mean() + s.abs().mean() * 0.1
    loss.backward()
    opt.step()
    losses.append(loss.item())

net.eval()
out, h, s = net(img, seq, tokens, offsets, psw)
x = torch.from_numpy(rng.standard_normal((3, 5)).astype(np.float32)).requires_grad_()
fn = [F.hardswish(x), F.hardsigmoid(x), F.celu(x, 1.3), F.softmin(x, dim=0),
      F.threshold(x, 0.2, 2.0), F.softshrink(x, 0.4), F.hardshrink(x), F.tanhshrink(x),
      F.rms_norm(x, (5,)), F.instance_norm(x.reshape(1, 3, 5)),
      F.embedding_bag(torch.tensor([[1, 2], [0, 0]]), x, mode="max"),
      F.pad(x, (1, 1), mode="circular"), F.bilinear(x, x, torch.ones(2, 5, 5))]
torch.stack([f.sum() for f in fn]).sum().backward()
RESULT = {"losses": losses, "out": out, "h": h, "s": s,
          "grads": [p.grad for p in net.parameters()],
          "in1_stats": [net.in1.running_mean, net.in1.running_var],
          "keys": list(net.state_dict().keys()), "fn": fn, "x_grad": x.grad,
          "bag2d": nn.functional.embedding_bag(torch.tensor([[1, 2, 3], [4, 4, 0]]),
                                               net.bag.weight, mode="mean", padding_idx=0),
          "include_last": F.embedding_bag(tokens, net.bag.weight, torch.tensor([0, 3, 9]),
                                          mode="sum", include_last_offset=True),
          "empty_bag": F.embedding_bag(tokens, net.bag.weight, torch.tensor([0, 3, 3]),
                                       mode="mean")}
