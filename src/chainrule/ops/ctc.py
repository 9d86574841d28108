"""Connectionist temporal classification as one node: the negative log-likelihood of
each target sequence under per-step class log-probabilities, summed over every
alignment (blanks and repeats), by the forward (α) and backward (β) recursions in log
space. The adjoint is ∂(−log p)/∂ log y_t(c) = −Σ_{s: l'_s = c} α_t(s) β_t(s) / (p y_t(c)),
the gradient with respect to the log-probabilities as given (PyTorch's kernel adds
y_t(c), which changes nothing once a log_softmax is differentiated; docs/pytorch.md)."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, record
from .primitives import ARRAYS
from .registry import Op

_NEG_INF = -np.inf


def _logsumexp(*terms: np.ndarray) -> np.ndarray:
    stacked = np.stack(terms)
    top = stacked.max(axis=0)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return safe + np.log(np.exp(stacked - safe).sum(axis=0))


def _extended(targets: np.ndarray, target_lengths: np.ndarray, blank: int) -> tuple:
    """l' = (blank, l1, blank, l2, ..., blank) per sample, padded with blanks; and for
    each position whether the skip from s − 2 is allowed (a label unlike l'_{s−2})."""
    n = len(target_lengths)
    width = 2 * int(target_lengths.max(initial=0)) + 1
    ext = np.full((n, width), blank, dtype=np.int64)
    for i, k in enumerate(target_lengths):
        ext[i, 1:2 * k:2] = targets[i, :k]
    skip = np.zeros((n, width), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    return ext, skip


def _recursions(lp: np.ndarray, ext, skip, input_lengths, target_lengths):
    """α and β (T, N, S'), each including the emission at its own step."""
    steps, n, _ = lp.shape
    width = ext.shape[1]
    emit = np.take_along_axis(lp, np.broadcast_to(ext, (steps, n, width)), axis=2)
    valid = np.arange(width)[None, :] < (2 * target_lengths[:, None] + 1)
    alpha = np.full((steps, n, width), _NEG_INF)
    alpha[0, :, 0] = emit[0, :, 0]
    if width > 1:
        alpha[0, :, 1] = np.where(target_lengths > 0, emit[0, :, 1], _NEG_INF)
    for t in range(1, steps):
        prev = alpha[t - 1]
        one = np.concatenate([np.full((n, 1), _NEG_INF), prev[:, :-1]], axis=1)
        two = np.concatenate([np.full((n, 2), _NEG_INF), prev[:, :-2]], axis=1)
        two = np.where(skip, two, _NEG_INF)
        alpha[t] = np.where(valid, _logsumexp(prev, one, two) + emit[t], _NEG_INF)
    beta = np.full((steps, n, width), _NEG_INF)
    last = 2 * target_lengths  # index of the final blank
    for i in range(n):
        end = input_lengths[i] - 1
        beta[end, i, last[i]] = emit[end, i, last[i]]
        if target_lengths[i] > 0:
            beta[end, i, last[i] - 1] = emit[end, i, last[i] - 1]
    skip_next = np.concatenate([skip[:, 2:], np.zeros((n, 2), dtype=bool)], axis=1)
    for t in range(steps - 2, -1, -1):
        nxt = beta[t + 1]
        one = np.concatenate([nxt[:, 1:], np.full((n, 1), _NEG_INF)], axis=1)
        two = np.concatenate([nxt[:, 2:], np.full((n, 2), _NEG_INF)], axis=1)
        two = np.where(skip_next, two, _NEG_INF)
        running = (t < input_lengths - 1)[:, None]
        beta[t] = np.where(running & valid, _logsumexp(nxt, one, two) + emit[t], beta[t])
    ends = np.stack([alpha[input_lengths - 1, np.arange(n), last],
                     np.where(target_lengths > 0,
                              alpha[input_lengths - 1, np.arange(n), np.maximum(last - 1, 0)],
                              _NEG_INF)])
    nll = -_logsumexp(ends[0], ends[1])
    return alpha, beta, nll


def _ctc_gradient(lp, ext, input_lengths, alpha, beta, nll, zero_infinity):
    steps, n, classes = lp.shape
    both = alpha + beta  # (T, N, S')
    per_class = np.full((steps, n, classes), _NEG_INF)
    for c in np.unique(ext):
        member = ext == c  # (N, S')
        per_class[:, :, c] = _logsumexp(*np.moveaxis(np.where(member[None], both, _NEG_INF),
                                                     2, 0))
    with np.errstate(invalid="ignore", over="ignore"):
        grad = -np.exp(per_class + nll[None, :, None] - lp)
    grad = np.where(np.isfinite(per_class), grad, 0.0)
    grad[np.arange(steps)[:, None] >= input_lengths[None, :]] = 0.0
    impossible = ~np.isfinite(nll)
    if zero_infinity:
        grad[:, impossible] = 0.0
    elif impossible.any():
        # PyTorch's: a sample with no alignment (an infinite loss) sends NaN within its
        # input length, so that training notices instead of silently skipping it
        live = np.arange(steps)[:, None] < input_lengths[None, :]
        grad[live & impossible[None, :]] = np.nan
    return grad.astype(lp.dtype)


def _ctc_vjp(F, g, ans, ctx, lp):
    grad = ctx
    if F is ARRAYS:
        return (g.reshape(1, -1, 1) * grad,)
    return (F.reshape(g, (1, -1, 1)) * Tensor(grad),)


def _case(rng):
    targets = np.array([[1, 2, 2], [3, 1, 0]])
    return (rng.standard_normal((6, 2, 4)) * 0.5, targets, np.array([6, 5]),
            np.array([3, 2]), 0, False), {}


# the rule's matrix comes from the forward's recursions (a constant for a second
# derivative): second order is not checked
CTC_LOSS = Op("ctc_loss", _ctc_vjp, reads=(), second_order=False,
              formula="−Σ α β / (p y) over the label's positions",
              hint="a target longer than its input (no alignment: p = 0) gives an "
                   "infinite loss; pass zero_infinity=True",
              cases=[_case])


@CTC_LOSS.define
def ctc_loss(log_probs: Tensor, targets: np.ndarray, input_lengths: np.ndarray,
             target_lengths: np.ndarray, blank: int = 0,
             zero_infinity: bool = False) -> Tensor:
    """The per-sample CTC negative log-likelihood (N,) of padded ``targets`` (N, S)
    under ``log_probs`` (T, N, C); arguments already checked by ``F.ctc_loss``."""
    lp = log_probs.array.astype(np.float64)
    input_lengths = np.asarray(input_lengths, dtype=np.int64)
    target_lengths = np.asarray(target_lengths, dtype=np.int64)
    ext, skip = _extended(np.asarray(targets), target_lengths, blank)
    alpha, beta, nll = _recursions(lp, ext, skip, input_lengths, target_lengths)
    grad = _ctc_gradient(lp, ext, input_lengths, alpha, beta, nll, zero_infinity)
    if zero_infinity:
        nll = np.where(np.isfinite(nll), nll, 0.0)
    return record(nll.astype(log_probs.array.dtype), CTC_LOSS, (log_probs,),
                  grad.astype(log_probs.array.dtype))
