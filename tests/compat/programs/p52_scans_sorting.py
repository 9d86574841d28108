# ruff: noqa - written as PyTorch user code is written
# Scans, sorting and counting, bounded and blended arithmetic, with gradients.
import numpy as np
import torch

rng = np.random.default_rng(28)
x = torch.tensor(rng.standard_normal((4, 6)), dtype=torch.float32, requires_grad=True)
lo = torch.tensor(rng.uniform(-1.0, -0.2, (4, 6)), dtype=torch.float32)
hi = torch.tensor(rng.uniform(0.2, 1.0, (6,)), dtype=torch.float32)
w = torch.tensor(rng.uniform(0, 1, (4, 6)), dtype=torch.float32, requires_grad=True)
out = {}

scans = {
    "cumsum0": torch.cumsum(x, dim=0), "cumsum1": x.cumsum(1), "cumprod": x.cumprod(dim=1),
    "logcumsumexp": torch.logcumsumexp(x, dim=1), "cummax": torch.cummax(x, dim=1).values,
    "cummin": x.cummin(0).values, "flipcum": x.flip(1).cumsum(1).flip(1),
    "diff": torch.diff(x, dim=1), "logsumexp": torch.logsumexp(x, dim=0),
}
out["cummax_idx"] = torch.cummax(x, dim=1).indices
out["cummin_idx"] = x.cummin(0).indices
blend = {
    "clamp_t": torch.clamp(x, min=lo, max=hi), "clamp_lo": x.clamp(min=lo),
    "clip": torch.clip(x, -0.5, 0.5), "clamp_max_t": x.clamp(max=hi),
    "minimum": torch.minimum(x, hi), "maximum": torch.maximum(x, lo), "fmax": torch.fmax(x, lo),
    "lerp_s": torch.lerp(x, lo, 0.25), "lerp_t": x.lerp(lo, w),
    "addcmul": torch.addcmul(x, w, lo, value=0.5), "addcdiv": torch.addcdiv(x, lo, w + 1, value=-2),
    "addcmul_m": x.addcmul(w, w), "xlogy": torch.xlogy(w, w + 0.5), "hypot": torch.hypot(x, w),
    "atan2": torch.atan2(x, w + 0.1), "logit": torch.logit(w * 0.8 + 0.1),
    "sinc": torch.sinc(x), "copysign": torch.copysign(w, x), "heaviside_mask": x.sign().relu(),
    "softmax_t": torch.softmax(x, 0), "sigmoid": torch.sigmoid(x),
}
s = x.sort(dim=1, descending=True)
tk = torch.topk(x, 3, dim=0)
ordered = {
    "sort": s.values, "gather_by_argsort": x.gather(1, x.argsort(dim=1)),
    "topk": tk.values, "topk_small": x.topk(2, largest=False).values,
    "kth": x.kthvalue(2, dim=1).values, "max": x.max(dim=0).values, "amin": x.amin(1),
    "median": x.median(), "quantile": torch.quantile(x, 0.3, dim=1),
    "nanmean": torch.nanmean(x), "msort": torch.msort(x), "mode": x.round().mode(1).values,
    "mode_keep": (x * 2).round().mode(0, keepdim=True).values, "dist": torch.dist(x, lo),
    "dist1": torch.dist(x, lo, p=1), "copysign_t": torch.copysign(w, x),
    "cov": torch.cov(x), "cov_w": torch.cov(x, fweights=torch.tensor([1, 2, 1, 3, 1, 1]),
                                           aweights=w[0].detach() + 0.5),
    "corrcoef": torch.corrcoef(x), "acosh": torch.acosh(w + 1.5), "diagflat": torch.diagflat(x[0]),
    "sum_to_size": x.sum_to_size(1, 6),
}
out["indices"] = [s.indices, tk.indices, x.argsort(dim=0, descending=True), x.argmax(1),
                  x.argmin(), torch.sort(torch.tensor([2, 1, 2, 0, 1]), stable=True).indices]
ints = torch.tensor([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5])
uq, inv, counts = torch.unique(ints, return_inverse=True, return_counts=True)
rows = torch.tensor([[1, 2], [1, 2], [0, 3]])
out["counting"] = [uq, inv, counts, torch.unique(rows, dim=0), torch.unique_consecutive(ints),
                   torch.bincount(ints), torch.bincount(ints, weights=ints.float() / 2, minlength=12),
                   torch.bincount(ints, weights=ints), torch.vdot(x[0], x[1]), torch.ger(x[0], x[1]),
                   torch.histc(x.detach(), bins=5, min=-2, max=2), torch.histc(ints.float(), bins=4),
                   torch.searchsorted(torch.tensor([0.0, 1.0, 2.5, 4.0]), torch.tensor([[-1.0, 1.0], [3.0, 9.0]])),
                   torch.searchsorted(torch.tensor([0.0, 1.0, 2.5, 4.0]), torch.tensor([1.0, 2.5]), right=True),
                   torch.bucketize(torch.tensor([0.5, 2.5, 7.0]), torch.tensor([1.0, 2.5, 5.0])),
                   torch.count_nonzero(x > 0, dim=1), (x > 0).sum(dim=0), torch.argwhere(x > 1.2),
                   torch.mode(ints).values, ints.float().std(), torch.cumsum(ints, 0)]
out["scans"], out["blend"], out["ordered"] = scans, blend, ordered
loss = sum((t * torch.linspace(0.1, 1.0, t.numel()).reshape(t.shape)).sum()
           for group in (scans, blend, ordered) for t in group.values())
loss.backward()
out["x.grad"], out["w.grad"] = x.grad, w.grad
RESULT = out
