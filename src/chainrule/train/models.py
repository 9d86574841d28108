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

from .errors import ConfigError
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


# A LeNet-style convolutional network: two conv (3×3, padding 1) + BatchNorm + ReLU +
# 2×2 max-pool stages, then a 128-unit fully connected layer. BatchNorm lets Adam's
# default step train it in a few epochs (MNIST ≥ 99 %, Fashion-MNIST ≥ 91 % test
# accuracy in 3 epochs; see docs/training.md).
_CNN_CHANNELS = (32, 64)
_CNN_HIDDEN = 128
_CNN_DROPOUT = 0.25


def _cnn_shape(config: TrainConfig, input_shape) -> tuple[int, int, int]:
    if len(input_shape) != 3 or min(input_shape) < 1:
        raise ConfigError(f"--model cnn needs image inputs (channels, height, width); the "
                          f"{config.dataset} data set gives samples of shape "
                          f"{tuple(input_shape)}: use --model mlp")
    c, h, w = (int(d) for d in input_shape)
    if h < 4 or w < 4:
        raise ConfigError(f"--model cnn pools twice by 2: images must be at least 4×4, got "
                          f"{h}×{w}")
    return c, h, w


def _build_cnn(config: TrainConfig, input_shape, num_classes: int):
    from .. import nn

    c, h, w = _cnn_shape(config, input_shape)
    c1, c2 = _CNN_CHANNELS
    return nn.Sequential(
        nn.Unflatten(1, (c, h, w)),  # the loaders give flat rows
        nn.Conv2d(c, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(_CNN_DROPOUT),
        nn.Linear(c2 * (h // 4) * (w // 4), _CNN_HIDDEN), nn.ReLU(), nn.Dropout(_CNN_DROPOUT),
        nn.Linear(_CNN_HIDDEN, num_classes))


def _describe_cnn(config: TrainConfig, input_shape, num_classes: int) -> str:
    c, h, w = _cnn_shape(config, input_shape)
    c1, c2 = _CNN_CHANNELS
    return (f"CNN {c}×{h}×{w} → conv{c1}-pool-conv{c2}-pool → fc{_CNN_HIDDEN} → "
            f"{num_classes} (3×3 kernels, BatchNorm, ReLU, dropout {_CNN_DROPOUT})")


def _count_cnn(config: TrainConfig, input_shape, num_classes: int) -> int:
    c, h, w = _cnn_shape(config, input_shape)
    c1, c2 = _CNN_CHANNELS
    conv = (c * 9 + 1) * c1 + 2 * c1 + (c1 * 9 + 1) * c2 + 2 * c2
    return conv + (c2 * (h // 4) * (w // 4) + 1) * _CNN_HIDDEN + (_CNN_HIDDEN + 1) * num_classes


MODELS.add(ModelSpec("cnn", _build_cnn, _describe_cnn, parameters=_count_cnn,
                     help="LeNet-style convolutional net for images (conv32-pool-conv64-pool-"
                          "fc128, BatchNorm, dropout); --hidden and --activation do not "
                          "apply"))


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
    from .._tensor import tensor
    from ..nn import functional as F

    eye = np.eye(num_classes, dtype=np.float32)

    def mse_one_hot(outputs, targets):
        # squared error between the scores and the one-hot code of the class
        return F.mse_loss(outputs, tensor(eye[np.asarray(targets.array)]))

    return mse_one_hot


LOSSES.add(LossSpec("cross-entropy", _cross_entropy, help="softmax cross-entropy"))
LOSSES.add(LossSpec("svm", _svm, help="multiclass SVM hinge (multi_margin_loss)"))
LOSSES.add(LossSpec("mse", _mse_one_hot, help="squared error against one-hot targets"))
