"""Normalization as one node: y = (x - mean) / √(var + eps) · w + b, the statistics taken
over ``axes`` (BatchNorm: every axis but the channel; LayerNorm: the trailing ones;
GroupNorm: each group, after a reshape).

Why one node: composed from primitives the normalization records ~10 nodes and as
many full-size temporaries; its gradient has a closed form that needs x̂ and 1/σ
only:  dx = (1/σ) (ĝ - mean(ĝ) - x̂ · mean(ĝ x̂)),  ĝ = g · w,
       dw = Σ g x̂,  db = Σ g   (sums over the axes the parameter is broadcast along).
Under ``create_graph`` the rule rebuilds x̂ and σ from x with differentiable
operations, so the same formula differentiates again.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .._tensor import Tensor, is_grad_enabled, record
from .primitives import ARRAYS
from .registry import Op


def _normalize_vjp(F, g, ans, ctx, x, w=None, b=None):
    axes, eps, xhat, inv_std, bshape, needs = ctx
    n = 1
    for a in axes:
        n *= x.shape[a]
    if F is ARRAYS:
        return _normalize_vjp_arrays(g, axes, n, xhat, inv_std, bshape, needs, w, b)
    # GRAPH: rebuild x̂ and 1/σ from x so that they are differentiable
    mean = x.sum(axis=axes, keepdims=True) / n
    xc = x - mean
    inv_std = ((xc * xc).sum(axis=axes, keepdims=True) / n + eps) ** -0.5
    xhat = xc * inv_std
    gw = gb = gx = None
    wb = None if w is None else w.reshape(bshape)
    if needs[1]:
        gw = _reduce_to(g * xhat, bshape).reshape(w.shape)
    if b is not None and needs[2]:
        gb = _reduce_to(g, bshape).reshape(b.shape)
    if needs[0]:
        gh = g if wb is None else g * wb
        mean_gh = gh.sum(axis=axes, keepdims=True) / n
        mean_ghx = (gh * xhat).sum(axis=axes, keepdims=True) / n
        gx = (gh - mean_gh - xhat * mean_ghx) * inv_std
    if w is None:
        return (gx,)
    return (gx, gw) if b is None else (gx, gw, gb)


def _normalize_vjp_arrays(g, axes, n, xhat, inv_std, bshape, needs, w, b):
    """The same rule on arrays, in few passes: when the parameters live on the axes the
    statistics are not taken over (BatchNorm), w factors out of the sums, so Σg and
    Σg·x̂ serve dx, dw and db alike."""
    per_channel = w is None or tuple(i for i, k in enumerate(bshape) if k == 1) == axes
    gx = gw = gb = None
    if per_channel:
        t = g * xhat
        s_gx = _sum(t, axes)
        s_g = _sum(g, axes)
        if needs[1]:
            gw = s_gx.reshape(w.shape)
        if b is not None and needs[2]:
            gb = s_g.reshape(b.shape)
        if needs[0]:
            scale = inv_std if w is None else w.reshape(bshape) * inv_std
            gx = g - s_g / n
            np.multiply(xhat, s_gx / n, out=t)
            gx -= t
            gx *= scale
    else:  # LayerNorm: the weight varies along the normalized axes
        if needs[1]:
            gw = _reduce_to(g * xhat, bshape).reshape(w.shape)
        if b is not None and needs[2]:
            gb = _reduce_to(g, bshape).reshape(b.shape)
        if needs[0]:
            gh = g * w.reshape(bshape)
            t = gh * xhat
            mean_ghx = t.sum(axis=axes, keepdims=True) / n
            gx = gh - gh.sum(axis=axes, keepdims=True) / n
            np.multiply(xhat, mean_ghx, out=t)
            gx -= t
            gx *= inv_std
    if w is None:
        return (gx,)
    return (gx, gw) if b is None else (gx, gw, gb)


def _sum(a, axes: tuple):
    """Σ over ``axes`` with keepdims. Over every axis but 1 of channels-last memory (a
    convolution's output) or down the rows of a matrix, a BLAS product 1ᵀ A: several
    times faster than NumPy's reduction across strided axes."""
    if axes == (0,) + tuple(range(2, a.ndim)) and a.ndim >= 2:
        rows = a if a.ndim == 2 else a.transpose((0,) + tuple(range(2, a.ndim)) + (1,))
        if rows.flags.c_contiguous:
            c = a.shape[1]
            m = rows.size // c if c else 0
            xp = backend.namespace(a)
            keep = (1, c) + (1,) * (a.ndim - 2)
            return (xp.ones(m, dtype=a.dtype) @ rows.reshape(m, c)).reshape(keep)
    return a.sum(axis=axes, keepdims=True)


def _reduce_to(a, bshape: tuple):
    """Σ of ``a`` over the axes where the broadcast shape ``bshape`` has size 1."""
    axes = tuple(i for i, n in enumerate(bshape) if n == 1 and a.shape[i] != 1)
    return a.sum(axis=axes, keepdims=True) if axes else a


def normalize(x: Tensor, axes: tuple, eps: float, weight: Tensor | None = None,
              bias: Tensor | None = None, bshape: tuple | None = None,
              kind: str = "batch_norm"):
    """(x - mean) / √(var + eps) over ``axes``, times ``weight`` plus ``bias`` (given in
    their own shapes, broadcast as ``bshape``). Returns the output and the batch
    mean and biased variance (arrays, for running statistics). ``kind`` names the node
    (batch_norm, layer_norm, group_norm)."""
    xd = x.array
    xp = backend.namespace(xd)
    n = 1
    for a in axes:
        n *= xd.shape[a]
    mean = _sum(xd, axes) / xd.dtype.type(n)
    xc = xd - mean
    sq = xc * xc
    var = _sum(sq, axes) / xd.dtype.type(n)
    inv_std = 1.0 / xp.sqrt(var + xd.dtype.type(eps))
    xhat = xc
    xhat *= inv_std
    if weight is not None:
        out = xp.multiply(xhat, weight.array.reshape(bshape), out=sq)  # reuse the buffer
        if bias is not None:
            out += bias.array.reshape(bshape)
    else:
        out = xhat
    parents = (x,) if weight is None else (x, weight) if bias is None else (x, weight, bias)
    needs = (x.requires_grad, weight is not None and weight.requires_grad,
             bias is not None and bias.requires_grad)
    keep = is_grad_enabled() and any(needs)
    ctx = (axes, eps, xhat if keep else None, inv_std, bshape, needs)
    y = record(out, _KINDS[kind], parents, ctx)
    return y, mean, var


def _affine_vjp(F, g, ans, ctx, x, w=None, b=None):
    # y = x · scale + shift, scale = w / √(running_var + eps), shift = b - running_mean · scale
    inv_std, mean, bshape, needs = ctx
    gx = gw = gb = None
    scale = inv_std if w is None else w.reshape(bshape) * inv_std
    if needs[0]:
        gx = g * scale
    if w is not None and needs[1]:
        gw = _reduce_to(g * (x - mean) * inv_std, bshape).reshape(w.shape)
    if b is not None and needs[2]:
        gb = _reduce_to(g, bshape).reshape(b.shape)
    if w is None:
        return (gx,)
    return (gx, gw) if b is None else (gx, gw, gb)


def normalize_with(x: Tensor, mean: np.ndarray, var: np.ndarray, eps: float,
                   weight: Tensor | None, bias: Tensor | None, bshape: tuple) -> Tensor:
    """(x - mean) / √(var + eps) · w + b with given (running) statistics: BatchNorm in
    eval mode, an affine map of x."""
    xd = x.array
    xp = backend.namespace(xd)
    mean, var = xp.asarray(mean, dtype=xd.dtype), xp.asarray(var, dtype=xd.dtype)
    mean = mean.reshape(bshape)
    inv_std = (1.0 / xp.sqrt(var.reshape(bshape) + eps)).astype(xd.dtype, copy=False)
    scale = inv_std if weight is None else weight.array.reshape(bshape) * inv_std
    out = (xd - mean) * scale
    if bias is not None:
        out += bias.array.reshape(bshape)
    parents = (x,) if weight is None else (x, weight) if bias is None else (x, weight, bias)
    needs = (x.requires_grad, weight is not None and weight.requires_grad,
             bias is not None and bias.requires_grad)
    return record(out.astype(xd.dtype, copy=False), BATCH_NORM_EVAL, parents,
                  (inv_std, mean.astype(xd.dtype, copy=False), bshape, needs))


def _case(shape, axes, param_shape, bshape, affine=True):
    def make(rng):
        w = rng.standard_normal(param_shape) if affine else None
        b = rng.standard_normal(param_shape) if affine else None
        return (rng.standard_normal(shape), w, b, axes, 1e-5, bshape), {}
    return make


_NORM_FORMULA = ("(1/σ)(I - 1/n - x̂ x̂ᵀ/n) · w", "x̂", "1")
BATCH_NORM = Op("batch_norm", _normalize_vjp, formula=_NORM_FORMULA,
                hint="a channel with zero variance and eps = 0, or an overflow",
                cases=[_case((4, 3, 2), (0, 2), (3,), (1, 3, 1)),
                       _case((5, 2), (0,), (2,), (1, 2))])
LAYER_NORM = Op("layer_norm", _normalize_vjp, formula=_NORM_FORMULA,
                hint="constant features with eps = 0, or an overflow",
                cases=[_case((3, 4), (1,), (4,), (1, 4)),
                       _case((2, 3, 4), (1, 2), (3, 4), (1, 3, 4))])
GROUP_NORM = Op("group_norm", _normalize_vjp, formula="(1/σ)(I - 1/n - x̂ x̂ᵀ/n)",
                hint="a constant group with eps = 0, or an overflow",
                cases=[_case((2, 2, 6), (2,), None, None, affine=False)])
_KINDS = {"batch_norm": BATCH_NORM, "layer_norm": LAYER_NORM, "group_norm": GROUP_NORM}


def _define(op: Op):
    @op.define
    def public(x: Tensor, weight: Tensor | None, bias: Tensor | None, axes: tuple, eps: float,
               bshape: tuple | None) -> Tensor:
        return normalize(x, axes, eps, weight, bias, bshape, kind=op.name)[0]

    public.__name__ = public.__qualname__ = op.name
    return public


batch_norm, layer_norm, group_norm = (_define(op) for op in (BATCH_NORM, LAYER_NORM,
                                                             GROUP_NORM))


def _eval_case(rng):
    return (rng.standard_normal((4, 3, 2)), (0.1, -0.2, 0.3), (1.5, 0.5, 2.0), 1e-5,
            rng.standard_normal(3), rng.standard_normal(3), (1, 3, 1)), {}


BATCH_NORM_EVAL = Op("batch_norm_eval", _affine_vjp, reads=("inputs",),
                     formula=("w / √(running_var + eps)", "x̂ (running statistics)", "1"),
                     cases=[_eval_case])
BATCH_NORM_EVAL.define(normalize_with)
