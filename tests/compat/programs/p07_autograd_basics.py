# ruff: noqa - written as PyTorch tutorials write it
# Autograd basics: a one-layer logistic model, grad_fn, no_grad, detach, a
# vector-Jacobian product with retain_graph and gradient accumulation.
import numpy as np
import torch

x = torch.ones(5)
y = torch.zeros(3)
rng = np.random.default_rng(7)
w = torch.tensor(rng.standard_normal((5, 3)), dtype=torch.float32, requires_grad=True)
b = torch.tensor(rng.standard_normal(3), dtype=torch.float32, requires_grad=True)
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)

has_grad_fn = [z.grad_fn is not None, loss.grad_fn is not None]
loss.backward()
grads = [w.grad.clone(), b.grad.clone()]

z = torch.matmul(x, w) + b
tracked = z.requires_grad
with torch.no_grad():
    z = torch.matmul(x, w) + b
untracked = z.requires_grad
z_det = (torch.matmul(x, w) + b).detach()

inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
first = inp.grad.clone()
out.backward(torch.ones_like(out))
second = inp.grad.clone()
inp.grad.zero_()
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out))
third = inp.grad.clone()

RESULT = {"loss": loss.item(), "grads": grads, "has_grad_fn": has_grad_fn,
          "tracked": [tracked, untracked, z_det.requires_grad],
          "vjp": [first, second, third]}
