# ruff: noqa - written as PyTorch user code is written
# Reparametrized weights: weight_norm and spectral_norm (the parametrizations and the
# older hook-based forms), a hand-written parametrization with right_inverse, assigning
# through it, parametrize.cached(), remove_parametrizations, and a small GAN-style
# discriminator with spectral norm trained a few steps.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.utils.parametrize as parametrize
from torch.nn.utils.parametrizations import spectral_norm, weight_norm

rng = np.random.default_rng(40)


def fill(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, 0.5, tuple(p.shape)).astype(np.float32)))
    return module


def spaced(rows, cols, values):
    """A matrix with the given singular values (well apart, so power iteration settles)."""
    u, _ = np.linalg.qr(rng.standard_normal((rows, rows)))
    v, _ = np.linalg.qr(rng.standard_normal((cols, cols)))
    s = np.zeros((rows, cols))
    s[range(len(values)), range(len(values))] = values
    return torch.from_numpy((u @ s @ v.T).astype(np.float32))


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(0, 1)

    def right_inverse(self, A):
        return A.triu()


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.c2 = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.fc = nn.Linear(8 * 2 * 2, 1)

    def forward(self, x):
        h = nn.functional.leaky_relu(self.c1(x), 0.2)
        h = nn.functional.leaky_relu(self.c2(h), 0.2)
        return self.fc(h.flatten(1))


disc = fill(Discriminator())
with torch.no_grad():
    disc.fc.weight.copy_(spaced(1, 32, [2.0]))
    disc.c2.weight.copy_(spaced(8, 36, [3.0, 1.0, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]).reshape(8, 4, 3, 3))
    disc.c1.weight.copy_(spaced(4, 9, [2.0, 0.5, 0.3, 0.1]).reshape(4, 1, 3, 3))
for layer in (disc.c1, disc.c2, disc.fc):
    spectral_norm(layer)
real = torch.from_numpy(rng.standard_normal((6, 1, 8, 8)).astype(np.float32))
fake = torch.from_numpy(rng.standard_normal((6, 1, 8, 8)).astype(np.float32) * 0.5)
opt = torch.optim.Adam(disc.parameters(), lr=2e-3, betas=(0.0, 0.9))
d_losses = []
for step in range(5):
    opt.zero_grad()
    loss = nn.functional.relu(1 - disc(real)).mean() + nn.functional.relu(1 + disc(fake)).mean()
    loss.backward()
    opt.step()
    d_losses.append(loss.item())

wn = fill(nn.Linear(4, 3))
wn = weight_norm(wn)
wn_conv = weight_norm(fill(nn.Conv1d(2, 3, 3)), dim=None)
x = torch.from_numpy(rng.standard_normal((5, 4)).astype(np.float32))
s = torch.from_numpy(rng.standard_normal((2, 2, 6)).astype(np.float32))
(wn(x).pow(2).sum() + wn_conv(s).sum()).backward()

old = fill(nn.Linear(4, 3))
old = nn.utils.weight_norm(old)
old(x).sum().backward()
old_sn = nn.Linear(6, 4)
with torch.no_grad():
    old_sn.weight.copy_(spaced(4, 6, [4.0, 1.0, 0.5, 0.25]))
old_sn = nn.utils.spectral_norm(old_sn)
with torch.no_grad():
    for _ in range(40):  # each training call takes one power-iteration step
        old_sn(x[:, :2].repeat(1, 3))

sym = fill(nn.Linear(3, 3))
parametrize.register_parametrization(sym, "weight", Symmetric())
sym_w = sym.weight.detach().clone()
target = torch.from_numpy(rng.standard_normal((3, 3)).astype(np.float32))
sym.weight = target + target.T  # goes through right_inverse
assigned = sym.weight.detach().clone()
with parametrize.cached():
    y = sym(x[:, :3]) + sym(x[:, 1:])
y.sum().backward()
original_grad = sym.parametrizations.weight.original.grad.clone()
parametrize.remove_parametrizations(sym, "weight")

RESULT = {
    "d_losses": d_losses, "disc_keys": list(disc.state_dict().keys()),
    "sigma_normed_fc": torch.linalg.matrix_norm(disc.fc.weight.detach(), ord=2),
    "disc_out": disc(real), "wn_out": wn(x), "wn_g": wn.parametrizations.weight.original0,
    "wn_grads": [p.grad for p in wn.parameters()], "wn_conv_grads": [p.grad for p in wn_conv.parameters()],
    "wn_keys": list(wn_conv.state_dict().keys()), "old_keys": list(old.state_dict().keys()),
    "old_grads": [old.weight_g.grad, old.weight_v.grad], "old_weight": old.weight,
    "old_sn_weight": old_sn.weight, "old_sn_keys": list(old_sn.state_dict().keys()),
    "sym_w": sym_w, "assigned": assigned, "original_grad": original_grad,
    "after_remove": [type(sym).__name__, list(sym.state_dict().keys())],
    "parametrized": [parametrize.is_parametrized(disc.fc), parametrize.is_parametrized(sym)],
    "repr": repr(wn),
}
