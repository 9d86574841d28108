# ruff: noqa - written as PyTorch user code is written
# PyTorch 2's split autograd.Function (forward without ctx + setup_context), activation
# checkpointing in a residual stack, and the odd tensor methods research code reaches for.
import numpy as np
import torch
import torch.nn as nn
from torch.utils.checkpoint import checkpoint, checkpoint_sequential

rng = np.random.default_rng(59)
out = {}


class ScaledSoftplus(torch.autograd.Function):
    @staticmethod
    def forward(x, beta):
        return torch.log1p(torch.exp(beta * x)) / beta

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, beta = inputs
        ctx.save_for_backward(x)
        ctx.beta = beta

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * torch.sigmoid(ctx.beta * x), None


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.lin = nn.Linear(width, width)

    def forward(self, h):
        return h + ScaledSoftplus.apply(self.lin(h), 2.0) * 0.5


torch.manual_seed(0)
blocks = nn.Sequential(*[Block(4) for _ in range(3)])
with torch.no_grad():
    for p in blocks.parameters():
        p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.4, dtype=torch.float32))
x = torch.tensor(rng.standard_normal((5, 4)), dtype=torch.float32, requires_grad=True)
h = x
for block in blocks:
    h = checkpoint(block, h, use_reentrant=False)
loss = h.pow(2).mean()
loss.backward()
out["checkpointed"] = [loss, x.grad.clone()] + [p.grad.clone() for p in blocks.parameters()]
blocks.zero_grad()
x.grad = None
plain = blocks(x).pow(2).mean()
plain.backward()
out["plain_equal"] = [torch.allclose(plain, loss), x.grad]
seq = checkpoint_sequential(blocks, 2, x, use_reentrant=False)
out["sequential"] = seq

y = torch.tensor(rng.standard_normal((3, 4)), dtype=torch.float32)
z = y.clone()
z.put_(torch.tensor([0, 5, 11]), torch.tensor([9.0, 8.0, 7.0]))
z2 = y.clone().put_(torch.tensor([1, 1]), torch.tensor([1.0, 2.0]), accumulate=True)
sc = torch.zeros(3, 4).scatter(1, torch.tensor([[0, 0], [1, 3], [2, 2]]), torch.ones(3, 2), reduce="add")
scm = torch.ones(3, 4).scatter(1, torch.tensor([[0, 0], [1, 3], [2, 2]]), 3.0, reduce="multiply")
bits = torch.tensor([1.0, -2.0, 0.5]).view(torch.int32)
back = bits.view(torch.float32)
u, inv, cnt = torch.unique(torch.tensor([[1, 2], [3, 4], [1, 2]]), dim=0, return_inverse=True,
                           return_counts=True)
applied = y.clone().apply_(lambda v: v * 2 + 1)
mant, expo = torch.frexp(y)
out["misc"] = [z, z2, sc, scm, bits, back, u, inv, cnt, applied, mant, expo,
               torch.ldexp(y, torch.tensor([1, 2, 3, 4])), y.mH, y.H, y.new(2, 3).shape,
               y.new([1.0, 2.0]), y.new([1.0]).dtype == y.dtype, y.nbytes, y.itemsize,
               y.is_complex(), torch.allclose(torch.tensor([float("nan")]), torch.tensor([float("nan")]), equal_nan=True),
               y.numpy(force=True)]
RESULT = out
