# ruff: noqa - written as PyTorch user code is written
# Continuous-control policies as RL repositories write them: a SAC actor (mean and
# clamped log_std heads, Normal(mean, std), tanh squashing with action_scale/bias and the
# log-prob correction log(scale * (1 - y^2) + eps), the same policy as a
# TransformedDistribution with TanhTransform/AffineTransform, twin Q critics with
# torch.min, target networks updated by polyak averaging under no_grad, the temperature
# alpha learned through log_alpha), a Beta policy on a bounded action space (softplus + 1
# concentrations, log_prob/entropy/mean), a Dirichlet portfolio policy, a Gamma
# waiting-time likelihood, and expand() of a distribution over a batch.
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Beta, Dirichlet, Gamma, Normal, TransformedDistribution
from torch.distributions.transforms import AffineTransform, TanhTransform

rng = np.random.default_rng(85)
LOG_STD_MAX, LOG_STD_MIN = 0, -5


def fill(module, scale=0.3):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, scale, tuple(p.shape)).astype(np.float32)))


class SoftQNetwork(nn.Module):
    def __init__(self, obs_dim, act_dim):
        super().__init__()
        self.fc1 = nn.Linear(obs_dim + act_dim, 32)
        self.fc2 = nn.Linear(32, 32)
        self.fc3 = nn.Linear(32, 1)

    def forward(self, x, a):
        x = torch.cat([x, a], 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class Actor(nn.Module):
    def __init__(self, obs_dim, act_dim, low, high):
        super().__init__()
        self.fc1 = nn.Linear(obs_dim, 32)
        self.fc_mean = nn.Linear(32, act_dim)
        self.fc_logstd = nn.Linear(32, act_dim)
        self.register_buffer("action_scale", torch.tensor((high - low) / 2.0, dtype=torch.float32))
        self.register_buffer("action_bias", torch.tensor((high + low) / 2.0, dtype=torch.float32))

    def forward(self, x):
        x = F.relu(self.fc1(x))
        mean = self.fc_mean(x)
        log_std = torch.tanh(self.fc_logstd(x))
        log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (log_std + 1)
        return mean, log_std

    def get_action(self, x, eps):
        mean, log_std = self(x)
        std = log_std.exp()
        normal = torch.distributions.Normal(mean, std)
        x_t = mean + std * eps  # normal.rsample() with the noise given
        y_t = torch.tanh(x_t)
        action = y_t * self.action_scale + self.action_bias
        log_prob = normal.log_prob(x_t)
        log_prob -= torch.log(self.action_scale * (1 - y_t.pow(2)) + 1e-6)
        log_prob = log_prob.sum(1, keepdim=True)
        mean = torch.tanh(mean) * self.action_scale + self.action_bias
        squashed = TransformedDistribution(Normal(self(x)[0], std),
                                           [TanhTransform(cache_size=1),
                                            AffineTransform(self.action_bias, self.action_scale)])
        return action, log_prob, mean, squashed


obs_dim, act_dim = 4, 2
low, high = np.array([-1.0, 0.0]), np.array([1.0, 2.0])
actor = Actor(obs_dim, act_dim, low, high)
qf1, qf2 = SoftQNetwork(obs_dim, act_dim), SoftQNetwork(obs_dim, act_dim)
for net in (actor, qf1, qf2):
    fill(net)
qf1_target, qf2_target = copy.deepcopy(qf1), copy.deepcopy(qf2)
q_optimizer = torch.optim.Adam(list(qf1.parameters()) + list(qf2.parameters()), lr=1e-3)
actor_optimizer = torch.optim.Adam(list(actor.parameters()), lr=3e-4)
target_entropy = -torch.prod(torch.Tensor((act_dim,))).item()
log_alpha = torch.zeros(1, requires_grad=True)
alpha = log_alpha.exp().item()
a_optimizer = torch.optim.Adam([log_alpha], lr=1e-3)
gamma, tau = 0.99, 0.005

B = 16
obs = torch.from_numpy(rng.standard_normal((B, obs_dim)).astype(np.float32))
next_obs = torch.from_numpy(rng.standard_normal((B, obs_dim)).astype(np.float32))
actions = torch.from_numpy(rng.uniform(low, high, (B, act_dim)).astype(np.float32))
rewards = torch.from_numpy(rng.standard_normal(B).astype(np.float32))
dones = torch.from_numpy((rng.random(B) < 0.1).astype(np.float32))
history = []
for global_step in range(6):
    eps_next = torch.from_numpy(rng.standard_normal((B, act_dim)).astype(np.float32))
    with torch.no_grad():
        next_state_actions, next_state_log_pi, _, _ = actor.get_action(next_obs, eps_next)
        qf1_next_target = qf1_target(next_obs, next_state_actions)
        qf2_next_target = qf2_target(next_obs, next_state_actions)
        min_qf_next_target = torch.min(qf1_next_target, qf2_next_target) - alpha * next_state_log_pi
        next_q_value = rewards.flatten() + (1 - dones.flatten()) * gamma * (min_qf_next_target).view(-1)
    qf1_a_values = qf1(obs, actions).view(-1)
    qf2_a_values = qf2(obs, actions).view(-1)
    qf1_loss = F.mse_loss(qf1_a_values, next_q_value)
    qf2_loss = F.mse_loss(qf2_a_values, next_q_value)
    qf_loss = qf1_loss + qf2_loss
    q_optimizer.zero_grad()
    qf_loss.backward()
    q_optimizer.step()

    eps = torch.from_numpy(rng.standard_normal((B, act_dim)).astype(np.float32))
    pi, log_pi, _, squashed = actor.get_action(obs, eps)
    qf1_pi = qf1(obs, pi)
    qf2_pi = qf2(obs, pi)
    min_qf_pi = torch.min(qf1_pi, qf2_pi)
    actor_loss = ((alpha * log_pi) - min_qf_pi).mean()
    transformed_lp = squashed.log_prob(pi.detach()).sum(1)
    actor_optimizer.zero_grad()
    actor_loss.backward()
    actor_optimizer.step()

    with torch.no_grad():
        _, log_pi, _, _ = actor.get_action(obs, eps)
    alpha_loss = (-log_alpha.exp() * (log_pi + target_entropy)).mean()
    a_optimizer.zero_grad()
    alpha_loss.backward()
    a_optimizer.step()
    alpha = log_alpha.exp().item()

    for param, target_param in zip(qf1.parameters(), qf1_target.parameters()):
        target_param.data.copy_(tau * param.data + (1 - tau) * target_param.data)
    for param, target_param in zip(qf2.parameters(), qf2_target.parameters()):
        target_param.data.copy_(tau * param.data + (1 - tau) * target_param.data)
    history.append((qf_loss.item(), actor_loss.item(), alpha, transformed_lp[:3].detach()))


class BetaPolicy(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, 16), nn.Tanh())
        self.alpha_head = nn.Linear(16, act_dim)
        self.beta_head = nn.Linear(16, act_dim)

    def forward(self, x):
        h = self.body(x)
        return Beta(F.softplus(self.alpha_head(h)) + 1, F.softplus(self.beta_head(h)) + 1)


beta_policy = BetaPolicy()
fill(beta_policy)
beta_opt = torch.optim.SGD(beta_policy.parameters(), lr=0.1)
unit_actions = (actions - torch.tensor(low, dtype=torch.float32)) / torch.tensor(high - low, dtype=torch.float32)
unit_actions = unit_actions.clamp(1e-3, 1 - 1e-3)
beta_history = []
for step in range(5):
    dist = beta_policy(obs)
    loss = -(dist.log_prob(unit_actions).sum(-1) * rewards).mean() - 0.01 * dist.entropy().sum(-1).mean()
    beta_opt.zero_grad()
    loss.backward()
    beta_opt.step()
    beta_history.append((loss.item(), dist.mean[0], dist.variance[0]))

logits = torch.from_numpy(rng.standard_normal((3, 4)).astype(np.float32)).requires_grad_()
weights = torch.from_numpy(rng.dirichlet(np.ones(4), 3).astype(np.float32))
portfolio = Dirichlet(F.softplus(logits) + 0.5)
dirichlet_lp = portfolio.log_prob(weights)
dirichlet_lp.sum().backward()

waits = torch.from_numpy(rng.gamma(2.0, 0.5, 20).astype(np.float32))
log_conc = torch.zeros(1, requires_grad=True)
log_rate = torch.zeros(1, requires_grad=True)
gamma_opt = torch.optim.Adam([log_conc, log_rate], lr=0.1)
gamma_nll = []
for step in range(20):
    nll = -Gamma(log_conc.exp(), log_rate.exp()).log_prob(waits).mean()
    gamma_opt.zero_grad()
    nll.backward()
    gamma_opt.step()
    gamma_nll.append(nll.item())

batched = Normal(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 2.0])).expand(torch.Size([3, 2]))
RESULT = {"sac": history, "actor": actor.fc_mean.weight, "q_target": qf1_target.fc3.bias,
          "log_alpha": log_alpha, "beta": beta_history, "dirichlet": [dirichlet_lp, logits.grad,
          portfolio.entropy(), portfolio.mean], "gamma": gamma_nll,
          "gamma_params": [log_conc.exp(), log_rate.exp()],
          "expanded": [tuple(batched.batch_shape), batched.log_prob(torch.zeros(3, 2))],
          "target_entropy": target_entropy}
