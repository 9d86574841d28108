"""Models and losses a training run can use, by name (``TrainConfig.model`` / ``.loss``,
``chainrule train --model NAME --loss NAME``).

A model entry builds the network from the run's configuration, the shape of one input
sample (``(1, 28, 28)`` for MNIST, ``(64,)``-like for a table) and the number of
classes; the network takes flat rows ``(N, prod(input_shape))`` (what the data loaders
give) and returns ``(N, num_classes)`` scores. Adding a model is one entry::

    MODELS.add(ModelSpec("cnn", _build_cnn, describe=_describe_cnn, help="..."))

``parameters`` (optional) counts the parameters before anything is allocated, so a
run refuses an impossible size (``--hidden 1000000000000``) with one line instead of
running out of memory.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .registry import Registry

if TYPE_CHECKING:
    from .config import TrainConfig

__all__ = ["ACTIVATIONS", "LOSSES", "MODELS", "LossSpec", "ModelSpec"]

#: activations of the MLP (names ``nn.MLP`` accepts)
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu")


@dataclass(frozen=True)
class ModelSpec:
    """A named model: ``build(config, input_shape, num_classes) -> nn.Module``.

    ``describe(config, input_shape, num_classes) -> str`` names it in the run's first
    line and the plots' titles; ``parameters(...)`` (same arguments) -> int counts its
    parameters before building it.
    """

    name: str
    build: Callable
    describe: Callable
    help: str = ""
    parameters: Callable | None = None


MODELS: Registry[ModelSpec] = Registry("model")


def _mlp_sizes(config: TrainConfig, input_shape, num_classes: int) -> list[int]:
    return [math.prod(input_shape), *config.hidden, num_classes]


def _build_mlp(config: TrainConfig, input_shape, num_classes: int):
    from .. import nn

    return nn.MLP(_mlp_sizes(config, input_shape, num_classes), activation=config.activation)


def _describe_mlp(config: TrainConfig, input_shape, num_classes: int) -> str:
    arch = "-".join(map(str, _mlp_sizes(config, input_shape, num_classes)))
    return f"MLP {arch} ({config.activation})" if config.hidden else f"linear model {arch}"


def _count_mlp(config: TrainConfig, input_shape, num_classes: int) -> int:
    sizes = _mlp_sizes(config, input_shape, num_classes)
    return sum((a + 1) * b for a, b in itertools.pairwise(sizes))  # Python ints: no overflow


MODELS.add(ModelSpec("mlp", _build_mlp, _describe_mlp, parameters=_count_mlp,
                     help="fully connected layers of --hidden widths with --activation "
                          "between them"))


@dataclass(frozen=True)
class LossSpec:
    """A named loss: ``build(num_classes) -> loss_fn(outputs, targets)``."""

    name: str
    build: Callable[[int], Callable]
    help: str = ""


LOSSES: Registry[LossSpec] = Registry("loss")


def _cross_entropy(num_classes: int):
    from ..nn import functional as F

    return F.cross_entropy


def _svm(num_classes: int):
    from ..nn import functional as F

    return F.multi_margin_loss


def _mse_one_hot(num_classes: int):
    from ..nn import functional as F
    from ..tensor import tensor

    eye = np.eye(num_classes, dtype=np.float32)

    def mse_one_hot(outputs, targets):
        # squared error between the scores and the one-hot code of the class
        return F.mse_loss(outputs, tensor(eye[np.asarray(targets.data)]))

    return mse_one_hot


LOSSES.add(LossSpec("cross-entropy", _cross_entropy, help="softmax cross-entropy"))
LOSSES.add(LossSpec("svm", _svm, help="multiclass SVM hinge (multi_margin_loss)"))
LOSSES.add(LossSpec("mse", _mse_one_hot, help="squared error against one-hot targets"))
