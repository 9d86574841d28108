# ruff: noqa - written as PyTorch user code is written
# Searching, binning and counting: bucketize/searchsorted in their variants, histc,
# histogram, unique in its forms, topk/kthvalue, cummax ties, diff, trapezoid.
import numpy as np
import torch

rng = np.random.default_rng(93)
x = torch.tensor(rng.standard_normal((3, 8)), dtype=torch.float32, requires_grad=True)
boundaries = torch.tensor([-1.0, -0.25, 0.0, 0.5, 1.5])
out = {}
v = x.detach()
out["bucket"] = [torch.bucketize(v, boundaries), torch.bucketize(v, boundaries, right=True),
                 str(torch.bucketize(v, boundaries, out_int32=True).dtype),
                 torch.bucketize(torch.tensor([0.0, 0.5, 2.0]), boundaries),
                 torch.bucketize(0.3, boundaries)]
sorted_rows = v.sort(dim=1).values
queries = torch.tensor([[-0.5, 0.0, 0.7], [0.1, 0.2, 0.3], [-2.0, 2.0, 0.0]])
unsorted = torch.tensor([3.0, 1.0, 2.0, 0.5])
out["search"] = [torch.searchsorted(sorted_rows, queries), torch.searchsorted(sorted_rows, queries, side="right"),
                 torch.searchsorted(unsorted, torch.tensor([1.5, 2.5]), sorter=unsorted.argsort()),
                 torch.searchsorted(boundaries, 0.5), torch.searchsorted(boundaries, torch.tensor([0.5]), right=True)]
out["histc"] = [torch.histc(v, bins=6), torch.histc(v, bins=4, min=-1, max=1), v.histc(3, 0, 1)]
hist, edges = torch.histogram(v.flatten(), bins=5)
hist_w, edges_w = torch.histogram(v.flatten(), bins=torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0]),
                                  weight=torch.arange(24.0), density=False)
hist_d, _ = torch.histogram(v.flatten(), bins=4, range=(-1.0, 1.0), density=True)
out["histogram"] = [hist, edges, hist_w, edges_w, hist_d]
labels = torch.tensor([[2, 0, 2], [1, 1, 0], [2, 0, 2], [5, 5, 5]])
u, inv, cnt = torch.unique(labels, sorted=True, return_inverse=True, return_counts=True)
ur, invr, cntr = torch.unique(labels, dim=0, return_inverse=True, return_counts=True)
uc, cntc = torch.unique_consecutive(torch.tensor([1, 1, 2, 2, 2, 3, 1, 1]), return_counts=True)
_, inv_c = torch.unique_consecutive(torch.tensor([1, 1, 2, 2, 2, 3, 1, 1]), return_inverse=True)
out["unique"] = [u, inv, cnt, ur, invr, cntr, uc, cntc, inv_c, labels.unique(), torch.unique(labels, dim=1)]
out["isin"] = [torch.isin(labels, torch.tensor([0, 5])), torch.isin(labels, torch.tensor([2]), invert=True)]
tk = x.topk(3, dim=1, largest=True, sorted=True)
tk0 = torch.topk(x, 2, dim=0, largest=False)
kv = torch.kthvalue(x, 4, dim=1, keepdim=True)
ties = torch.tensor([[1.0, 3.0, 3.0, 2.0, 3.0, 0.0], [0.0, 0.0, -1.0, 0.0, 5.0, 5.0]], requires_grad=True)
cm = torch.cummax(ties, dim=1)
cmin = torch.cummin(ties, dim=1)
out["order"] = [tk.values, tk.indices, tk0.values, tk0.indices, kv.values, kv.indices,
                cm.values, cm.indices, cmin.values, cmin.indices]
d = {
    "diff": torch.diff(x), "diff2": torch.diff(x, n=2, dim=1), "diff0": x.diff(dim=0),
    "diff_pre": torch.diff(x, prepend=torch.zeros(3, 1), append=torch.ones(3, 2)),
    "trapz": torch.trapezoid(x), "trapz_dx": torch.trapezoid(x, dx=0.5, dim=0),
    "trapz_x": torch.trapezoid(x, torch.linspace(0, 2, 8)),
    "cumtrapz": torch.cumulative_trapezoid(x, dim=1), "cumtrapz_x": torch.cumulative_trapezoid(x, torch.linspace(0, 1, 8)),
}
out["d"] = d
loss = tk.values.sum() + (tk0.values * 2).sum() + kv.values.sum() + cm.values.sum() + cmin.values.pow(2).sum()
loss = loss + sum((t * torch.linspace(0.5, 1.5, t.numel()).reshape(t.shape)).sum() for t in d.values())
loss.backward()
out["grads"] = [x.grad, ties.grad]
RESULT = out
