"""Callbacks: code that runs at fixed points of ``Trainer.fit``.

A callback is any object with some of these methods (all optional; ``Callback``
defines them as no-ops so that subclasses override only what they need):

========================================  ==================================================
``on_train_begin(trainer)``               before the first epoch of ``fit``
``on_epoch_begin(trainer, epoch)``        ``epoch`` counts from 1
``on_batch_begin(trainer, batch)``        ``batch`` counts from 0 within the epoch
``on_backward_end(trainer, batch)``       gradients are in ``.grad``, the step has not run:
                                          the place to inspect or clip gradients
``on_batch_end(trainer, batch, logs)``    ``logs``: ``loss``, ``batch_size`` and metrics
``on_epoch_end(trainer, epoch, logs)``    ``logs``: the epoch's history record (train and
                                          validation metrics); may set
                                          ``trainer.stop_training = True``
``on_train_end(trainer)``                 after the last epoch (also after early stopping)
========================================  ==================================================

Callbacks with state that a resumed run needs (``EarlyStopping``'s best value) define
``state_dict()`` / ``load_state_dict()``; the trainer stores it in its checkpoints.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["AnomalyCallback", "Callback", "EarlyStopping", "LambdaCallback", "MetricsLogger",
           "ModelCheckpoint", "MonitorCallback", "NonFiniteLossError", "TerminateOnNaN"]


class Callback:
    """Base class with no-op hooks (see the module docstring for when each runs)."""

    def on_train_begin(self, trainer) -> None: ...

    def on_epoch_begin(self, trainer, epoch: int) -> None: ...

    def on_batch_begin(self, trainer, batch: int) -> None: ...

    def on_backward_end(self, trainer, batch: int) -> None: ...

    def on_batch_end(self, trainer, batch: int, logs: dict) -> None: ...

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None: ...

    def on_train_end(self, trainer) -> None: ...


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda t, e, logs:
    print(e, logs["loss"]))``."""

    def __init__(self, **hooks: Callable) -> None:
        unknown = [k for k in hooks if not hasattr(Callback, k)]
        if unknown:
            raise TypeError(f"LambdaCallback: unknown hook(s) {unknown}; hooks are "
                            + ", ".join(k for k in vars(Callback) if k.startswith("on_")))
        for name, fn in hooks.items():
            setattr(self, name, fn)


def _better(mode: str, min_delta: float) -> Callable[[float, float], bool]:
    if mode == "min":
        return lambda new, best: new < best - min_delta
    return lambda new, best: new > best + min_delta


def _resolve_mode(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        # accuracies and other scores go up; losses and errors go down
        return "max" if any(k in monitor for k in ("acc", "f1", "precision", "recall")) \
            else "min"
    return mode


def _monitored(logs: dict, monitor: str, who: str) -> float:
    if monitor not in logs or logs[monitor] is None:
        available = ", ".join(k for k, v in logs.items() if isinstance(v, (int, float)))
        hint = " (pass a val_loader to fit)" if monitor.startswith("val_") else ""
        raise ValueError(f"{who}: the monitored metric {monitor!r} is not in the epoch's logs"
                         f"{hint}; available: {available}")
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop training when a validation metric has not improved for ``patience`` epochs.

    Args:
        monitor: a history column, ``"val_loss"`` (default) or ``"val_accuracy"``...
        patience: epochs without improvement before stopping.
        min_delta: the least change that counts as an improvement.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracies, min otherwise).
        restore_best_weights: at the end of training, load the model weights of the best
            epoch (kept as a copy in memory and in checkpoints).

    >>> es = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=False)
    >>> class T: stop_training = False
    >>> t = T()
    >>> for e, v in enumerate([1.0, 0.8, 0.9, 0.85, 0.7], start=1):
    ...     es.on_epoch_end(t, e, {"val_loss": v})
    ...     if t.stop_training: break
    >>> e, es.best, es.best_epoch
    (4, 0.8, 2)
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = True) -> None:
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        self.mode = _resolve_mode(monitor, mode)
        self.restore_best_weights = restore_best_weights
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights: dict | None = None

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if _better(self.mode, self.min_delta)(value, self.best) or self.best_epoch == 0:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = _copy_state(trainer.model.state_dict())
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True

    def on_train_end(self, trainer) -> None:
        if self.stopped_epoch and getattr(trainer, "verbose", False):
            trainer.log(f"early stopping at epoch {self.stopped_epoch}: {self.monitor} has not "
                        f"improved for {self.patience} epochs (best {self.best:.4f} at epoch "
                        f"{self.best_epoch})")
        if self.restore_best_weights and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict:
        return {"best": float(self.best), "best_epoch": self.best_epoch, "wait": self.wait,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state: dict) -> None:
        self.best = float(state["best"])
        self.best_epoch = int(state["best_epoch"])
        self.wait = int(state["wait"])
        self.stopped_epoch = int(state["stopped_epoch"])
        self.best_weights = state.get("best_weights")


def _copy_state(state: dict) -> dict:
    from .._tensor import Tensor

    return {k: np.array(v.array if isinstance(v, Tensor) else v, copy=True)
            for k, v in state.items()}


class ModelCheckpoint(Callback):
    """Save the trainer's full state (``Trainer.save_checkpoint``) at the end of epochs.

    Args:
        path: the ``.safetensors`` file; ``{epoch}`` in the name makes one file per epoch.
        monitor / mode: with ``save_best_only``, save only when this metric improves.
        extra: a dict (or a function returning one) stored next to the training state,
            e.g. the model's configuration, so that the file is self-contained.
        weights_only: save only the model's weights, the epoch, the monitored value and
            ``extra`` (no optimizer, history or RNG): a file that depends on nothing but
            the weights, so the same model always gives the same bytes.

    Each write is atomic, so an interrupted run keeps its last complete checkpoint. At the
    end of an epoch the trainer lets every checkpoint decide (:meth:`due`: a best-only
    checkpoint records the new best value) before any writes, then writes the best-only
    files, then the others: the full checkpoint a run resumes from is written last and
    holds every best value of its epoch. A kill between two writes leaves that checkpoint
    one epoch behind, and re-running that epoch rewrites the same best file.
    """

    def __init__(self, path: str | os.PathLike, monitor: str = "val_loss", mode: str = "auto",
                 save_best_only: bool = False, extra: dict | Callable[[], dict] | None = None,
                 weights_only: bool = False) -> None:
        self.path = str(path)
        self.monitor = monitor
        self.mode = _resolve_mode(monitor, mode)
        self.save_best_only = save_best_only
        self.extra = extra
        self.weights_only = weights_only
        self.best = math.inf if self.mode == "min" else -math.inf

    def due(self, trainer, epoch: int, logs: dict) -> bool:
        """Whether this epoch is saved; a best-only checkpoint records the new best."""
        if not self.save_best_only:
            return True
        value = _monitored(logs, self.monitor, "ModelCheckpoint")
        if not _better(self.mode, 0.0)(value, self.best):
            return False
        self.best = value
        return True

    def save(self, trainer, epoch: int) -> None:
        extra = self.extra() if callable(self.extra) else self.extra
        path = self.path.format(epoch=epoch)
        if not self.weights_only:
            trainer.save_checkpoint(path, extra=extra)
            return
        from ..io import save

        state: dict[str, Any] = {"kind": WEIGHTS_KIND, "epoch": int(epoch),
                                 "model": _copy_state(trainer.model.state_dict())}
        if self.save_best_only:
            state["monitor"] = self.monitor
            state["value"] = float(self.best)
        if extra:
            state["extra"] = extra
        save(state, path)

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        if self.due(trainer, epoch, logs):
            self.save(trainer, epoch)

    def state_dict(self) -> dict:
        return {"best": float(self.best)}

    def load_state_dict(self, state: dict) -> None:
        self.best = float(state["best"])


#: ``kind`` of a file written by ``ModelCheckpoint(weights_only=True)``
WEIGHTS_KIND = "chainrule.weights"


class MetricsLogger(Callback):
    """Rewrite the history as CSV (``.csv``) or JSON lines (any other suffix) each epoch."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = str(path)

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, Any]) -> None:
        if self.path.endswith(".csv"):
            trainer.history.to_csv(self.path)
        else:
            trainer.history.to_jsonl(self.path)


# ---------------------------------------------------------------------------
# a loss that is no longer a number
# ---------------------------------------------------------------------------
class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or Inf; training stopped at that step.

    Attributes: ``epoch`` (from 1), ``step`` (the batch within the epoch, from 1),
    ``loss`` (the value). Raised by ``Trainer(terminate_on_nan=True)`` (the default)
    before the step's backward pass, so the weights are those of the last finite step,
    and by the :class:`TerminateOnNaN` callback after the step.
    """

    def __init__(self, epoch: int, step: int, loss: float, hint: str | None = None) -> None:
        self.epoch, self.step, self.loss = int(epoch), int(step), float(loss)
        hint = hint or ("try a lower learning rate, gradient clipping "
                        "(Trainer(clip_grad_norm=...)) or cr.detect_anomaly() to find the "
                        "op that made it")
        super().__init__(f"the training loss is {self.loss} at epoch {self.epoch}, step "
                         f"{self.step}: training stopped; {hint}")


class TerminateOnNaN(Callback):
    """Stop training with :class:`NonFiniteLossError` when a batch's loss is NaN or Inf.

    ``Trainer(terminate_on_nan=True)`` (its default) does the same check before the
    step's backward pass; this callback serves trainers built with
    ``terminate_on_nan=False`` and loops that call the hooks themselves.

    >>> cb = TerminateOnNaN()
    >>> class T: epoch = 2
    >>> cb.on_batch_end(T(), 4, {"loss": float("nan")})
    Traceback (most recent call last):
    ...
    chainrule.train.callbacks.NonFiniteLossError: the training loss is nan at epoch 3, step 5: training stopped; ...
    """

    def on_batch_end(self, trainer, batch: int, logs: dict) -> None:
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(loss):
            raise NonFiniteLossError(trainer.epoch + 1, batch + 1, loss)


# ---------------------------------------------------------------------------
# gradient diagnostics during training
# ---------------------------------------------------------------------------
class MonitorCallback(Callback):
    """Run a :class:`~chainrule.monitor.GradientMonitor` inside ``Trainer`` (a callback).

    Steps the monitor after every backward pass (``on_backward_end``: the gradients
    are in ``.grad``, the optimizer has not stepped, so the update ratio is measured
    between consecutive batches), prints each new finding through ``trainer.log`` as
    soon as it is found, and writes the per-layer plot to ``plot_path`` at the end of
    training, and at the end of an epoch when the last plot is more than
    ``plot_interval`` seconds old (so an interrupted long run leaves a recent one).
    ``summary`` logs the monitor's table and the plot's path at the end.

    >>> from chainrule.train import MonitorCallback
    >>> cb = MonitorCallback(plot_path="runs/grad_norms.png", every=10)
    >>> # Trainer(model, optimizer, loss_fn, callbacks=[cb]).fit(loader, epochs=5)
    >>> # cb.monitor.warnings() afterwards

    Any other keyword is passed to :class:`~chainrule.monitor.GradientMonitor`
    (thresholds, ``every``, ``dense_steps``).
    """

    def __init__(self, plot_path: str | os.PathLike | None = None, summary: bool = False,
                 prefix: str = "gradient warning: ", plot_interval: float = 30.0,
                 **monitor_kwargs) -> None:
        self.plot_path = plot_path
        self.plot_interval = plot_interval
        self._plotted_at = -math.inf
        self.show_summary = summary
        self.prefix = prefix
        self.monitor_kwargs = monitor_kwargs
        self.monitor = None

    def on_train_begin(self, trainer) -> None:
        from ..monitor import GradientMonitor

        if self.monitor is None:
            self.monitor = GradientMonitor(
                trainer.model, on_warning=lambda w: trainer.log(f"{self.prefix}{w}"),
                **self.monitor_kwargs)
        else:  # a second fit(): keep the history and findings, put the hooks back
            self.monitor.attach()

    def on_backward_end(self, trainer, batch: int) -> None:
        if self.monitor is not None:
            self.monitor.step()

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        # drawing takes a fraction of a second: redraw during training only now and then,
        # so that a long run that is interrupted still leaves a recent plot
        if time.monotonic() - self._plotted_at > self.plot_interval:
            self._plot()

    def on_train_end(self, trainer) -> None:
        self._plot()
        if self.monitor is not None:
            if self.show_summary:
                trainer.log(self.monitor.summary())
                if self.plot_path is not None and self.monitor.history:
                    trainer.log(f"per-layer gradient statistics: {self.plot_path}")
            self.monitor.remove()  # the model must not keep our hooks after training

    def _plot(self) -> None:
        if self.plot_path is not None and self.monitor is not None and self.monitor.history:
            self.monitor.plot(self.plot_path)
            self._plotted_at = time.monotonic()


class AnomalyCallback(Callback):
    """Keep ``detect_anomaly`` on from the start of training to its end (a callback).

    An :class:`~chainrule.anomaly.AnomalyError` raised by a batch ends ``fit`` with it;
    the checks are switched off again at the end of training either way.
    """

    def __init__(self) -> None:
        self._context = None

    def on_train_begin(self, trainer) -> None:
        from ..anomaly import detect_anomaly

        self._context = detect_anomaly()
        self._context.__enter__()
        trainer.log("detect_anomaly: on (every op is checked for NaN/Inf; training is slower)")

    def on_train_end(self, trainer) -> None:
        if self._context is not None:
            self._context.__exit__(None, None, None)
            self._context = None
