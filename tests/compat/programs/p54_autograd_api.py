# ruff: noqa - written as PyTorch user code is written
# The autograd API as research code uses it: grad() with create_graph / allow_unused /
# retain_graph, backward on non-scalars with gradient=, accumulation, retain_grad,
# requires_grad_/detach_, and the errors PyTorch raises on misuse.
import numpy as np
import torch

rng = np.random.default_rng(30)
x = torch.tensor(rng.uniform(-1, 1, (3, 4)), dtype=torch.float32, requires_grad=True)
y = torch.tensor(rng.uniform(-1, 1, (4,)), dtype=torch.float32, requires_grad=True)
unused = torch.tensor(1.0, requires_grad=True)
out = {}

# grad with create_graph: a gradient penalty (WGAN-GP style) and a Hessian-vector product
f = (torch.tanh(x @ y) ** 2).sum()
gx, gy = torch.autograd.grad(f, (x, y), create_graph=True)
penalty = ((gx.norm(dim=1) - 1) ** 2).mean() + gy.pow(2).sum()
penalty.backward()
out["penalty"] = [penalty, x.grad.clone(), y.grad.clone(), gx.detach(), gy.detach()]
x.grad = None
y.grad = None
h = (x.sin() * y).sum()
(g,) = torch.autograd.grad(h, x, create_graph=True)
hvp = torch.autograd.grad(g, x, grad_outputs=torch.ones_like(g))[0]
out["hvp"] = hvp
g1, g2 = torch.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
out["allow_unused"] = [g1, g2 is None]
g3 = torch.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True,
                         materialize_grads=True)[1]
out["materialize"] = g3
try:
    torch.autograd.grad((x * 2).sum(), [x, unused])
    out["unused_error"] = False
except RuntimeError:
    out["unused_error"] = True

# retain_graph: two backward passes through one graph accumulate; a third without it fails
z = (x.exp() * y).sum()
z.backward(retain_graph=True)
first = x.grad.clone()
z.backward()
out["accumulated"] = [first, x.grad.clone(), torch.allclose(x.grad, 2 * first)]
x.grad.zero_()
try:
    z.backward()
    out["second_free"] = False
except RuntimeError:
    out["second_free"] = True
out["grad_y"] = torch.autograd.grad((x.exp() * y).sum(), y)[0]

# backward on a non-scalar with gradient=, and torch.autograd.backward on several roots
x.grad = None
y.grad = None
v = x * y
v.backward(gradient=torch.linspace(-1, 1, 12).reshape(3, 4))
out["nonscalar"] = [x.grad.clone(), y.grad.clone()]
try:
    (x * y).backward()
    out["implicit_error"] = False
except RuntimeError:
    out["implicit_error"] = True
x.grad = None
y.grad = None
torch.autograd.backward([(x ** 2).sum(), x @ y], [torch.tensor(0.5), torch.ones(3)])
out["multi_root"] = [x.grad.clone(), y.grad.clone()]

# retain_grad on intermediates, requires_grad_, detach_, hooks changing the gradient
x.grad = None
a = x * 3
a.retain_grad()
b = a.relu()
b.retain_grad()
c = (b * y).sum()
c.backward()
out["retained"] = [a.grad, b.grad, a.is_leaf, b.requires_grad, x.grad.clone(), a.grad_fn is not None]
leaf = torch.tensor(rng.uniform(-1, 1, 5), dtype=torch.float32)
out["before"] = [leaf.requires_grad, leaf.is_leaf]
leaf.requires_grad_()
(leaf ** 3).sum().backward()
out["requires_grad_"] = [leaf.grad, leaf.requires_grad]
d = leaf * 2
d.detach_()
out["detach_"] = [d.requires_grad, d.is_leaf, d.grad_fn is None]
e = leaf.detach().requires_grad_(True)
handle = e.register_hook(lambda grad: grad * 10)
(e * e).sum().backward()
handle.remove()
(e * e).sum().backward()
out["hooked"] = e.grad

# in-place misuse: PyTorch refuses these, so must chainrule
errors = {}
w = torch.ones(3, requires_grad=True)
try:
    w.add_(1)
    errors["leaf_inplace"] = False
except RuntimeError:
    errors["leaf_inplace"] = True
with torch.no_grad():
    w.mul_(2)
errors["no_grad_ok"] = w.tolist()
p = w * 1
q = p.sigmoid()
p.detach().mul_(3)  # changes what sigmoid saved, behind autograd's back
try:
    q.sum().backward()
    errors["version"] = False
except RuntimeError:
    errors["version"] = True
r = w.exp()
s = r * 2   # mul saved r
r2 = r.detach()
r2.zero_()
try:
    (s * r).sum().backward()
    errors["version2"] = False
except RuntimeError:
    errors["version2"] = True
errors["set_grad_enabled"] = []
with torch.set_grad_enabled(False):
    errors["set_grad_enabled"].append((w * 2).requires_grad)
with torch.enable_grad():
    errors["set_grad_enabled"].append((w * 2).requires_grad)
with torch.inference_mode():
    errors["set_grad_enabled"].append((w * 2).requires_grad)
errors["is_grad_enabled"] = torch.is_grad_enabled()
out["errors"] = errors
# a functional-style gradient step with torch.autograd.grad inside no_grad updates
params = [torch.tensor(rng.standard_normal((4, 2)), dtype=torch.float32, requires_grad=True)]
for step in range(3):
    loss = ((x @ params[0]).tanh() ** 2).mean()
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for prm, gr in zip(params, grads):
            prm -= 0.5 * gr
out["steps"] = [params[0], loss.detach()]
RESULT = out
