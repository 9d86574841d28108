"""Fused building blocks for neural networks: one graph node where a chain of primitives
would record several, each with its own VJP rule written side by side.

Why fuse: a 784-256-128-10 MLP step is only a dozen array passes; at small batches the
per-node bookkeeping and the temporary arrays of a composed form cost as much as the
matrix products. Each fused op is one registry entry, like a primitive, whose ``fuses``
field says which chain of primitives it stands for (drawings show it). Its rule is written
once against ``F`` (``ARRAYS`` for an ordinary backward, ``GRAPH`` under
``create_graph=True``), so the same lines give first and higher derivatives.

Shapes, dtypes and the user-facing error messages are checked by the callers in
``chainrule.nn.functional``; these functions assume valid, same-dtype inputs.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, is_grad_enabled, record
from . import primitives as P
from .primitives import relu  # the one relu (nn's ReLU records this op)
from .registry import ARRAYS, Op, case

# PyTorch clamps the log of a probability at -100 in binary cross-entropy, and divides
# by max(x (1 - x), 1e-12) in its gradient: the same constants give the same numbers.
_BCE_LOG_MIN = -100.0
_BCE_EPS = 1e-12


def _scale_for(reduction: str, n: int, g, like: np.ndarray):
    """The factor each element's gradient is multiplied by: g/n, g, or g itself (none)."""
    if reduction == "mean":
        return g / like.dtype.type(n) if n else g * like.dtype.type(np.nan)
    return g


_ONES: dict = {}


def _ones(n: int, dtype) -> np.ndarray:
    """A cached read-only vector of n ones: row and column sums as BLAS products."""
    key = (n, dtype)
    v = _ONES.get(key)
    if v is None:
        if len(_ONES) > 64:
            _ONES.clear()
        v = np.ones(n, dtype=dtype)
        v.flags.writeable = False
        _ONES[key] = v
    return v


def reduce_loss(loss, reduction: str):
    """A loss's per-element values reduced as ``reduction`` says, on arrays (inside a fused
    op) or on Tensors (a loss composed from ops): the mean of no elements is NaN."""
    if reduction == "mean":
        if isinstance(loss, Tensor):
            return P.mean(loss) if loss.numel() else P.sum(loss) * np.nan
        return loss.mean() if loss.size else loss.dtype.type(np.nan)
    if reduction == "sum":
        return P.sum(loss) if isinstance(loss, Tensor) else loss.sum()
    return loss


def reduce_weighted(loss: np.ndarray, reduction: str, denom):
    """As ``reduce_loss``, but the mean divides by ``denom`` (Σ weight[y_i] over the kept
    samples, as PyTorch); 0 when every target is ignored: 0/0, NaN."""
    if reduction == "mean":
        dt = loss.dtype
        return dt.type(loss.sum() / denom) if denom else dt.type(np.nan)
    return reduce_loss(loss, reduction)


# ===========================================================================
# linear: y = x Wᵀ + b as one node
# ===========================================================================
def _linear_vjp(F, g, ans, needs, x, w, b=None):
    # y = x Wᵀ + b  =>  dx = g W,  dW = gᵀ x (summed over the batch),  db = Σ_batch g.
    # Only the inputs that require grad are computed: the data batch x never does, and
    # g W is the largest product of the backward pass.
    gx = g @ w if needs[0] else None
    gw = gb = None
    if needs[1] or needs[2]:
        if g.ndim == 2:
            g2, x2 = g, x
        else:  # a single sample (1-D) or extra leading batch dims: flatten them
            g2 = g.reshape(-1, g.shape[-1])
            x2 = x.reshape(-1, x.shape[-1])
        if needs[1]:
            gw = g2.T @ x2
        if needs[2]:
            # Σ over the batch as a BLAS product 1ᵀ g: 2-3x faster than the ufunc sum
            gb = _ones(g2.shape[0], g2.dtype) @ g2
    return (gx, gw) if b is None else (gx, gw, gb)


_FEW_ROWS = 64


def _affine(x: Tensor, weight: Tensor, bias: Tensor | None):
    """``x Wᵀ + b`` as a fresh array, with the node's parents and which of them need grad."""
    xd, wd = x.array, weight.array
    if xd.ndim == 2 and xd.shape[0] <= _FEW_ROWS and wd.shape[0] >= _FEW_ROWS and \
            wd.flags.c_contiguous:
        # x Wᵀ with few rows (a small batch) runs on a slow OpenBLAS kernel; the same
        # product as (W xᵀ)ᵀ runs at full speed, and copying the (out, N) result back to
        # row order costs less than the difference (784-256 layer, batch 32: 190 -> 140
        # µs; no gain from batch 128 on, so large batches take the direct product).
        out = (wd @ xd.T).T.copy()
    else:
        out = xd @ wd.T
    if bias is None:
        return out, (x, weight), (x.requires_grad, weight.requires_grad, False)
    out += bias.array  # `out` is a fresh array: add in place, no temporary
    return out, (x, weight, bias), (x.requires_grad, weight.requires_grad, bias.requires_grad)


LINEAR = Op("linear", _linear_vjp, reads=("inputs",), fuses="matmul + add: x Wᵀ + b",
            formula=("(·) · {b}", "(·)ᵀ · {a}", "Σ_batch (·)"),
            hint="an overflow: the values grew too large (exploding activations or weights)",
            cases=[case((5, 3), (4, 3), (4,)), case((3,), (2, 3), (2,)), case((2, 5, 3), (4, 3))])


@LINEAR.define
def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` recorded as one node (weight has shape (out, in)).

    >>> import chainrule as cr
    >>> from chainrule.ops.nn_ops import linear
    >>> linear(cr.ones(2, 3), cr.ones(4, 3), cr.zeros(4)).shape
    (2, 4)
    """
    out, parents, needs = _affine(x, weight, bias)
    return record(out, LINEAR, parents, needs)


# ===========================================================================
# linear + relu: relu(x Wᵀ + b) as one node, the relu applied in place
# ===========================================================================
def _linear_relu_vjp(F, g, ans, ctx, x, w, b=None):
    needs, mask = ctx
    return _linear_vjp(F, g * mask, ans, needs, x, w, b)


LINEAR_RELU = Op("linear_relu", _linear_relu_vjp, reads=("inputs",), fuses="linear + relu",
                 formula=("((·) ⊙ [{out} > 0]) · {b}", "((·) ⊙ [{out} > 0])ᵀ · {a}",
                          "Σ_batch (·) ⊙ [{out} > 0]"),
                 cases=[case((5, 3), (4, 3), (4,)), case((3,), (2, 3), (2,))])


@LINEAR_RELU.define
def linear_relu(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``relu(x @ weight.T + bias)`` as one node: the ReLU works in place on the fresh
    product (no second array) and its mask scales the adjoint before the linear rule,
    as a hand-written MLP does. Used by Sequential for a Linear followed by a ReLU."""
    out, parents, needs = _affine(x, weight, bias)
    mask = out > 0 if is_grad_enabled() and (needs[0] or needs[1] or needs[2]) else None
    np.maximum(out, 0, out=out)
    return record(out, LINEAR_RELU, parents, (needs, mask))


# ===========================================================================
# dropout: the scaled keep-mask drawn in forward is reused in backward
# ===========================================================================
def _dropout_vjp(F, g, ans, scaled_mask, x):
    return (g * scaled_mask,)


class _SameDraws:
    """A random source that draws the same numbers every time: the gradient check calls the
    op many times and needs one mask throughout."""

    def __init__(self, seed: int):
        self.seed = seed

    def random(self, shape, dtype=np.float64):
        return np.random.default_rng(self.seed).random(shape, dtype=dtype)


DROPOUT = Op("dropout", _dropout_vjp, reads=(), formula="mask/(1-p)",
             cases=[lambda rng: ((rng.normal(size=(4, 5)), 0.3, _SameDraws(0)), {})])


@DROPOUT.define
def dropout(x: Tensor, p: float, rng: np.random.Generator) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (inverted
    dropout, as PyTorch), so that the expected value is unchanged and eval needs no
    rescaling."""
    xd = x.array
    dt = xd.dtype if xd.dtype.kind == "f" else np.dtype(np.float32)
    if p >= 1.0:
        scaled = np.zeros(xd.shape, dtype=dt)
    else:
        keep = rng.random(xd.shape, dtype=np.float32) >= np.float32(p)
        scaled = np.multiply(keep, dt.type(1.0 / (1.0 - p)), dtype=dt)
    return record(xd * scaled, DROPOUT, (x,), scaled)


# ===========================================================================
# cross-entropy on logits with class-index targets: log-softmax + NLL as one node
# ===========================================================================
def _row_max(x: np.ndarray) -> np.ndarray:
    """max over axis 1. NumPy reduces a short inner axis slowly (10 classes, batch 128:
    8 µs); the transposed copy reduces along rows in vectorized passes (under 2 µs)."""
    if x.shape[1] < 64:
        return x.T.copy().max(axis=0)
    return x.max(axis=1)


def _row_sum(x: np.ndarray) -> np.ndarray:
    """sum over axis 1, as a matrix-vector product (a BLAS call beats the ufunc reduction
    over a short axis by 2-3x)."""
    return x @ _ones(x.shape[1], x.dtype)


def _cross_entropy_vjp(F, g, ans, ctx, x):
    # loss_i = a_i (-log p_{i,y_i}) + b_i Σ_k w_k (-log p_ik)   (a: NLL weight, b: smoothing)
    # d loss_i / d x_i = a_i (p_i - onehot_i) + b_i (W p_i - w),  W = Σ_k w_k
    #                  = (a_i + b_i W) p_i - (a_i onehot_i + b_i w)
    # With no weights, smoothing or ignored targets (a = 1, b = 0): (p - onehot) g / N.
    flat, nll_coef, smooth_coef, class_w, reduction, denom, saved_probs, ignored = ctx
    n, k = x.shape
    if reduction == "none":
        scale = g.reshape(n, 1)
    elif reduction == "mean":
        # every target ignored: the mean is 0/0 = NaN, but no sample takes part, so no
        # gradient flows (PyTorch's), rather than NaN into every weight
        scale = g / denom if denom != 0 or ignored is None else \
            np.where(ignored, 0, np.nan)[:, None].astype(x.dtype)
    else:
        scale = g
    # the forward's softmax on arrays; recomputed as a recorded op for higher derivatives
    probs = saved_probs if F is ARRAYS and saved_probs is not None else F.softmax(x, axis=1)
    onehot = np.zeros((n, k), dtype=x.dtype)
    if nll_coef is None and smooth_coef is None:
        onehot.ravel()[flat] = 1
        return ((probs - onehot) * scale,)
    a = nll_coef if nll_coef is not None else np.ones(n, dtype=x.dtype)
    b = smooth_coef if smooth_coef is not None else np.zeros(n, dtype=x.dtype)
    w = class_w if class_w is not None else np.ones(k, dtype=x.dtype)
    onehot.ravel()[flat] = a
    const = onehot + b[:, None] * w
    return ((probs * (a + b * w.sum())[:, None] - const) * scale,)


CROSS_ENTROPY = Op("cross_entropy", _cross_entropy_vjp, reads=("inputs",),
                   fuses="log_softmax + nll_loss", formula="(softmax({x}) − onehot(y))/N",
                   cases=[lambda rng: ((rng.normal(size=(4, 3)), np.array([0, 2, 1, 2])), {}),
                          lambda rng: ((rng.normal(size=(3, 5)), np.array([4, 0, 1])),
                                       {"reduction": "sum", "label_smoothing": 0.1}),
                          lambda rng: ((rng.normal(size=(3, 4)), np.array([1, 3, 0])),
                                       {"weight": np.array([1.0, 2.0, 0.5, 1.5]),
                                        "reduction": "none"})])


@CROSS_ENTROPY.define
def cross_entropy(logits: Tensor, target: np.ndarray, weight: np.ndarray | None = None,
                  reduction: str = "mean", label_smoothing: float = 0.0,
                  ignore_index: int | None = -100) -> Tensor:
    """Softmax cross-entropy of (N, C) logits against N class indices, as one node.

    ``loss_i = logsumexp(x_i) - x_i[y_i]``, shifted by the row max so that logits in the
    thousands neither overflow nor lose the answer. ``weight`` (C,) weighs each class,
    ``ignore_index`` drops samples (None: the caller knows no target equals it),
    ``label_smoothing`` ε mixes in the uniform distribution; all with PyTorch's
    definitions (the mean divides by Σ weight[y_i] over the kept samples). The gradient
    is (softmax - onehot)/N in the plain case.
    """
    x = logits.array
    n, k = x.shape
    dt = x.dtype
    shifted = x - _row_max(x)[:, None]
    e = np.exp(shifted)
    sums = _row_sum(e)
    log_sums = np.log(sums)
    ignored = None if ignore_index is None else target == ignore_index
    if ignored is not None and ignored.any():
        target = np.where(ignored, 0, target)
    else:
        ignored = None
    flat = np.arange(0, n * k, k) + target  # (i, y_i) in the flattened (N, C) array
    nll = log_sums - shifted.ravel()[flat]  # -log p_{i, y_i}
    nll_coef = smooth_coef = None
    if weight is None and not label_smoothing and ignored is None:
        loss, denom = nll, dt.type(n)
    else:
        keep = np.ones(n, dtype=dt) if ignored is None else (~ignored).astype(dt)
        wy = keep if weight is None else weight[target] * keep
        eps = dt.type(label_smoothing)
        nll_coef = (1 - eps) * wy
        loss = nll_coef * nll
        denom = wy.sum()
        if label_smoothing:
            smooth_coef = keep * (eps / dt.type(k))
            # Σ_k w_k (-log p_ik) = Σ_k w_k (log_sums_i - shifted_ik)
            if weight is None:
                smooth = log_sums * dt.type(k) - _row_sum(shifted)
            else:
                smooth = log_sums * weight.sum() - shifted @ weight
            loss = loss + smooth_coef * smooth
    out = reduce_weighted(loss, reduction, denom)
    probs = None
    if is_grad_enabled() and logits.requires_grad:
        e /= sums[:, None]  # the softmax, in place: the rule reuses it
        probs = e
    return record(out, CROSS_ENTROPY, (logits,),
                  (flat, nll_coef, smooth_coef, weight, reduction, denom, probs, ignored))


# ===========================================================================
# negative log-likelihood on log-probabilities
# ===========================================================================
def _nll_loss_vjp(F, g, ans, ctx, x):
    rows, target, coef, reduction, denom, ignored = ctx
    # d(-coef_i x[i, y_i]) / dx = -coef_i at (i, y_i), 0 elsewhere
    if reduction == "mean" and denom == 0 and ignored is not None:
        # 0/0: ignored samples get no gradient (PyTorch's), the others NaN
        vals = np.where(ignored, 0, np.nan).astype(coef.dtype)
    else:
        vals = -coef * (g / denom if reduction == "mean" else g)
    return (F.scatter_add(vals, x.shape, (rows, target)),)


NLL_LOSS = Op("nll_loss", _nll_loss_vjp, reads=(), formula="-w[y] at (i, y_i)",
              cases=[lambda rng: ((rng.normal(size=(4, 3)), np.array([0, 2, 1, 2])), {}),
                     lambda rng: ((rng.normal(size=(3, 4)), np.array([1, 3, 0])),
                                  {"weight": np.array([1.0, 2.0, 0.5, 1.5]),
                                   "reduction": "sum"})])


@NLL_LOSS.define
def nll_loss(logp: Tensor, target: np.ndarray, weight: np.ndarray | None = None,
             reduction: str = "mean", ignore_index: int | None = -100) -> Tensor:
    """-weight[y_i] * logp[i, y_i], averaged by Σ weight[y_i] (as PyTorch), one node."""
    x = logp.array
    n = x.shape[0]
    dt = x.dtype
    rows = np.arange(n)
    ignored = None
    if ignore_index is None:
        safe_target, keep = target, np.ones(n, dtype=dt)
    else:
        ignored = target == ignore_index
        safe_target = np.where(ignored, 0, target)
        keep = (~ignored).astype(dt)
    coef = keep if weight is None else weight[safe_target] * keep
    loss = -coef * x[rows, safe_target]
    denom = coef.sum()
    out = reduce_weighted(loss, reduction, denom)
    return record(out, NLL_LOSS, (logp,),
                  (rows, safe_target, coef, reduction, dt.type(denom), ignored))


# ===========================================================================
# binary cross-entropy on probabilities (PyTorch's clamped form)
# ===========================================================================
def _bce_vjp(F, g, ans, ctx, x, t):
    weight, reduction, n, needs = ctx
    scale = _scale_for(reduction, n, g, x)
    if weight is not None:
        scale = scale * weight
    gx = gt = None
    if needs[0]:
        # PyTorch: g (x - t) / max(x (1 - x), 1e-12)
        d = (1 - x) * x
        gx = scale * (x - t) / F.where(d > _BCE_EPS, d, _BCE_EPS)
    if needs[1]:
        with np.errstate(divide="ignore", invalid="ignore"):
            gt = scale * (F.clip(F.log1p(-x), min=_BCE_LOG_MIN)
                          - F.clip(F.log(x), min=_BCE_LOG_MIN))
    return gx, gt


BCE = Op("binary_cross_entropy", _bce_vjp, reads=("inputs",),
         formula=("(x − t)/(x(1 − x))/N", "(log(1 − x) − log x)/N"), domain=[(0.1, 0.9), (0.0, 1.0)],
         cases=[case((4, 3), (4, 3)), case((5,), (5,), reduction="sum")])


@BCE.define
def binary_cross_entropy(x: Tensor, t: Tensor, weight: np.ndarray | None = None,
                         reduction: str = "mean") -> Tensor:
    """-w (t log x + (1 - t) log(1 - x)) with each log clamped at -100, as PyTorch."""
    xd, td = x.array, t.array
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(xd), _BCE_LOG_MIN)
        log_1mx = np.maximum(np.log1p(-xd), _BCE_LOG_MIN)
    loss = -(td * log_x + (1 - td) * log_1mx)
    if weight is not None:
        loss = loss * weight
    out = reduce_loss(loss, reduction)
    return record(out, BCE, (x, t),
                  (weight, reduction, loss.size, (x.requires_grad, t.requires_grad)))


# ===========================================================================
# binary cross-entropy on logits, stable for any logit
# ===========================================================================
def _bce_logits_vjp(F, g, ans, ctx, x, t):
    weight, pos_weight, reduction, n, needs = ctx
    scale = _scale_for(reduction, n, g, x)
    if weight is not None:
        scale = scale * weight
    sig = F.sigmoid(x)
    gx = gt = None
    # loss = (1 - t) x + l softplus(-x),  l = 1 + (pw - 1) t
    # d/dx = l σ(x) - pw t   (= σ(x) - t without pos_weight);  d/dt = -x + (pw - 1) softplus(-x)
    if needs[0]:
        if pos_weight is None:
            gx = scale * (sig - t)
        else:
            gx = scale * ((1 + (pos_weight - 1) * t) * sig - pos_weight * t)
    if needs[1]:
        if pos_weight is None:
            gt = -scale * x
        else:
            sp = F.softplus(-x)
            gt = scale * ((pos_weight - 1) * sp - x)
    return gx, gt


BCE_LOGITS = Op("binary_cross_entropy_with_logits", _bce_logits_vjp, reads=("inputs",),
                fuses="sigmoid + binary_cross_entropy", formula=("(σ(x) − t)/N", "−x/N"),
                domain=["real", (0.0, 1.0)],
                cases=[case((4, 3), (4, 3)), case((5,), (5,), reduction="sum"),
                       lambda rng: ((rng.normal(size=(3, 2)), rng.random((3, 2))),
                                    {"pos_weight": np.array([2.0, 0.5])})])


@BCE_LOGITS.define
def binary_cross_entropy_with_logits(x: Tensor, t: Tensor, weight: np.ndarray | None = None,
                                     pos_weight: np.ndarray | None = None,
                                     reduction: str = "mean") -> Tensor:
    """(1 - t) x + l log(1 + e^-x), l = 1 + (pos_weight - 1) t: sigmoid + BCE in one stable
    node (no log of a rounded-to-0 probability, whatever the logit)."""
    xd, td = x.array, t.array
    sp = P._softplus_forward(-xd)
    if pos_weight is None:
        loss = (1 - td) * xd + sp
    else:
        loss = (1 - td) * xd + (1 + (pos_weight - 1) * td) * sp
    if weight is not None:
        loss = loss * weight
    out = reduce_loss(loss, reduction)
    return record(out, BCE_LOGITS, (x, t),
                  (weight, pos_weight, reduction, loss.size, (x.requires_grad, t.requires_grad)))


__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "linear",
    "nll_loss",
    "relu",
]
