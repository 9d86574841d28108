"""``torch.linalg``: matrix functions and decompositions, differentiable through registered
ops (chainrule/ops/linalg_ops.py), batched over leading dims as PyTorch."""

from __future__ import annotations

import math

from .ops import linalg_ops as _ops
from .ops import tensor_api as _api
from .ops.linalg_ops import (  # the public names of torch.linalg
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


def __getattr__(name: str):
    raise AttributeError(f"chainrule.linalg has no {name!r}: it has {', '.join(__all__)} "
                         "(eig/eigvals with complex results, lu, householder_product and "
                         "matrix_exp are not part of chainrule)")


__all__ = ["cholesky", "cond", "cross", "det", "eigh", "eigvalsh", "inv", "lstsq",
           "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr",
           "slogdet", "solve", "solve_triangular", "svd", "svdvals", "vecdot", "vector_norm"]
