"""Adamax: Adam with the infinity norm in place of the root mean square."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .adam import AdamFamily
from .optimizer import _add_ratio, _lerp


class Adamax(AdamFamily):
    r"""Adamax (Kingma & Ba, 2015, §7.1), exactly PyTorch's ``torch.optim.Adamax``.

    .. code-block:: text

        g ← g_t + λ θ_{t−1}                          (weight_decay λ)
        m_t ← β₁ m_{t−1} + (1 − β₁) g                (exp_avg)
        u_t ← max(β₂ u_{t−1}, |g| + ε)               (exp_inf)
        θ_t ← θ_{t−1} − η / (1 − β₁ᵗ) · m_t / u_t

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = cr.optim.Adamax([x], lr=0.1)
    >>> (x * x).sum().backward(); opt.step()  # first step: η g / |g| per weight
    >>> [round(v, 4) for v in x.tolist()]
    [0.9, -1.9]
    """

    _buffers = ("exp_avg", "exp_inf")

    def __init__(self, params: Iterable, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, *, maximize: bool = False,
                 **kernel_options) -> None:
        self._kernel_options(kernel_options)
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay, "maximize": maximize})

    def _update(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        maximize = group["maximize"]
        for i, p, param, state in self._params_with_grad(group):
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(param)
                state["exp_inf"] = np.zeros_like(param)
            state["step"] += 1
            g = self._effective_grad(param, self._grad_array(p, i), weight_decay, maximize)
            m, u = state["exp_avg"], state["exp_inf"]
            tmp = self._tmp(1, param)
            _lerp(m, g, 1 - beta1, tmp)
            np.multiply(u, beta2, out=u)  # u_t = max(β₂ u, |g| + ε)
            np.abs(g, out=tmp)
            np.add(tmp, eps, out=tmp)
            np.maximum(u, tmp, out=u)
            _add_ratio(param, m, lr / (1 - beta1 ** state["step"]), u, tmp)
