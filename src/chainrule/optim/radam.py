"""RAdam: Adam whose adaptive step is switched on only once its variance is tractable."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .adam import AdamFamily
from .optimizer import _decay_square, _lerp


class RAdam(AdamFamily):
    r"""Rectified Adam (Liu et al., 2020), exactly PyTorch's ``torch.optim.RAdam``.

    In the first steps the running variance v_t rests on few gradients, so Adam's
    per-weight step size is unreliable. RAdam takes plain momentum steps until the
    length of the approximated simple moving average, ρ_t, exceeds 5, then rectifies
    the adaptive step by r_t:

    .. code-block:: text

        g ← g_t + λ θ_{t−1}     (or θ_{t−1} ← θ_{t−1}(1 − ηλ) when decoupled_weight_decay)
        m_t ← β₁ m_{t−1} + (1 − β₁) g;   v_t ← β₂ v_{t−1} + (1 − β₂) g²
        m̂ ← m_t / (1 − β₁ᵗ)
        ρ_∞ ← 2 / (1 − β₂) − 1;   ρ_t ← ρ_∞ − 2 t β₂ᵗ / (1 − β₂ᵗ)
        ρ_t > 5:  r_t ← √((ρ_t − 4)(ρ_t − 2) ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2) ρ_t))
                  θ_t ← θ_{t−1} − η m̂ · √(1 − β₂ᵗ) / (√v_t + ε) · r_t
        else:     θ_t ← θ_{t−1} − η m̂

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = cr.optim.RAdam([x], lr=0.1)
    >>> (x * x).sum().backward(); opt.step()     # first step: plain momentum, η m̂ = η g
    >>> [round(v, 4) for v in x.tolist()]
    [0.8, -1.6]
    """

    _buffers = ("exp_avg", "exp_avg_sq")

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False, **kernel_options) -> None:
        self._kernel_options(kernel_options)
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay,
                                  "decoupled_weight_decay": decoupled_weight_decay,
                                  "maximize": maximize})

    def _update(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        maximize = group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        rho_inf = 2 / (1 - beta2) - 1
        for i, p, param, state in self._params_with_grad(group):
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(param)
                state["exp_avg_sq"] = np.zeros_like(param)
            state["step"] += 1
            step = state["step"]
            grad = self._grad_array(p, i)
            g = self._decayed_grad(param, grad, lr, weight_decay, decoupled, maximize)
            m, v = state["exp_avg"], state["exp_avg_sq"]
            tmp = self._tmp(1, param)
            _lerp(m, g, 1 - beta1, tmp)
            _decay_square(v, g, beta2, tmp)
            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
            update = tmp  # η m̂
            np.divide(m, bias_correction1, out=update)
            np.multiply(update, lr, out=update)
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                        / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                adaptive = self._tmp(2, param)  # √(1 − β₂ᵗ) / (√v + ε)
                np.sqrt(v, out=adaptive)
                np.add(adaptive, eps, out=adaptive)
                np.reciprocal(adaptive, out=adaptive)
                np.multiply(adaptive, bias_correction2 ** 0.5, out=adaptive)
                np.multiply(update, adaptive, out=update)
                np.multiply(update, rect, out=update)
            np.subtract(param, update, out=param)
