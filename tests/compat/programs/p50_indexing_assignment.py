# ruff: noqa - written as PyTorch user code is written
# Advanced and boolean indexing, with assignment, and the gradients that flow through it.
import numpy as np
import torch

rng = np.random.default_rng(26)
w = torch.tensor(rng.standard_normal((5, 4)), dtype=torch.float32, requires_grad=True)
v = torch.tensor(rng.standard_normal((3, 4)), dtype=torch.float32, requires_grad=True)
rows = torch.tensor([4, 0, 2])
cols = torch.tensor([1, 3, 3])
out = {}

# reading with integer tensors, lists, masks and mixed forms
picked = w[rows]                    # (3, 4)
pairs = w[rows, cols]               # (3,)
listed = w[[1, 1, 3]]
mixed = w[1:4, [0, 2]]
mask = w > 0.2
positives = w[mask]
neg_rows = w[w.sum(1) < 0]
ell = w[..., torch.tensor([0, -1])]
newaxis = w[None, :, 2]
nested = w[[[0, 1], [2, 3]]]          # a list of lists is a tuple of indices, as in PyTorch
empty = w[[]]
out["reads"] = [picked, pairs, listed, mixed, positives, neg_rows, ell, newaxis, nested,
                empty.shape]
loss = (picked * v).sum() + (pairs ** 2).sum() + listed.sum() + mixed.exp().sum() \
    + positives.sin().sum() + neg_rows.abs().sum() + (ell * 3).sum() + newaxis.sum() + nested.exp().sum()
loss.backward()
out["w.grad"] = w.grad.clone()
out["v.grad"] = v.grad.clone()

# writing into a non-leaf: x[idx] = v, x[mask] *= 2, index_put_ with accumulate
w.grad = None
v.grad = None
h = w * 1.0
h[rows] = v                          # rows replaced by v (a tensor that requires grad)
h[mask.logical_not() & (h > 0)] *= 2  # mask computed after the write
h[:, 0] = h[:, 0] + 10
h[h < -1] = -1.0
out["assigned"] = h.detach().clone()
(h * torch.arange(20.0).reshape(5, 4)).sum().backward()
out["assign.w.grad"] = w.grad.clone()
out["assign.v.grad"] = v.grad.clone()

w.grad = None
g = w.clone()
g.index_put_((torch.tensor([0, 0, 3]), torch.tensor([1, 1, 2])), torch.tensor([1.0, 2.0, 3.0]),
             accumulate=True)
g2 = torch.index_put(w, (torch.tensor([1, 2]),), v[:2] * 2)
(g.square().sum() + g2.sum()).backward()
out["index_put"] = [g, g2]
out["index_put.w.grad"] = w.grad.clone()
out["index_put.v.grad"] = v.grad.clone()

# gather / scatter families, in-place forms included
w.grad = None
v.grad = None
idx = torch.tensor(rng.integers(0, 4, (5, 2)))
gathered = torch.gather(w, 1, idx)
scattered = torch.zeros(5, 4).scatter(1, idx, gathered * 2)
added = torch.zeros(5, 4).scatter_add(1, idx, gathered)
z = torch.zeros(5, 4)
z.scatter_(1, idx, 1.5)
z2 = torch.ones(3, 4)
z2.scatter_add_(0, torch.tensor([[0, 1, 2, 0], [2, 2, 1, 0]]), torch.ones(2, 4))
ia = torch.zeros(3, 4).index_add(0, torch.tensor([0, 2, 0]), v)
ia2 = torch.ones(3, 4)
ia2.index_add_(1, torch.tensor([3, 0]), torch.full((3, 2), 2.0), alpha=0.5)
ic = w.index_copy(0, torch.tensor([4, 1, 0]), v)
isel = w.index_select(1, torch.tensor([3, 3, 0]))
mf = w.masked_fill(mask, 0.0)
ms = torch.zeros(5, 4).masked_scatter(mask, torch.arange(20.0))
msg = w.detach().masked_scatter(mask, v.reshape(-1).repeat(2))
tk = torch.take(w, torch.tensor([0, 7, 19, 7]))
tad = torch.take_along_dim(w, idx, dim=1)
where_b = torch.where(w > 0, w, v.mean(0))          # broadcast (5,4) with (4,)
where_s = torch.where(mask, w, 0.5)                  # Python scalar other
where_col = torch.where(torch.tensor([[True], [False], [True], [False], [True]]), w, -w)
out["families"] = [gathered, scattered, added, z, z2, ia, ia2, ic, isel, mf, ms, tk, tad,
                   where_b, where_s, where_col]
total = (gathered.sum() + scattered.pow(2).sum() + added.sum() + ia.exp().sum()
         + ic.tanh().sum() + isel.sum() * 2 + mf.sum() + tk.sum() + tad.sum()
         + where_b.square().sum() + where_s.sum() + where_col.sum() + msg.sum())
total.backward()
out["fam.w.grad"] = w.grad
out["fam.v.grad"] = v.grad
out["msg"] = msg
RESULT = out
