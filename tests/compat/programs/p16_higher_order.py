# ruff: noqa - written as PyTorch tutorials write it
# torch.autograd.grad with create_graph (a gradient penalty and a second derivative),
# torch.autograd.functional.jacobian / hessian / vjp / jvp / hvp, gradcheck, gradgradcheck.
import torch
from torch.autograd import grad
from torch.autograd.functional import hessian, hvp, jacobian, jvp, vjp

x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
y = (x ** 3).sum()
(dy,) = grad(y, x, create_graph=True)
(d2y,) = torch.autograd.grad(dy.sum(), x)


def f(v):
    return torch.stack([v[0] * v[1], v[1].sin(), (v ** 2).sum()])


def scalar(v):
    return (v.exp() * v).sum()


v0 = torch.tensor([0.3, -0.7, 1.1])
J = jacobian(f, v0)
H = hessian(scalar, v0)
out, vjp_val = vjp(f, v0, torch.tensor([1.0, 2.0, 3.0]))
out2, jvp_val = jvp(f, v0, torch.tensor([1.0, 0.0, -1.0]))
out3, hvp_val = hvp(scalar, v0, torch.tensor([1.0, 1.0, 0.5]))

w = torch.randn(3, dtype=torch.double, requires_grad=True)
ok1 = torch.autograd.gradcheck(lambda t: (t.tanh() * t).sum(), (w,))
ok2 = torch.autograd.gradgradcheck(lambda t: t.sigmoid() * t, (w,))

z = torch.ones(2, 2, requires_grad=True)
with torch.autograd.set_detect_anomaly(True):
    (z * z).sum().backward()
RESULT = {"dy": dy, "d2y": d2y, "J": J, "H": H, "vjp": [out, vjp_val], "jvp": [out2, jvp_val],
          "hvp": [out3, hvp_val], "checks": [ok1, ok2], "zgrad": z.grad}
