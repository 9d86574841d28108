"""``torch.linalg``: matrix functions and decompositions, differentiable through registered
ops (chainrule/ops/linalg_ops.py), batched over leading dims as PyTorch."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._tensor import Tensor
from .ops import linalg_ops as _ops
from .ops import tensor_api as _api
from .ops.linalg_ops import (  # the public names of torch.linalg
    LinAlgError,
    cond,
    det,
    inv,
    lstsq,
    matrix_norm,
    matrix_power,
    matrix_rank,
    multi_dot,
    pinv,
    slogdet,
    solve_triangular,
    svdvals,
)

cholesky = _ops.cholesky_lower_or_upper
eigh = _ops.eigh_pair
qr = _ops.qr_pair
svd = _ops.svd_triple
solve = _ops.solve_any


def eigvalsh(x, UPLO: str = "L"):
    return eigh(x, UPLO).eigenvalues


def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None):
    """The vector ``ord``-norm over ``dim`` (all elements by default, whatever the shape)."""
    if dtype is not None:
        x = x.to(dtype)
    if ord == 0:
        ne = _api.C.ne(x, 0)
        return _api.P.sum(ne.to(x.dtype), axis=dim, keepdims=keepdim)
    return _api.norm(x, ord, dim, keepdim)


def norm(x, ord=None, dim=None, keepdim: bool = False, *, dtype=None):
    """``torch.linalg.norm``: a matrix norm when ``dim`` is a pair (or ``x`` is a matrix
    and ``ord`` is given, or ``ord`` is 'fro'/'nuc'), else a vector norm."""
    from ._tensor import as_tensor

    x = as_tensor(x)
    if dim is not None and not isinstance(dim, int):
        dim = tuple(dim)
    matrix = (isinstance(dim, tuple) and len(dim) == 2) or isinstance(ord, str) or (
        dim is None and ord is not None and x.ndim == 2)
    if ord is None:
        return vector_norm(x, 2, dim, keepdim, dtype=dtype)  # Frobenius for a pair of dims
    if matrix:
        return matrix_norm(x, ord, (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    if dim is None and x.ndim > 1:
        raise ValueError(f"linalg.norm: ord={ord!r} on a tensor of {x.ndim} dims needs dim= "
                         "(one dim for a vector norm, two for a matrix norm)")
    return vector_norm(x, math.inf if ord == float("inf") else ord, dim, keepdim, dtype=dtype)


def cross(a, b, *, dim: int = -1):
    return _api.cross(a, b, dim=dim)


def vecdot(a, b, *, dim: int = -1):
    return _api.P.sum(_api.P.mul(a, b), axis=dim)


class _WithInfo(NamedTuple):
    result: Tensor
    info: Tensor


class CholeskyEx(NamedTuple):
    L: Tensor
    info: Tensor


class InvEx(NamedTuple):
    inverse: Tensor
    info: Tensor


def _each_matrix(x: Tensor, where: str, factor, bad) -> _WithInfo:
    """``factor`` of every matrix of the batch on the graph where it succeeds; where it
    fails, NaNs (never a silently wrong matrix) and ``bad(matrix)`` in ``info``."""
    from . import creation, ops
    from ._tensor import as_tensor

    x = as_tensor(x)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{where}: expected square matrices (..., n, n), got shape "
                         f"{tuple(x.shape)}")
    batch = x.shape[:-2]
    flat = x.reshape((-1,) + x.shape[-2:])
    results, info = [], np.zeros(flat.shape[0], dtype=np.int32)
    for i in range(flat.shape[0]):
        try:
            results.append(factor(flat[i]))
        except RuntimeError:
            info[i] = bad(flat.array[i])
            results.append(creation.full_like(flat[i], float("nan")))
    out = ops.stack(results).reshape(x.shape)
    return _WithInfo(out, as_tensor(info.reshape(batch)))


def cholesky_ex(x, *, upper: bool = False, check_errors: bool = False) -> CholeskyEx:
    """``(L, info)``: ``info`` is 0 where the matrix is positive-definite, else the order of
    its first leading minor that is not (and that matrix's L is NaN, where PyTorch leaves a
    partial factor); ``check_errors=True`` raises instead, as ``cholesky``."""
    if check_errors:
        return CholeskyEx(cholesky(x, upper=upper), _zeros_info(x))

    def first_bad_minor(a: np.ndarray) -> int:
        for k in range(1, a.shape[-1] + 1):
            try:
                np.linalg.cholesky(a[:k, :k])
            except np.linalg.LinAlgError:
                return k
        return a.shape[-1]

    out = _each_matrix(x, "linalg.cholesky_ex", lambda m: cholesky(m, upper=upper),
                       first_bad_minor)
    return CholeskyEx(out.result, out.info)


def inv_ex(x, *, check_errors: bool = False) -> InvEx:
    """``(inverse, info)``: ``info`` is 0 for an invertible matrix, else positive (and that
    matrix's inverse is NaN); ``check_errors=True`` raises instead, as ``inv``."""
    if check_errors:
        return InvEx(inv(x), _zeros_info(x))
    def first_zero_pivot(a: np.ndarray) -> int:  # LAPACK getrf's info, as PyTorch reports
        from scipy.linalg import lapack

        getrf = lapack.get_lapack_funcs("getrf", (a,))
        return int(getrf(a)[2]) or a.shape[-1]

    out = _each_matrix(x, "linalg.inv_ex", inv, first_zero_pivot)
    return InvEx(out.result, out.info)


def _zeros_info(x) -> Tensor:
    from ._tensor import as_tensor

    return as_tensor(np.zeros(as_tensor(x).shape[:-2], dtype=np.int32))


class SolveEx(NamedTuple):
    result: Tensor
    info: Tensor


def solve_ex(A, B, *, left: bool = True, check_errors: bool = False) -> SolveEx:
    """``(X, info)`` of ``solve``: ``info`` 0 where A is invertible, else LAPACK's first
    zero pivot (and that X is NaN); ``check_errors=True`` raises instead, as ``solve``."""
    from ._tensor import as_tensor

    A, B = as_tensor(A), as_tensor(B)
    try:
        return SolveEx(solve(A, B, left=left), _zeros_info(A))
    except LinAlgError:
        if check_errors:
            raise
    inverse, info = inv_ex(A)  # NaN where singular
    if B.ndim == A.ndim - 1:  # a vector (or a batch of them)
        x = _api.C.squeeze(_api.P.matmul(inverse, _api.C.unsqueeze(B, -1)), -1)
    else:
        x = _api.P.matmul(inverse, B) if left else _api.P.matmul(B, inverse)
    return SolveEx(x, info)


def diagonal(A, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonals of the matrices (the last two dims by default)."""
    return _api.diagonal(A, offset, dim1, dim2)


def matmul(a, b) -> Tensor:
    return _api.P.matmul(a, b)


def vander(x, *, N: int | None = None) -> Tensor:
    """Powers x⁰, x¹, …, x^(N−1) of each element along a new last dim (increasing, as
    torch.linalg.vander; torch.vander counts down), as a running product."""
    from ._tensor import as_tensor

    x = as_tensor(x)
    if x.ndim < 1:
        raise ValueError("linalg.vander: expected a tensor with at least 1 dim, got a 0-d one")
    n = x.shape[-1] if N is None else int(N)
    if n < 1:
        raise ValueError(f"linalg.vander: N must be at least 1, got {n}")
    column = _api.C.unsqueeze(x, -1)
    factors = [_api.P.add(_api.P.mul(column, 0), 1)] + [column] * (n - 1)
    return _api.cumprod(_api.P.concatenate(factors, axis=-1), -1)


def __getattr__(name: str):
    raise AttributeError(f"chainrule.linalg has no {name!r}: it has {', '.join(__all__)} "
                         "(eig/eigvals with complex results, lu, householder_product, ldl, "
                         "tensorinv/tensorsolve and matrix_exp are not part of chainrule)")


__all__ = [
    "LinAlgError",
    "cholesky",
    "cholesky_ex",
    "cond",
    "cross",
    "det",
    "diagonal",
    "eigh",
    "eigvalsh",
    "inv",
    "inv_ex",
    "lstsq",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_ex",
    "solve_triangular",
    "svd",
    "svdvals",
    "vander",
    "vecdot",
    "vector_norm",
]
