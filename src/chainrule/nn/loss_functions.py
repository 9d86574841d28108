"""More losses as functions: divergence, embedding, ranking and likelihood losses.
Part of ``chainrule.nn.functional`` (``F.kl_div``, ``F.triplet_margin_loss``, ...); the
modules of the same names are in ``chainrule.nn.losses``.

Each is composed of differentiable ops; values and gradients are PyTorch's (checked
against it in tests/test_nn_functions_torch.py). As the other losses, input and target
must have the same shape (no silent broadcasting). ``size_average`` and ``reduce``, the
arguments PyTorch deprecated in favour of ``reduction``, are understood as PyTorch does.

>>> import chainrule as cr
>>> import chainrule.nn.functional as F
>>> F.margin_ranking_loss(cr.tensor([0.5, 2.0]), cr.tensor([1.0, 1.0]), cr.tensor([1, 1])
...                       ).item()   # (max(0, 0.5) + max(0, -1)) / 2
0.25
"""

from __future__ import annotations

import math
import warnings

from .._tensor import Tensor
from ..ops import primitives as P
from .arguments import _check_reduction, _constant, _input, _like, _reduce, _same_shape_target
from .tensor_functions import _value_clamped_below, pairwise_distance

__all__ = [
    "cosine_embedding_loss",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "kl_div",
    "margin_ranking_loss",
    "multilabel_soft_margin_loss",
    "poisson_nll_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
]


def _legacy_reduction(size_average, reduce, reduction: str, op: str) -> str:
    """PyTorch's deprecated (size_average, reduce) pair as a ``reduction`` string."""
    if size_average is None and reduce is None:
        _check_reduction(reduction, op)
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _softplus(x: Tensor) -> Tensor:
    """log(1 + eˣ), finite for any x, with derivative σ(x) everywhere (the composite
    max(x, 0) + log(1 + e^−|x|) had 0 at x = 0, where relu and |x| have kinks: a
    zero-initialized output layer got no gradient)."""
    return P.softplus(x, 1.0, math.inf)


def _clamp_min0(x: Tensor) -> Tensor:
    """max(x, 0) with PyTorch's ``clamp_min`` derivative (1 at x = 0, where relu's is 0)."""
    return P.clip(x, 0.0, None)


def _xlogy(x: Tensor) -> Tensor:
    """x log x, taken as 0 at x = 0 (with gradient 0 there)."""
    positive = x.array > 0
    if positive.all():
        return P.mul(x, P.log(x))
    return P.where(positive, P.mul(x, P.log(P.where(positive, x, 1.0))), 0.0)


def _labels(target, ref: Tensor, op: str, name: str = "target") -> Tensor:
    """±1 labels as a Tensor of ``ref``'s dtype, checked."""
    try:
        y = _like(target, ref)
    except TypeError as e:
        raise TypeError(f"{op}: {name}: {e}") from None
    bad = (y.array != 1) & (y.array != -1)
    if bad.any():
        raise ValueError(f"{op}: {name} must hold 1 or -1, got {y.array[bad].flat[0]:g} (for "
                         "0/1 labels pass 2 * y - 1)")
    return y


# ---------------------------------------------------------------------------
# distributions
# ---------------------------------------------------------------------------
def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Kullback–Leibler divergence KL(target ‖ input) with ``input`` holding
    log-probabilities (e.g. ``log_softmax``): pointwise ``t (log t − x)`` (0 where t = 0),
    or ``eᵗ (t − x)`` when the target is given as log-probabilities (``log_target``).

    ``reduction="batchmean"`` divides the sum by the batch size, which is the KL
    divergence per sample; "mean" (the default, as in PyTorch) divides by the number of
    elements and warns, as PyTorch does.

    >>> import chainrule as cr
    >>> p = cr.tensor([[0.5, 0.5]]); q = cr.tensor([[0.25, 0.75]])
    >>> round(kl_div(q.log(), p, reduction="batchmean").item(), 4)   # Σ p log(p/q)
    0.1438
    """
    op = "kl_div"
    legacy = size_average is not None or reduce is not None
    if not legacy and reduction == "batchmean":
        per_batch = True
        reduction = "sum"
    else:
        per_batch = False
        reduction = _legacy_reduction(size_average, reduce, reduction, op)
        if reduction == "mean" and not legacy:
            warnings.warn("kl_div: reduction='mean' divides by the number of elements, not "
                          "by the batch size; reduction='batchmean' gives the KL divergence "
                          "per sample", UserWarning, stacklevel=2)
    x, t = _same_shape_target(input, target, op)
    if log_target:
        loss = P.mul(P.exp(t), P.sub(t, x))
    else:
        loss = P.sub(_xlogy(t), P.mul(t, x))
    loss = _reduce(loss, reduction)
    if per_batch and x.ndim:
        loss = P.div(loss, float(x.shape[0]))
    return loss


def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of counts ``target`` under a Poisson distribution of rate
    λ: ``eˣ − t x`` with ``input`` x = log λ (``log_input``), else ``λ − t log(λ + eps)``.
    ``full`` adds Stirling's approximation of log(t!), t log t − t + ½ log(2π t), for
    t > 1.

    >>> import chainrule as cr
    >>> poisson_nll_loss(cr.tensor([0.0]), cr.tensor([2.0])).item()   # e⁰ − 2·0
    1.0
    """
    op = "poisson_nll_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction, op)
    x, t = _same_shape_target(input, target, op)
    if log_input:
        loss = P.sub(P.exp(x), P.mul(t, x))
    else:
        loss = P.sub(x, P.mul(t, P.log(P.add(x, eps))))
    if full:
        above_one = t.array > 1
        safe = P.where(above_one, t, 2.0)  # any value > 1: the term is masked out anyway
        stirling = P.add(P.sub(P.mul(safe, P.log(safe)), safe),
                         P.mul(P.log(P.mul(safe, 2 * math.pi)), 0.5))
        loss = P.add(loss, P.where(above_one, stirling, 0.0))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target`` under Gaussians of mean ``input`` and
    variance ``var``: ½ (log max(var, eps) + (x − t)² / max(var, eps)), plus ½ log 2π
    when ``full``. ``var`` has the input's shape, or lacks its last dimension, or has
    size 1 in one dimension (one variance shared along it), or is a float.

    >>> import chainrule as cr
    >>> gaussian_nll_loss(cr.tensor([1.0]), cr.tensor([3.0]), cr.tensor([4.0])).item()
    1.1931471824645996
    """
    op = "gaussian_nll_loss"
    _check_reduction(reduction, op)
    x, t = _same_shape_target(input, target, op)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{op}: var must be >= 0, got {var}")
        v = P.add(P.mul(x.detach(), 0.0), float(var))  # a constant of the input's shape
    else:
        v = _like(var, x)
        if (v.array < 0).any():
            raise ValueError(f"{op}: var must be >= 0, got {v.array.min():g}")
        if v.shape != x.shape:
            if x.shape[:-1] == v.shape:
                v = P.reshape(v, v.shape + (1,))
            elif v.ndim == x.ndim and sum(
                    b for a, b in zip(x.shape, v.shape) if a != b) == 1:
                pass  # one dimension of size 1: a variance shared along it
            else:
                raise ValueError(f"{op}: var of shape {v.shape} does not fit the input's "
                                 f"shape {x.shape} (expected {x.shape}, {x.shape[:-1]}, or "
                                 "the input's shape with one dimension of size 1)")
    v = _value_clamped_below(v, eps)
    d = P.sub(x, t)
    loss = P.mul(P.add(P.log(v), P.div(P.mul(d, d), v)), 0.5)
    if full:
        loss = P.add(loss, 0.5 * math.log(2 * math.pi))
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------
# ±1 labels: margins and embeddings
# ---------------------------------------------------------------------------
def soft_margin_loss(input, target, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + e^(−y x)) for labels y = ±1: the logistic loss (computed without
    overflow).

    >>> import chainrule as cr
    >>> round(soft_margin_loss(cr.tensor([0.0]), cr.tensor([1.0])).item(), 4)   # log 2
    0.6931
    """
    op = "soft_margin_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction, op)
    x, _ = _same_shape_target(input, target, op)
    y = _labels(target, x, op)
    return _reduce(_softplus(P.neg(P.mul(y, x))), reduction)


def hinge_embedding_loss(input, target, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """x where y = 1, max(0, margin − x) where y = −1: for x a distance (or
    dissimilarity) between a pair that is similar (1) or not (−1).

    >>> import chainrule as cr
    >>> hinge_embedding_loss(cr.tensor([0.25, 0.5]), cr.tensor([1, -1]), reduction="sum").item()
    0.75
    """
    op = "hinge_embedding_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction, op)
    x, _ = _same_shape_target(input, target, op)
    y = _labels(target, x, op)
    similar = y.array == 1
    loss = P.where(similar, x, _clamp_min0(P.sub(float(margin), x)))
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """Multi-label one-versus-all logistic loss: for scores (N, C) and 0/1 targets (N, C),
    −(1/C) Σ_c w_c [y_c log σ(x_c) + (1 − y_c) log σ(−x_c)], one value per sample.

    >>> import chainrule as cr
    >>> round(multilabel_soft_margin_loss(cr.tensor([[0.0, 0.0]]),
    ...                                   cr.tensor([[1.0, 0.0]])).item(), 4)   # log 2
    0.6931
    """
    op = "multilabel_soft_margin_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction, op)
    x, y = _same_shape_target(input, target, op)
    if x.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    # −log σ(x) = softplus(−x), −log σ(−x) = softplus(x)
    loss = P.add(P.mul(y, _softplus(P.neg(x))), P.mul(P.sub(1.0, y), _softplus(x)))
    if weight is not None:
        loss = P.mul(loss, _constant(weight, x, "weight", op))
    loss = P.div(P.sum(loss, axis=x.ndim - 1), float(x.shape[-1]))
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin: float = 0.0, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, −y (x₁ − x₂) + margin): y = 1 asks x₁ to rank above x₂ by ``margin``,
    y = −1 the opposite."""
    op = "margin_ranking_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction, op)
    a, b = _same_shape_target(input1, input2, op)
    y = _labels(target, a, op)
    if y.shape != a.shape:
        raise ValueError(f"{op}: target shape {y.shape} differs from the inputs' shape "
                         f"{a.shape}")
    return _reduce(_clamp_min0(P.add(P.neg(P.mul(y, P.sub(a, b))), margin)), reduction)


def cosine_embedding_loss(input1, input2, target, margin: float = 0.0, size_average=None,
                          reduce=None, reduction: str = "mean") -> Tensor:
    """For pairs of embeddings (N, D) with labels y = ±1 (N,): 1 − cos(x₁, x₂) for
    similar pairs (y = 1), max(0, cos(x₁, x₂) − margin) for dissimilar ones.

    >>> import chainrule as cr
    >>> cosine_embedding_loss(cr.tensor([[1.0, 0.0]]), cr.tensor([[0.0, 1.0]]),
    ...                       cr.tensor([1])).item()      # orthogonal: 1 − 0
    1.0
    """
    op = "cosine_embedding_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction, op)
    a, b = _same_shape_target(input1, input2, op)
    if a.ndim not in (1, 2):
        raise ValueError(f"{op}: expected inputs of shape (N, D) or (D,), got {a.shape}")
    y = _labels(target, a, op)
    if y.shape != a.shape[:-1]:
        raise ValueError(f"{op}: inputs of shape {a.shape} need a target of shape "
                         f"{a.shape[:-1]}, got {y.shape}")
    # PyTorch's formula: Σ x₁x₂ / √((Σx₁² + ε)(Σx₂² + ε)), ε = 1e-12
    axis = a.ndim - 1
    dot = P.sum(P.mul(a, b), axis=axis)
    denom = P.sqrt(P.mul(P.add(P.sum(P.mul(a, a), axis=axis), 1e-12),
                         P.add(P.sum(P.mul(b, b), axis=axis), 1e-12)))
    cos = P.div(dot, denom)
    similar = y.array == 1
    loss = P.where(similar, P.sub(1.0, cos), _clamp_min0(P.sub(cos, margin)))
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) − d(a, n) + margin) with d the ``p``-norm distance
    (``pairwise_distance``): the anchor should be nearer the positive than the negative
    by ``margin``. ``swap`` uses d(p, n) when that is smaller than d(a, n).

    >>> import chainrule as cr
    >>> a, pos, neg = cr.tensor([[0.0, 0.0]]), cr.tensor([[0.0, 1.0]]), cr.tensor([[3.0, 0.0]])
    >>> round(triplet_margin_loss(a, pos, neg, eps=0).item(), 4)   # max(0, 1 − 3 + 1)
    0.0
    """
    op = "triplet_margin_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction, op)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be > 0, got {margin}")
    a = _input(anchor)
    shapes = {tuple(_input(t).shape) for t in (anchor, positive, negative)}
    if len(shapes) != 1:
        raise ValueError(f"{op}: anchor, positive and negative must have the same shape, got "
                         f"{[_input(t).shape for t in (anchor, positive, negative)]}")
    if a.ndim not in (1, 2):
        raise ValueError(f"{op}: expected inputs of shape (N, D) or (D,), got {a.shape}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = P.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(_clamp_min0(P.add(P.sub(d_pos, d_neg), margin)), reduction)

