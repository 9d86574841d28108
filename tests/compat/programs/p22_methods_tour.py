# ruff: noqa - written as PyTorch tutorials write it
# The tensor methods that PyTorch programs reach for, values and gradients.
import numpy as np
import torch

rng = np.random.default_rng(22)
a = torch.tensor(rng.standard_normal((3, 4)), dtype=torch.float32, requires_grad=True)
idx = torch.tensor([[0, 2], [1, 3], [3, 0]])
results = [
    a.gather(1, idx), a.index_select(0, torch.tensor([2, 0])), a.repeat(2, 1),
    a.repeat_interleave(2, dim=0), a.expand(2, 3, 4).sum(0), a.flip(1), a.roll(1, dims=1),
    a.narrow(1, 1, 2), torch.tril(a), a.triu(1), a.unflatten(1, (2, 2)).sum(-1),
    torch.hstack([a, a]), torch.vstack([a, a]), torch.einsum("ij,kj->ik", a, a),
    torch.outer(a[0], a[1]), torch.addmm(a[:, :3], a, a.t()[:, :3].contiguous()),
    torch.bmm(a.unsqueeze(0), a.t().unsqueeze(0)), torch.mm(a, a.t()), a.cumprod(1),
    a.clamp_min(0), a.clamp_max(0.1), torch.lerp(a, torch.ones_like(a), 0.3),
    a.masked_select(a > 0), a.scatter(1, idx, torch.ones(3, 2)), a.sign() * a,
    a.unbind(1)[2], a.view_as(torch.empty(4, 3)), a.expand_as(torch.empty(2, 3, 4))[1],
    torch.index_add(a, 0, torch.tensor([0, 0]), a[:2]), a.scatter_add(1, idx, a[:, :2]),
    a.square(), a.rsqrt().nan_to_num(0.0), a.median(dim=1).values, a.sort(1).values,
    a.new_zeros(2).add(1), a.logical_not().float(), a.prod(), torch.dot(a[0], a[1]),
]
total = sum(r.float().sum() for r in results)
total.backward()
ints = torch.tensor([1, 3, 3, 0, 1, 3])
extras = [torch.unique(ints), torch.bincount(ints), ints.argwhere().flatten(),
          torch.isclose(a, a + 1e-9).all(), torch.allclose(a, a), torch.equal(a, a),
          torch.logical_and(a > 0, a < 1), a.eq(a).all(), a.ne(0).sum(), a.ge(0).sum(),
          torch.kthvalue(a.detach(), 2, dim=1).values, torch.mode(ints).values,
          torch.topk(a.detach(), 2, dim=1, largest=False).indices, a.detach().new_ones((2, 2)),
          a.detach().new_full((2,), 3.0), a.detach().new_tensor([1, 2]).dtype == torch.int64,
          torch.nn.functional.one_hot(ints, 4)]
RESULT = {"values": [r.detach() for r in results], "grad": a.grad, "extras": extras}
