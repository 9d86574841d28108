# ruff: noqa - written as PyTorch user code is written
# torch.func as research code uses it: per-sample gradients with vmap(grad(...)) and
# functional_call, Jacobians and Hessians, jvp/vjp, and nested transforms.
import numpy as np
import torch
import torch.nn as nn
from torch.func import functional_call, grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp, vmap

rng = np.random.default_rng(57)
model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.5, dtype=torch.float32))
params = {k: v.detach() for k, v in model.named_parameters()}
x = torch.tensor(rng.standard_normal((4, 3)), dtype=torch.float32)
y = torch.tensor([0, 1, 1, 0])
out = {}


def loss_fn(params, xi, yi):
    logits = functional_call(model, params, (xi.unsqueeze(0),))
    return nn.functional.cross_entropy(logits, yi.unsqueeze(0))


per_sample = vmap(grad(loss_fn), in_dims=(None, 0, 0))(params, x, y)
out["per_sample"] = per_sample
# the mean of per-sample gradients is the batch gradient
model.zero_grad()
nn.functional.cross_entropy(model(x), y).backward()
out["batch_grad"] = {k: p.grad for k, p in model.named_parameters()}
out["mean_matches"] = all(torch.allclose(per_sample[k].mean(0), p.grad, atol=1e-6)
                          for k, p in model.named_parameters())
g, value = grad_and_value(loss_fn)(params, x[0], y[0])
out["grad_and_value"] = [g["0.weight"], value]


def f(v):
    return (v.sin() * v.pow(2)).sum()


v = torch.tensor(rng.standard_normal(5), dtype=torch.float64)
out["grad"] = grad(f)(v)
out["grad_grad"] = grad(lambda t: grad(f)(t).sum())(v)
out["hessian"] = hessian(f)(v)
out["jacrev"] = jacrev(torch.tanh)(v)
out["jacfwd"] = jacfwd(lambda a, b: a * b.exp(), argnums=(0, 1))(v, v.flip(0))
value, tangent = jvp(lambda t: t.exp() * t, (v,), (torch.ones(5, dtype=torch.float64),))
out["jvp"] = [value, tangent]
value, back = vjp(lambda a, b: (a * b).cumsum(0), v, v * 2)
out["vjp"] = list(back(torch.linspace(0, 1, 5, dtype=torch.float64)))
out["aux"] = grad(lambda t: (f(t), t.max()), has_aux=True)(v)
out["vmap_matmul"] = vmap(torch.mv, in_dims=(None, 0))(x.T[:2], torch.ones(3, 4))
out["vmap_out_dim"] = vmap(lambda a: a * 2, out_dims=1)(x)
out["vmap_nested"] = vmap(vmap(lambda a, b: a * b))(x, x + 1)
out["vmap_tuple"] = list(vmap(lambda a: (a.sum(), a.max()))(x))
out["jac_batch"] = vmap(jacrev(torch.sin))(x.double())
# a hand-written Newton step on a quadratic with the Hessian from torch.func
A = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
b = torch.tensor([1.0, -1.0], dtype=torch.float64)
quad = lambda w: 0.5 * w @ A @ w - b @ w
w = torch.zeros(2, dtype=torch.float64)
w = w - torch.linalg.solve(hessian(quad)(w), grad(quad)(w))
out["newton"] = [w, grad(quad)(w).abs().max() < 1e-12]
# forward-mode AD with dual tensors: a directional derivative of a small network
import torch.autograd.forward_ad as fwAD

direction = torch.tensor(rng.standard_normal((4, 3)), dtype=torch.float32)
with fwAD.dual_level():
    dual_x = fwAD.make_dual(x, direction)
    logits = functional_call(model, params, (dual_x,))
    primal, tangent = fwAD.unpack_dual(logits.log_softmax(-1))
out["forward_ad"] = [primal, tangent]
RESULT = out
