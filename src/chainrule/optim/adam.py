"""Adam and AdamW: momentum plus a per-weight step size from the gradient's variance."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _add_ratio, _decay_square, _lerp


class AdamFamily(Optimizer):
    """Adam and its relatives (RAdam, NAdam, Adamax): each group holds ``betas``, two
    numbers in [0, 1), beside non-negative ``lr``, ``eps`` and ``weight_decay``."""

    _nonnegative = ("lr", "eps", "weight_decay")

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        super()._check_group(group, where)
        _check_betas(self, group, where)


class Adam(AdamFamily):
    r"""Adam (Kingma & Ba, 2015), exactly PyTorch's ``torch.optim.Adam``.

    .. code-block:: text

        decoupled:  θ_{t−1} ← θ_{t−1} (1 − η λ)          (AdamW's weight decay)
        else:       g ← g_t + λ θ_{t−1}                  (L2 folded into the gradient)
        m_t ← β₁ m_{t−1} + (1 − β₁) g                    (exp_avg)
        v_t ← β₂ v_{t−1} + (1 − β₂) g²                   (exp_avg_sq)
        amsgrad:  v̂_t ← max(v̂_{t−1}, v_t)  else  v̂_t ← v_t   (max_exp_avg_sq)
        θ_t ← θ_{t−1} − (η / (1 − β₁ᵗ)) · m_t / (√v̂_t / √(1 − β₂ᵗ) + ε)

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = cr.optim.Adam([x], lr=0.1)
    >>> (x * x).sum().backward(); opt.step()
    >>> [round(v, 4) for v in x.tolist()]  # the first step moves each weight by about lr
    [0.9, -1.9]
    """

    _buffers = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False, **kernel_options) -> None:
        self._kernel_options(kernel_options)
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay, "amsgrad": amsgrad,
                                  "maximize": maximize,
                                  "decoupled_weight_decay": decoupled_weight_decay})

    def _update(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        amsgrad = group["amsgrad"]
        maximize = group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        for i, p, param, state in self._params_with_grad(group):
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(param)
                state["exp_avg_sq"] = np.zeros_like(param)
                if amsgrad:
                    state["max_exp_avg_sq"] = np.zeros_like(param)
            state["step"] += 1
            step = state["step"]
            grad = self._grad_array(p, i)
            g = self._decayed_grad(param, grad, lr, weight_decay, decoupled, maximize)
            m, v = state["exp_avg"], state["exp_avg_sq"]
            tmp = self._tmp(1, param)
            _lerp(m, g, 1 - beta1, tmp)  # m_t = m + (1 − β₁)(g − m)
            _decay_square(v, g, beta2, tmp)  # v_t = β₂ v + ((1 − β₂) g) g
            if amsgrad:
                vmax = state["max_exp_avg_sq"]
                np.maximum(vmax, v, out=vmax)
                v = vmax
            step_size = lr / (1 - beta1 ** step)
            bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
            denom = self._tmp(2, param)  # √v̂ / √(1 − β₂ᵗ) + ε
            np.sqrt(v, out=denom)
            np.divide(denom, bias_correction2_sqrt, out=denom)
            np.add(denom, eps, out=denom)
            _add_ratio(param, m, step_size, denom, tmp)  # θ += (−step_size m) / denom


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), exactly PyTorch's
    ``torch.optim.AdamW``: the weights shrink by ``1 − η λ`` each step, apart from the
    adaptive gradient step, instead of adding ``λ θ`` to the gradient.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0], requires_grad=True)
    >>> opt = cr.optim.AdamW([x], lr=0.1, weight_decay=0.5)
    >>> x.grad = cr.zeros(1); opt.step()  # no gradient: only the decay acts
    >>> round(x.item(), 4)
    0.95
    """

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, **kernel_options) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True,
                         **kernel_options)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # an AdamW always decouples, as in PyTorch
            group["decoupled_weight_decay"] = True


def _check_betas(opt: Optimizer, group: dict[str, Any], where: str) -> None:
    """``betas`` as a tuple of two numbers in [0, 1) (Adam and its relatives)."""
    betas = group["betas"] = tuple(group["betas"])
    if len(betas) != 2:
        raise ValueError(f"{type(opt).__name__}: {where}: betas must be two numbers "
                         f"(beta1, beta2), got {betas}")
    for k, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"{type(opt).__name__}: {where}: invalid beta{k + 1} {beta} "
                             "(must be in [0, 1))")
