# ruff: noqa - written as PyTorch tutorials write it
# Two networks trained against each other (a tiny GAN on 1-D data): detach() to stop
# gradients, requires_grad_(False) to freeze, two optimizers, BCEWithLogits on labels.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(25)
G = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
D = nn.Sequential(nn.Linear(1, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
for net in (G, D):
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, 0.4, tuple(p.shape)).astype(np.float32)))
opt_g = torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
bce = nn.BCEWithLogitsLoss()
real_data = torch.from_numpy(rng.normal(2.0, 0.5, (40, 1)).astype(np.float32))
noise = torch.from_numpy(rng.standard_normal((40, 2)).astype(np.float32))
ones, zeros = torch.ones(40, 1), torch.zeros(40, 1)
history = []
for step in range(25):
    # discriminator: real vs generated (generator output detached)
    opt_d.zero_grad()
    fake = G(noise)
    loss_d = bce(D(real_data), ones) + bce(D(fake.detach()), zeros)
    loss_d.backward()
    opt_d.step()
    # generator: fool the frozen discriminator
    for p in D.parameters():
        p.requires_grad_(False)
    opt_g.zero_grad()
    loss_g = bce(D(G(noise)), ones)
    loss_g.backward()
    opt_g.step()
    for p in D.parameters():
        p.requires_grad_(True)
    history.append([loss_d.item(), loss_g.item()])
frozen_grads = [p.grad is None for p in D.parameters()]
RESULT = {"history": history, "mean_fake": G(noise).mean().item(),
          "g_params": [p.detach().numpy().copy() for p in G.parameters()],
          "frozen": frozen_grads}
