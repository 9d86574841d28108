# ruff: noqa - written as PyTorch user code is written
# Writing into tensors by index, with duplicates: scatter_add_, scatter_reduce (every
# reduction, include_self), index_add_ with alpha, index_put_(accumulate=True), index_copy_,
# index_fill_, masked_fill/masked_scatter, put_/take; out-of-place forms with gradients.
import numpy as np
import torch

rng = np.random.default_rng(99)
src = torch.tensor(rng.standard_normal((3, 5)), dtype=torch.float32, requires_grad=True)
base = torch.tensor(rng.standard_normal((4, 5)), dtype=torch.float32, requires_grad=True)
index = torch.tensor([[0, 1, 2, 0, 3], [3, 3, 0, 1, 1], [0, 0, 0, 2, 2]])
out = {}
res = {
    "scatter_add": base.scatter_add(0, index, src),
    "scatter_add_fn": torch.scatter_add(base, 0, index, src),
    "scatter": base.scatter(0, index[:1], src[:1]),
    "scatter_value": base.scatter(1, torch.tensor([[4], [0], [2], [1]]), 7.5),
    "gather": base.gather(0, index),
    "index_add": base.index_add(0, torch.tensor([2, 0, 2]), src, alpha=0.5),
    "index_add_dim1": base.index_add(1, torch.tensor([4, 4, 0]), src.t()[:3].t().repeat(4, 1)[:4]),
    "index_copy": base.index_copy(0, torch.tensor([3, 1, 0]), src),
    "index_fill": base.index_fill(1, torch.tensor([0, 3]), -2.0),
    "masked_fill": base.masked_fill(base > 0.5, 0.0),
    "masked_scatter": base.masked_scatter(base < 0, torch.arange(20.0).view(4, 5)),
    "take": torch.take(base, torch.tensor([[0, 19], [7, 7]])),
    "index_select": base.index_select(1, torch.tensor([4, 0, 0])),
}
for reduce in ("sum", "prod", "mean", "amax", "amin"):
    for include_self in (True, False):
        res[f"reduce_{reduce}_{include_self}"] = base.scatter_reduce(0, index, src, reduce=reduce,
                                                                     include_self=include_self)
# in place on clones of leaves, as training code writes it
acc = base.clone()
acc.scatter_add_(1, torch.tensor([[1, 1, 1], [0, 2, 4], [4, 4, 4], [3, 2, 1]]), src[0, :3].expand(4, 3))
acc.index_add_(0, torch.tensor([1, 1]), src[:2, :] * 2)
acc.index_put_((torch.tensor([0, 0, 3]), torch.tensor([1, 1, 4])), torch.tensor([1.0, 2.0, 3.0]), accumulate=True)
acc.index_put_((torch.tensor([2, 2]), torch.tensor([0, 0])), src[0, :2], accumulate=True)
acc[torch.tensor([1, 3]), torch.tensor([2, 2])] += 10.0
acc.masked_fill_(acc.abs() > 12, 12.0)
acc.put_(torch.tensor([0, 5, 0]), torch.tensor([1.0, 2.0, 3.0]), accumulate=True)
res["inplace"] = acc
rep = torch.zeros(3, 4)
rep.index_put_((torch.tensor([0, 2, 0]),), torch.tensor([1.0, 2.0, 3.0]).unsqueeze(1).expand(3, 4), accumulate=True)
rep[torch.tensor([1, 1])] = torch.tensor([[5.0, 5.0, 5.0, 5.0], [6.0, 6.0, 6.0, 6.0]])[:1]
out["rep"] = rep
counts = torch.zeros(5, dtype=torch.long).scatter_add_(0, torch.tensor([0, 4, 4, 1, 4]), torch.ones(5, dtype=torch.long))
ibase = torch.zeros(4, dtype=torch.int64)
out["int_masked_fill"] = [torch.tensor([[3, -1], [0, 7]]).masked_fill(torch.tensor([[True, False], [False, True]]), 2.5),
                          torch.arange(6).view(2, 3).masked_fill_(torch.arange(6).view(2, 3) % 2 == 0, -1.9)]
out["ints"] = [counts, ibase.index_add(0, torch.tensor([1, 1, 3]), torch.tensor([2, 3, 4])),
               torch.zeros(3, dtype=torch.long).index_put_((torch.tensor([2, 2]),), torch.tensor(1), accumulate=True),
               torch.full((2, 3), -1).scatter_reduce(1, torch.tensor([[0, 0, 2]]).expand(2, 3), torch.tensor([[4, 9, 1], [2, 2, 2]]), reduce="amax")]
# a segment mean (graph pooling) written with scatter_add_ and index_add_
seg = torch.tensor([0, 0, 1, 2, 2, 2])
feats = torch.tensor(rng.standard_normal((6, 3)), dtype=torch.float32, requires_grad=True)
sums = torch.zeros(3, 3).index_add(0, seg, feats)
n = torch.zeros(3).scatter_add(0, seg, torch.ones(6))
pooled = sums / n[:, None]
pooled_max = torch.full((3, 3), float("-inf")).scatter_reduce(0, seg[:, None].expand(6, 3), feats, reduce="amax", include_self=False)
out["pooled"], out["pooled_max"] = pooled, pooled_max
out["res"] = res
# a zero-initialized multi-label head: its first logits are exactly 0
head = torch.nn.Linear(3, 4)
torch.nn.init.zeros_(head.weight)
torch.nn.init.zeros_(head.bias)
tags = (torch.tensor(rng.uniform(size=(6, 4))) > 0.5).float()
head_loss = torch.nn.functional.multilabel_soft_margin_loss(head(feats.detach()), tags)
head_loss = head_loss + torch.nn.SoftMarginLoss()(head(feats.detach())[:, 0], tags[:, 0] * 2 - 1)
head_loss.backward()
out["zero_head"] = [head_loss, head.weight.grad, head.bias.grad]
loss = sum((t * torch.linspace(-1.0, 2.0, t.numel()).reshape(t.shape)).sum() for t in res.values())
loss = loss + pooled.pow(2).sum() + pooled_max.sum()
loss.backward()
out["grads"] = [src.grad, base.grad, feats.grad]
RESULT = out
