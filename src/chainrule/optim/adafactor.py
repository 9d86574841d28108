"""Adafactor: Adam-like steps with factored second moments (memory sublinear in size)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer


class Adafactor(Optimizer):
    r"""Adafactor (Shazeer & Stern, 2018), exactly PyTorch's ``torch.optim.Adafactor``.

    For a matrix (or a stack of matrices) the second moment is kept as a row vector and
    a column vector of running means of g², whose outer product (divided by the row
    mean) estimates it; a vector keeps the full running mean. Steps are relative to the
    parameter's own root-mean-square:

    .. code-block:: text

        β̂₂ ← t^(beta2_decay);  ρ_t ← min(lr, 1/√t);  α ← max(ε₂, RMS(θ_{t−1})) ρ_t
        θ ← θ (1 − lr λ)                                   (weight_decay λ)
        R ← R + β̂₂ (mean_cols(g²) − R);  C ← C + β̂₂ (mean_rows(g²) − C)
        V ← R C / max(mean(R), ε₁)                          (a vector: V ← running g²)
        U ← g / √max(V, ε₁²);   θ_t ← θ − α U / max(1, RMS(U) / d)

    >>> import chainrule as cr
    >>> w = cr.ones(3, 2, requires_grad=True)
    >>> opt = cr.optim.Adafactor([w], lr=0.01)
    >>> (w * w).sum().backward(); opt.step()
    >>> round(w[0, 0].item(), 6)   # the first step: 1 − ρ_1 · RMS(w)
    0.99
    """

    _buffers = ("variance",)

    def __init__(self, params: Iterable, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, maximize: bool = False,
                 **kernel_options) -> None:
        self._kernel_options(kernel_options)
        super().__init__(params, {"lr": lr, "beta2_decay": beta2_decay, "eps": tuple(eps),
                                  "d": d, "weight_decay": weight_decay, "maximize": maximize})

    _nonnegative = ("lr", "weight_decay")

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        super()._check_group(group, where)
        if group["beta2_decay"] > 0:
            raise ValueError(f"Adafactor: {where}: beta2_decay must be <= 0, got "
                             f"{group['beta2_decay']}")
        group["eps"] = tuple(group["eps"])
        if group["d"] < 1:
            raise ValueError(f"Adafactor: {where}: the clipping threshold d must be >= 1, got "
                             f"{group['d']}")
        if any(e is not None and e < 0 for e in group["eps"]):
            raise ValueError(f"Adafactor: {where}: eps values must be >= 0, got {group['eps']}")

    def _update(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        beta2_decay = float(group["beta2_decay"])
        eps1, eps2 = group["eps"]
        d = float(group["d"])
        weight_decay = float(group["weight_decay"])
        maximize = group["maximize"]
        for i, p, param, state in self._params_with_grad(group):
            g = self._effective_grad(param, self._grad_array(p, i), 0.0, maximize)
            if not state:
                state["step"] = 0
                if g.ndim > 1:
                    state["row_var"] = np.zeros(g.shape[:-1] + (1,), g.dtype)
                    state["col_var"] = np.zeros(g.shape[:-2] + (1,) + g.shape[-1:], g.dtype)
                else:
                    state["variance"] = np.zeros_like(param)
            state["step"] += 1
            step = float(state["step"])
            e1 = float(np.finfo(param.dtype).eps) if eps1 is None else float(eps1)
            one_minus_beta2 = step ** beta2_decay
            rho = min(lr, 1 / step ** 0.5)
            alpha = max(float(eps2), float(np.linalg.norm(param.ravel())) / param.size ** 0.5) * rho
            if weight_decay != 0:
                np.multiply(param, 1 - lr * weight_decay, out=param)
            if g.ndim > 1:
                row, col = state["row_var"], state["col_var"]
                # mean of g² along a dimension, as PyTorch: the norm, squared, divided
                row_mean = np.sqrt(np.sum(g * g, axis=-1, keepdims=True)) ** 2 / g.shape[-1]
                row += one_minus_beta2 * (row_mean - row)
                col_mean = np.sqrt(np.sum(g * g, axis=-2, keepdims=True)) ** 2 / g.shape[-2]
                col += one_minus_beta2 * (col_mean - col)
                var = row @ col
                var /= np.maximum(row.mean(axis=-2, keepdims=True), e1)
            else:
                variance = state["variance"]
                variance += one_minus_beta2 * (g * g - variance)
                var = variance.copy()
            update = 1 / np.sqrt(np.maximum(var, e1 * e1))
            update *= g
            denom = max(1.0, float(np.linalg.norm(update.ravel())) / (update.size ** 0.5 * d))
            param += (-alpha / denom) * update
