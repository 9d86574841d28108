"""RMSprop: divide each step by a running root-mean-square of the gradient."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _add_ratio, _decay_square, _lerp


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture notes), exactly PyTorch's ``torch.optim.RMSprop``.

    .. code-block:: text

        g ← g_t + λ θ_{t−1}                          (weight_decay λ)
        v_t ← α v_{t−1} + (1 − α) g²                 (square_avg, v_0 = 0)
        centered:  ḡ_t ← α ḡ_{t−1} + (1 − α) g       (grad_avg)
                   d ← √(v_t − ḡ_t²) + ε
        else:      d ← √v_t + ε
        momentum μ > 0:  b_t ← μ b_{t−1} + g / d;   θ_t ← θ_{t−1} − η b_t
        else:            θ_t ← θ_{t−1} − η g / d

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = cr.optim.RMSprop([x], lr=0.01)
    >>> (x * x).sum().backward(); opt.step()
    >>> [round(v, 4) for v in x.tolist()]  # first step: η / √(1 − α) per weight
    [0.9, -1.9]
    """

    _buffers = ("square_avg", "momentum_buffer", "grad_avg")

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False,
                 **kernel_options) -> None:
        self._kernel_options(kernel_options)
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps,
                                  "weight_decay": weight_decay, "momentum": momentum,
                                  "centered": centered, "maximize": maximize})

    _nonnegative = ("lr", "alpha", "eps", "weight_decay", "momentum")

    def _update(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        alpha = float(group["alpha"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        momentum = float(group["momentum"])
        centered = group["centered"]
        maximize = group["maximize"]
        for i, p, param, state in self._params_with_grad(group):
            if not state:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(param)
                if momentum > 0:
                    state["momentum_buffer"] = np.zeros_like(param)
                if centered:
                    state["grad_avg"] = np.zeros_like(param)
            state["step"] += 1
            g = self._effective_grad(param, self._grad_array(p, i), weight_decay, maximize)
            sq = state["square_avg"]
            tmp = self._tmp(1, param)
            _decay_square(sq, g, alpha, tmp)  # v_t = α v_{t−1} + ((1 − α) g) g
            avg = self._tmp(2, param)
            if centered:
                ga = state["grad_avg"]
                _lerp(ga, g, 1 - alpha, tmp)  # ḡ_t = ḡ_{t−1} + (1 − α)(g − ḡ_{t−1})
                np.multiply(ga, ga, out=avg)  # d = √(v_t − ḡ_t²) + ε
                np.subtract(sq, avg, out=avg)
                np.sqrt(avg, out=avg)
            else:
                np.sqrt(sq, out=avg)
            np.add(avg, eps, out=avg)
            if momentum > 0:
                buf = state["momentum_buffer"]
                np.multiply(buf, momentum, out=buf)  # b_t = μ b_{t−1} + g / d
                np.divide(g, avg, out=tmp)
                np.add(buf, tmp, out=buf)
                np.multiply(buf, -lr, out=tmp)  # θ −= η b_t
                np.add(param, tmp, out=param)
            else:
                _add_ratio(param, g, lr, avg, tmp)  # θ += (−η g) / d

