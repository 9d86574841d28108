"""Matrix functions and decompositions (``torch.linalg``), each one registry entry.

Every op works on the last two dims and broadcasts over the leading (batch) dims, as
PyTorch. Decompositions with several outputs are one node whose value packs the outputs
along the second-to-last dim (eigh: ``[w; V]``, qr: ``[Q; Rᵀ]``, svd: ``[U; s; V]``);
the public functions in ``chainrule.linalg`` slice them apart, so the gradients of all
outputs meet in one rule. The rules are written with registered ops only, so
``create_graph=True`` (second derivatives) works through them.

Symmetric inputs (cholesky, eigh) are read through their symmetric part ``(A + Aᵀ)/2``:
for a symmetric matrix the same values as PyTorch (which reads one triangle), and the
gradient is PyTorch's symmetric one, which finite differences then confirm.
"""

from __future__ import annotations

import builtins
import collections
import math

import numpy as np

from .._tensor import Tensor, as_tensor, is_grad_enabled, record
from . import primitives as P
from .registry import Op, expose

_LinAlgError = np.linalg.LinAlgError


class LinAlgError(RuntimeError):
    """A matrix the operation cannot take (singular, not positive-definite, no SVD):
    PyTorch's ``torch.linalg.LinAlgError``, a RuntimeError, so ``except
    torch.linalg.LinAlgError`` (the try-Cholesky-then-add-jitter habit) catches it."""


def _mT(a):
    return a.swapaxes(-1, -2)


def _eye(n: int, dtype) -> np.ndarray:
    return np.eye(n, dtype=dtype)


def _matrix(x, op: str, square: bool = True) -> Tensor:
    """``x`` as a float tensor of at least 2 dims (square if asked), or a clear error."""
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"{op}: expected a matrix or a batch of matrices (at least 2 dims), "
                         f"got shape {x.shape}")
    if square and x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{op}: expected square matrices, got shape {x.shape} "
                         f"({x.shape[-2]}×{x.shape[-1]})")
    if x.array.dtype.kind not in "fc":
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {x.dtype} "
                        "(convert with .float() or .double())")
    return x


def _well_conditioned(n: int, batch=()):
    """A gradient-check case: a random matrix with a heavy diagonal (far from singular)."""
    def make(rng):
        return ((rng.uniform(-1, 1, batch + (n, n)) + 2.5 * np.eye(n),), {})
    return make


def _symmetric_pd(n: int, batch=()):
    def make(rng):
        a = rng.uniform(-1, 1, batch + (n, n))
        return ((a @ _mT(a) + n * np.eye(n),), {})
    return make


# ---------------------------------------------------------------------------
# inverse, determinant, log|det|, solve
# ---------------------------------------------------------------------------
def _inv_vjp(F, g, ans, ctx, x):
    inv_t = _mT(ans)
    return (-(inv_t @ g @ inv_t),)


INV = Op("inv", _inv_vjp, reads=("output",), formula="-A⁻ᵀ (·) A⁻ᵀ", method="inverse",
         function=("inverse",), hint="a singular (or nearly singular) matrix",
         cases=[_well_conditioned(3), _well_conditioned(2, (2,))])


@INV.define
def inv(x) -> Tensor:
    """The matrix inverse (batched); a singular matrix is an error, as PyTorch."""
    x = _matrix(x, "linalg.inv")
    try:
        out = np.linalg.inv(x.array)
    except _LinAlgError:
        raise LinAlgError(f"linalg.inv: the matrix (shape {x.shape}) is singular; it has no "
                           "inverse (for least squares use linalg.pinv or linalg.lstsq)") \
            from None
    return record(out, INV, (x,))


def _det_vjp(F, g, ans, ctx, x):
    scale = (g * ans).reshape(ans.shape + (1, 1))
    return (scale * _mT(F.inv(x)),)


DET = Op("det", _det_vjp, formula="det(A)·A⁻ᵀ", method=True, function=True,
         cases=[_well_conditioned(3), _well_conditioned(2, (2,))])


@DET.define
def det(x) -> Tensor:
    """The determinant (batched)."""
    x = _matrix(x, "linalg.det")
    return record(np.asarray(np.linalg.det(x.array), x.array.dtype), DET, (x,))


def _logabsdet_vjp(F, g, ans, ctx, x):
    return (g.reshape(ans.shape + (1, 1)) * _mT(F.inv(x)),)


LOGABSDET = Op("logabsdet", _logabsdet_vjp, reads=("inputs",), formula="A⁻ᵀ",
               hint="a singular matrix (log 0 = -inf)",
               cases=[_well_conditioned(3), _well_conditioned(2, (3,))])


@LOGABSDET.define
def logabsdet(x) -> Tensor:
    """log |det A| (batched): the second output of ``linalg.slogdet``."""
    x = _matrix(x, "linalg.slogdet")
    return record(np.asarray(np.linalg.slogdet(x.array)[1], x.array.dtype), LOGABSDET, (x,))


def _solve_vjp(F, g, ans, ctx, a, b):
    gb = F.solve(_mT(a), g)
    return -(gb @ _mT(ans)), gb


SOLVE = Op("solve", _solve_vjp, reads=("inputs", "output"), formula=("-A⁻ᵀ(·)Xᵀ", "A⁻ᵀ"),
           hint="a singular matrix",
           cases=[lambda rng: ((rng.uniform(-1, 1, (3, 3)) + 2.5 * np.eye(3),
                                rng.uniform(-1, 1, (3, 2))), {}),
                  lambda rng: ((rng.uniform(-1, 1, (2, 3, 3)) + 2.5 * np.eye(3),
                                rng.uniform(-1, 1, (3, 1))), {})])


@SOLVE.define
def solve(a, b) -> Tensor:
    """X with A X = B, for matrices B (batch dims broadcast); ``linalg.solve`` adds the
    vector case."""
    a = _matrix(a, "linalg.solve")
    b = _matrix(as_tensor(b, a), "linalg.solve", square=False)
    if b.shape[-2] != a.shape[-1]:
        raise ValueError(f"linalg.solve: A has shape {a.shape} but B has shape {b.shape}: B's "
                         f"rows ({b.shape[-2]}) must match A's size ({a.shape[-1]})")
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        out = np.linalg.solve(np.broadcast_to(a.array, batch + a.shape[-2:]),
                              np.broadcast_to(b.array, batch + b.shape[-2:]))
    except _LinAlgError:
        raise LinAlgError(f"linalg.solve: the matrix A (shape {a.shape}) is singular") \
            from None
    except ValueError:
        raise ValueError(f"linalg.solve: the batch dims of A {a.shape} and B {b.shape} do "
                         "not broadcast") from None
    return record(out, SOLVE, (a, b))


# ---------------------------------------------------------------------------
# Cholesky and the symmetric eigendecomposition
# ---------------------------------------------------------------------------
def _sym(a):
    return 0.5 * (a + _mT(a))


def _cholesky_vjp(F, g, ans, ctx, x):
    n = ans.shape[-1]
    half_lower = np.tril(np.ones((n, n)), -1) + 0.5 * np.eye(n)  # Φ: lower, halved diagonal
    phi = (_mT(ans) @ g) * half_lower.astype(g.dtype)
    l_inv = F.inv(ans)
    return (_sym(_mT(l_inv) @ phi @ l_inv),)


CHOLESKY = Op("cholesky", _cholesky_vjp, reads=("output",), formula="sym(L⁻ᵀ Φ(Lᵀ·) L⁻¹)",
              hint="a matrix that is not positive-definite",
              cases=[_symmetric_pd(3), _symmetric_pd(2, (2,))])


@CHOLESKY.define
def cholesky(x) -> Tensor:
    """The lower Cholesky factor L (A = L Lᵀ) of a symmetric positive-definite matrix."""
    x = _matrix(x, "linalg.cholesky")
    try:
        out = np.linalg.cholesky(_sym(x.array))
    except _LinAlgError:
        raise LinAlgError(f"linalg.cholesky: the input (shape {x.shape}) is not "
                           "positive-definite") from None
    return record(out, CHOLESKY, (x,))


def _gaps(w, n: int, dtype):
    """1 / (w_j - w_i) off the diagonal, 0 on it (the eigenvector/singular-vector rules)."""
    off = 1 - _eye(n, dtype)
    return off / (w[..., None, :] - w[..., :, None] + _eye(n, dtype))


def _eigh_vjp(F, g, ans, ctx, x):
    n = ans.shape[-1]
    w, v = ans[..., 0, :], ans[..., 1:, :]
    gw, gv = g[..., 0, :], g[..., 1:, :]
    k = _mT(v) @ gv
    inner = _gaps(w, n, g.dtype) * (0.5 * (k - _mT(k))) + gw[..., None, :] * _eye(n, g.dtype)
    return (v @ inner @ _mT(v),)


EIGH = Op("eigh", _eigh_vjp, reads=("output",), formula="V (diag(·w) + F∘skew(Vᵀ·V)) Vᵀ",
          hint="repeated eigenvalues (the eigenvectors' gradient divides by their gaps)",
          cases=[lambda rng: ((np.diag([1.0, 2.0, 3.5]) + 0.2 * rng.uniform(-1, 1, (3, 3)),), {}),
                 lambda rng: ((np.diag([-1.0, 1.5]) + 0.2 * rng.uniform(-1, 1, (2, 2, 2)),), {})])


@EIGH.define
def eigh(x) -> Tensor:
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix, packed ``[w; V]``
    (shape ``(..., n + 1, n)``); ``chainrule.linalg.eigh`` returns them apart."""
    x = _matrix(x, "linalg.eigh")
    w, v = np.linalg.eigh(_sym(x.array))
    return record(np.concatenate([w[..., None, :], v], axis=-2), EIGH, (x,))


# ---------------------------------------------------------------------------
# QR and the SVD
# ---------------------------------------------------------------------------
def _qr_vjp(F, g, ans, ctx, x):
    m, n = x.shape[-2], x.shape[-1]
    q, r = ans[..., :m, :], _mT(ans[..., m:, :])
    gq, gr = g[..., :m, :], _mT(g[..., m:, :])
    mm = r @ _mT(gr) - _mT(gq) @ q
    lower = np.tril(np.ones((n, n), g.dtype))
    strict = np.tril(np.ones((n, n), g.dtype), -1)
    copyltu = mm * lower + _mT(mm * strict)  # the lower triangle mirrored to the upper
    return ((gq + q @ copyltu) @ _mT(F.inv(r)),)


QR = Op("qr", _qr_vjp, reads=("output",), formula="(·Q + Q copyltu(M)) R⁻ᵀ",
        hint="a matrix of lower rank than its columns (R is singular)",
        cases=[lambda rng: ((rng.uniform(-1, 1, (4, 3)),), {}),
               lambda rng: ((rng.uniform(-1, 1, (2, 3, 3)),), {})])


@QR.define
def qr(x) -> Tensor:
    """The reduced QR decomposition of a matrix with at least as many rows as columns,
    packed ``[Q; Rᵀ]`` (shape ``(..., m + n, n)``)."""
    x = _matrix(x, "linalg.qr", square=False)
    if x.shape[-2] < x.shape[-1]:
        raise ValueError(f"qr: the packed form needs rows ≥ columns, got shape {x.shape}")
    q, r = np.linalg.qr(x.array, mode="reduced")
    return record(np.concatenate([q, _mT(r)], axis=-2), QR, (x,))


def _svd_vjp(F, g, ans, ctx, x):
    m, n = x.shape[-2], x.shape[-1]
    k = ans.shape[-1]
    u, s, v = ans[..., :m, :], ans[..., m, :], ans[..., m + 1:, :]
    gu, gs, gv = g[..., :m, :], g[..., m, :], g[..., m + 1:, :]
    gaps = _gaps(s * s, k, g.dtype)
    ut_gu, vt_gv = _mT(u) @ gu, _mT(v) @ gv
    j = gaps * (ut_gu - _mT(ut_gu))
    kk = gaps * (vt_gv - _mT(vt_gv))
    inner = j * s[..., None, :] + s[..., :, None] * kk + gs[..., None, :] * _eye(k, g.dtype)
    out = u @ inner @ _mT(v)
    if m > k:  # the part of gU outside U's columns
        out = out + ((gu - u @ ut_gu) / s[..., None, :]) @ _mT(v)
    if n > k:
        out = out + u @ _mT((gv - v @ vt_gv) / s[..., None, :])
    return (out,)


SVD = Op("svd", _svd_vjp, reads=("output",), formula="U(F∘… + diag(·s))Vᵀ + …",
         hint="repeated or zero singular values (the vectors' gradient divides by their gaps)",
         cases=[lambda rng: ((rng.uniform(-1, 1, (4, 3)),), {}),
                lambda rng: ((rng.uniform(-1, 1, (2, 4)),), {}),
                lambda rng: ((rng.uniform(-1, 1, (2, 3, 3)),), {})])


@SVD.define
def svd(x) -> Tensor:
    """The reduced singular value decomposition A = U diag(s) Vᵀ, packed ``[U; s; V]``
    (shape ``(..., m + 1 + n, k)``, k = min(m, n)); ``chainrule.linalg.svd`` unpacks it."""
    x = _matrix(x, "linalg.svd", square=False)
    try:
        u, s, vh = np.linalg.svd(x.array, full_matrices=False)
    except _LinAlgError:
        raise LinAlgError(f"linalg.svd: the SVD of the input (shape {x.shape}) did not "
                           "converge (non-finite values?)") from None
    return record(np.concatenate([u, s[..., None, :], _mT(vh)], axis=-2), SVD, (x,))


def recording(*tensors) -> bool:
    """Will an op on these tensors be recorded for autograd?"""
    return is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad
                                     for t in tensors)


# ---------------------------------------------------------------------------
# the public forms (torch.linalg.NAME and torch.NAME): composites of the entries above
# ---------------------------------------------------------------------------

SignLogAbsDet = collections.namedtuple("SignLogAbsDet", ["sign", "logabsdet"])
Eigh = collections.namedtuple("Eigh", ["eigenvalues", "eigenvectors"])
QRResult = collections.namedtuple("QRResult", ["Q", "R"])
SVDResult = collections.namedtuple("SVDResult", ["U", "S", "Vh"])
SVDOldResult = collections.namedtuple("SVDOldResult", ["U", "S", "V"])
LstsqResult = collections.namedtuple("LstsqResult",
                                     ["solution", "residuals", "rank", "singular_values"])


def _plain(array) -> Tensor:
    return record(np.asarray(array), Op("linalg", register=False), ())


@expose
def slogdet(x) -> SignLogAbsDet:
    """(sign, log |det|) of a matrix (batched); the sign carries no gradient."""
    x = _matrix(x, "linalg.slogdet")
    return SignLogAbsDet(_plain(np.sign(np.linalg.det(x.array)).astype(x.array.dtype)),
                         logabsdet(x))


@expose
def logdet(x) -> Tensor:
    """log det A: nan where det < 0, -inf where det = 0 (as PyTorch)."""
    sign, value = slogdet(x)
    # nan where det < 0 (and no gradient there, as PyTorch's where), -inf where det = 0
    return P.where(sign.array >= 0, value, float("nan"))


def solve_any(a, b, *, left: bool = True) -> Tensor:
    """``linalg.solve``: B a matrix, a batch of them, or a vector (B.ndim == A.ndim - 1);
    ``left=False`` solves X A = B."""
    a = _matrix(a, "linalg.solve")
    b = as_tensor(b, a)
    if not left:
        return _mT(solve_any(_mT(a), _mT(b)))
    if b.ndim == a.ndim - 1 or b.ndim == 1:
        return solve(a, b.unsqueeze(-1))[..., 0]
    return solve(a, b)


def cholesky_lower_or_upper(x, upper: bool = False) -> Tensor:
    out = cholesky(x)
    return _mT(out) if upper else out


def eigh_pair(x, UPLO: str = "L") -> Eigh:
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    packed = eigh(x)
    return Eigh(packed[..., 0, :], packed[..., 1:, :])


def qr_pair(x, mode: str = "reduced") -> QRResult:
    """(Q, R); mode 'reduced' (default), 'complete' or 'r' (R only, Q empty), as PyTorch.
    A wide matrix [X | Y] is X = QU on its square part, then R = [U | QᵀY], so the
    gradient flows through both (as PyTorch's)."""
    x = _matrix(x, "linalg.qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    m, n = x.shape[-2], x.shape[-1]
    if mode == "complete" and m > n:
        if recording(x):
            raise RuntimeError(
                f"linalg.qr: mode='complete' with more rows than columns (shape {x.shape}) is "
                "not differentiable (as in PyTorch); use mode='reduced' or no_grad()")
        q, r = np.linalg.qr(x.array, mode="complete")
        return QRResult(_plain(q), _plain(r))
    if m >= n:
        packed = qr(x)
        q, r = packed[..., :m, :], _mT(packed[..., m:, :])
    else:
        packed = qr(x[..., :m])
        q, u = packed[..., :m, :], _mT(packed[..., m:, :])
        r = P.concatenate([u, P.matmul(_mT(q), x[..., m:])], axis=-1)
    if mode == "r":
        return QRResult(_plain(np.zeros((0,), x.array.dtype)), r)
    return QRResult(q, r)


def svd_triple(x, full_matrices: bool = True) -> SVDResult:
    """(U, S, Vh) with A = U diag(S) Vh; ``full_matrices=True`` (PyTorch's default) adds the
    orthonormal complement to U or Vh of a non-square matrix. As PyTorch, the gradient
    flows through the first min(m, n) columns; the complement's is ignored."""
    x = _matrix(x, "linalg.svd", square=False)
    m, n = x.shape[-2], x.shape[-1]
    packed = svd(x)
    u, s, vh = packed[..., :m, :], packed[..., m, :], _mT(packed[..., m + 1:, :])
    if full_matrices and m != n:
        k = builtins.min(m, n)
        full_u, _, full_vh = np.linalg.svd(x.array, full_matrices=True)
        if m > n:
            u = P.concatenate([u, _plain(full_u[..., :, k:])], axis=-1)
        else:
            vh = P.concatenate([vh, _plain(full_vh[..., k:, :])], axis=-2)
    return SVDResult(u, s, vh)


def svdvals(x) -> Tensor:
    x = _matrix(x, "linalg.svdvals", square=False)
    return svd(x)[..., x.shape[-2], :]


@expose(name="svd")
def svd_old(x, some: bool = True, compute_uv: bool = True) -> SVDOldResult:
    """``torch.svd``: (U, S, V), V not transposed; ``some=True`` the reduced form."""
    u, s, vh = svd_triple(x, full_matrices=not some)
    return SVDOldResult(u, s, _mT(vh))


@expose(name="qr")
def qr_old(x, some: bool = True) -> QRResult:
    """``torch.qr``: (Q, R), reduced unless ``some=False``."""
    return qr_pair(x, "reduced" if some else "complete")


def matrix_norm(x, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """PyTorch's matrix norms: 'fro', 'nuc', 2 / -2 (largest / smallest singular value),
    1 / -1 (max / min column sum of |a|), inf / -inf (max / min row sum)."""
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"linalg.matrix_norm: expected at least 2 dims, got shape {x.shape}")
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise ValueError(f"linalg.matrix_norm: dim must be a pair of dims, got {dim!r}")
    d0, d1 = (int(d) % x.ndim for d in dim)
    if d0 == d1:
        raise ValueError(f"linalg.matrix_norm: the two dims must differ, got {dim!r}")
    if dtype is not None:
        x = x.to(dtype)
    if ord == "fro":
        return P.sqrt_masked(P.sum(P.mul(x, x), axis=(d0, d1), keepdims=keepdim))
    rest = [i for i in range(x.ndim) if i not in (d0, d1)]
    moved = P.transpose(x, (*rest, d0, d1))
    if ord in ("nuc", 2, -2):
        s = svdvals(moved)
        out = P.sum(s, axis=-1) if ord == "nuc" else (P.amax(s, axis=-1) if ord == 2
                                                       else P.amin(s, axis=-1))
    elif ord in (1, -1, math.inf, -math.inf):
        axis = -2 if ord in (1, -1) else -1  # column sums for 1, row sums for inf
        sums = P.sum(P.abs(moved), axis=axis)
        out = P.amax(sums, axis=-1) if ord > 0 else P.amin(sums, axis=-1)
    else:
        raise ValueError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', 2, -2, 1, -1, inf or "
                         f"-inf, got {ord!r}")
    if keepdim:
        for d in sorted((d0, d1)):
            out = P.reshape(out, out.shape[:d] + (1,) + out.shape[d:])
    return out


def pinv(x, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse through the SVD; singular values at or below
    max(atol, rtol·σ_max) count as zero (rtol default: ε·max(m, n), as PyTorch)."""
    x = _matrix(x, "linalg.pinv", square=False)
    m, n = x.shape[-2], x.shape[-1]
    packed = svd(x)
    u, s, v = packed[..., :m, :], packed[..., m, :], packed[..., m + 1:, :]
    if rtol is None:
        rtol = np.finfo(x.array.dtype).eps * builtins.max(m, n) if atol is None else 0.0
    cutoff = np.maximum(atol or 0.0, rtol * s.array.max(axis=-1, keepdims=True))
    keep = s.array > cutoff
    inv_s = P.where(keep, P.div(1.0, P.where(keep, s, 1.0)), 0.0)
    return P.matmul(P.mul(v, inv_s[..., None, :]), _mT(u))


@expose(name="pinverse")
def pinverse(x, rcond: float = 1e-15) -> Tensor:
    return pinv(x, rtol=rcond)


def lstsq(a, b, rcond=None, *, driver=None) -> LstsqResult:
    """The least-squares solution of A X = B (minimum norm where A is rank-deficient),
    differentiable through the pseudo-inverse; residuals/rank/singular values as the
    CPU default driver ('gelsy') reports them: residuals empty, rank computed."""
    a = _matrix(a, "linalg.lstsq", square=False)
    b = as_tensor(b, a)
    vector = b.ndim == a.ndim - 1
    rhs = b.unsqueeze(-1) if vector else b
    if rhs.shape[-2] != a.shape[-2]:
        raise ValueError(f"linalg.lstsq: A has {a.shape[-2]} rows but B has shape {b.shape}")
    solution = P.matmul(pinv(a, rtol=rcond), rhs)
    if vector:
        solution = solution[..., 0]
    empty = _plain(np.zeros((0,), a.array.dtype))
    return LstsqResult(solution, empty, matrix_rank(a), empty)


def matrix_rank(x, *, atol=None, rtol=None, hermitian: bool = False, tol=None) -> Tensor:
    x = _matrix(x, "linalg.matrix_rank", square=False)
    s = np.linalg.svd(x.array, compute_uv=False)
    if tol is not None:
        atol = tol
    if rtol is None:
        rtol = np.finfo(x.array.dtype).eps * builtins.max(x.shape[-2:]) if atol is None else 0.0
    cutoff = np.maximum(atol or 0.0, rtol * s.max(axis=-1, keepdims=True))
    return _plain((s > cutoff).sum(axis=-1).astype(np.int64))


def cond(x, p=None) -> Tensor:
    """The condition number: σ_max/σ_min for p None or 2, else ‖A‖_p ‖A⁻¹‖_p."""
    x = _matrix(x, "linalg.cond", square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        s = svdvals(x)
        big, small = P.amax(s, axis=-1), P.amin(s, axis=-1)
        return P.div(big, small) if p != -2 else P.div(small, big)
    return P.mul(matrix_norm(x, p), matrix_norm(inv(x), p))


@expose
def matrix_power(x, n: int) -> Tensor:
    """A·A·…·A (n times); n = 0 the identity, n < 0 powers of the inverse."""
    x = _matrix(x, "matrix_power")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"matrix_power: n must be an int, got {type(n).__name__}")
    if n == 0:
        return P.add(P.mul(x, 0), _plain(np.broadcast_to(_eye(x.shape[-1], x.array.dtype),
                                                          x.shape).copy()))
    base = inv(x) if n < 0 else x
    out = base
    for _ in range(abs(n) - 1):
        out = P.matmul(out, base)
    return out


def multi_dot(tensors) -> Tensor:
    tensors = [as_tensor(t) for t in tensors]
    if len(tensors) < 2:
        raise ValueError(f"linalg.multi_dot: expected at least 2 tensors, got {len(tensors)}")
    out = tensors[0]
    for t in tensors[1:]:
        out = P.matmul(out, t)
    return out


def solve_triangular(a, b, *, upper: bool, left: bool = True,
                     unitriangular: bool = False) -> Tensor:
    """X with A X = B (``left=False``: X A = B) for triangular A; only A's triangle is read
    (and gets a gradient), its diagonal taken as ones if ``unitriangular``."""
    a = _matrix(a, "linalg.solve_triangular")
    n = a.shape[-1]
    ones = np.ones((n, n), a.array.dtype)
    mask = np.triu(ones, 1 if unitriangular else 0) if upper else \
        np.tril(ones, -1 if unitriangular else 0)
    tri = P.mul(a, _plain(mask))
    if unitriangular:
        tri = P.add(tri, _plain(_eye(n, a.array.dtype)))
    return solve_any(tri, b, left=left)


@expose(method=True)
def cholesky_solve(b, l, upper: bool = False) -> Tensor:
    """X with A X = B where A = L Lᵀ (``upper=True``: A = Uᵀ U)."""
    l = _matrix(l, "cholesky_solve")
    low = _mT(l) if upper else l
    return solve_triangular(_mT(low), solve_triangular(low, b, upper=False), upper=True)


@expose(method=True)
def cholesky_inverse(l, upper: bool = False) -> Tensor:
    l = _matrix(l, "cholesky_inverse")
    eye = _plain(np.broadcast_to(_eye(l.shape[-1], l.array.dtype), l.shape).copy())
    return cholesky_solve(eye, l, upper)
