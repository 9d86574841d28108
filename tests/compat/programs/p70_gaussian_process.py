# ruff: noqa - written as PyTorch user code is written
# Gaussian-process regression: an RBF kernel, the marginal likelihood through Cholesky,
# hyperparameters fitted with Adam, then the posterior mean and variance.
import math

import numpy as np
import torch

rng = np.random.default_rng(60)
x_train = torch.tensor(np.sort(rng.uniform(-3, 3, 12)), dtype=torch.float64).unsqueeze(1)
y_train = torch.sin(x_train).squeeze(1) + 0.1 * torch.tensor(rng.standard_normal(12))
x_test = torch.linspace(-3, 3, 7, dtype=torch.float64).unsqueeze(1)

log_lengthscale = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
log_signal = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
log_noise = torch.tensor(-1.0, dtype=torch.float64, requires_grad=True)


def kernel(a, b):
    sq = torch.cdist(a, b).pow(2)
    return log_signal.exp().pow(2) * torch.exp(-0.5 * sq / log_lengthscale.exp().pow(2))


def negative_log_marginal_likelihood():
    n = x_train.shape[0]
    K = kernel(x_train, x_train) + (log_noise.exp().pow(2) + 1e-6) * torch.eye(n, dtype=torch.float64)
    L = torch.linalg.cholesky(K)
    alpha = torch.cholesky_solve(y_train.unsqueeze(1), L)
    return (0.5 * y_train @ alpha.squeeze(1) + torch.log(torch.diagonal(L)).sum()
            + 0.5 * n * math.log(2 * math.pi))


optimizer = torch.optim.Adam([log_lengthscale, log_signal, log_noise], lr=0.05)
history = []
for step in range(40):
    optimizer.zero_grad()
    loss = negative_log_marginal_likelihood()
    loss.backward()
    optimizer.step()
    history.append(loss.item())

with torch.no_grad():
    n = x_train.shape[0]
    K = kernel(x_train, x_train) + (log_noise.exp().pow(2) + 1e-6) * torch.eye(n, dtype=torch.float64)
    K_s = kernel(x_test, x_train)
    K_ss = kernel(x_test, x_test)
    L = torch.linalg.cholesky(K)
    mean = K_s @ torch.cholesky_solve(y_train.unsqueeze(1), L)
    v = torch.linalg.solve_triangular(L, K_s.T, upper=False)
    cov = K_ss - v.T @ v
    sign, logdet = torch.linalg.slogdet(K)
RESULT = {"history": history, "params": [log_lengthscale, log_signal, log_noise],
          "mean": mean.squeeze(1), "var": torch.diagonal(cov), "logdet": logdet, "sign": sign,
          "eig": torch.linalg.eigvalsh(K)[:3]}
