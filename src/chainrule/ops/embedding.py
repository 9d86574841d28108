"""Embedding lookup as one node: rows of a weight matrix picked by integer indices; the
adjoint adds each output row's gradient back onto the row it came from."""

from __future__ import annotations

import numpy as np

from .. import backend
from .._tensor import Tensor, record
from .primitives import ARRAYS
from .registry import Op


def _embedding_vjp(F, g, ans, ctx, w):
    index, padding_idx, counts = ctx
    g2 = g.reshape(-1, w.shape[1])
    if counts is not None:  # scale_grad_by_freq: divide by how often each row was used
        g2 = g2 / counts.reshape(-1, 1)
    if F is ARRAYS:
        xp = backend.namespace(g2)
        gw = xp.zeros(w.shape, dtype=g2.dtype)
        xp.add.at(gw, index, g2)  # repeated indices accumulate
        if padding_idx is not None:
            gw[padding_idx] = 0
        return (gw,)
    gw = F.scatter_add(g2, w.shape, (index,))
    if padding_idx is not None:
        keep = np.ones((w.shape[0], 1), dtype=w.array.dtype)
        keep[padding_idx] = 0
        gw = gw * keep
    return (gw,)


def _case(rng):
    return (np.array([[0, 2, 2], [4, 0, 1]]), rng.standard_normal((5, 3)), 3, False), {}


# (scale_grad_by_freq divides the gradient by each row's count on purpose: not a true
# gradient, so it is checked against PyTorch only, in tests/test_norm_embedding.py)
EMBEDDING = Op("embedding", _embedding_vjp, reads=(), second_order=False,
               formula="1 at the looked-up row (0 for padding_idx)", cases=[_case])


@EMBEDDING.define
def embedding(index: np.ndarray, weight: Tensor, padding_idx: int | None,
              scale_grad_by_freq: bool = False) -> Tensor:
    """weight[index] (shape index.shape + (dim,)); the row ``padding_idx`` gets no
    gradient."""
    xp = backend.namespace(weight.array)
    flat = xp.asarray(index.reshape(-1))  # on the weight's device
    counts = None
    if scale_grad_by_freq:
        counts = xp.bincount(flat, minlength=weight.shape[0])[flat].astype(weight.array.dtype)
    out = weight.array[flat].reshape(index.shape + (weight.shape[1],))
    return record(out, EMBEDDING, (weight,), (flat, padding_idx, counts))
