"""Training: whole runs (``run``, ``TrainConfig``), the ``Trainer`` loop, ``fit``,
callbacks, history, early stopping, checkpoints, and the registries of data sets,
models, losses and optimizers a run picks from by name.

>>> import chainrule as cr
>>> from chainrule.train import Trainer, EarlyStopping, ModelCheckpoint
>>> trainer = Trainer(model, cr.optim.Adam(model.parameters(), lr=1e-3),
...                   cr.nn.functional.cross_entropy,
...                   callbacks=[EarlyStopping("val_accuracy", patience=5),
...                              ModelCheckpoint("runs/x/checkpoint.safetensors")]
...                   )  # doctest: +SKIP
>>> history = trainer.fit(train_loader, val_loader, epochs=30)  # doctest: +SKIP

A whole run, as ``chainrule train`` does it:

>>> result = cr.train.run(cr.train.TrainConfig(hidden=[64], epochs=5),
...                       out="runs/digits64")                     # doctest: +SKIP

See docs/training.md for the design, the checkpoint format and the command line.
"""

from .callbacks import (
    AnomalyCallback,
    Callback,
    EarlyStopping,
    LambdaCallback,
    MetricsLogger,
    ModelCheckpoint,
    MonitorCallback,
    NonFiniteLossError,
    TerminateOnNaN,
)
from .config import TrainConfig
from .datasets import DATASETS, Data, DatasetSpec
from .errors import ConfigError, RunError, TrainingStopped
from .history import History
from .models import LOSSES, MODELS, LossSpec, ModelSpec
from .optimizers import OPTIMIZERS, OptimizerSpec
from .registry import Registry
from .run import RunResult, TrainedModel, load_trained, run
from .trainer import Trainer, accuracy, fit, predict

__all__ = [
    "DATASETS", "LOSSES", "MODELS", "OPTIMIZERS",
    "AnomalyCallback", "Callback", "ConfigError", "Data", "DatasetSpec", "EarlyStopping",
    "History", "LambdaCallback", "LossSpec", "MetricsLogger", "ModelCheckpoint", "ModelSpec",
    "MonitorCallback", "NonFiniteLossError", "OptimizerSpec", "Registry", "RunError",
    "RunResult", "TerminateOnNaN", "TrainConfig", "TrainedModel", "Trainer",
    "TrainingStopped", "accuracy", "fit", "load_trained", "predict", "run",
]
