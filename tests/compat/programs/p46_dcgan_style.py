# ruff: noqa - written as PyTorch user code is written
# A GAN training loop in the DCGAN style: ConvTranspose2d generator with BatchNorm2d and
# ReLU/Tanh, a LeakyReLU(inplace) discriminator with Sigmoid, the classname-based
# weights_init through .data, BCELoss with torch.full labels, fake.detach() for the
# discriminator step, Adam(betas=(0.5, 0.999)), nn.DataParallel, and a checkpoint saved
# from model.module and loaded back with the "module." prefix stripped.
import os

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

nz, ngf, ndf = 4, 4, 4
rng = np.random.default_rng(46)
device = torch.device("cuda:0" if torch.cuda.is_available() and False else "cpu")


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, 1, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, input):
        return self.main(input)


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


def from_numpy(m):  # the same start for both libraries
    for p in m.parameters():
        p.data.copy_(torch.from_numpy(rng.normal(0, 0.2, tuple(p.shape)).astype(np.float32)))


netG, netD = Generator().to(device), Discriminator().to(device)
netG.apply(weights_init)
netD.apply(weights_init)
from_numpy(netG)
from_numpy(netD)
netG, netD = nn.DataParallel(netG), nn.DataParallel(netD)
criterion = nn.BCELoss()
real_label, fake_label = 1.0, 0.0
optimizerD = optim.Adam(netD.parameters(), lr=0.002, betas=(0.5, 0.999))
optimizerG = optim.Adam(netG.parameters(), lr=0.002, betas=(0.5, 0.999))
real = torch.from_numpy(np.tanh(rng.standard_normal((6, 1, 16, 16))).astype(np.float32))
G_losses, D_losses, D_x = [], [], []
for it in range(4):
    netD.zero_grad()
    b_size = real.size(0)
    label = torch.full((b_size,), real_label, dtype=torch.float, device=device)
    output = netD(real).view(-1)
    errD_real = criterion(output, label)
    errD_real.backward()
    D_x.append(output.mean().item())
    noise = torch.from_numpy(rng.standard_normal((b_size, nz, 1, 1)).astype(np.float32))
    fake = netG(noise)
    label.fill_(fake_label)
    output = netD(fake.detach()).view(-1)
    errD_fake = criterion(output, label)
    errD_fake.backward()
    errD = errD_real + errD_fake
    optimizerD.step()
    netG.zero_grad()
    label.fill_(real_label)
    output = netD(fake).view(-1)
    errG = criterion(output, label)
    errG.backward()
    optimizerG.step()
    G_losses.append(errG.item())
    D_losses.append(errD.item())

path = os.path.join(TMP, "gan.pth")
torch.save({"netG": netG.state_dict(), "netD": netD.module.state_dict()}, path)
ckpt = torch.load(path)
plain_G = Generator()
plain_G.load_state_dict({k.replace("module.", "", 1): v for k, v in ckpt["netG"].items()})
plain_G.eval()
fixed_noise = torch.from_numpy(rng.standard_normal((2, nz, 1, 1)).astype(np.float32))
with torch.no_grad():
    samples = plain_G(fixed_noise)
RESULT = {"G": G_losses, "D": D_losses, "D_x": D_x, "samples": samples,
          "keys": list(ckpt["netG"].keys())[:4], "d_keys": list(ckpt["netD"].keys())[:3],
          "bn_running": netG.module.main[1].running_mean, "repr": repr(netD)[:60]}
