# ruff: noqa - written as PyTorch user code is written
# Views share memory, in-place methods of every kind, out= arguments, and custom
# autograd Functions with the ctx features research code uses.
import numpy as np
import torch

rng = np.random.default_rng(58)
out = {}

# views write through to their base (no autograd involved)
base = torch.arange(12.0).reshape(3, 4)
flat = base.view(-1)
flat[0] = 100.0
row = base[1]
row.mul_(2)
col = base[:, 2]
col.fill_(-1.0)
tr = base.t()
tr[0, 2] = 7.0
base.narrow(1, 3, 1).zero_()
base.diagonal().add_(0.5)
out["views"] = [base.clone(), flat.clone(), base.is_contiguous(), tr.is_contiguous(),
                base.data_ptr() == flat.data_ptr() if hasattr(base, "data_ptr") else True]
y = torch.ones(2, 3)
y.unsqueeze_(0)
y.transpose_(1, 2)
y.squeeze_(0)
y.t_()
out["shape_inplace"] = list(y.shape)
z = torch.zeros(2, 3)
z.add_(torch.ones(3), alpha=2).sub_(0.5).mul_(torch.tensor([1.0, 2.0, 3.0])).div_(2)
z.addcmul_(z, z, value=0.5).addcdiv_(z, z + 1, value=-1).clamp_(min=0.1, max=2.0)
z.copy_(z.flip(1)).pow_(2).sqrt_().neg_().abs_().exp_().log_()
z.lerp_(torch.zeros(2, 3), 0.25).masked_fill_(z > 1.0, 0.0).index_fill_(1, torch.tensor([0]), 9.0)
out["chain"] = z
r = torch.empty(2, 3)
torch.add(torch.ones(2, 3), 2, out=r)
torch.mul(r, r, out=r)
m = torch.zeros(2, 2)
torch.matmul(torch.eye(2), torch.full((2, 2), 3.0), out=m)
s = torch.zeros(3)
torch.sum(torch.ones(3, 4), dim=1, out=s)
c = torch.zeros(4, 3)
torch.cat([torch.ones(2, 3), torch.zeros(2, 3)], dim=0, out=c)
out["out"] = [r, m, s, c]

# in-place on the graph: accumulators, masked updates, and what PyTorch refuses
w = torch.tensor(rng.standard_normal((3, 4)), dtype=torch.float32, requires_grad=True)
h = w * 1.0
h.add_(w.pow(2), alpha=0.5)
h[h > 0.5] = 0.5
h.mul_(torch.linspace(1, 2, 4))
h.clamp_(-1.0, 1.0)
h.index_add_(0, torch.tensor([0, 0]), w[1:3])
h.masked_fill_(w.abs() < 0.1, 0.0)
acc = torch.zeros(4)
for i in range(3):
    acc += h[i] * (i + 1)
loss = acc.sum() + h.tanh().sum()
loss.backward()
out["graph_inplace"] = [h.detach(), w.grad]
# writing parameters into slices of a buffer made off the graph (PyTorch's CopySlices)
w.grad = None
buf = torch.zeros(3, 6)
buf[:, :4].copy_(w)
buf.narrow(1, 4, 2).copy_(w[:, :2] * 2)
buf.select(0, 2).mul_(3)
(buf * torch.arange(18.0).reshape(3, 6)).sum().backward()
out["copy_into_slices"] = [buf.detach(), w.grad.clone(), buf.requires_grad]
errors = []
leaf = torch.ones(3, requires_grad=True)
for attempt in (lambda: leaf.mul_(2), lambda: leaf.copy_(torch.zeros(3)),
                lambda: leaf.__setitem__(0, 5.0), lambda: torch.add(leaf, 1, out=torch.zeros(3))):
    try:
        attempt()
        errors.append(False)
    except RuntimeError:
        errors.append(True)
out["refused"] = errors


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        result = x ** 3 * scale
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        x, result = ctx.saved_tensors
        assert ctx.needs_input_grad[0]
        return grad_out * 3 * x ** 2 * ctx.scale, None


class SortWithIndex(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        values, index = x.sort()
        ctx.mark_non_differentiable(index)
        ctx.save_for_backward(index)
        return values, index

    @staticmethod
    def backward(ctx, grad_values, grad_index):
        (index,) = ctx.saved_tensors
        grad = torch.zeros_like(grad_values)
        grad.scatter_(0, index, grad_values)
        return grad


class ClipGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g):
        return g.clamp(-0.1, 0.1)


class ScaleRows(torch.autograd.Function):
    # backward returns the scale's gradient at the product's shape; autograd sums it back
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x, scale)
        return x * scale

    @staticmethod
    def backward(ctx, g):
        x, scale = ctx.saved_tensors
        return g * scale, g * x


v = torch.tensor(rng.standard_normal(5), dtype=torch.float64, requires_grad=True)
scale = torch.ones(5, dtype=torch.float64, requires_grad=True)
scaled = ScaleRows.apply(v.unsqueeze(0).expand(3, 5) * 1.0, scale)
scaled.pow(2).sum().backward()
out["broadcast_backward"] = [scale.grad.clone(), v.grad.clone()]
v.grad = None
cubed = Cube.apply(v, 0.5)
values, index = SortWithIndex.apply(v * 2)
clipped = ClipGrad.apply(v * 10)
total = cubed.sum() + (values * torch.arange(5.0, dtype=torch.float64)).sum() + clipped.sum()
total.backward()
out["functions"] = [cubed, values, index, index.requires_grad, v.grad,
                    torch.autograd.gradcheck(lambda t: Cube.apply(t, 2.0), (v.detach().requires_grad_(),))]
RESULT = out
