# ruff: noqa - written as PyTorch user code is written
# torch.linalg as least-squares, Gaussian and covariance code uses it, with gradients.
import numpy as np
import torch

rng = np.random.default_rng(29)
base = rng.standard_normal((4, 4))
A = torch.tensor(base + 4 * np.eye(4), dtype=torch.float64, requires_grad=True)
S_half = torch.tensor(rng.standard_normal((4, 4)), dtype=torch.float64, requires_grad=True)
b = torch.tensor(rng.standard_normal((4, 2)), dtype=torch.float64, requires_grad=True)
X = torch.tensor(rng.standard_normal((6, 3)), dtype=torch.float32, requires_grad=True)
batch = torch.tensor(rng.standard_normal((2, 3, 3)) + 3 * np.eye(3), dtype=torch.float32,
                     requires_grad=True)
out = {}

S = S_half @ S_half.T + torch.eye(4, dtype=torch.float64)  # symmetric positive definite
L = torch.linalg.cholesky(S)
sign, logabsdet = torch.linalg.slogdet(A)
evals, evecs = torch.linalg.eigh(S)
Q, R = torch.linalg.qr(X)
U, sv, Vh = torch.linalg.svd(X, full_matrices=False)
sv_only = torch.linalg.svdvals(X)
solved = torch.linalg.solve(A, b)
inv = torch.linalg.inv(A)
values = {
    "inv": inv, "inverse": torch.inverse(A), "det": torch.linalg.det(A), "det_fn": torch.det(A),
    "logdet": torch.logdet(S), "sign": sign, "logabsdet": logabsdet, "solve": solved,
    "cholesky": L, "cholesky_solve": torch.cholesky_solve(b, L),
    "tri_solve": torch.linalg.solve_triangular(L, b, upper=False),
    "eigvalsh": torch.linalg.eigvalsh(S), "evals": evals,
    # eigenvectors and singular vectors have a sign freedom: compare sign-free forms
    "evec_outer": evecs[:, -1:] @ evecs[:, -1:].T, "recon": evecs @ torch.diag(evals) @ evecs.T,
    "R_abs_diag": R.diagonal().abs(), "QtQ": Q.T @ Q, "QR": Q @ R, "sv": sv, "svdvals": sv_only,
    "usv": U @ torch.diag(sv) @ Vh, "proj": U @ U.T,
    "pinv": torch.linalg.pinv(X), "lstsq": torch.linalg.lstsq(X, X[:, :1] * 2 + 1).solution,
    "batched_inv": torch.linalg.inv(batch), "batched_det": torch.det(batch),
    "batched_solve": torch.linalg.solve(batch, batch[:, :, :1]),
    "matrix_power": torch.linalg.matrix_power(A, 2), "matrix_exp_free_cond": torch.linalg.cond(S),
    "matrix_rank": torch.linalg.matrix_rank(X), "m.inverse": A.inverse(), "m.det": A.det(),
    "m.pinverse": X.pinverse(),
}
norms = {
    "fro": torch.linalg.norm(X), "fro_dim": torch.linalg.matrix_norm(X),
    "nuc": torch.linalg.matrix_norm(X, ord="nuc"), "spectral": torch.linalg.matrix_norm(X, ord=2),
    "ord1": torch.linalg.matrix_norm(X, ord=1), "ordinf": torch.linalg.norm(X, ord=float("inf")),
    "ord-2": torch.linalg.matrix_norm(X, ord=-2), "ord2_dims": torch.linalg.norm(X, 2, dim=(0, 1)),
    "vec": torch.linalg.vector_norm(X, ord=3, dim=1), "vec_inf": torch.linalg.vector_norm(X, float("inf")),
    "vec0": torch.linalg.vector_norm(X, 0), "norm_p1": X.norm(p=1, dim=0),
    "norm_fro": X.norm(p="fro"), "norm_nuc": torch.norm(X, p="nuc"),
    "batched_fro": torch.linalg.matrix_norm(batch, dim=(-2, -1)),
}
out["values"], out["norms"] = values, norms
# Gaussian negative log-likelihood through the Cholesky factor, as GP code writes it
y = torch.tensor(rng.standard_normal(4), dtype=torch.float64)
alpha = torch.cholesky_solve(y.unsqueeze(1), L)
nll = 0.5 * (y @ alpha.squeeze(1)) + L.diagonal().log().sum()
loss = nll + sum((v.double() * (k + 1) * 0.01).sum() for k, v in enumerate(values.values())
                 if v.is_floating_point()) + sum(n.double().sum() for n in norms.values())
loss.backward()
out["nll"] = nll
out["grads"] = [A.grad, S_half.grad, b.grad, X.grad, batch.grad]
RESULT = out
