"""``torch.linalg``: the parts chainrule has, differentiable through registered ops."""

from __future__ import annotations

import math

from .ops import tensor_api as _api


def norm(x, ord=None, dim=None, keepdim: bool = False, *, dtype=None):
    """Vector norm (``ord`` = None/2, 1, inf, -inf or any p) over ``dim`` (all elements by
    default); for a matrix with ord=None the Frobenius norm, as torch.linalg.norm."""
    if ord is None or ord == "fro":
        return _api.norm(x, 2, dim, keepdim)
    if isinstance(ord, str):
        raise NotImplementedError(f"linalg.norm: ord={ord!r} (a matrix norm) is not in "
                                  "chainrule; the nearest is the Frobenius norm (ord=None)")
    if dim is not None and not isinstance(dim, int) and len(tuple(dim)) == 2 and ord not in (
            2, 2.0):
        raise NotImplementedError("linalg.norm: matrix norms other than Frobenius are not in "
                                  "chainrule")
    return _api.norm(x, math.inf if ord == float("inf") else ord, dim, keepdim)


def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None):
    return _api.norm(x, ord, dim, keepdim)


def __getattr__(name: str):
    raise AttributeError(f"chainrule.linalg has no {name!r}: it has norm and vector_norm "
                         "(matrix decompositions are not part of chainrule)")
