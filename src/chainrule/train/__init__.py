"""Training: the ``Trainer`` loop, ``fit``, callbacks, history, early stopping, checkpoints.

>>> import chainrule as cr
>>> from chainrule.train import Trainer, EarlyStopping, ModelCheckpoint
>>> trainer = Trainer(model, cr.optim.Adam(model.parameters(), lr=1e-3),
...                   cr.nn.functional.cross_entropy,
...                   callbacks=[EarlyStopping("val_accuracy", patience=5),
...                              ModelCheckpoint("runs/x/checkpoint.safetensors")]
...                   )  # doctest: +SKIP
>>> history = trainer.fit(train_loader, val_loader, epochs=30)  # doctest: +SKIP

See docs/training.md for the design, the checkpoint format and the command line.
"""

from .callbacks import Callback, EarlyStopping, LambdaCallback, MetricsLogger, ModelCheckpoint
from .history import History
from .trainer import Trainer, accuracy, fit, predict

__all__ = [
    "Callback", "EarlyStopping", "History", "LambdaCallback", "MetricsLogger", "ModelCheckpoint",
    "Trainer", "accuracy", "fit", "predict",
]
