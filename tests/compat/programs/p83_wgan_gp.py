# ruff: noqa - written as PyTorch user code is written
# A WGAN-GP training loop as the well-known implementations write it: a critic with
# LayerNorm (no BatchNorm under a gradient penalty), interpolates between real and fake
# samples with alpha drawn per sample (from NumPy) and expand_as, requires_grad_(True) on
# them, torch.autograd.grad(outputs=..., inputs=..., grad_outputs=torch.ones_like(...),
# create_graph=True, retain_graph=True, only_inputs=True), the penalty
# ((gradients.norm(2, dim=1) - 1) ** 2).mean() * LAMBDA, n_critic critic steps per
# generator step with Adam(betas=(0.0, 0.9)), the Wasserstein estimate, and p.requires_grad
# toggled on the critic around the generator step. Then an R1 penalty (real data only)
# and a one-sided WGAN-LP variant.
import numpy as np
import torch
import torch.nn as nn
from torch import autograd

rng = np.random.default_rng(83)
LAMBDA = 10
BATCH_SIZE = 16
DIM = 16
CRITIC_ITERS = 3


def fill(module, scale=0.3):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, scale, tuple(p.shape)).astype(np.float32)))


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()
        main = nn.Sequential(nn.Linear(2, DIM), nn.ReLU(True), nn.Linear(DIM, DIM), nn.ReLU(True),
                             nn.Linear(DIM, 2))
        self.main = main

    def forward(self, noise, real_data):
        output = self.main(noise)
        return output


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.main = nn.Sequential(nn.Linear(2, DIM), nn.LayerNorm(DIM), nn.LeakyReLU(0.2),
                                  nn.Linear(DIM, DIM), nn.Tanh(), nn.Linear(DIM, 1))

    def forward(self, inputs):
        output = self.main(inputs)
        return output.view(-1)


def calc_gradient_penalty(netD, real_data, fake_data, alpha):
    alpha = alpha.expand(real_data.size())
    interpolates = alpha * real_data + ((1 - alpha) * fake_data)
    interpolates = interpolates.requires_grad_(True)
    disc_interpolates = netD(interpolates)
    gradients = autograd.grad(outputs=disc_interpolates, inputs=interpolates,
                              grad_outputs=torch.ones(disc_interpolates.size()),
                              create_graph=True, retain_graph=True, only_inputs=True)[0]
    gradient_penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean() * LAMBDA
    return gradient_penalty


netG = Generator()
netD = Discriminator()
fill(netG)
fill(netD)
optimizerD = torch.optim.Adam(netD.parameters(), lr=1e-3, betas=(0.0, 0.9))
optimizerG = torch.optim.Adam(netG.parameters(), lr=1e-3, betas=(0.0, 0.9))
one = torch.tensor(1, dtype=torch.float)
mone = one * -1


def real_batch():
    centers = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]], dtype=np.float32)
    return torch.from_numpy(centers[rng.integers(0, 4, BATCH_SIZE)]
                            + 0.05 * rng.standard_normal((BATCH_SIZE, 2)).astype(np.float32))


history = []
for iteration in range(6):
    for p in netD.parameters():
        p.requires_grad = True
    for iter_d in range(CRITIC_ITERS):
        real_data_v = real_batch()
        netD.zero_grad()
        D_real = netD(real_data_v)
        D_real = D_real.mean()
        D_real.backward(mone)
        noise = torch.from_numpy(rng.standard_normal((BATCH_SIZE, 2)).astype(np.float32))
        with torch.no_grad():
            fake = netG(noise, real_data_v)
        inputv = fake
        D_fake = netD(inputv)
        D_fake = D_fake.mean()
        D_fake.backward(one)
        alpha = torch.from_numpy(rng.random((BATCH_SIZE, 1)).astype(np.float32))
        gradient_penalty = calc_gradient_penalty(netD, real_data_v, fake, alpha)
        gradient_penalty.backward()
        D_cost = D_fake - D_real + gradient_penalty
        Wasserstein_D = D_real - D_fake
        optimizerD.step()
    for p in netD.parameters():
        p.requires_grad = False
    netG.zero_grad()
    noise = torch.from_numpy(rng.standard_normal((BATCH_SIZE, 2)).astype(np.float32))
    fake = netG(noise, real_data_v)
    G = netD(fake)
    G = G.mean()
    G.backward(mone)
    G_cost = -G
    optimizerG.step()
    history.append((D_cost.item(), G_cost.item(), Wasserstein_D.item(), gradient_penalty.item()))

for p in netD.parameters():
    p.requires_grad = True
real = real_batch().requires_grad_()
out = netD(real)
grad_real, = autograd.grad(outputs=out.sum(), inputs=real, create_graph=True)
r1 = grad_real.pow(2).reshape(grad_real.shape[0], -1).sum(1).mean()
netD.zero_grad()
(0.5 * 10 * r1).backward()
r1_grads = [None if p.grad is None else p.grad.clone() for p in netD.parameters()]

x_hat = real.detach().clone().requires_grad_(True)
grads = torch.autograd.grad(netD(x_hat), x_hat, torch.ones(BATCH_SIZE), create_graph=True)[0]
lp = torch.clamp(grads.norm(2, dim=1) - 1, min=0).pow(2).mean()
lp_grad = torch.autograd.grad(lp, list(netD.parameters())[0])[0]
RESULT = {"history": history, "r1": r1, "r1_grads": r1_grads, "lp": lp, "lp_grad": lp_grad,
          "G": list(netG.parameters())[-1], "requires": [p.requires_grad for p in netD.parameters()]}
