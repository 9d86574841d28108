"""NAdam: Adam with Nesterov momentum (Dozat, 2016)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .._tensor import get_default_dtype
from .adam import AdamFamily
from .optimizer import _add_ratio, _decay_square, _lerp


class NAdam(AdamFamily):
    r"""NAdam, exactly PyTorch's ``torch.optim.NAdam``.

    The momentum coefficient warms up as μ_t = β₁ (1 − ½ · 0.96^{t ψ}) (ψ =
    ``momentum_decay``), and the step looks one momentum step ahead:

    .. code-block:: text

        g ← g_t + λ θ_{t−1}     (or θ_{t−1} ← θ_{t−1}(1 − ηλ) when decoupled_weight_decay)
        m_t ← β₁ m_{t−1} + (1 − β₁) g;   v_t ← β₂ v_{t−1} + (1 − β₂) g²
        Π_t ← Π_{t−1} μ_t                                   (mu_product)
        d ← √(v_t / (1 − β₂ᵗ)) + ε
        θ_t ← θ_{t−1} − η (1 − μ_t)/(1 − Π_t) · g / d − η μ_{t+1}/(1 − Π_t μ_{t+1}) · m_t / d

    ``mu_product`` is kept in float32 (float64 when that is the default dtype), as
    PyTorch keeps it, so the two give the same numbers.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = cr.optim.NAdam([x], lr=0.1)
    >>> for _ in range(50):
    ...     opt.zero_grad(); (x * x).sum().backward(); opt.step()
    >>> max(abs(v) for v in x.tolist()) < 0.2
    True
    """

    _buffers = ("exp_avg", "exp_avg_sq")

    def __init__(self, params: Iterable, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False,
                 **kernel_options) -> None:
        self._kernel_options(kernel_options)
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay,
                                  "momentum_decay": momentum_decay,
                                  "decoupled_weight_decay": decoupled_weight_decay,
                                  "maximize": maximize})

    _nonnegative = ("lr", "eps", "weight_decay", "momentum_decay")

    def _update(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        momentum_decay = float(group["momentum_decay"])
        maximize = group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        # PyTorch holds the product of the momentum coefficients in a float32 tensor
        # (float64 under a float64 default dtype); the same rounding gives the same steps
        scalar = np.float64 if get_default_dtype() == np.float64 else np.float32
        for i, p, param, state in self._params_with_grad(group):
            if not state:
                state["step"] = 0
                state["mu_product"] = scalar(1.0)
                state["exp_avg"] = np.zeros_like(param)
                state["exp_avg_sq"] = np.zeros_like(param)
            state["step"] += 1
            step = state["step"]
            grad = self._grad_array(p, i)
            g = self._decayed_grad(param, grad, lr, weight_decay, decoupled, maximize)
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
            mu_product = scalar(state["mu_product"]) * scalar(mu)
            state["mu_product"] = mu_product
            mu_product_next = float(mu_product) * mu_next
            m, v = state["exp_avg"], state["exp_avg_sq"]
            tmp = self._tmp(1, param)
            _lerp(m, g, 1 - beta1, tmp)
            _decay_square(v, g, beta2, tmp)
            denom = self._tmp(2, param)  # √(v / (1 − β₂ᵗ)) + ε
            np.divide(v, 1 - beta2 ** step, out=denom)
            np.sqrt(denom, out=denom)
            np.add(denom, eps, out=denom)
            _add_ratio(param, g, lr * (1.0 - mu) / (1.0 - float(mu_product)), denom, tmp)
            _add_ratio(param, m, lr * mu_next / (1.0 - mu_product_next), denom, tmp)
