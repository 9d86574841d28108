"""A whole training run from Python: :func:`run` does what ``chainrule train`` does.

>>> from chainrule.train import TrainConfig, run
>>> result = run(TrainConfig(hidden=[32], epochs=3), out="runs/tiny")  # doctest: +SKIP
>>> result.test_accuracy, result.model_of                              # doctest: +SKIP
(0.95..., 'best validation epoch 3')

A run loads the data set (``DATASETS``), holds out a validation part of the training
set, standardizes with the training part's statistics, builds the model (``MODELS``),
loss (``LOSSES``) and optimizer (``OPTIMIZERS``), trains with :class:`Trainer` and
reports on the test set. It writes into ``out``:

* ``checkpoint.safetensors``: the full training state after the last finished epoch
  (model, optimizer, data order, RNG, history, early stopping), rewritten atomically
  every epoch; ``resume=True`` continues from it.
* ``best.safetensors``: the weights of the epoch with the best ``best_metric`` (only with
  validation); the reported test figures are this model's.
* ``metrics.csv``: one row per epoch; ``loss.png`` and ``accuracy.png``: the curves;
  ``summary.json``: test accuracy and loss, per-class precision/recall, the confusion
  matrix; ``grad_norms.png``: the gradient monitor's plot.

Both checkpoints carry the configuration, the input shape, the class names and the
standardization statistics, so :func:`load_trained` (``evaluate``, ``predict``) needs
nothing but the file.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..files import atomic_write, remove_stale_temp_files
from .config import TrainConfig
from .datasets import DATASETS, Data, DataProblem, check_data
from .errors import ConfigError, RunError, TrainingStopped
from .models import LOSSES, MODELS
from .optimizers import OPTIMIZERS
from .report import print_report, test_report

__all__ = ["BEST", "CHECKPOINT", "RUN_FILES", "RunError", "RunResult", "TrainedModel",
           "TrainingStopped", "load_trained", "run"]

CHECKPOINT = "checkpoint.safetensors"
BEST = "best.safetensors"
#: the files a run writes into its folder (``overwrite=True`` removes exactly these)
RUN_FILES = (CHECKPOINT, BEST, "metrics.csv", "loss.png", "accuracy.png", "summary.json",
             "grad_norms.png")
MONITOR_PLOT = "grad_norms.png"


@dataclass
class RunResult:
    """What :func:`run` returns."""

    out: Path
    config: TrainConfig
    model: Any
    history: Any
    test_accuracy: float
    test_loss: float
    report: dict
    model_of: str  # "best validation epoch 7" or "epoch 60": the model that was tested
    epochs: int
    seconds: float
    files: list[Path]


# ---------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------
def run(config: TrainConfig | None = None, out: str | os.PathLike | None = None, *,
        resume: bool = False, overwrite: bool = False, monitor: bool = True,
        monitor_every: int = 10, detect_anomaly: bool = False, progress: bool | None = None,
        threads: int | None = 1, log: Callable[[str], None] = print,
        global_batch: int | None = None,
        explicit: Collection[str] | None = None) -> RunResult:
    """Train, test and write a run's files into ``out`` (default ``runs/DATASET``).

    Args:
        config: the settings (default ``TrainConfig()``). With ``resume=True`` only its
            ``epochs`` (the new total) is used; the rest comes from the checkpoint.
        resume: continue the run saved in ``out``.
        overwrite: a fresh run into a folder that holds a previous run's files removes
            them first (without it such a folder is refused: runs never mix).
        monitor / monitor_every: the gradient monitor (warnings, ``grad_norms.png``).
        detect_anomaly: check every op for NaN/Inf and name the first that makes one.
        progress: a progress bar on stderr (``None``: when stderr is a terminal).
        threads: BLAS threads (``None`` leaves the current setting); per process when
            the run is data parallel.
        log: where the run's lines go.
        global_batch: under ``mpiexec -n K``, the samples per step over all processes
            (default K × ``config.batch_size``, the per-process batch); see
            :mod:`chainrule.train.distributed_run`.
        explicit: the names of the ``config`` fields the user set (``chainrule train``
            passes its given flags): with ``resume=True`` each of them must equal the
            saved setting, and a ``batch_size`` among them is the per-process batch
            asked for (checked against ``global_batch``). ``None``: the fields that
            differ from ``TrainConfig()``'s defaults count as set.

    Raises :class:`RunError` (bad settings, data, checkpoint or output folder) before any
    training, and :class:`TrainingStopped` when the loss stops being finite.
    """
    import chainrule as cr

    from .callbacks import (
        AnomalyCallback,
        EarlyStopping,
        MetricsLogger,
        ModelCheckpoint,
        MonitorCallback,
    )

    if threads is not None:
        if not isinstance(threads, int) or threads < 1:
            raise RunError(f"--threads must be at least 1, got {threads}")
        cr.set_num_threads(threads)
    if isinstance(monitor_every, bool) or not isinstance(monitor_every, int) or \
            monitor_every < 1:
        raise RunError(f"--monitor-every must be a positive integer, got {monitor_every!r}")
    from .distributed_run import join_world

    world = join_world(log)  # a world of one unless launched by mpiexec -n K
    log, progress = world.log(log), world.progress(progress)
    given = config if config is not None else TrainConfig()
    explicit = _explicit_fields(given, explicit)
    # the per-process batch the user asked for; the world turns it into the global batch
    asked_per_process = given.batch_size if "batch_size" in explicit else None
    out = Path(out) if out is not None else Path("runs") / given.dataset
    resume_state = None
    if resume and overwrite:
        raise RunError(f"--resume continues the run in {out} and --overwrite replaces it: "
                       "give one of them")
    if resume:
        resume_state = _read_checkpoint(out / CHECKPOINT, need_trainer=True)
        config = _saved_config(resume_state, out / CHECKPOINT)
        _refuse_changed_settings(given, config, out / CHECKPOINT, explicit)
        asked = world.asked_batch(asked_per_process, global_batch)
        if asked is not None and asked != config.batch_size:
            if global_batch is not None:
                flags = f"--global-batch {global_batch}"
            elif world.distributed:
                flags = f"--batch-size {given.batch_size} × {world.size} processes = {asked}"
            else:
                flags = f"--batch-size {asked}"
            raise RunError(f"{flags} differs from the batch of {config.batch_size} that "
                           f"{out / CHECKPOINT} was trained with; --resume continues with "
                           "the saved settings (only --epochs may change): drop the flag, "
                           "or start a new run in another --out")
        # --epochs is the new total; left out, the total the run was started with
        epochs = given.epochs if "epochs" in explicit else config.epochs
        config = dataclasses.replace(config, epochs=epochs).validate()
        done = resume_state["epoch"]
        if isinstance(done, int) and config.epochs < done:  # it cannot train backwards
            raise RunError(f"--epochs {config.epochs} is below the {done} epochs that "
                           f"{out / CHECKPOINT} has trained; with --resume, --epochs is the "
                           f"new total: give at least {done}")
        log(f"resuming {out / CHECKPOINT} after epoch {resume_state['epoch']} "
            f"(its saved settings; training to epoch {config.epochs})")
    else:
        config = world.batch_config(given.resolved(), global_batch, asked_per_process)
        _refuse_previous_run(out, overwrite)

    data = load_data(config)
    x, y = data.x_train, data.y_train
    x_val = y_val = None
    if config.val_fraction > 0:
        from ..data import DataError, train_val_split

        try:
            (x, y), (x_val, y_val) = train_val_split(x, y, config.val_fraction,
                                                     seed=config.seed, stratify=True)
        except DataError as e:
            raise RunError(f"--val-fraction {config.val_fraction:g}: {_one_line(e)}") from None
        if len(x) == 0 or len(x_val) == 0:
            raise RunError(f"--val-fraction {config.val_fraction:g} of {len(data.x_train)} "
                           f"training samples leaves {len(x)} for training and {len(x_val)} "
                           "for validation; both need at least one")
    if world.distributed:
        log(world.describe_batch(config.batch_size, len(x)))
    num_classes = len(data.classes)
    spec = MODELS[config.model]
    parameters = _check_model_size(spec, config, data.input_shape, num_classes)

    if world.is_main:  # only rank 0 writes
        _prepare_output(out, parameters, fresh=resume_state is None, overwrite=overwrite,
                        log=log)
    from ..data import Standardizer

    scaler = Standardizer(per_feature=data.per_feature).fit(x)
    x, x_test = scaler.transform(x), scaler.transform(data.x_test)
    x_val = scaler.transform(x_val) if x_val is not None else None

    cr.manual_seed(config.seed)
    model = spec.build(config, data.input_shape, num_classes)
    optimizer = OPTIMIZERS[config.optimizer].build(model.parameters(), lr=config.lr,
                                                   weight_decay=config.weight_decay)
    scheduler = None
    if config.lr_schedule == "cosine":
        from ..optim.lr_scheduler import CosineAnnealingLR

        scheduler = CosineAnnealingLR(optimizer, T_max=config.epochs)
    loss_fn = LOSSES[config.loss].build(num_classes)
    train_loader = _loader(x, y, config.batch_size, shuffle=True, seed=config.seed)
    val_loader = _loader(x_val, y_val, 1024) if x_val is not None else None

    extra = {"config": config.to_dict(), "input_shape": list(data.input_shape),
             "classes": data.classes, "feature_names": data.feature_names,
             "label_name": data.label_name, "input_scale": data.scale,
             "standardizer": scaler.state_dict(), "chainrule_version": cr.__version__}
    callbacks: list = []
    if detect_anomaly:
        callbacks.append(AnomalyCallback())
    if val_loader is not None and config.patience > 0:
        callbacks.append(EarlyStopping(config.best_metric, patience=config.patience))
    callbacks.append(MetricsLogger(out / "metrics.csv"))
    if monitor:
        callbacks.append(MonitorCallback(plot_path=out / MONITOR_PLOT, summary=True,
                                         every=monitor_every))
    if val_loader is not None:
        # the best file describes a model, not how long its run was to last: without
        # the epoch total, a resumed run writes the same bytes as an uninterrupted one
        model_settings = {k: v for k, v in config.to_dict().items() if k != "epochs"}
        callbacks.append(ModelCheckpoint(out / BEST, monitor=config.best_metric,
                                         save_best_only=True, weights_only=True,
                                         extra={**extra, "config": model_settings}))
    callbacks.append(ModelCheckpoint(out / CHECKPOINT, extra=extra))
    trainer = world.trainer_class()(model, optimizer, loss_fn, callbacks=callbacks,
                                    scheduler=scheduler, progress=progress,
                                    log=None if log is print else log,
                                    clip_grad_norm=config.clip_grad)
    model = trainer.model  # (a data-parallel trainer's has SyncBatchNorm layers)
    if resume_state is not None:
        try:
            trainer.load_state_dict(resume_state)
        except (KeyError, ValueError, TypeError, RuntimeError) as e:
            raise RunError(f"{out / CHECKPOINT}: cannot resume from it: "
                           f"{_one_line(e)}") from None
        if scheduler is not None and scheduler.T_max != config.epochs:
            log(f"warning: the cosine schedule was made for {scheduler.T_max} epochs and "
                f"keeps that length (past it the step size rises again); for {config.epochs}"
                " epochs start a new run")

    n_val = 0 if x_val is None else len(x_val)
    description = spec.describe(config, data.input_shape, num_classes)
    log(f"{config.dataset}: {len(x)} train, {n_val} validation, {len(x_test)} test samples; "
        f"{description}, {config.loss} loss, {config.optimizer} lr {config.lr:g}, batch "
        f"{config.batch_size}" + (f", gradient norm clipped to {config.clip_grad:g}"
                                  if config.clip_grad is not None else ""))
    start = time.perf_counter()
    try:
        # a diverging run overflows: the loss check reports that once, not NumPy per op
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            history = trainer.fit(train_loader, val_loader, epochs=config.epochs)
    except Exception as e:
        _stopped(e, out, trainer)
        raise
    elapsed = time.perf_counter() - start
    if not world.is_main:  # rank 0 tests, reports and writes the files
        return RunResult(out, config, model, history, math.nan, math.nan, {}, "", trainer.epoch,
                         elapsed, [])

    if val_loader is not None and (out / BEST).is_file():
        # the model of the best validation epoch, as saved (EarlyStopping may have restored
        # it in memory already; without early stopping the file is the one place it is)
        best = _read_checkpoint(out / BEST)
        model.load_state_dict(best["model"])
        model_of = f"best validation epoch {int(best['epoch'])}"
    else:
        model_of = f"epoch {trainer.epoch}"
    report, test_loss = test_report(model, loss_fn, x_test, data.y_test, data.classes)
    print_report(report, test_loss, model_of, log)
    log(f"trained {len(history)} epoch{'' if len(history) == 1 else 's'} in {elapsed:.1f}s")

    from .report import plot_history

    plots = plot_history(history, out, title=f"{config.dataset} {description}")
    summary = {"test_accuracy": report["accuracy"], "test_loss": test_loss, "model": model_of,
               "epochs": trainer.epoch, "config": config.to_dict(),
               "per_class": report["classes"], "confusion_matrix": report["confusion_matrix"]}
    _write_json(out / "summary.json", summary)
    files = [out / CHECKPOINT] + ([out / BEST] if (out / BEST).is_file() else []) + \
        [out / "metrics.csv", *plots, out / "summary.json"] + \
        [p for p in (out / MONITOR_PLOT,) if monitor and p.is_file()]
    log("wrote " + ", ".join(str(p) for p in files))
    return RunResult(out, config, model, history, report["accuracy"], test_loss, report,
                     model_of, trainer.epoch, elapsed, files)


def _explicit_fields(given: TrainConfig, explicit: Collection[str] | None) -> frozenset[str]:
    """The settings the user asked for: ``explicit`` (the given flags) where known, else
    those that differ from the defaults."""
    names = [f.name for f in dataclasses.fields(TrainConfig)]
    if explicit is not None:
        return frozenset(name for name in explicit if name in names)
    default = TrainConfig()
    return frozenset(name for name in names
                     if getattr(given, name) != getattr(default, name))


def _refuse_changed_settings(given: TrainConfig, saved: TrainConfig, path: Path,
                             explicit: frozenset[str]) -> None:
    """A resumed run keeps its saved settings: refuse one asked (``explicit``) to
    differ."""
    resolved = given.resolved()
    for f in dataclasses.fields(TrainConfig):
        if f.name in ("epochs", "batch_size") or f.name not in explicit:
            continue  # (the batch is checked by the world: per process or global)
        mine, theirs = getattr(resolved, f.name), getattr(saved, f.name)
        if mine != theirs:
            flag = "--" + f.name.replace("_", "-")
            raise RunError(f"{flag} {_shown(mine)} differs from the {_shown(theirs)} that "
                           f"{path} was trained with; --resume continues with the saved "
                           "settings (only --epochs may change): drop the flag, or start a "
                           "new run in another --out")


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value)) or "none"
    return "none" if value is None else str(value)


def _stopped(error: Exception, out: Path, trainer) -> None:
    """Turn a numerical failure during training into :class:`TrainingStopped`."""
    from ..anomaly import AnomalyError
    from .callbacks import NonFiniteLossError

    kept = f"the checkpoint of epoch {trainer.epoch} is kept in {out / CHECKPOINT}" \
        if trainer.epoch else "no epoch finished, so no checkpoint was written"
    if isinstance(error, NonFiniteLossError):
        raise TrainingStopped(
            f"the training loss is {error.loss} at epoch {error.epoch}, step {error.step}; "
            f"training stopped ({kept}). Try a lower --lr, --clip-grad 1, or "
            "--detect-anomaly to find the op that made it") from None
    if isinstance(error, AnomalyError):
        raise TrainingStopped(f"{_one_line(error)} (training stopped at epoch "
                              f"{trainer.epoch + 1}; {kept})") from None


def _one_line(error: BaseException) -> str:
    """A possibly multi-line message as one line (its lines joined by "; ")."""
    return "; ".join(" ".join(line.split()) for line in str(error).splitlines()
                     if line.strip())


# ---------------------------------------------------------------------------
# data, loaders, sizes
# ---------------------------------------------------------------------------
def load_data(config: TrainConfig, classes: list[str] | None = None) -> Data:
    """The data set of ``config``, checked (:func:`~chainrule.train.datasets.check_data`)."""
    from ..data import DataError

    try:
        data = DATASETS[config.dataset].load(config, classes)
        check_data(data)
    except (DataError, DataProblem) as e:
        raise RunError(_one_line(e)) from None
    return data


def _loader(x, y, batch_size: int, shuffle: bool = False, seed: int = 0):
    from ..data import DataLoader, TensorDataset

    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, seed=seed)


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


# weights, gradients and up to two optimizer moments, in float32
_BYTES_PER_PARAMETER = 4 * 4


def _check_model_size(spec, config: TrainConfig, input_shape, num_classes: int) -> int | None:
    """The model's parameter count (None when its spec cannot count them); refuses a
    model whose training state cannot fit in this machine's memory."""
    if spec.parameters is None:
        return None
    count = int(spec.parameters(config, input_shape, num_classes))
    memory = _memory_bytes()
    if memory is not None and count * _BYTES_PER_PARAMETER > memory:
        raise RunError(f"the {config.model} model would have {count:.3g} parameters "
                       f"({_size(count * _BYTES_PER_PARAMETER)} to train with "
                       f"{config.optimizer}), more than this machine's "
                       f"{_size(memory)} of memory; choose smaller --hidden widths")
    return count


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"


# ---------------------------------------------------------------------------
# the output folder
# ---------------------------------------------------------------------------
def _refuse_previous_run(out: Path, overwrite: bool) -> None:
    found = [name for name in RUN_FILES if (out / name).exists()]
    if found and not overwrite:
        raise RunError(f"{out} holds a previous run ({', '.join(found)}); continue it with "
                       "--resume, replace it with --overwrite, or choose another --out")


def _prepare_output(out: Path, parameters: int | None, fresh: bool, overwrite: bool,
                    log: Callable[[str], None]) -> None:
    """Create ``out``, clear a replaced run, remove stale temporary files and make sure
    the folder takes the run's files, before any training."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunError(f"cannot create the output folder {out}: {e.strerror or e}") from None
    if not out.is_dir():
        raise RunError(f"--out {out}: not a folder")
    if fresh and overwrite:
        removed = []
        for name in RUN_FILES:
            path = out / name
            if path.is_file():
                try:
                    path.unlink()
                except OSError as e:
                    raise RunError(f"--overwrite: cannot remove {path}: "
                                   f"{e.strerror or e}") from None
                removed.append(name)
        if removed:
            log(f"--overwrite: removed the previous run's {', '.join(removed)} from {out}")
    stale = remove_stale_temp_files(out, log=False)
    if stale:
        log(f"removed {len(stale)} stale temporary file{'s' if len(stale) != 1 else ''} "
            f"that interrupted writes left in {out}: {', '.join(p.name for p in stale)}")
    _check_writable(out, parameters)


def _check_writable(out: Path, parameters: int | None) -> None:
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-test.", suffix=".tmp", dir=out)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(b"\0" * 4096)
                f.flush()
                os.fsync(f.fileno())
        finally:
            os.unlink(probe)
    except OSError as e:
        raise RunError(f"cannot write into the output folder {out}: "
                       f"{e.strerror or e}") from None
    need = _bytes_needed(parameters)
    free = shutil.disk_usage(out).free
    if free < need:
        raise RunError(f"{out}: {_size(free)} free on its disk, but the run's checkpoints "
                       f"and plots need about {_size(need)}; free some space or choose "
                       "another --out")


def _bytes_needed(parameters: int | None) -> int:
    """The disk space a run's files take at their largest: the full checkpoint (weights
    and up to two optimizer moments) and the best weights, each present twice while a new
    file replaces the old one, plus the plots and tables (a few MiB)."""
    plots_and_tables = 4 * 1024 * 1024
    if parameters is None:
        return plots_and_tables
    return 2 * (3 * 4 * parameters + 4 * parameters) + plots_and_tables


# ---------------------------------------------------------------------------
# testing and reporting
# ---------------------------------------------------------------------------
def _write_json(path: Path, obj) -> None:
    with atomic_write(path, "w") as f:
        f.write(json.dumps(obj, indent=2) + "\n")


# ---------------------------------------------------------------------------
# reading checkpoints back
# ---------------------------------------------------------------------------
def _read_checkpoint(path: Path, need_trainer: bool = False) -> dict:
    from ..io import CheckpointError, load

    path = Path(path)
    if path.is_dir():  # a run folder: name the files it holds that would do
        inside = [str(path / name) for name in ("best.safetensors", "checkpoint.safetensors")
                  if (path / name).is_file()]
        raise RunError(f"{path}: a folder, not a checkpoint file; "
                       + (f"give one of the files a run writes there: {' or '.join(inside)}"
                          if inside else "it holds no best.safetensors or "
                                         "checkpoint.safetensors of a `chainrule train` run"))
    if not path.is_file():
        hint = " (nothing to resume: train without --resume first)" if need_trainer else ""
        raise RunError(f"{path}: no such checkpoint{hint}")
    try:
        state = load(path)
    except (CheckpointError, OSError) as e:
        raise RunError(_one_line(e)) from None
    if not isinstance(state, dict) or "model" not in state or \
            not isinstance(state.get("extra"), dict) or "config" not in state["extra"]:
        raise RunError(f"{path}: not a checkpoint written by `chainrule train` (it lacks the "
                       "model configuration)")
    if need_trainer and state.get("kind") != "chainrule.trainer":
        raise RunError(f"{path}: holds only a model's weights, not a training state to "
                       f"resume from (that is {CHECKPOINT})")
    return state


def _saved_config(state: dict, path: Path) -> TrainConfig:
    try:
        return TrainConfig.from_dict(state["extra"]["config"]).resolved()
    except (ConfigError, TypeError) as e:
        raise RunError(f"{path}: its saved configuration is not usable: "
                       f"{_one_line(e)}") from None


@dataclass
class TrainedModel:
    """A model restored from a checkpoint with all it needs to take raw inputs."""

    model: Any
    config: TrainConfig
    input_shape: tuple[int, ...]
    classes: list[str]
    scaler: Any
    input_scale: float
    feature_names: list[str] | None
    loss_fn: Callable

    @property
    def num_features(self) -> int:
        return math.prod(self.input_shape)


def load_trained(path: str | os.PathLike) -> TrainedModel:
    """Rebuild the model saved in a run's checkpoint (``best`` or ``checkpoint``)."""
    path = Path(path)
    state = _read_checkpoint(path)
    extra = state["extra"]
    config = _saved_config(state, path)
    try:
        classes = [str(c) for c in extra["classes"]]
        if "input_shape" in extra:
            input_shape = tuple(int(d) for d in extra["input_shape"])
        else:  # written before input shapes were stored: an MLP's input width
            input_shape = (int(extra["sizes"][0]),)
        input_scale = float(extra["input_scale"])
        feature_names = extra.get("feature_names")
        from ..data import Standardizer

        scaler = Standardizer().load_state_dict(extra["standardizer"])
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise RunError(f"{path}: its saved metadata is damaged ({type(e).__name__}: "
                       f"{_one_line(e)})") from None
    if len(classes) < 1 or not input_shape or min(input_shape) < 1 or \
            not math.isfinite(input_scale) or input_scale <= 0:
        raise RunError(f"{path}: its saved metadata is damaged (classes {len(classes)}, "
                       f"input shape {input_shape}, input scale {input_scale})")
    features = math.prod(input_shape)
    for name in ("mean", "std"):
        stat = scaler.mean if name == "mean" else scaler.std
        if stat.size not in (1, features) or not np.all(np.isfinite(stat)) or \
                (name == "std" and not np.all(stat > 0)):
            raise RunError(f"{path}: its saved metadata is damaged (the standardization "
                           f"{name} has {stat.size} values for {features} features, or "
                           "non-finite or non-positive ones)")
    spec = MODELS[config.model]
    _check_model_size(spec, config, input_shape, len(classes))
    model = spec.build(config, input_shape, len(classes))
    try:
        model.load_state_dict(state["model"])
    except (KeyError, ValueError, RuntimeError, TypeError) as e:
        raise RunError(f"{path}: the weights do not fit the saved architecture: "
                       f"{_one_line(e)}") from None
    for name, value in model.state_dict().items():  # a model that can only answer nan
        if value.array.dtype.kind == "f" and not np.all(np.isfinite(value.array)):
            raise RunError(f"{path}: weight {name!r} holds non-finite values (nan or inf); "
                           "the checkpoint cannot give meaningful predictions")
    return TrainedModel(model, config, input_shape, classes, scaler, input_scale,
                        feature_names, LOSSES[config.loss].build(len(classes)))
