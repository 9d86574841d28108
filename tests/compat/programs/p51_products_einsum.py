# ruff: noqa - written as PyTorch user code is written
# Products and contractions: einsum in several spellings, batched and fused matrix
# products, Kronecker and outer products, triangles, diagonals and traces, with gradients.
import numpy as np
import torch

rng = np.random.default_rng(27)


def param(*shape):
    return torch.tensor(rng.standard_normal(shape), dtype=torch.float32, requires_grad=True)


A, B, C = param(3, 4), param(4, 5), param(2, 3, 4)
D, q, k = param(2, 4, 5), param(2, 6, 8), param(2, 6, 8)
u, v, M = param(4), param(3), param(4, 4)
out = {}

sums = {
    "ij,jk->ik": torch.einsum("ij,jk->ik", A, B),
    "ij,jk": torch.einsum("ij,jk", A, B),
    "bij,bjk->bik": torch.einsum("bij,bjk->bik", C, D),
    "bqd,bkd->bqk": torch.einsum("bqd,bkd->bqk", q, k) / 8 ** 0.5,
    "i,j->ij": torch.einsum("i,j->ij", u, v),
    "ij->ji": torch.einsum("ij->ji", A),
    "ij->": torch.einsum("ij->", A),
    "ij,ij->i": torch.einsum("ij,ij->i", A, A),
    "...ij,jk->...ik": torch.einsum("...ij,jk->...ik", C, B),
    "b i j, j -> b i": torch.einsum("b i j, j -> b i", C, u),
    "list": torch.einsum("ij,jk->ik", [A, B]),
    "ii->i": torch.einsum("ii->i", M),
    "ii": torch.einsum("ii", M),
    "sublist": torch.einsum(A, [0, 1], B, [1, 2], [0, 2]),
    "sublist_ellipsis": torch.einsum(C, [Ellipsis, 0], u, [0]),
}
out["einsum"] = sums
attn = torch.softmax(sums["bqd,bkd->bqk"], dim=-1)
ctx = torch.einsum("bqk,bkd->bqd", attn, q)

prods = {
    "bmm": torch.bmm(C, D),
    "baddbmm": torch.baddbmm(torch.ones(2, 3, 5), C, D, beta=0.5, alpha=2.0),
    "addmm": torch.addmm(torch.ones(5), A.T, torch.cat([A, A], 1)[:, :5]),
    "addmv": torch.addmv(v, A, u, alpha=0.5),
    "addr": torch.addr(M, u, u, beta=2.0),
    "addbmm": torch.addbmm(torch.zeros(3, 5), C, D),
    "outer": torch.outer(u, v),
    "ger": u.outer(v),
    "kron": torch.kron(A[:2, :2], M[:2]),
    "matmul_bcast": torch.matmul(C, B),
    "matmul_vec": A @ u,
    "vec_mat": v @ A,
    "vecdot": torch.dot(u, u),
    "tensordot": torch.tensordot(C, D, dims=([0, 2], [0, 1])),
    "tensordot_int": torch.tensordot(A, B, dims=1),
    "mm": torch.mm(A, B),
    "matrix_power": torch.matrix_power(M, 3),
    "chain_matmul": torch.linalg.multi_dot([A, B, B.T]),
    "cross": torch.cross(A[:, :3], C[0, :, :3], dim=1),
    "inner": torch.inner(A, A),
}
out["prods"] = prods

tri = {
    "tril": torch.tril(M), "tril-1": torch.tril(M, -1), "triu": M.triu(), "triu1": torch.triu(M, 1),
    "diag_vec": torch.diag(u), "diag_vec1": torch.diag(v, 1), "diag_mat": torch.diag(M),
    "diag_mat-1": M.diag(-1), "diagonal": torch.diagonal(C, dim1=1, dim2=2),
    "diagonal_off": M.diagonal(offset=1), "trace": torch.trace(M), "trace_rect": A.trace(),
    "diag_embed": torch.diag_embed(A), "block": torch.block_diag(A[:2, :2], M[:1]),
    "tril_indices": torch.tril_indices(3, 3), "triu_indices": torch.triu_indices(3, 4, 1),
}
out["tri"] = tri

loss = sum(t.float().pow(2).sum() * 0.01 for group in (sums, prods, tri)
           for t in group.values() if t.is_floating_point()) + ctx.sum()
loss.backward()
out["grads"] = [p.grad for p in (A, B, C, D, q, k, u, v, M)]
RESULT = out
