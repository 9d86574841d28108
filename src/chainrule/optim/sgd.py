"""Stochastic gradient descent, with momentum and Nesterov momentum."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ._blas import axpy
from .optimizer import Optimizer


class SGD(Optimizer):
    r"""Stochastic gradient descent: θ ← θ − η g, optionally with (Nesterov) momentum.

    Exactly PyTorch's ``torch.optim.SGD``. With gradient g_t of the loss at θ_{t−1}:

    .. code-block:: text

        g ← g_t + λ θ_{t−1}                      (weight_decay λ: L2 regularization)
        if μ ≠ 0:                                (momentum μ)
            b_t ← g                               on the first step
            b_t ← μ b_{t−1} + (1 − τ) g           afterwards (dampening τ)
            g ← g + μ b_t   if nesterov   else   g ← b_t
        θ_t ← θ_{t−1} − η g                       (maximize: θ_t ← θ_{t−1} + η g)

    >>> import chainrule as cr
    >>> x = cr.tensor([3.0], requires_grad=True)
    >>> opt = cr.optim.SGD([x], lr=0.1, momentum=0.9)
    >>> for _ in range(100):
    ...     opt.zero_grad()
    ...     (x * x).sum().backward()
    ...     opt.step()
    >>> abs(x.item()) < 1e-2
    True
    """

    _buffers = ("momentum_buffer",)

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 *, maximize: bool = False, **kernel_options) -> None:
        self._kernel_options(kernel_options)
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "nesterov": nesterov, "weight_decay": weight_decay,
                                  "maximize": maximize})

    _nonnegative = ("lr", "momentum", "weight_decay")

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        super()._check_group(group, where)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: {where}: Nesterov momentum requires momentum > 0 and dampening = 0, "
                f"got momentum={group['momentum']}, dampening={group['dampening']}"
            )

    def _update(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        dampening = float(group["dampening"])
        nesterov = group["nesterov"]
        weight_decay = float(group["weight_decay"])
        maximize = group["maximize"]
        if momentum == 0 and weight_decay == 0 and not maximize:
            # plain SGD, the common case, as a tight loop: θ ← θ − η g in one BLAS pass
            for i, p in enumerate(group["params"]):
                grad = p.grad
                if grad is None:
                    continue
                if not axpy(-lr, grad.array, p.array):  # not a plain contiguous array pair
                    self._ufunc_step(self._param_array(p), self._grad_array(p, i), lr)
            return
        for i, p in enumerate(group["params"]):
            if p.grad is None:
                continue
            param = self._param_array(p)
            # g + λθ (scratch slot 0), or the gradient array itself (read only)
            d_p = self._effective_grad(param, self._grad_array(p, i), weight_decay, maximize)
            if momentum != 0:
                state = self.state.raw(p)
                buf = state.get("momentum_buffer")
                if buf is None:  # b_1 = g: the buffer is allocated once, here
                    buf = state["momentum_buffer"] = np.array(d_p)  # (a buffer even for 0-d)
                else:  # b_t = μ b_{t−1} + (1 − τ) g
                    np.multiply(buf, momentum, out=buf)
                    if dampening == 0:
                        np.add(buf, d_p, out=buf)
                    else:
                        tmp = self._tmp(1, param)
                        np.multiply(d_p, 1 - dampening, out=tmp)
                        np.add(buf, tmp, out=buf)
                if nesterov:  # g + μ b_t
                    tmp = self._tmp(1, param)
                    np.multiply(buf, momentum, out=tmp)
                    np.add(d_p, tmp, out=tmp)
                    d_p = tmp
                else:
                    d_p = buf
            # θ ← θ − η g: one BLAS axpy pass when available, else two ufunc passes
            if not axpy(-lr, d_p, param):
                self._ufunc_step(param, d_p, lr)

    def _ufunc_step(self, param, d_p, lr: float) -> None:
        """θ ← θ − η g with two ufunc passes (any array type, dtype or layout)."""
        step = self._tmp(2, param)
        np.multiply(d_p, -lr, out=step)
        np.add(param, step, out=param)
