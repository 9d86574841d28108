"""Adadelta: a step size per weight from running averages, without a global rate."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _decay_square


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), exactly PyTorch's ``torch.optim.Adadelta``.

    Each step is the gradient scaled by the ratio of two running root-mean-squares,
    that of past steps over that of past gradients, so its units are those of θ:

    .. code-block:: text

        g ← g_t + λ θ_{t−1}                          (weight_decay λ)
        v_t ← ρ v_{t−1} + (1 − ρ) g²                 (square_avg)
        Δ ← √(u_{t−1} + ε) / √(v_t + ε) · g
        u_t ← ρ u_{t−1} + (1 − ρ) Δ²                 (acc_delta)
        θ_t ← θ_{t−1} − η Δ                           (η = lr, 1 by default)

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0], requires_grad=True)
    >>> opt = cr.optim.Adadelta([x])
    >>> (x * x).sum().backward(); opt.step()   # Δ = √ε / √(0.1 g² + ε) · g
    >>> round(1.0 - x.item(), 5)   # ≈ √(ε / 0.1)
    0.00316
    """

    _buffers = ("square_avg", "acc_delta")

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0.0, *, maximize: bool = False,
                 **kernel_options) -> None:
        self._kernel_options(kernel_options)
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps,
                                  "weight_decay": weight_decay, "maximize": maximize})

    _nonnegative = ("lr", "eps", "weight_decay")

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        super()._check_group(group, where)
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Adadelta: {where}: invalid rho {group['rho']} "
                             "(must be in [0, 1])")

    def _update(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        rho = float(group["rho"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        maximize = group["maximize"]
        for i, p, param, state in self._params_with_grad(group):
            if not state:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(param)
                state["acc_delta"] = np.zeros_like(param)
            state["step"] += 1
            g = self._effective_grad(param, self._grad_array(p, i), weight_decay, maximize)
            square_avg, acc_delta = state["square_avg"], state["acc_delta"]
            tmp = self._tmp(1, param)
            _decay_square(square_avg, g, rho, tmp)
            std = self._tmp(2, param)  # √(v_t + ε)
            np.add(square_avg, eps, out=std)
            np.sqrt(std, out=std)
            delta = self._tmp(3, param)  # √(u + ε) / √(v_t + ε) · g
            np.add(acc_delta, eps, out=delta)
            np.sqrt(delta, out=delta)
            np.divide(delta, std, out=delta)
            np.multiply(delta, g, out=delta)
            _decay_square(acc_delta, delta, rho, tmp)
            np.multiply(delta, -lr, out=delta)  # θ −= η Δ
            np.add(param, delta, out=param)
