# ruff: noqa - written as PyTorch user code is written
# Policy-gradient agents in the shape of pytorch/examples' reinforcement_learning:
# REINFORCE (a Policy module with saved_log_probs, Categorical(probs), discounted returns
# normalized with np.finfo(np.float32).eps, torch.cat of the policy loss) and
# actor-critic (SavedAction namedtuple, shared body with two heads, smooth_l1_loss for the
# value, torch.stack(...).sum()), on a small deterministic chain environment. The actions
# come from NumPy (the two libraries' sampling streams differ); m.sample() is still used
# for its shape, dtype and range.
from collections import namedtuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions import Categorical

torch.manual_seed(543)
rng = np.random.default_rng(73)
gamma = 0.99
eps = np.finfo(np.float32).eps.item()


class ChainEnv:
    """Five states in a row; action 1 moves right, 0 left; reward at the right end."""

    def __init__(self):
        self.pos = 0

    def reset(self):
        self.pos = 0
        return self.obs()

    def obs(self):
        o = np.zeros(5, dtype=np.float32)
        o[self.pos] = 1.0
        return o

    def step(self, action):
        self.pos = min(4, self.pos + 1) if action == 1 else max(0, self.pos - 1)
        done = self.pos == 4
        return self.obs(), (1.0 if done else -0.1), done


def fill(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, 0.4, tuple(p.shape)).astype(np.float32)))


class Policy(nn.Module):
    def __init__(self):
        super(Policy, self).__init__()
        self.affine1 = nn.Linear(5, 16)
        self.dropout = nn.Dropout(p=0.0)
        self.affine2 = nn.Linear(16, 2)
        self.saved_log_probs = []
        self.rewards = []

    def forward(self, x):
        x = self.affine1(x)
        x = self.dropout(x)
        x = F.relu(x)
        action_scores = self.affine2(x)
        return F.softmax(action_scores, dim=1)


policy = Policy()
fill(policy)
optimizer = optim.Adam(policy.parameters(), lr=1e-2)
sample_checks = []


def select_action(state):
    state = torch.from_numpy(state).float().unsqueeze(0)
    probs = policy(state)
    m = Categorical(probs)
    drawn = m.sample()
    sample_checks.append((tuple(drawn.shape), str(drawn.dtype), 0 <= drawn.item() <= 1))
    action = torch.tensor([int(rng.random() < probs[0, 1].item())])
    policy.saved_log_probs.append(m.log_prob(action))
    return action.item()


def finish_episode():
    R = 0
    policy_loss = []
    returns = []
    for r in policy.rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    for log_prob, R in zip(policy.saved_log_probs, returns):
        policy_loss.append(-log_prob * R)
    optimizer.zero_grad()
    policy_loss = torch.cat(policy_loss).sum()
    policy_loss.backward()
    optimizer.step()
    del policy.rewards[:]
    del policy.saved_log_probs[:]
    return policy_loss.item()


env = ChainEnv()
reinforce_losses, running_rewards = [], []
running_reward = 10
for i_episode in range(6):
    state, ep_reward = env.reset(), 0
    for t in range(1, 12):
        action = select_action(state)
        state, reward, done = env.step(action)
        policy.rewards.append(reward)
        ep_reward += reward
        if done:
            break
    running_reward = 0.05 * ep_reward + (1 - 0.05) * running_reward
    running_rewards.append(running_reward)
    reinforce_losses.append(finish_episode())

SavedAction = namedtuple('SavedAction', ['log_prob', 'value'])


class ActorCritic(nn.Module):
    def __init__(self):
        super(ActorCritic, self).__init__()
        self.affine1 = nn.Linear(5, 16)
        self.action_head = nn.Linear(16, 2)
        self.value_head = nn.Linear(16, 1)
        self.saved_actions = []
        self.rewards = []

    def forward(self, x):
        x = F.relu(self.affine1(x))
        action_prob = F.softmax(self.action_head(x), dim=-1)
        state_values = self.value_head(x)
        return action_prob, state_values


model = ActorCritic()
fill(model)
ac_optimizer = optim.Adam(model.parameters(), lr=3e-2)
ac_losses, entropies = [], []
for i_episode in range(6):
    state = env.reset()
    for t in range(1, 12):
        state_t = torch.from_numpy(state).float()
        probs, state_value = model(state_t)
        m = Categorical(probs)
        entropies.append(m.entropy().item())
        action = torch.tensor(int(rng.random() < probs[1].item()))
        model.saved_actions.append(SavedAction(m.log_prob(action), state_value))
        state, reward, done = env.step(action.item())
        model.rewards.append(reward)
        if done:
            break
    R = 0
    saved_actions = model.saved_actions
    policy_losses, value_losses, returns = [], [], []
    for r in model.rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    for (log_prob, value), R in zip(saved_actions, returns):
        advantage = R - value.item()
        policy_losses.append(-log_prob * advantage)
        value_losses.append(F.smooth_l1_loss(value, torch.tensor([R])))
    ac_optimizer.zero_grad()
    loss = torch.stack(policy_losses).sum() + torch.stack(value_losses).sum()
    loss.backward()
    ac_optimizer.step()
    ac_losses.append(loss.item())
    del model.rewards[:]
    del model.saved_actions[:]

m = Categorical(logits=torch.tensor([[0.5, -0.5, 1.0], [0.0, 0.0, 0.0]]))
RESULT = {"reinforce": reinforce_losses, "running": running_rewards, "ac": ac_losses,
          "entropies": entropies, "samples": sample_checks[:3],
          "policy": [p for p in policy.parameters()], "critic": model.value_head.weight,
          "probs": m.probs, "lp": m.log_prob(torch.tensor([2, 1])),
          "sample_shape": tuple(m.sample((4,)).shape), "support": m.enumerate_support(),
          "batch_shape": tuple(m.batch_shape), "perplexity": m.perplexity()}
