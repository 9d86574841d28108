"""ASGD: stochastic gradient descent that also keeps the running average of the weights."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .._tensor import get_default_dtype
from .optimizer import Optimizer


class ASGD(Optimizer):
    r"""Averaged SGD (Polyak & Juditsky, 1992), exactly PyTorch's ``torch.optim.ASGD``.
    The weights take decaying SGD steps; from step ``t0`` on, ``state["ax"]`` holds their
    running average, the estimate to evaluate with:

    .. code-block:: text

        g ← g_t + λ_w θ_{t−1}                        (weight_decay λ_w)
        θ_t ← θ_{t−1} (1 − λ η_t) − η_t g            (η_1 = lr)
        ax_t ← ax_{t−1} + μ_t (θ_t − ax_{t−1})       (μ_1 = 1: ax_1 = θ_1)
        η_{t+1} = lr / (1 + λ lr t)^α;   μ_{t+1} = 1 / max(1, t − t0)

    η and μ are kept in float32 (float64 under a float64 default dtype), as PyTorch
    keeps them, so the two give the same numbers.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0], requires_grad=True)
    >>> opt = cr.optim.ASGD([x], lr=0.1, lambd=0.0)
    >>> (x * x).sum().backward(); opt.step()
    >>> round(x.item(), 6), opt.state[x]["ax"].tolist()
    (0.8, [0.800000011920929])
    """

    _buffers = ("ax",)

    def __init__(self, params: Iterable, lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0.0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        self._kernel_options({"differentiable": differentiable})
        super().__init__(params, {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                                  "weight_decay": weight_decay, "maximize": maximize})

    _nonnegative = ("lr", "weight_decay")

    def _update(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        lambd, alpha, t0 = float(group["lambd"]), float(group["alpha"]), float(group["t0"])
        weight_decay = float(group["weight_decay"])
        maximize = group["maximize"]
        scalar = np.float64 if get_default_dtype() == np.float64 else np.float32
        for i, p, param, state in self._params_with_grad(group):
            if not state:
                state["step"] = 0
                state["eta"] = scalar(lr)
                state["mu"] = scalar(1.0)
                state["ax"] = np.zeros_like(param)
            state["step"] += 1
            step = state["step"]
            g = self._effective_grad(param, self._grad_array(p, i), weight_decay, maximize)
            eta, mu = float(state["eta"]), float(state["mu"])
            np.multiply(param, 1 - lambd * eta, out=param)  # decay, then the SGD step
            tmp = self._tmp(1, param)
            np.multiply(g, -eta, out=tmp)
            np.add(param, tmp, out=param)
            ax = state["ax"]
            if mu != 1:
                np.subtract(param, ax, out=tmp)
                np.multiply(tmp, mu, out=tmp)
                np.add(ax, tmp, out=ax)
            else:
                np.copyto(ax, param)
            state["eta"] = scalar(lr / ((1 + lambd * lr * step) ** alpha))
            state["mu"] = scalar(1 / max(1, step - t0))
