# ruff: noqa - written as PyTorch user code is written
# torch.autograd.functional: jacobian / hessian / vjp / jvp / hvp / vhp on functions of
# one and several tensors, create_graph, vectorize, strict; and torch.func's grad/jacrev/
# jacfwd/hessian/vmap for the same maths.
import numpy as np
import torch
from torch.autograd.functional import hessian, hvp, jacobian, jvp, vhp, vjp

rng = np.random.default_rng(95)
x = torch.tensor(rng.standard_normal(4), dtype=torch.float64)
y = torch.tensor(rng.standard_normal((2, 3)), dtype=torch.float64)
A = torch.tensor(rng.standard_normal((3, 4)), dtype=torch.float64)
out = {}


def f(x):
    return torch.tanh(A @ x) * x[:3].exp()


def g(x, y):
    return (x[:3] * y).sum(0) + y.pow(2).mean()


def energy(x):
    return (x.sin() * x.roll(1)).sum() + 0.5 * (x ** 4).sum()


def pair_energy(x, y):
    return (x[:3] @ y.T).pow(2).sum() + (y ** 3).sum()


out["jac"] = jacobian(f, x)
out["jac_vec"] = jacobian(f, x, vectorize=True)
out["jac_fwd"] = jacobian(f, x, vectorize=True, strategy="forward-mode")
jx, jy = jacobian(g, (x, y))
out["jac_pair"] = [jx, jy, list(jx.shape), list(jy.shape)]
out["jac_scalar_out"] = jacobian(energy, x)
out["hess"] = hessian(energy, x)
hxx = hessian(pair_energy, (x, y))
out["hess_pair"] = [hxx[0][0], hxx[0][1], hxx[1][0], hxx[1][1]]
vec = torch.tensor(rng.standard_normal(3), dtype=torch.float64)
value, vj = vjp(f, x, vec)
out["vjp"] = [value, vj]
value2, jv = jvp(f, x, torch.ones(4, dtype=torch.float64))
out["jvp"] = [value2, jv]
e, hv = hvp(energy, x, torch.arange(4.0, dtype=torch.float64))
e2, vh = vhp(energy, x, torch.arange(4.0, dtype=torch.float64))
out["hvp"] = [e, hv, e2, vh]
vals, (vx, vy) = vjp(g, (x, y), torch.ones(3, dtype=torch.float64))
out["vjp_pair"] = [vals, vx, vy]
# create_graph: differentiate the Jacobian's trace with respect to the input
xg = x.clone().requires_grad_()
J = jacobian(lambda t: torch.tanh(t) * t.sum(), xg, create_graph=True)
J.trace().backward()
out["trace_grad"] = xg.grad
# the torch.func spelling of the same
from torch.func import grad, hessian as fhessian, jacfwd, jacrev, vmap

out["func"] = [grad(energy)(x), jacrev(f)(x), jacfwd(f)(x), fhessian(energy)(x),
               jacrev(g, argnums=1)(x, y), vmap(energy)(torch.stack([x, 2 * x, -x]))]
batch = torch.tensor(rng.standard_normal((5, 4)), dtype=torch.float64)
out["per_sample_grad"] = vmap(grad(energy))(batch)
RESULT = out
