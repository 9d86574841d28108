# ruff: noqa - written as PyTorch user code is written
# A RealNVP-style normalizing flow on 2-D data: affine coupling layers with alternating
# checkerboard masks held as buffers, scale nets ending in Tanh, the log-determinant
# accumulated through the layers, a MultivariateNormal base distribution, the exact
# inverse for sampling (noise from NumPy), and a check that f⁻¹(f(x)) = x.
import numpy as np
import torch
from torch import distributions, nn

rng = np.random.default_rng(75)


class RealNVP(nn.Module):
    def __init__(self, nets, nett, mask, prior):
        super(RealNVP, self).__init__()
        self.prior = prior
        self.register_buffer("mask", mask)
        self.t = torch.nn.ModuleList([nett() for _ in range(len(mask))])
        self.s = torch.nn.ModuleList([nets() for _ in range(len(mask))])

    def g(self, z):
        x = z
        for i in range(len(self.t)):
            x_ = x * self.mask[i]
            s = self.s[i](x_) * (1 - self.mask[i])
            t = self.t[i](x_) * (1 - self.mask[i])
            x = x_ + (1 - self.mask[i]) * (x * torch.exp(s) + t)
        return x

    def f(self, x):
        log_det_J, z = x.new_zeros(x.shape[0]), x
        for i in reversed(range(len(self.t))):
            z_ = self.mask[i] * z
            s = self.s[i](z_) * (1 - self.mask[i])
            t = self.t[i](z_) * (1 - self.mask[i])
            z = (1 - self.mask[i]) * (z - t) * torch.exp(-s) + z_
            log_det_J -= s.sum(dim=1)
        return z, log_det_J

    def log_prob(self, x):
        z, logp = self.f(x)
        return self.prior.log_prob(z) + logp

    def sample(self, z):
        return self.g(z)


nets = lambda: nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(), nn.Linear(16, 16),
                             nn.LeakyReLU(), nn.Linear(16, 2), nn.Tanh())
nett = lambda: nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(), nn.Linear(16, 16),
                             nn.LeakyReLU(), nn.Linear(16, 2))
masks = torch.from_numpy(np.array([[0, 1], [1, 0]] * 2).astype(np.float32))
prior = distributions.MultivariateNormal(torch.zeros(2), torch.eye(2))
flow = RealNVP(nets, nett, masks, prior)
with torch.no_grad():
    for p in flow.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))

angles = rng.uniform(0, np.pi, 96)
moons = np.stack([np.cos(angles), np.sin(angles)], 1) + 0.05 * rng.standard_normal((96, 2))
data = torch.from_numpy(moons.astype(np.float32))
optimizer = torch.optim.Adam([p for p in flow.parameters() if p.requires_grad], lr=1e-3)
losses = []
for t in range(25):
    loss = -flow.log_prob(data).mean()
    optimizer.zero_grad()
    loss.backward(retain_graph=True)
    optimizer.step()
    losses.append(loss.item())

with torch.no_grad():
    z_given = torch.from_numpy(rng.standard_normal((6, 2)).astype(np.float32))
    x_gen = flow.sample(z_given)
    z_back, logdet = flow.f(x_gen)
    drawn = prior.sample((5,))

mvn = distributions.MultivariateNormal(torch.tensor([0.5, -0.2], dtype=torch.float64),
                                       scale_tril=torch.tensor([[1.0, 0.0], [0.3, 0.7]],
                                                               dtype=torch.float64))
other = distributions.MultivariateNormal(torch.zeros(2, dtype=torch.float64),
                                         precision_matrix=torch.tensor([[2.0, 0.4], [0.4, 1.0]],
                                                                       dtype=torch.float64))
RESULT = {"losses": losses, "x_gen": x_gen, "roundtrip": (z_back - z_given).abs().max() < 1e-4,
          "logdet": logdet, "prior_draws": tuple(drawn.shape),
          "mvn": [mvn.log_prob(torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)),
                  mvn.entropy(), mvn.covariance_matrix, mvn.variance, other.scale_tril,
                  other.covariance_matrix, distributions.kl_divergence(mvn, other),
                  distributions.kl_divergence(other, mvn)],
          "buffers": [name for name, _ in flow.named_buffers()],
          "s0": flow.s[0][0].weight}
