# ruff: noqa - written as PyTorch user code is written
# A small clip classifier and a volumetric autoencoder: Conv3d (strides, padding,
# factorized (1, k, k) + (k, 1, 1) kernels, groups), BatchNorm3d, MaxPool3d/AvgPool3d,
# AdaptiveAvgPool3d, Dropout3d in eval, ConvTranspose3d in the decoder, InstanceNorm3d;
# trained a few steps with SGD + CosineAnnealingLR.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(43)


class ClipNet(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv3d(2, 6, kernel_size=(1, 3, 3), padding=(0, 1, 1),
                                            bias=False),
                                  nn.BatchNorm3d(6), nn.ReLU(),
                                  nn.Conv3d(6, 6, kernel_size=(3, 1, 1), padding=(1, 0, 0),
                                            groups=3),
                                  nn.MaxPool3d((1, 2, 2)))
        self.block = nn.Sequential(nn.Conv3d(6, 8, 3, stride=(1, 2, 2), padding=1),
                                   nn.InstanceNorm3d(8, affine=True), nn.ReLU(),
                                   nn.AvgPool3d(2, stride=1, padding=1,
                                                count_include_pad=False))
        self.drop = nn.Dropout3d(0.3)
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.head = nn.Linear(8, classes)

    def forward(self, x):
        h = self.drop(self.block(self.stem(x)))
        return self.head(self.pool(h).flatten(1))


class VolumeAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv3d(1, 4, 3, stride=2, padding=1), nn.Tanh())
        self.dec = nn.ConvTranspose3d(4, 1, 3, stride=2, padding=1, output_padding=1)

    def forward(self, v):
        return self.dec(self.enc(v))


def fill(model):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))


net, ae = ClipNet(), VolumeAE()
fill(net)
fill(ae)
clips = torch.from_numpy(rng.standard_normal((4, 2, 4, 8, 8)).astype(np.float32))
labels = torch.tensor([0, 1, 2, 1])
vols = torch.from_numpy(rng.standard_normal((2, 1, 4, 6, 6)).astype(np.float32))
params = list(net.parameters()) + list(ae.parameters())
opt = torch.optim.SGD(params, lr=0.05, momentum=0.9)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
losses = []
for step in range(4):
    net.train()
    net.drop.eval()  # dropout off: the two libraries draw different masks
    opt.zero_grad()
    loss = F.cross_entropy(net(clips), labels) + F.mse_loss(ae(vols), vols)
    loss.backward()
    opt.step()
    sched.step()
    losses.append(loss.item())

net.eval()
with torch.no_grad():
    logits = net(clips)
RESULT = {"losses": losses, "logits": logits, "recon": ae(vols),
          "running": [net.stem[1].running_mean, net.stem[1].running_var],
          "grads": [p.grad for p in params], "lr": sched.get_last_lr(),
          "shapes": [list(net.stem(clips).shape), list(net.block(net.stem(clips)).shape),
                     list(F.max_pool3d(clips, 2, ceil_mode=True).shape),
                     list(F.interpolate(vols, scale_factor=(1, 2, 2), mode="trilinear").shape)]}
