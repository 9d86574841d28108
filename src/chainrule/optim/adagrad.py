"""Adagrad: a step size per weight, shrinking with that weight's gradient history."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _add_ratio


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), exactly PyTorch's ``torch.optim.Adagrad``.

    Each weight's step is divided by the root of the sum of its squared gradients, so
    weights with large or frequent gradients take smaller steps:

    .. code-block:: text

        g ← g_t + λ θ_{t−1}                     (weight_decay λ)
        η_t ← η / (1 + (t − 1) · lr_decay)
        s_t ← s_{t−1} + g²                      (s_0 = initial_accumulator_value)
        θ_t ← θ_{t−1} − η_t g / (√s_t + ε)

    Unlike PyTorch, a parameter group may set its own ``initial_accumulator_value``
    (PyTorch silently uses the constructor's value for every group).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = cr.optim.Adagrad([x], lr=0.5)
    >>> (x * x).sum().backward(); opt.step()
    >>> x.tolist()  # each weight moves by about lr, whatever its gradient's size
    [0.5, -1.5]
    """

    _buffers = ("sum",)

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False,
                 **kernel_options) -> None:
        self._kernel_options(kernel_options)
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value,
                                  "eps": eps, "maximize": maximize})

    _nonnegative = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def _update(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        lr_decay = float(group["lr_decay"])
        weight_decay = float(group["weight_decay"])
        eps = float(group["eps"])
        maximize = group["maximize"]
        for i, p, param, state in self._params_with_grad(group):
            if not state:  # s_0 = initial_accumulator_value
                state["step"] = 0
                state["sum"] = np.full_like(param, group["initial_accumulator_value"])
            state["step"] += 1
            step = state["step"]
            acc = state["sum"]
            g = self._effective_grad(param, self._grad_array(p, i), weight_decay, maximize)
            clr = lr / (1 + (step - 1) * lr_decay)
            tmp = self._tmp(1, param)
            np.multiply(g, g, out=tmp)  # s_t = s_{t−1} + g²
            np.add(acc, tmp, out=acc)
            std = self._tmp(2, param)  # √s_t + ε
            np.sqrt(acc, out=std)
            np.add(std, eps, out=std)
            _add_ratio(param, g, clr, std, tmp)  # θ += (−η_t g) / std
