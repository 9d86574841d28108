"""Rprop: a step size per weight, grown while the gradient keeps its sign."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer


class Rprop(Optimizer):
    r"""Resilient backpropagation (Riedmiller & Braun, 1993), exactly PyTorch's
    ``torch.optim.Rprop``: only the gradient's sign is used; each weight's step size
    grows by η₊ while the sign stays, shrinks by η₋ when it flips (and that step is
    skipped), within ``step_sizes``:

    .. code-block:: text

        s ← g_t · g_{t−1}
        Δ_t ← clamp(Δ_{t−1} · (η₊ if s > 0, η₋ if s < 0, 1 if s = 0), Δ_min, Δ_max)
        g_t ← 0 where s < 0
        θ_t ← θ_{t−1} − sign(g_t) Δ_t             (Δ_0 = lr)

    >>> import chainrule as cr
    >>> x = cr.tensor([3.0, -1.0], requires_grad=True)
    >>> opt = cr.optim.Rprop([x], lr=0.5)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (x * x).sum().backward(); opt.step()
    >>> x.tolist()                      # steps 0.5, then 0.5 · 1.2
    [1.899999976158142, 0.10000002384185791]
    """

    _buffers = ("prev", "step_size")

    def __init__(self, params: Iterable, lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, maximize: bool = False,
                 **kernel_options) -> None:
        self._kernel_options(kernel_options)
        super().__init__(params, {"lr": lr, "etas": tuple(etas),
                                  "step_sizes": tuple(step_sizes), "maximize": maximize})

    _nonnegative = ("lr",)

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        super()._check_group(group, where)
        minus, plus = group["etas"] = tuple(group["etas"])
        if not 0.0 < minus < 1.0 < plus:
            raise ValueError(f"Rprop: {where}: etas must satisfy 0 < eta_minus < 1 < "
                             f"eta_plus, got {group['etas']}")
        group["step_sizes"] = tuple(group["step_sizes"])

    def _update(self, group: dict[str, Any]) -> None:
        eta_minus, eta_plus = (float(e) for e in group["etas"])
        low, high = (float(s) for s in group["step_sizes"])
        maximize = group["maximize"]
        for i, p, param, state in self._params_with_grad(group):
            if not state:
                state["step"] = 0
                state["prev"] = np.zeros_like(param)
                state["step_size"] = np.full_like(param, group["lr"])
            state["step"] += 1
            g = self._effective_grad(param, self._grad_array(p, i), 0.0, maximize)
            prev, step_size = state["prev"], state["step_size"]
            factor = self._tmp(1, param)  # η₊, η₋ or 1 from the sign of g · g_prev
            np.multiply(g, prev, out=factor)
            np.sign(factor, out=factor)
            flipped = factor < 0
            factor[factor > 0] = eta_plus
            factor[flipped] = eta_minus
            factor[factor == 0] = 1
            np.multiply(step_size, factor, out=step_size)
            np.clip(step_size, low, high, out=step_size)
            np.copyto(prev, g)
            prev[flipped] = 0  # a flipped sign: no step now, and no sign to compare next
            np.sign(prev, out=factor)
            np.multiply(factor, step_size, out=factor)
            np.subtract(param, factor, out=param)
