"""The settings of a training run: :class:`TrainConfig`.

The same object drives ``chainrule train`` (one flag per field: ``batch_size`` is
``--batch-size``) and :func:`chainrule.train.run`; it is stored in every checkpoint so
that ``--resume``, ``evaluate`` and ``predict`` rebuild the same model.

>>> from chainrule.train import TrainConfig
>>> config = TrainConfig(hidden=[32], epochs=5, optimizer="sgd")
>>> config.resolved().lr          # the optimizer's default step size
0.1
>>> TrainConfig(lr=float("nan")).validate()
Traceback (most recent call last):
...
chainrule.train.errors.ConfigError: --lr must be a finite number > 0, got nan
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

from .datasets import DATASETS
from .errors import ConfigError
from .models import ACTIVATIONS, LOSSES, MODELS
from .optimizers import OPTIMIZERS

__all__ = ["BEST_METRICS", "SCHEDULES", "ConfigError", "TrainConfig"]

SCHEDULES = ("constant", "cosine")
BEST_METRICS = ("val_loss", "val_accuracy")
MAX_SEED = 2 ** 63 - 1


@dataclass
class TrainConfig:
    """Everything that defines a training run (and is saved with its checkpoints).

    Attributes:
        dataset: a name in ``chainrule.train.DATASETS`` (digits, mnist, fashion-mnist, csv).
        data_dir: MNIST-format folder, or for csv a file or a folder with train.csv and
            test.csv.
        csv_label: csv label column, by name or index (default: the last column).
        model: a name in ``chainrule.train.MODELS`` (``mlp``).
        hidden: hidden layer widths; ``[]`` is a linear model.
        activation: the MLP's nonlinearity (relu, tanh, sigmoid, leaky_relu).
        loss: a name in ``chainrule.train.LOSSES`` (cross-entropy, svm, mse).
        optimizer: a name in ``chainrule.train.OPTIMIZERS``.
        lr: step size; ``None`` takes the optimizer's default.
        lr_schedule: ``constant`` or ``cosine`` (anneal to 0 over ``epochs``).
        epochs: epochs in total.
        batch_size: samples per gradient step.
        weight_decay: L2 strength (decoupled for adamw).
        clip_grad: clip the gradients' global norm to this value before each step
            (``None``: no clipping).
        seed: seeds initialization, validation split and batch order (0 .. 2**63-1).
        val_fraction: share of the training set held out for validation, in [0, 1).
        test_fraction: digits and single-file csv: share held out as the test set, (0, 1).
        patience: early stopping after this many epochs without improvement (0: off).
        best_metric: ``val_loss`` or ``val_accuracy``: picks the best epoch.
    """

    dataset: str = "digits"
    data_dir: str | None = None
    csv_label: str | None = None
    model: str = "mlp"
    hidden: list[int] = field(default_factory=lambda: [512, 256])
    activation: str = "relu"
    loss: str = "cross-entropy"
    optimizer: str = "adam"
    lr: float | None = None
    lr_schedule: str = "constant"
    epochs: int = 60
    batch_size: int = 32
    weight_decay: float = 0.0
    clip_grad: float | None = None
    seed: int = 0
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    patience: int = 20
    best_metric: str = "val_loss"

    # -- checks ---------------------------------------------------------------------
    def validate(self) -> TrainConfig:
        """Raise :class:`ConfigError` (naming the flag) for a setting out of range;
        returns the config itself."""
        for name, registry in (("dataset", DATASETS), ("model", MODELS), ("loss", LOSSES),
                               ("optimizer", OPTIMIZERS)):
            value = getattr(self, name)
            if value not in registry:
                _fail(name, f"must be one of {', '.join(registry.names())}", value)
        for name, choices in (("activation", ACTIVATIONS), ("lr_schedule", SCHEDULES),
                              ("best_metric", BEST_METRICS)):
            if getattr(self, name) not in choices:
                _fail(name, f"must be one of {', '.join(choices)}", getattr(self, name))
        spec = DATASETS[self.dataset]
        for name, used, value in (("data_dir", spec.needs_data_dir, self.data_dir),
                                  ("csv_label", spec.reads_label_column, self.csv_label)):
            if value is not None and not used:  # a setting quietly ignored hides a mistake
                readers = [s.name for s in DATASETS if getattr(
                    s, "needs_data_dir" if name == "data_dir" else "reads_label_column")]
                _fail(name, f"does not apply to --dataset {self.dataset} (only to "
                            f"{', '.join(readers)})", value)
        if not isinstance(self.hidden, (list, tuple)) or not all(
                _is_int(h) and h >= 1 for h in self.hidden):
            _fail("hidden", "must be a list of positive layer widths", self.hidden)
        _number(self, "lr", low=0.0, strict=True, optional=True)
        _number(self, "weight_decay", low=0.0, strict=False)
        _number(self, "clip_grad", low=0.0, strict=True, optional=True)
        _integer(self, "epochs", 1)
        _integer(self, "batch_size", 1)
        _integer(self, "patience", 0)
        _integer(self, "seed", 0, MAX_SEED)
        _number(self, "val_fraction", low=0.0, strict=False, high=1.0)
        _number(self, "test_fraction", low=0.0, strict=True, high=1.0)
        return self

    def resolved(self) -> TrainConfig:
        """A validated copy with the defaults that depend on other settings filled in
        (``lr`` from the optimizer) and ``data_dir`` made absolute."""
        from pathlib import Path

        self.validate()
        changes: dict[str, Any] = {"hidden": [int(h) for h in self.hidden]}
        if self.lr is None:
            changes["lr"] = OPTIMIZERS[self.optimizer].default_lr
        if self.data_dir is not None:
            changes["data_dir"] = str(Path(self.data_dir).expanduser().resolve())
        return dataclasses.replace(self, **changes)

    # -- as stored in checkpoints -----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """The config saved by :meth:`to_dict` (fields missing from older checkpoints
        take their defaults; unknown keys are an error)."""
        if not isinstance(values, dict):
            raise ConfigError(f"a saved configuration must be a dict, got "
                              f"{type(values).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s) {', '.join(map(repr, unknown))} (known: "
                              f"{', '.join(sorted(known))})")
        values = dict(values)
        if isinstance(values.get("hidden"), tuple):
            values["hidden"] = list(values["hidden"])
        return cls(**values)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _fail(name: str, what: str, value: Any) -> None:
    raise ConfigError(f"{_flag(name)} {what}, got {value!r}" if not isinstance(value, float)
                      else f"{_flag(name)} {what}, got {value}")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _integer(config: TrainConfig, name: str, low: int, high: int | None = None) -> None:
    value = getattr(config, name)
    if not _is_int(value) or value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in {low}..{high}"
        _fail(name, f"must be an integer {bound}", value)


def _number(config: TrainConfig, name: str, low: float, strict: bool, high: float | None = None,
            optional: bool = False) -> None:
    value = getattr(config, name)
    if value is None and optional:
        return
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and \
        math.isfinite(value) and (value > low if strict else value >= low) and \
        (high is None or value < high)
    if not ok:
        if high is not None:
            what = f"must be in {'(' if strict else '['}{low:g}, {high:g})"
        else:
            what = f"must be a finite number {'>' if strict else '>='} {low:g}"
        _fail(name, what, value)
