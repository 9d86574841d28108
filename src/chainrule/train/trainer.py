"""The training loop: ``Trainer`` and its one-call form ``fit``."""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .. import random as _random
from .._tensor import Tensor, wrap
from ..autograd import no_grad
from .callbacks import ModelCheckpoint, NonFiniteLossError
from .history import History

__all__ = ["Trainer", "accuracy", "fit"]

CHECKPOINT_KIND = "chainrule.trainer"


# ---------------------------------------------------------------------------
# metrics: functions of (outputs, targets) as NumPy arrays -> float (batch mean)
# ---------------------------------------------------------------------------
def accuracy(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Fraction of correct predictions.

    Scores of shape (N, C): the class with the highest score (targets are class indices,
    or one-hot rows). Scores of shape (N,) or (N, 1): the sign of a logit or margin,
    against targets in {0, 1} or {-1, +1}.

    >>> import numpy as np
    >>> accuracy(np.array([[2.0, 1.0], [0.0, 3.0]]), np.array([0, 0]))
    0.5
    >>> accuracy(np.array([0.7, -2.0, 1.5]), np.array([1, -1, -1]))
    0.6666666666666666
    """
    outputs, targets = np.asarray(outputs), np.asarray(targets)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        predicted = outputs.argmax(axis=1)
        if targets.ndim == 2:
            targets = targets.argmax(axis=1)
        return float(np.mean(predicted == targets))
    return float(np.mean((outputs.reshape(-1) > 0) == (targets.reshape(-1) > 0)))


_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {"accuracy": accuracy}


def _resolve_metrics(metrics) -> dict[str, Callable]:
    if metrics is None:
        return {}
    if isinstance(metrics, str):
        metrics = [metrics]
    if isinstance(metrics, dict):
        return dict(metrics)
    out = {}
    for m in metrics:
        if isinstance(m, str):
            if m not in _METRICS:
                raise ValueError(f"unknown metric {m!r}; built in: {', '.join(_METRICS)} "
                                 "(or pass a function (outputs, targets) -> float)")
            out[m] = _METRICS[m]
        elif callable(m):
            out[getattr(m, "__name__", f"metric{len(out)}")] = m
        else:
            raise TypeError(f"metrics: expected names or functions, got {type(m).__name__}")
    return out


def _split_batch(batch) -> tuple[Tensor, Tensor]:
    if isinstance(batch, Tensor) or not isinstance(batch, (tuple, list)) or len(batch) < 2:
        raise ValueError("Trainer: each batch must be (inputs, targets), e.g. from "
                         "DataLoader(TensorDataset(x, y))")
    x, y = batch[0], batch[1]
    return (x if isinstance(x, Tensor) else wrap(np.asarray(x)),
            y if isinstance(y, Tensor) else wrap(np.asarray(y)))


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Trainer:
    """Train a model with mini-batch gradient descent; evaluate, predict, checkpoint, resume.

    Args:
        model: a ``cr.nn.Module`` (anything with ``parameters()``, ``train()``, ``eval()``,
            ``state_dict()``, ``load_state_dict()`` and a call that returns outputs).
        optimizer: a ``cr.optim`` optimizer over the model's parameters.
        loss_fn: ``loss_fn(outputs, targets) -> scalar Tensor`` (mean over the batch),
            e.g. ``cr.nn.functional.cross_entropy``.
        metrics: names (``"accuracy"``) or functions ``(outputs, targets) -> float`` on
            NumPy arrays, averaged over samples; ``"auto"`` (default) measures accuracy
            when the targets are integer class labels.
        callbacks: objects with ``on_epoch_end`` etc. (see ``chainrule.train.callbacks``).
        scheduler: a ``cr.optim.lr_scheduler`` scheduler, stepped once per epoch.
        progress: show a tqdm bar per epoch (loss and accuracy in it); ``None`` (default)
            shows it only when stderr is a terminal.
        verbose: print one summary line per epoch.
        terminate_on_nan: stop with :class:`~chainrule.train.NonFiniteLossError` (naming
            the epoch and step) as soon as a batch's loss is NaN or Inf, before its
            backward pass: the model keeps the weights of the last finite step and no
            checkpoint of the failed epoch is written.
        clip_grad_norm: before each optimizer step, scale the gradients down so that
            their global norm is at most this (``nn.utils.clip_grad_norm_``); ``None``:
            no clipping.

    ``fit(train_loader, val_loader, epochs)`` trains until ``epochs`` epochs are done
    *in total*: after ``load_checkpoint`` it continues where the saved run stopped,
    and the resumed run's loss curve equals the uninterrupted one's, bit for bit
    (model, optimizer, scheduler, loader order, global RNG and callbacks are restored).

    >>> import numpy as np, chainrule as cr
    >>> cr.manual_seed(0)                                           # doctest: +SKIP
    >>> model = cr.nn.MLP([64, 32, 10])                             # doctest: +SKIP
    >>> trainer = Trainer(model, cr.optim.Adam(model.parameters(), lr=1e-3),
    ...                   cr.nn.functional.cross_entropy)           # doctest: +SKIP
    >>> history = trainer.fit(train_loader, val_loader, epochs=20)  # doctest: +SKIP
    >>> history["val_accuracy"][-1]                                 # doctest: +SKIP
    0.97...
    """

    def __init__(self, model, optimizer, loss_fn: Callable, metrics: Any = "auto",
                 callbacks: Iterable = (), scheduler=None, progress: bool | None = None,
                 verbose: bool = True, log: Callable[[str], None] | None = None,
                 terminate_on_nan: bool = True, clip_grad_norm: float | None = None) -> None:
        if clip_grad_norm is not None and not (math.isfinite(clip_grad_norm)
                                               and clip_grad_norm > 0):
            raise ValueError(f"Trainer: clip_grad_norm must be a finite number > 0, got "
                             f"{clip_grad_norm}")
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self._auto_metrics = metrics == "auto"
        self.metrics = {} if self._auto_metrics else _resolve_metrics(metrics)
        self.callbacks = list(callbacks)
        self.scheduler = scheduler
        self.progress = progress
        self.verbose = verbose
        self._log = log
        self.terminate_on_nan = terminate_on_nan
        self.clip_grad_norm = clip_grad_norm
        self.history = History()
        self.epoch = 0  # completed epochs
        self.stop_training = False
        self.train_loader = None
        self._pending_loader_state: dict | None = None

    # -- output ---------------------------------------------------------------------
    def log(self, message: str) -> None:
        """Print a line without breaking an active progress bar."""
        if self._log is not None:
            self._log(message)
            return
        try:
            from tqdm import tqdm

            tqdm.write(message, file=sys.stdout)
        except ImportError:
            print(message, flush=True)

    def _progress_bar(self, total: int, epoch: int, epochs: int):
        show = self.progress if self.progress is not None else _stderr_is_tty()
        if not show:
            return None
        try:
            from tqdm import tqdm
        except ImportError:
            return None
        return tqdm(total=total, desc=f"epoch {epoch}/{epochs}", leave=False, unit="batch",
                    dynamic_ncols=True, mininterval=0.2, file=sys.stderr)

    # -- callbacks ----------------------------------------------------------------------
    def _call(self, hook: str, *args) -> None:
        # checkpoints go last, so that what they save includes the other callbacks' updates
        # of this epoch (EarlyStopping's best value and patience counter)
        for cb in sorted(self.callbacks, key=lambda c: isinstance(c, ModelCheckpoint)):
            fn = getattr(cb, hook, None)
            if fn is not None:
                fn(self, *args)

    def _epoch_end(self, epoch: int, record: dict) -> None:
        checkpoints = [cb for cb in self.callbacks if isinstance(cb, ModelCheckpoint)]
        for cb in self.callbacks:
            fn = getattr(cb, "on_epoch_end", None)
            if fn is not None and not isinstance(cb, ModelCheckpoint):
                fn(self, epoch, record)
        # every checkpoint decides (best-only ones record the new best value) before any
        # file is written, so each file holds this epoch's final state; best-only files
        # go first and the full checkpoints (the resume point) last: a kill between two
        # writes leaves the resume point an epoch behind, whose rerun rewrites the same
        # best file
        due = [cb for cb in checkpoints if cb.due(self, epoch, record)]
        for cb in sorted(due, key=lambda c: not c.save_best_only):
            cb.save(self, epoch)

    # -- one batch / one pass ---------------------------------------------------------
    def _metrics_for(self, targets: Tensor) -> dict[str, Callable]:
        if self._auto_metrics:
            self._auto_metrics = False
            if np.asarray(targets.array).dtype.kind in "iub":
                self.metrics = {"accuracy": accuracy}
        return self.metrics

    def train_step(self, x: Tensor, y: Tensor, batch: int = 0) -> tuple[float, np.ndarray]:
        """One gradient step on a batch; returns (loss value, outputs array)."""
        return self._gradient_step(self.model, x, y, batch, 1.0)

    def _gradient_step(self, forward, x: Tensor, y: Tensor, batch: int,
                       loss_weight: float) -> tuple[float, np.ndarray]:
        """forward, loss, backward of ``loss_weight`` × loss, clipping and the optimizer's
        step; the single-process and the data-parallel steps differ only in ``forward``
        and the weight."""
        outputs = forward(x)
        loss = self.loss_fn(outputs, y)
        value = float(loss.item())
        if self.terminate_on_nan and not math.isfinite(value):
            raise NonFiniteLossError(self.epoch + 1, batch + 1, value)
        self.optimizer.zero_grad()
        (loss * loss_weight if loss_weight != 1.0 else loss).backward()
        self._call("on_backward_end", batch)
        if self.clip_grad_norm is not None:
            from ..nn.utils import clip_grad_norm_

            clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
        self.optimizer.step()
        return value, outputs.array

    def _run_epoch(self, loader, epoch: int, epochs: int) -> dict:
        self.model.train()
        total, loss_sum = 0, 0.0
        sums: dict[str, float] = {}
        bar = self._progress_bar(len(loader), epoch, epochs)
        try:
            for b, batch in enumerate(loader):
                x, y = _split_batch(batch)
                metrics = self._metrics_for(y)
                self._call("on_batch_begin", b)
                loss_value, outputs = self.train_step(x, y, b)
                n = int(x.shape[0]) if x.ndim else 1
                total += n
                loss_sum += loss_value * n
                logs = {"loss": loss_value, "batch_size": n}
                for name, fn in metrics.items():
                    logs[name] = fn(outputs, y.array)
                    sums[name] = sums.get(name, 0.0) + logs[name] * n
                self._call("on_batch_end", b, logs)
                if bar is not None:
                    bar.update(1)
                    post = {"loss": f"{loss_sum / total:.4f}"}
                    if "accuracy" in sums:
                        post["acc"] = f"{sums['accuracy'] / total:.4f}"
                    bar.set_postfix(post, refresh=False)
        finally:
            if bar is not None:
                bar.close()
        if total == 0:
            raise ValueError("Trainer.fit: the training loader yielded no batches")
        record = {"loss": loss_sum / total}
        record.update({name: s / total for name, s in sums.items()})
        return record

    def evaluate(self, loader) -> dict[str, float]:
        """Mean loss and metrics over a loader, in eval mode and without recording a graph.

        >>> trainer.evaluate(test_loader)  # doctest: +SKIP
        {'loss': 0.08..., 'accuracy': 0.97...}
        """
        was_training = getattr(self.model, "training", True)
        self.model.eval()
        total, loss_sum, sums = 0, 0.0, {}
        try:
            with no_grad():
                for batch in loader:
                    x, y = _split_batch(batch)
                    metrics = self._metrics_for(y)
                    outputs = self.model(x)
                    n = int(x.shape[0])
                    total += n
                    loss_sum += float(self.loss_fn(outputs, y).item()) * n
                    for name, fn in metrics.items():
                        sums[name] = sums.get(name, 0.0) + fn(outputs.array, y.array) * n
        finally:
            self.model.train(was_training)
        if total == 0:
            raise ValueError("Trainer.evaluate: the loader yielded no batches")
        return {"loss": loss_sum / total, **{k: v / total for k, v in sums.items()}}

    def predict(self, x, batch_size: int = 1024) -> np.ndarray:
        """The model's outputs for inputs ``x`` (an array, Tensor or loader), as one array."""
        return predict(self.model, x, batch_size)

    # -- the loop ------------------------------------------------------------------------
    def fit(self, train_loader, val_loader=None, epochs: int = 1) -> History:
        """Train until ``epochs`` epochs are complete in total (see the class docstring).

        Returns the ``History``: per epoch ``loss`` and metrics on the training batches
        (averaged over the epoch, as the weights moved), ``val_loss`` / ``val_accuracy``
        when ``val_loader`` is given, the learning rate ``lr`` and the epoch's wall time.
        """
        self.train_loader = train_loader
        if self._pending_loader_state is not None and hasattr(train_loader, "load_state_dict"):
            train_loader.load_state_dict(self._pending_loader_state)
            self._pending_loader_state = None
        if self.stop_training:
            if self.verbose:
                self.log(f"training stopped early at epoch {self.epoch}; nothing to continue")
            return self.history
        self._call("on_train_begin")
        try:
            while self.epoch < epochs and not self.stop_training:
                epoch = self.epoch + 1
                self._call("on_epoch_begin", epoch)
                start = time.perf_counter()
                record: dict[str, Any] = {"epoch": epoch}
                record.update(self._run_epoch(train_loader, epoch, epochs))
                if val_loader is not None:
                    record.update({f"val_{k}": v for k, v in self.evaluate(val_loader).items()})
                record["lr"] = float(self.optimizer.param_groups[0]["lr"])
                if self.scheduler is not None:
                    self.scheduler.step()
                record["time"] = round(time.perf_counter() - start, 4)
                self.epoch = epoch
                self.history.append(record)
                if self.verbose:
                    self.log(_format_record(record, epochs))
                self._epoch_end(epoch, record)
        finally:
            self._call("on_train_end")
        return self.history

    # -- checkpoints -------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything a resumed run needs, as arrays and plain values (``cr.save``-able)."""
        state: dict[str, Any] = {
            "kind": CHECKPOINT_KIND,
            "epoch": self.epoch,
            "stop_training": bool(self.stop_training),
            "model": {k: np.asarray(v.array if isinstance(v, Tensor) else v)
                      for k, v in self.model.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "history": self.history.state_dict(),
            "rng": _random.get_rng_state(),
            "callbacks": {},
        }
        if self.scheduler is not None:
            state["scheduler"] = self.scheduler.state_dict()
        loader = self.train_loader
        if loader is not None and hasattr(loader, "state_dict"):
            state["train_loader"] = loader.state_dict()
        elif self._pending_loader_state is not None:
            state["train_loader"] = self._pending_loader_state
        for key, cb in self._stateful_callbacks().items():
            state["callbacks"][key] = cb.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        if state.get("kind") != CHECKPOINT_KIND:
            raise ValueError("Trainer.load_state_dict: not a trainer checkpoint (it has no "
                             f"kind {CHECKPOINT_KIND!r}; a model-only state_dict goes to "
                             "model.load_state_dict)")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and "scheduler" in state:
            self.scheduler.load_state_dict(state["scheduler"])
        self.history.load_state_dict(state["history"])
        self.epoch = int(state["epoch"])
        self.stop_training = bool(state.get("stop_training", False))
        _random.set_rng_state(state["rng"])
        if "train_loader" in state:
            if self.train_loader is not None:
                self.train_loader.load_state_dict(state["train_loader"])
            else:
                self._pending_loader_state = dict(state["train_loader"])
        saved = state.get("callbacks", {})
        for key, cb in self._stateful_callbacks().items():
            if key in saved:
                cb.load_state_dict(saved[key])

    def _stateful_callbacks(self) -> dict:
        # keyed by class name and rank among callbacks of that class ("ModelCheckpoint.1"),
        # so that adding or dropping an unrelated callback on resume does not shift keys
        keys: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for cb in self.callbacks:
            if hasattr(cb, "state_dict") and hasattr(cb, "load_state_dict"):
                name = type(cb).__name__
                keys[f"{name}.{seen.get(name, 0)}"] = cb
                seen[name] = seen.get(name, 0) + 1
        return keys

    def save_checkpoint(self, path: str | os.PathLike, extra: dict | None = None) -> None:
        """Write ``state_dict()`` (plus ``extra`` under the key ``"extra"``) atomically."""
        from ..io import save

        state = self.state_dict()
        if extra:
            state["extra"] = extra
        save(state, path)

    def load_checkpoint(self, path: str | os.PathLike) -> dict:
        """Restore from a file written by ``save_checkpoint``; returns its ``extra`` dict."""
        from ..io import load

        state = load(path)
        if not isinstance(state, dict) or state.get("kind") != CHECKPOINT_KIND:
            raise ValueError(f"{path}: not a trainer checkpoint")
        self.load_state_dict(state)
        return state.get("extra", {})


def _format_record(record: dict, epochs: int) -> str:
    width = len(str(epochs))
    parts = [f"epoch {record['epoch']:>{width}}/{epochs}"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        if key in record:
            parts.append(f"{key} {record[key]:.4f}")
    for key, value in record.items():
        if key not in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "time") \
                and isinstance(value, float):
            parts.append(f"{key} {value:.4f}")
    parts.append(f"({record['time']:.2f}s)")
    return "  ".join(parts)


def predict(model, x, batch_size: int = 1024) -> np.ndarray:
    """Outputs of ``model`` for ``x`` (array, Tensor, or loader of (x, ...) batches)."""
    was_training = getattr(model, "training", True)
    model.eval()
    outs = []
    try:
        with no_grad():
            if isinstance(x, (np.ndarray, Tensor)):
                arr = np.asarray(x.array if isinstance(x, Tensor) else x)
                for start in range(0, len(arr), batch_size):
                    outs.append(np.asarray(model(wrap(arr[start:start + batch_size])).array))
            else:
                for batch in x:
                    xb = batch[0] if isinstance(batch, (tuple, list)) else batch
                    xb = xb if isinstance(xb, Tensor) else wrap(np.asarray(xb))
                    outs.append(np.asarray(model(xb).array))
    finally:
        model.train(was_training)
    return np.concatenate(outs) if outs else np.zeros((0,))


def fit(model, optimizer, loss_fn: Callable, train_loader, val_loader=None, epochs: int = 10,
        callbacks: Sequence = (), metrics: Any = "auto", scheduler=None,
        progress: bool | None = None, verbose: bool = True) -> History:
    """Train ``model`` in one call; returns the per-epoch ``History``.

    A shortcut for ``Trainer(model, optimizer, loss_fn, ...).fit(train_loader, val_loader,
    epochs)``; use ``Trainer`` directly to evaluate, predict or checkpoint afterwards.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.data import DataLoader, TensorDataset
    >>> cr.manual_seed(0)                                                   # doctest: +SKIP
    >>> model = cr.nn.MLP([2, 16, 2])                                       # doctest: +SKIP
    >>> x = np.random.default_rng(0).normal(size=(256, 2)).astype(np.float32)
    >>> y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    >>> history = cr.train.fit(model, cr.optim.Adam(model.parameters(), lr=0.01),
    ...                        cr.nn.functional.cross_entropy,
    ...                        DataLoader(TensorDataset(x, y), 32, shuffle=True, seed=0),
    ...                        epochs=50, verbose=False)                    # doctest: +SKIP
    >>> history["accuracy"][-1] > 0.9                                       # doctest: +SKIP
    True
    """
    trainer = Trainer(model, optimizer, loss_fn, metrics=metrics, callbacks=callbacks,
                      scheduler=scheduler, progress=progress, verbose=verbose)
    return trainer.fit(train_loader, val_loader, epochs)
