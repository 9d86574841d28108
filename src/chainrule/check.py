"""Gradient checking: the backward pass against central finite differences in float64."""

from __future__ import annotations

import numpy as np

from . import autograd
from ._tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` when analytic and numeric gradients disagree."""


def _float64_leaves(inputs):
    leaves = []
    for x in inputs:
        if isinstance(x, Tensor):
            if x.dtype.kind == "f":
                t = Tensor(x.array.astype(np.float64), requires_grad=True)
                t.name = x.name
                leaves.append(t)
            else:
                leaves.append(x)
        elif isinstance(x, (np.ndarray, float, list)):
            leaves.append(Tensor(np.asarray(x, dtype=np.float64), requires_grad=True))
        else:
            leaves.append(x)
    return leaves


def _scalarize(out, weights):
    """Reduce ``out`` to the scalar sum(out * weights), weights fixed and random."""
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: the function must return a Tensor, got {type(out).__name__}")
    if out.numel() == 1:
        return out.sum()
    return (out * weights).sum()


def gradcheck(f, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              fast: bool | None = None, seed: int = 0, max_report: int = 5) -> bool:
    """Check ``f``'s backward pass against central finite differences, in float64.

    Every floating-point input (Tensor, NumPy array, float) is checked; pass
    constants through a closure. For a non-scalar output the check is on sum(out * r) for a
    fixed random r, which exercises the full Jacobian. ``fast=True`` (the default
    for inputs over 2,000 elements) checks one random direction per input instead of
    every element: a directional derivative, O(1) evaluations.

    Returns True, or raises ``GradcheckError`` naming the input, the worst elements
    (analytic vs numeric) and the tolerances.

    >>> import chainrule as cr
    >>> x = cr.randn(3, requires_grad=True)
    >>> cr.gradcheck(lambda x: (x.tanh() * x).sum(), x)
    True
    """
    if len(inputs) == 1 and isinstance(inputs[0], tuple):
        inputs = inputs[0]  # PyTorch's form: gradcheck(f, (x, y))
    leaves = _float64_leaves(inputs)
    rng = np.random.default_rng(seed)
    out = f(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: the function must return a Tensor, got {type(out).__name__}")
    out_shape = out.shape
    weights = rng.standard_normal(out_shape) if out.numel() != 1 else None
    checked = [i for i, t in enumerate(leaves) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no floating-point input; nothing to check")
    if not out.requires_grad:
        raise GradcheckError("gradcheck: the output does not depend on any input that "
                             "requires grad")
    loss = _scalarize(out, weights)
    analytic = autograd.grad(loss, [leaves[i] for i in checked], allow_unused=True)

    def numeric_loss():
        # grad mode is left on: f may itself differentiate (a check of second derivatives,
        # as PyTorch's gradgradcheck builds on gradcheck)
        o = f(*leaves)
        return float(np.sum(o.array) if weights is None else np.sum(o.array * weights))

    for i, a in zip(checked, analytic):
        x = leaves[i]
        a = np.zeros(x.shape) if a is None else np.asarray(a.array, dtype=np.float64)
        use_fast = fast if fast is not None else x.numel() > 2000
        if use_fast:
            direction = rng.standard_normal(x.shape)
            base = x.array.copy()
            x.array = base + eps * direction
            plus = numeric_loss()
            x.array = base - eps * direction
            minus = numeric_loss()
            x.array = base
            numeric = (plus - minus) / (2 * eps)
            predicted = float(np.sum(a * direction))
            if not abs(predicted - numeric) <= atol + rtol * abs(numeric):
                raise GradcheckError(
                    f"gradcheck: input {i} (shape {x.shape}): directional derivative along a "
                    f"random direction disagrees: analytic {predicted:.6g} vs numeric "
                    f"{numeric:.6g} (atol={atol}, rtol={rtol}, eps={eps})")
            continue
        numeric = np.zeros(x.shape)
        base = np.array(x.array, dtype=np.float64)
        flat = base.reshape(-1)
        for k in range(flat.size):
            saved = flat[k]
            flat[k] = saved + eps
            x.array = base.copy()
            plus = numeric_loss()
            flat[k] = saved - eps
            x.array = base.copy()
            minus = numeric_loss()
            flat[k] = saved
            numeric.reshape(-1)[k] = (plus - minus) / (2 * eps)
        x.array = base
        bad = ~(np.abs(a - numeric) <= atol + rtol * np.abs(numeric))
        if bad.any():
            raise GradcheckError(_report(i, x, a, numeric, bad, atol, rtol, eps, max_report))
    return True


def _report(i, x, analytic, numeric, bad, atol, rtol, eps, max_report) -> str:
    err = np.abs(analytic - numeric)
    idx = np.argsort(-np.where(bad, err, -1).reshape(-1))[: min(max_report, int(bad.sum()))]
    name = f" '{x.name}'" if x.name else ""
    lines = [
        (f"gradcheck: input {i}{name} (shape {x.shape}): {int(bad.sum())} of {x.numel()} "
         f"gradient elements disagree with central finite differences "
         f"(atol={atol}, rtol={rtol}, eps={eps}). Worst:"),
        f"  {'index':<16}{'analytic':>14}{'numeric':>14}{'abs error':>14}",
    ]
    for flat in idx:
        pos = np.unravel_index(flat, x.shape) if x.shape else ()
        lines.append(f"  {tuple(int(p) for p in pos)!s:<16}{analytic.reshape(-1)[flat]:>14.6g}"
                     f"{numeric.reshape(-1)[flat]:>14.6g}{err.reshape(-1)[flat]:>14.3g}")
    return "\n".join(lines)
