# ruff: noqa - written as PyTorch user code is written
# Distances, grids and neighbours: cdist/pdist in their norms, meshgrid coordinates,
# kNN with topk, one_hot votes, a few k-means steps with index_add_, the functional
# scatter forms (slice/select/diagonal_scatter), multi_dot, with gradients.
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(96)
pts = torch.tensor(rng.standard_normal((7, 3)), dtype=torch.float32, requires_grad=True)
ref = torch.tensor(rng.standard_normal((5, 3)), dtype=torch.float32, requires_grad=True)
batch_a = torch.tensor(rng.standard_normal((2, 4, 3)), dtype=torch.float32, requires_grad=True)
batch_b = torch.tensor(rng.standard_normal((2, 6, 3)), dtype=torch.float32)
out = {}
dist = {
    "cdist2": torch.cdist(pts, ref), "cdist1": torch.cdist(pts, ref, p=1),
    "cdist_inf": torch.cdist(pts, ref, p=float("inf")), "cdist3": torch.cdist(pts, ref, p=3),
    "cdist_mm": torch.cdist(pts, ref, compute_mode="use_mm_for_euclid_dist"),
    "cdist_batch": torch.cdist(batch_a, batch_b), "pdist": torch.pdist(pts), "pdist1": F.pdist(pts, p=1),
    "pairwise": F.pairwise_distance(pts[:5], ref), "cos": F.cosine_similarity(pts[:5, None], ref[None], dim=-1),
    "broadcast_sq": ((pts[:, None] - ref[None]) ** 2).sum(-1),
    "angles": torch.atan2(pts[:, 1], pts[:, 0]), "fmax_mirror": torch.fmax(pts, pts.flip(0)),
    "fmin_mirror": torch.fmin(pts, pts.flip(0)), "max_mirror": torch.maximum(pts, pts.flip(0)),
    "norm_dims": torch.linalg.norm(batch_a, dim=(1, 2)), "vec_norm": torch.linalg.vector_norm(pts, ord=3, dim=1),
}
labels = torch.tensor([0, 1, 1, 2, 0])
d = torch.cdist(pts.detach(), ref.detach())
knn_d, knn_i = d.topk(3, dim=1, largest=False)
votes = F.one_hot(labels[knn_i], num_classes=3).sum(1)
out["knn"] = [knn_d, knn_i, votes, votes.argmax(1), F.one_hot(torch.tensor([2, 0, 1])), str(votes.dtype)]
ys, xs = torch.meshgrid(torch.arange(3), torch.arange(4), indexing="ij")
gx, gy = torch.meshgrid(torch.linspace(-1, 1, 4), torch.linspace(0, 1, 3), indexing="xy")
grid = torch.stack(torch.meshgrid(torch.arange(2.0), torch.arange(3.0), indexing="ij"), dim=-1)
out["grids"] = [ys, xs, gx, gy, grid, torch.cartesian_prod(torch.tensor([1, 2]), torch.tensor([3, 4, 5])),
                torch.combinations(torch.arange(4), r=2), torch.tril_indices(3, 3), torch.triu_indices(3, 4, offset=1),
                torch.rot90(ys, 1, (0, 1)), torch.rot90(xs, -1), torch.tile(torch.tensor([[1, 2]]), (2, 2))]
# k-means, written as in a notebook
x = torch.tensor(rng.standard_normal((30, 2)) + np.repeat([[0, 0], [4, 4], [0, 5]], 10, axis=0), dtype=torch.float32)
centers = x[[0, 10, 20]].clone()
for _ in range(4):
    assign = torch.cdist(x, centers).argmin(dim=1)
    sums = torch.zeros_like(centers).index_add_(0, assign, x)
    counts = torch.bincount(assign, minlength=3).clamp(min=1).unsqueeze(1)
    centers = sums / counts
out["kmeans"] = [centers, assign, torch.bincount(assign, minlength=3)]
base = torch.zeros(3, 4, requires_grad=True)
src = torch.tensor(rng.standard_normal((3, 2)), dtype=torch.float32, requires_grad=True)
row = torch.tensor(rng.standard_normal(4), dtype=torch.float32, requires_grad=True)
diag = torch.tensor(rng.standard_normal(3), dtype=torch.float32, requires_grad=True)
scat = {
    "slice": torch.slice_scatter(base, src, dim=1, start=1, end=3),
    "slice_step": torch.slice_scatter(base, src, dim=1, start=0, step=2),
    "select": torch.select_scatter(base, row, 0, 1),
    "diagonal": torch.diagonal_scatter(base, diag),
    "diagonal_off": torch.diagonal_scatter(base, diag, 1),
}
A = torch.tensor(rng.standard_normal((3, 5)), dtype=torch.float32, requires_grad=True)
B = torch.tensor(rng.standard_normal((5, 2)), dtype=torch.float32)
C = torch.tensor(rng.standard_normal((2, 4)), dtype=torch.float32)
mats = {"multi_dot": torch.linalg.multi_dot([A, B, C]), "chain": torch.chain_matmul(A, B, C),
        "vecs": torch.linalg.multi_dot([A[0], B, C])}
out["dist"], out["scat"], out["mats"] = dist, scat, mats
# the jitter habit: a kernel matrix that is not positive-definite gets a ridge added
kernel = torch.tensor([[1.0, 2.0], [2.0, 1.0]])
try:
    chol = torch.linalg.cholesky(kernel)
    jitter = 0.0
except torch.linalg.LinAlgError:
    jitter = 2.5
    chol = torch.linalg.cholesky(kernel + jitter * torch.eye(2))
out["jitter"] = [jitter, chol, torch.linalg.vander(torch.tensor([0.5, 2.0]), N=3),
                 torch.linalg.solve_ex(torch.zeros(2, 2), torch.ones(2)).info]
loss = sum((t * torch.linspace(-1.0, 2.0, t.numel()).reshape(t.shape)).sum()
           for group in (dist, scat, mats) for t in group.values())
loss.backward()
out["grads"] = [pts.grad, ref.grad, batch_a.grad, base.grad, src.grad, row.grad, diag.grad, A.grad]
RESULT = out
