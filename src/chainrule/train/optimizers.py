"""Optimizers a training run can use, by name (``TrainConfig.optimizer``,
``chainrule train --optimizer NAME``), each with the step size it starts from when
``--lr`` is not given (measured on the standardized digits).

Adding an optimizer is one entry::

    OPTIMIZERS.add(OptimizerSpec("lion", lambda params, lr, weight_decay:
                                 optim.Lion(params, lr=lr, weight_decay=weight_decay),
                                 default_lr=1e-4))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .registry import Registry

__all__ = ["OPTIMIZERS", "OptimizerSpec"]


@dataclass(frozen=True)
class OptimizerSpec:
    """A named optimizer: ``build(params, lr, weight_decay) -> Optimizer``."""

    name: str
    build: Callable
    default_lr: float
    help: str = ""


OPTIMIZERS: Registry[OptimizerSpec] = Registry("optimizer")


def _optim():
    from .. import optim

    return optim


OPTIMIZERS.add(OptimizerSpec(
    "sgd", lambda p, lr, weight_decay: _optim().SGD(p, lr=lr, weight_decay=weight_decay),
    default_lr=0.1, help="plain stochastic gradient descent"))
OPTIMIZERS.add(OptimizerSpec(
    "momentum", lambda p, lr, weight_decay: _optim().SGD(
        p, lr=lr, momentum=0.9, weight_decay=weight_decay),
    default_lr=0.01, help="SGD with momentum 0.9"))
OPTIMIZERS.add(OptimizerSpec(
    "nesterov", lambda p, lr, weight_decay: _optim().SGD(
        p, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay),
    default_lr=0.01, help="SGD with Nesterov momentum 0.9"))
OPTIMIZERS.add(OptimizerSpec(
    "adagrad", lambda p, lr, weight_decay: _optim().Adagrad(p, lr=lr, weight_decay=weight_decay),
    default_lr=0.05))
OPTIMIZERS.add(OptimizerSpec(
    "rmsprop", lambda p, lr, weight_decay: _optim().RMSprop(p, lr=lr, weight_decay=weight_decay),
    default_lr=1e-3))
OPTIMIZERS.add(OptimizerSpec(
    "adam", lambda p, lr, weight_decay: _optim().Adam(p, lr=lr, weight_decay=weight_decay),
    default_lr=1e-3))
OPTIMIZERS.add(OptimizerSpec(
    "adamw", lambda p, lr, weight_decay: _optim().AdamW(p, lr=lr, weight_decay=weight_decay),
    default_lr=1e-3, help="Adam with decoupled weight decay"))
