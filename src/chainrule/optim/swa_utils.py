"""Stochastic weight averaging and weight EMAs, as ``torch.optim.swa_utils``.

``AveragedModel(model)`` keeps a copy of a model whose parameters are the running
average of the model's (``update_parameters(model)`` after each step or epoch), or an
exponential moving average with ``multi_avg_fn=get_ema_multi_avg_fn(0.999)``.
``SWALR`` anneals each group's lr to a constant ``swa_lr``; ``update_bn`` recomputes
batch-norm statistics for the averaged weights.

>>> import chainrule as cr
>>> model = cr.nn.Linear(2, 1)
>>> swa = AveragedModel(model)
>>> with cr.no_grad():
...     _ = model.weight.fill_(1.0); swa.update_parameters(model)
...     _ = model.weight.fill_(3.0); swa.update_parameters(model)
>>> swa.module.weight.tolist(), int(swa.n_averaged.item())
([[2.0, 2.0]], 2)
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .._tensor import Tensor
from ..autograd import no_grad
from ..nn.module import Module
from .lr_scheduler import LRScheduler, _per_group
from .optimizer import Optimizer

__all__ = ["SWALR", "AveragedModel", "get_ema_avg_fn", "get_ema_multi_avg_fn",
           "get_swa_avg_fn", "get_swa_multi_avg_fn", "update_bn"]


def _check_decay(decay: float) -> None:
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"EMA decay must be in [0, 1], got {decay}")


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """An in-place EMA over lists of tensors: ema ← ema + (1 − decay)(θ − ema)."""
    _check_decay(decay)

    def ema_update(ema_params: list, current_params: list, _num_averaged) -> None:
        for ema, current in zip(ema_params, current_params):
            _lerp_into(ema, current, 1 - decay)

    return ema_update


def get_swa_multi_avg_fn() -> Callable:
    """The in-place running mean over lists of tensors: avg ← avg + (θ − avg) / (n + 1)."""

    def swa_update(averaged_params: list, current_params: list, num_averaged) -> None:
        weight = 1 / (int(num_averaged) + 1)
        for avg, current in zip(averaged_params, current_params):
            _lerp_into(avg, current, weight)

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """decay · ema + (1 − decay) · θ, one tensor at a time (returns the new value)."""
    _check_decay(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, _num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> Callable:
    """avg + (θ − avg) / (n + 1), one tensor at a time (returns the new value)."""

    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _lerp_into(target: Tensor, end: Tensor, weight: float) -> None:
    """target += weight (end − target), in place, in the two forms torch's lerp uses
    (the second is exact at weight 1)."""
    a = target._buffer()
    b = end.array
    if a.dtype.kind not in "fc":  # integer buffers: the rounded mean, as PyTorch
        a[...] = a * (1 - weight) + b * weight
    elif weight < 0.5:
        a += weight * (b - a)
    else:
        a[...] = b - (b - a) * (1 - weight)
    target._version += 1


class AveragedModel(Module):
    """A copy of ``model`` whose parameters average the model's over the calls of
    ``update_parameters`` (a running mean by default; ``avg_fn`` or ``multi_avg_fn`` for
    another average, e.g. ``get_ema_multi_avg_fn(0.999)``). Buffers (batch-norm
    statistics) are copied from the model unless ``use_buffers`` averages them too.
    Calling it runs the averaged copy."""

    def __init__(self, model: Module, device=None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("AveragedModel: give avg_fn or multi_avg_fn, not both")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", Tensor(np.array(0, dtype=np.int64)))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current parameters into the average (the first call copies)."""
        if self.use_buffers:
            mine = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            theirs = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            mine, theirs = list(self.module.parameters()), list(model.parameters())
        if len(mine) != len(theirs):
            raise ValueError(f"AveragedModel.update_parameters: the model has {len(theirs)} "
                             f"tensors to average, the averaged copy {len(mine)}")
        n = int(self.n_averaged.item())
        with no_grad():
            if n == 0:
                for avg, current in zip(mine, theirs):
                    avg.copy_(current.detach())
            elif self.avg_fn is not None:
                for avg, current in zip(mine, theirs):
                    new = self.avg_fn(avg.detach(), current.detach(), self.n_averaged)
                    avg.copy_(new)
            else:
                fn = self.multi_avg_fn or get_swa_multi_avg_fn()
                fn(mine, theirs, self.n_averaged)
            if not self.use_buffers:
                for b_avg, b_model in zip(self.module.buffers(), model.buffers()):
                    b_avg.copy_(b_model.detach())
            self.n_averaged.copy_(Tensor(np.array(n + 1, dtype=np.int64)))


def update_bn(loader: Iterable[Any], model: Module, device=None) -> None:
    """Recompute the running statistics of every batch-norm layer of ``model`` with one
    pass over ``loader`` (the first element of each batch is the input): after weight
    averaging, the statistics of the averaged weights are unknown."""
    from ..nn.layers_norm import _BatchNorm

    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None  # a cumulative average over the pass
    with no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to ``swa_lr`` over ``anneal_epochs`` epochs ("cos" or
    "linear"), then hold it: the schedule of the SWA phase.

    >>> import chainrule as cr
    >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = SWALR(opt, swa_lr=0.5, anneal_epochs=2, anneal_strategy="linear")
    >>> lrs = []
    >>> for _ in range(4):
    ...     lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> lrs
    [1.0, 0.75, 0.5, 0.5]
    """

    def __init__(self, optimizer: Optimizer, swa_lr: float | list[float],
                 anneal_epochs: int = 10, anneal_strategy: str = "cos",
                 last_epoch: int = -1) -> None:
        for lr, group in zip(_per_group(swa_lr, optimizer, "SWALR", "swa_lr values"),
                             optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"SWALR: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"SWALR: anneal_epochs must be an integer >= 0, got "
                             f"{anneal_epochs!r}")
        self.anneal_strategy = anneal_strategy
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _anneal(self, t: float) -> float:
        return t if self.anneal_strategy == "linear" else (1 - math.cos(math.pi * t)) / 2

    def get_lr(self) -> list[float]:
        # the lr before annealing is recovered from the current one, so that a change
        # made by someone else carries on (PyTorch's recursive form)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self._anneal(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        alpha = self._anneal(max(0, min(1, step / max(1, self.anneal_epochs))))
        out = []
        for group in self.optimizer.param_groups:
            swa_lr, lr = group["swa_lr"], group["lr"]
            start = swa_lr if prev_alpha == 1 else (lr - prev_alpha * swa_lr) / (1 - prev_alpha)
            out.append(swa_lr * alpha + start * (1 - alpha))
        return out
