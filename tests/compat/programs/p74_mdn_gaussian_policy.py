# ruff: noqa - written as PyTorch user code is written
# Density models with torch.distributions: a mixture density network fitted to a
# two-branch curve (Categorical + Normal in MixtureSameFamily, checked against the
# hand-written logsumexp loss), a diagonal-Gaussian policy for continuous control
# (Independent(Normal(mu, std), 1), log_prob of given actions, entropy, the PPO clipped
# objective and the KL between old and new policies), and a VAE-style KL to a standard
# normal prior with kl_divergence.
import math

import numpy as np
import torch
import torch.distributions as D
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical, Independent, Normal, kl_divergence

rng = np.random.default_rng(74)


def fill(module, scale=0.4):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, scale, tuple(p.shape)).astype(np.float32)))


class MDN(nn.Module):
    def __init__(self, n_hidden=16, n_gaussians=3):
        super().__init__()
        self.z_h = nn.Sequential(nn.Linear(1, n_hidden), nn.Tanh())
        self.z_pi = nn.Linear(n_hidden, n_gaussians)
        self.z_sigma = nn.Linear(n_hidden, n_gaussians)
        self.z_mu = nn.Linear(n_hidden, n_gaussians)

    def forward(self, x):
        z_h = self.z_h(x)
        pi = F.softmax(self.z_pi(z_h), -1)
        sigma = torch.exp(self.z_sigma(z_h))
        mu = self.z_mu(z_h)
        return pi, sigma, mu


def mdn_loss_fn(pi, sigma, mu, y):
    m = Normal(loc=mu, scale=sigma)
    loss = torch.exp(m.log_prob(y))
    loss = torch.sum(loss * pi, dim=1)
    loss = -torch.log(loss)
    return torch.mean(loss)


x = rng.uniform(-1, 1, (64, 1)).astype(np.float32)
branch = (rng.random((64, 1)) < 0.5).astype(np.float32)
y = (np.sin(3 * x) * (2 * branch - 1) + 0.1 * rng.standard_normal((64, 1))).astype(np.float32)
x_t, y_t = torch.from_numpy(x), torch.from_numpy(y)
mdn = MDN()
fill(mdn)
opt = torch.optim.Adam(mdn.parameters(), lr=0.01)
mdn_losses, mixture_losses = [], []
for epoch in range(30):
    pi, sigma, mu = mdn(x_t)
    loss = mdn_loss_fn(pi, sigma, mu, y_t)
    mix = D.MixtureSameFamily(Categorical(probs=pi), Normal(mu, sigma))
    mixture_losses.append(-mix.log_prob(y_t.squeeze(1)).mean().item())
    opt.zero_grad()
    loss.backward()
    opt.step()
    mdn_losses.append(loss.item())
with torch.no_grad():
    pi, sigma, mu = mdn(torch.linspace(-1, 1, 5).unsqueeze(1))
    mix = D.MixtureSameFamily(Categorical(logits=pi.log()), Normal(mu, sigma))
    mdn_summary = {"mean": mix.mean, "variance": mix.variance,
                   "cdf": mix.cdf(torch.zeros(5)), "sample_shape": tuple(mix.sample((2,)).shape)}


class GaussianPolicy(nn.Module):
    def __init__(self, obs_dim=3, act_dim=2):
        super().__init__()
        self.mu = nn.Sequential(nn.Linear(obs_dim, 16), nn.Tanh(), nn.Linear(16, act_dim))
        self.log_std = nn.Parameter(-0.5 * torch.ones(act_dim))

    def distribution(self, obs):
        return Independent(Normal(self.mu(obs), self.log_std.exp()), 1)


policy = GaussianPolicy()
fill(policy.mu)
obs = torch.from_numpy(rng.standard_normal((32, 3)).astype(np.float32))
with torch.no_grad():
    old_dist = policy.distribution(obs)
    noise = torch.from_numpy(rng.standard_normal((32, 2)).astype(np.float32))
    actions = old_dist.mean + old_dist.stddev * noise
    old_log_prob = old_dist.log_prob(actions)
advantages = torch.from_numpy(rng.standard_normal(32).astype(np.float32))
pi_opt = torch.optim.Adam(policy.parameters(), lr=3e-3)
ppo = []
for it in range(10):
    dist = policy.distribution(obs)
    log_prob = dist.log_prob(actions)
    ratio = torch.exp(log_prob - old_log_prob)
    clip_adv = torch.clamp(ratio, 1 - 0.2, 1 + 0.2) * advantages
    loss_pi = -(torch.min(ratio * advantages, clip_adv)).mean() - 0.01 * dist.entropy().mean()
    approx_kl = (old_log_prob - log_prob).mean().item()
    pi_opt.zero_grad()
    loss_pi.backward()
    pi_opt.step()
    ppo.append((loss_pi.item(), approx_kl, kl_divergence(old_dist, dist).mean().item()))

mu_q = torch.from_numpy(rng.standard_normal((4, 3)).astype(np.float32)).requires_grad_()
logvar_q = torch.from_numpy(0.3 * rng.standard_normal((4, 3)).astype(np.float32)).requires_grad_()
q = Normal(mu_q, torch.exp(0.5 * logvar_q))
prior = Normal(torch.zeros_like(mu_q), torch.ones_like(logvar_q))
kl = kl_divergence(q, prior).sum(-1).mean()
kl_closed = (-0.5 * torch.sum(1 + logvar_q - mu_q.pow(2) - logvar_q.exp(), dim=-1)).mean()
kl.backward()
n = Normal(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.5]))
RESULT = {"mdn": mdn_losses, "mixture": mixture_losses, "mdn_summary": mdn_summary,
          "ppo": ppo, "log_std": policy.log_std, "mu_w": policy.mu[0].weight,
          "kl": kl, "kl_closed": kl_closed, "mu_grad": mu_q.grad, "logvar_grad": logvar_q.grad,
          "cdf": n.cdf(torch.tensor([0.5, 0.5])), "icdf": n.icdf(torch.tensor([0.1, 0.9])),
          "shapes": [tuple(old_dist.batch_shape), tuple(old_dist.event_shape),
                     tuple(n.sample((3,)).shape), tuple(n.rsample().shape)],
          "has_rsample": [n.has_rsample, old_dist.has_rsample], "nll_const": math.log(2 * math.pi)}
