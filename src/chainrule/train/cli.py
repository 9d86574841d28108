"""``chainrule train``, ``chainrule evaluate`` and ``chainrule predict``.

``chainrule.cli`` calls ``add_subcommands(subparsers)``; expected failures (bad
values, missing or malformed data, unreadable checkpoints) raise ``CLIError``, which
the entry point prints as one line with exit status 2.

A run writes into ``--out``:

* ``checkpoint.safetensors``: the full training state after the last finished epoch
  (model, optimizer, data order, RNG, history, early stopping), rewritten atomically
  every epoch; ``--resume`` continues from it.
* ``best.safetensors``: the model at the epoch with the lowest validation loss (only
  with validation); the reported test accuracy is this model's.
* ``metrics.csv``: one row per epoch; ``loss.png`` and ``accuracy.png``: the curves;
  ``summary.json``: test accuracy, per-class precision/recall and the confusion matrix.

Both checkpoints carry the run's configuration and standardization statistics, so
``evaluate`` and ``predict`` need nothing but the file.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import types
from pathlib import Path
from typing import Any

import numpy as np

from ..cli import CLIError
from ..files import atomic_write

DATASETS = ("digits", "mnist", "fashion-mnist", "csv")
ACTIVATIONS = ("relu", "tanh", "sigmoid")
LOSSES = ("cross-entropy", "svm", "mse")
MONITORS = ("val_loss", "val_accuracy")
SCHEDULES = ("constant", "cosine")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
# Step sizes that work for each optimizer on standardized inputs (measured on digits)
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.05,
              "rmsprop": 1e-3, "adam": 1e-3, "adamw": 1e-3}
CHECKPOINT = "checkpoint.safetensors"
BEST = "best.safetensors"

#: Other areas add options and callbacks to ``chainrule train`` by naming a module here
#: that defines ``add_train_arguments(parser)`` and ``train_callbacks(args) -> list``
#: (for example a gradient monitor). Modules that do not exist yet are skipped.
TRAIN_EXTENSIONS: list[str] = ["chainrule.monitor"]


# ---------------------------------------------------------------------------
# argument parsing
# ---------------------------------------------------------------------------
def _one_line_errors(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Make argparse report a bad flag as one line (no usage block), exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def parse_known_args(self, args=None, namespace=None):
        # unknown flags would otherwise travel up to the top-level parser, which
        # prints its usage block; report them here, naming this subcommand
        ns, extras = type(self).parse_known_args(self, args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return ns, extras

    parser.error = types.MethodType(error, parser)
    parser.parse_known_args = types.MethodType(parse_known_args, parser)
    return parser


def _hidden(text: str) -> list[int]:
    if text.strip().lower() in ("", "none", "0"):
        return []  # no hidden layer: a linear model (logistic regression / linear SVM)
    try:
        sizes = [int(s) for s in text.replace(" ", "").split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths like 128,64, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer widths must be positive, got {text!r}")
    return sizes


def _number(kind, strict: bool):
    """An argparse type: a number of ``kind`` (int or float) that is > 0 (``strict``)
    or >= 0."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < 0 or (strict and value == 0):
            raise argparse.ArgumentTypeError(
                f"must be {'positive' if strict else '>= 0'}, got {text}")
        return value

    parse.__name__ = f"{'positive' if strict else 'nonnegative'} {kind.__name__}"
    return parse


def _positive(kind):
    return _number(kind, strict=True)


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _nonnegative(kind):
    return _number(kind, strict=False)


_nonnegative_float = _nonnegative(float)
_nonnegative_int = _nonnegative(int)


def _add_data_arguments(p: argparse.ArgumentParser, default: str | None) -> None:
    p.add_argument("--dataset", choices=DATASETS, default=default,
                   help="data set (default: %(default)s)" if default else
                   "data set (default: the one the checkpoint was trained on)")
    p.add_argument("--data-dir", metavar="PATH",
                   help="folder with the MNIST-format IDX .gz files, or for csv a .csv file "
                        "(or a folder with train.csv and test.csv); default for mnist and "
                        "fashion-mnist: $CHAINRULE_DATA/NAME, data/NAME, ../shared/data/NAME")
    p.add_argument("--csv-label", metavar="COLUMN",
                   help="csv: label column by name or index (default: the last column)")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show a flag's default only where it has a meaningful one."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or \
                "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def add_subcommands(subparsers) -> None:
    """Register ``train``, ``evaluate`` and ``predict`` on the top-level parser."""
    fmt = _HelpFormatter
    p = subparsers.add_parser(
        "train", help="train an MLP classifier (digits by default)", formatter_class=fmt,
        description="Train an MLP classifier with mini-batch gradient descent, show progress, "
                    "report test accuracy per class, and write a checkpoint, metrics and "
                    "plots into --out.")
    _add_data_arguments(p, "digits")
    p.add_argument("--hidden", type=_hidden, default="512,256", metavar="W1,W2",
                   help="hidden layer widths ('none' for a linear model)")
    p.add_argument("--activation", choices=ACTIVATIONS, default="relu",
                   help="nonlinearity between the layers")
    p.add_argument("--loss", choices=LOSSES, default="cross-entropy",
                   help="softmax cross-entropy, multiclass SVM hinge, or squared error on "
                        "one-hot targets")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam",
                   help="momentum/nesterov: SGD with momentum 0.9")
    p.add_argument("--lr", type=_positive(float), default=None,
                   help="step size (default per optimizer: "
                        + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ")")
    p.add_argument("--lr-schedule", choices=SCHEDULES, default="constant",
                   help="constant step size, or cosine annealing to 0 over --epochs")
    p.add_argument("--epochs", type=_positive(int), default=60,
                   help="epochs in total (with --resume: the new total)")
    p.add_argument("--batch-size", type=_positive(int), default=32,
                   help="samples per gradient step (1: SGD, the training set size: full batch)")
    p.add_argument("--weight-decay", type=_nonnegative_float, default=0.0,
                   help="L2 regularization strength (decoupled for adamw)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of initialization, validation split and batch order")
    p.add_argument("--val-fraction", type=_fraction, default=0.1,
                   help="share of the training set held out for validation (0: none)")
    p.add_argument("--test-fraction", type=_fraction, default=0.2,
                   help="digits and single-file csv: share held out as the test set")
    p.add_argument("--patience", type=_nonnegative_int, default=20,
                   help="early stopping: epochs without a better --best-metric value (0: off)")
    p.add_argument("--best-metric", choices=MONITORS, default="val_loss",
                   help="validation metric that picks the best epoch (best.safetensors, the "
                        "reported model) and drives early stopping")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder (default: runs/DATASET)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run saved in --out (its settings; --epochs is the new "
                        "total)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (it is also off when stderr is not a terminal)")
    p.add_argument("--threads", type=int, default=1, metavar="N",
                   help="BLAS threads for the matrix products. 1 by default: on 2 idle cores "
                        "2 threads train the digits MLP only ~10%% faster, but when another "
                        "process is busy they wait on each other and run up to 10x slower")
    for module in _extensions():
        module.add_train_arguments(p)
    p.set_defaults(func=train_command)
    _one_line_errors(p)

    e = subparsers.add_parser(
        "evaluate", help="evaluate a saved checkpoint on a test set", formatter_class=fmt,
        description="Report loss, accuracy and per-class precision/recall of a checkpoint "
                    "written by `chainrule train` on the test set of its data set (or "
                    "another one given with --dataset/--data-dir).")
    e.add_argument("checkpoint", metavar="CHECKPOINT")
    _add_data_arguments(e, None)
    e.add_argument("--batch-size", type=_positive(int), default=1024,
                   help="samples per forward pass")
    e.set_defaults(func=evaluate_command)
    _one_line_errors(e)

    q = subparsers.add_parser(
        "predict", help="predict classes for inputs in a .csv or .npy file",
        formatter_class=fmt,
        description="Predict the class of each row of INPUT (.npy array or .csv file) with a "
                    "checkpoint written by `chainrule train`. Inputs are in the units of the "
                    "data set's files (digits: 0..16, MNIST pixels: 0..255, csv: the raw "
                    "columns); the checkpoint's scaling and standardization are applied.")
    q.add_argument("checkpoint", metavar="CHECKPOINT")
    q.add_argument("input", metavar="INPUT")
    q.add_argument("--output", metavar="FILE", help="write a CSV file instead of printing")
    q.add_argument("--probabilities", action="store_true",
                   help="also give the softmax probability of every class")
    q.set_defaults(func=predict_command)
    _one_line_errors(q)


def _extensions() -> list:
    modules = []
    for name in TRAIN_EXTENSIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name and e.name.startswith("chainrule"):
                continue
            raise
        if hasattr(module, "add_train_arguments") and hasattr(module, "train_callbacks"):
            modules.append(module)
    return modules


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
class _Data:
    """A data set prepared the way a run needs it."""

    def __init__(self, x_train, y_train, x_test, y_test, scale: float, classes: list[str],
                 feature_names: list[str] | None = None, label_name: str | None = None):
        self.x_train, self.y_train, self.x_test, self.y_test = x_train, y_train, x_test, y_test
        self.scale = scale  # raw file units -> reader units (digits 16, MNIST 255, csv 1)
        self.classes = classes
        self.feature_names = feature_names
        self.label_name = label_name


def _mnist_dir(name: str, data_dir: str | None) -> Path:
    if data_dir:
        return Path(data_dir).expanduser()
    candidates = []
    if os.environ.get("CHAINRULE_DATA"):
        candidates.append(Path(os.environ["CHAINRULE_DATA"]) / name)
    candidates += [Path("data") / name, Path("..") / "shared" / "data" / name]
    for c in candidates:
        if (c / "train-images-idx3-ubyte.gz").is_file():
            return c
    raise CLIError(f"no {name} data found (looked in {', '.join(map(str, candidates))}); pass "
                   f"--data-dir DIR with train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                   f"t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz")


def _load_data(dataset: str, data_dir: str | None, csv_label: str | None,
               test_fraction: float, classes: list[str] | None = None) -> _Data:
    from .. import data as crdata

    try:
        if dataset == "digits":
            (x, y), (xt, yt) = crdata.load_digits(test_fraction=test_fraction, seed=0)
            return _Data(x, y, xt, yt, 16.0, [str(i) for i in range(10)])
        if dataset in ("mnist", "fashion-mnist"):
            folder = _mnist_dir(dataset, data_dir)
            (x, y), (xt, yt) = crdata.load_mnist(folder)
            names = list(crdata.FASHION_CLASSES) if dataset == "fashion-mnist" else \
                [str(i) for i in range(10)]
            return _Data(x, y, xt, yt, 255.0, names)
        if dataset == "csv":
            return _load_csv_data(data_dir, csv_label, test_fraction, classes)
    except crdata.DataError as e:
        raise CLIError(str(e)) from None
    raise CLIError(f"unknown dataset {dataset!r} (choose from {', '.join(DATASETS)})")


def _csv_label(csv_label: str | None):
    if csv_label is None:
        return -1
    return int(csv_label) if csv_label.lstrip("-").isdigit() else csv_label


def _load_csv_data(data_dir, csv_label, test_fraction, classes) -> _Data:
    from .. import data as crdata

    if not data_dir:
        raise CLIError("--dataset csv needs --data-dir FILE.csv (or a folder with train.csv "
                       "and test.csv)")
    path = Path(data_dir).expanduser()
    label = _csv_label(csv_label)
    if path.is_dir():
        train_path, test_path = path / "train.csv", path / "test.csv"
        if not train_path.is_file() or not test_path.is_file():
            raise CLIError(f"{path}: expected train.csv and test.csv in this folder")
        train = crdata.load_csv(train_path, label=label, classes=classes)
        test = crdata.load_csv(test_path, label=label, features=train.feature_names,
                               classes=train.classes)
        x, y, xt, yt = train.x, train.y, test.x, test.y
    else:
        train = crdata.load_csv(path, label=label, classes=classes)
        stratify = train.y.dtype.kind in "iu"
        (x, y), (xt, yt) = crdata.train_val_split(train.x, train.y, val_fraction=test_fraction,
                                                  seed=0, stratify=stratify)
    if y.dtype.kind == "f":
        raise CLIError(f"{path}: the label column {train.label_name!r} holds non-integer "
                       "numbers; chainrule train fits classifiers (integer or text labels)")
    if y.min() < 0:
        raise CLIError(f"{path}: class labels must be >= 0 (or text), found {int(y.min())}")
    names = train.classes or crdata.index_class_names(y, yt, source=str(path))
    return _Data(x, y, xt, yt, 1.0, names, train.feature_names, train.label_name)


def _loader(x, y, batch_size: int, shuffle: bool = False, seed: int = 0):
    from ..data import DataLoader, TensorDataset

    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, seed=seed)


# ---------------------------------------------------------------------------
# model, loss, optimizer
# ---------------------------------------------------------------------------
def _build_model(sizes: list[int], activation: str):
    from .. import nn

    return nn.MLP(sizes, activation=activation)


def _loss_fn(name: str, num_classes: int):
    from ..nn import functional as F

    if name == "cross-entropy":
        return F.cross_entropy
    if name == "svm":
        return F.multi_margin_loss
    if name == "mse":
        eye = np.eye(num_classes, dtype=np.float32)

        def mse_one_hot(outputs, targets):
            from ..tensor import tensor

            # squared error between the scores and the one-hot code of the class
            return F.mse_loss(outputs, tensor(eye[np.asarray(targets.data)]))

        return mse_one_hot
    raise CLIError(f"unknown loss {name!r} (choose from {', '.join(LOSSES)})")


def _build_optimizer(name: str, params, lr: float, weight_decay: float):
    from .. import optim

    if name == "sgd":
        return optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "momentum":
        return optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    if name == "nesterov":
        return optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    if name == "adagrad":
        return optim.Adagrad(params, lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise CLIError(f"unknown optimizer {name!r} (choose from {', '.join(OPTIMIZERS)})")


def _standardizer(dataset: str):
    from ..data import Standardizer

    # pixels share one mean and deviation (a per-pixel deviation near zero at the border
    # would blow up rare test strokes); table columns each get their own
    return Standardizer(per_feature=dataset == "csv")


# ---------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------
_CONFIG_KEYS = ("dataset", "data_dir", "csv_label", "hidden", "activation", "loss", "optimizer",
                "lr", "lr_schedule", "epochs", "batch_size", "weight_decay", "seed", "val_fraction",
                "test_fraction", "patience", "best_metric")


def _config_from_args(args) -> dict[str, Any]:
    config = {k: getattr(args, k) for k in _CONFIG_KEYS}
    if config["lr"] is None:
        config["lr"] = DEFAULT_LR[config["optimizer"]]
    if config["data_dir"] is not None:
        config["data_dir"] = str(Path(config["data_dir"]).expanduser().resolve())
    return config


def train_command(args) -> int:
    import chainrule as cr

    from . import EarlyStopping, MetricsLogger, ModelCheckpoint, Trainer

    if args.threads < 1:
        raise CLIError(f"--threads must be at least 1, got {args.threads}")
    cr.set_num_threads(args.threads)
    out = Path(args.out or Path("runs") / (args.dataset or "digits"))
    resume_state = None
    if args.resume:
        resume_state = _read_checkpoint(out / CHECKPOINT, need_trainer=True)
        config = dict(resume_state["extra"]["config"])
        config["epochs"] = args.epochs
        print(f"resuming {out / CHECKPOINT} after epoch {resume_state['epoch']} "
              f"(its saved settings; training to epoch {args.epochs})")
    else:
        config = _config_from_args(args)
    data = _load_data(config["dataset"], config["data_dir"], config["csv_label"],
                      config["test_fraction"])
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CLIError(f"cannot create the output folder {out}: {e.strerror}") from None
    from ..data import train_val_split

    x, y = data.x_train, data.y_train
    x_val = y_val = None
    if config["val_fraction"] > 0:
        (x, y), (x_val, y_val) = train_val_split(x, y, config["val_fraction"],
                                                 seed=config["seed"], stratify=True)
    scaler = _standardizer(config["dataset"]).fit(x)
    x, x_test = scaler.transform(x), scaler.transform(data.x_test)
    x_val = scaler.transform(x_val) if x_val is not None else None
    num_classes = len(data.classes)
    sizes = [int(x.shape[1]), *config["hidden"], num_classes]

    cr.manual_seed(config["seed"])
    model = _build_model(sizes, config["activation"])
    optimizer = _build_optimizer(config["optimizer"], model.parameters(), config["lr"],
                                 config["weight_decay"])
    scheduler = None
    if config.get("lr_schedule", "constant") == "cosine":
        from ..optim.lr_scheduler import CosineAnnealingLR

        scheduler = CosineAnnealingLR(optimizer, T_max=config["epochs"])
    loss_fn = _loss_fn(config["loss"], num_classes)
    train_loader = _loader(x, y, config["batch_size"], shuffle=True, seed=config["seed"])
    val_loader = _loader(x_val, y_val, 1024) if x_val is not None else None

    extra = {"config": config, "sizes": sizes, "classes": data.classes,
             "feature_names": data.feature_names, "label_name": data.label_name,
             "input_scale": data.scale, "standardizer": scaler.state_dict(),
             "chainrule_version": cr.__version__}
    callbacks: list = []
    monitor = config.get("best_metric", "val_loss")
    if val_loader is not None and config["patience"] > 0:
        callbacks.append(EarlyStopping(monitor, patience=config["patience"]))
    callbacks.append(MetricsLogger(out / "metrics.csv"))
    for module in _extensions():
        callbacks.extend(module.train_callbacks(args) or [])
    callbacks.append(ModelCheckpoint(out / CHECKPOINT, extra=extra))
    if val_loader is not None:
        callbacks.append(ModelCheckpoint(out / BEST, monitor=monitor, save_best_only=True,
                                         extra=extra))
    progress = False if args.no_progress else None
    trainer = Trainer(model, optimizer, loss_fn, callbacks=callbacks, scheduler=scheduler,
                      progress=progress)
    if resume_state is not None:
        try:
            trainer.load_state_dict(resume_state)
        except (KeyError, ValueError) as e:
            raise CLIError(f"{out / CHECKPOINT}: cannot resume from it: {e}") from None
        if scheduler is not None and scheduler.T_max != config["epochs"]:
            print(f"warning: the cosine schedule was made for {scheduler.T_max} epochs and "
                  f"keeps that length (past it the step size rises again); for {config['epochs']}"
                  " epochs start a new run")

    if resume_state is None:
        (out / BEST).unlink(missing_ok=True)  # a fresh run: no stale best model from before
    n_val = 0 if x_val is None else len(x_val)
    arch = "-".join(map(str, sizes))
    kind = f"MLP {arch} ({config['activation']})" if config["hidden"] else f"linear model {arch}"
    print(f"{config['dataset']}: {len(x)} train, {n_val} validation, {len(x_test)} test "
          f"samples; {kind}, {config['loss']} loss, "
          f"{config['optimizer']} lr {config['lr']:g}, batch {config['batch_size']}")
    start = time.perf_counter()
    history = trainer.fit(train_loader, val_loader, epochs=config["epochs"])
    elapsed = time.perf_counter() - start

    if (out / BEST).is_file() and val_loader is not None:
        # report the model of the best validation epoch (EarlyStopping restored it already
        # when it ran; without early stopping the file is the one place it is kept)
        best = _read_checkpoint(out / BEST, need_trainer=True)
        model.load_state_dict(best["model"])
        which = f"best validation epoch {_best_epoch(history, monitor)}"
    else:
        which = f"epoch {trainer.epoch}"
    report, test_loss = _test_report(model, loss_fn, x_test, data.y_test, data.classes)
    _print_report(report, test_loss, which)
    print(f"trained {len(history)} epochs in {elapsed:.1f}s")

    from .report import plot_history

    plots = plot_history(history, out, title=f"{config['dataset']} MLP {arch}")
    summary = {"test_accuracy": report["accuracy"], "test_loss": test_loss, "model": which,
               "epochs": trainer.epoch, "train_seconds": round(elapsed, 3), "config": config,
               "per_class": report["classes"], "confusion_matrix": report["confusion_matrix"]}
    _write_json(out / "summary.json", summary)
    written = [out / CHECKPOINT] + ([out / BEST] if (out / BEST).is_file() else []) + \
        [out / "metrics.csv", *plots, out / "summary.json"] + \
        [p for p in (out / "grad_norms.png",) if p.is_file()]
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _best_epoch(history, monitor: str) -> int:
    values = np.array(history[monitor], dtype=float)
    # the first epoch reaching the best value, as the checkpoint callback keeps it
    best = np.nanargmax(values) if monitor.endswith("accuracy") else np.nanargmin(values)
    return int(history["epoch"][int(best)])


def _test_report(model, loss_fn, x_test, y_test, classes):
    import chainrule as cr

    from .report import classification_report
    from .trainer import predict

    scores = predict(model, x_test)
    with cr.no_grad():
        test_loss = float(loss_fn(cr.tensor(scores), cr.tensor(y_test)).item())
    report = classification_report(y_test, scores.argmax(axis=1), len(classes), classes)
    return report, test_loss


def _print_report(report: dict, test_loss: float, which: str) -> None:
    from .report import format_report

    print(f"test accuracy: {report['accuracy']:.4f}  (test loss {test_loss:.4f}, "
          f"{report['samples']} samples, model of {which})")
    print(format_report(report))


def _write_json(path: Path, obj) -> None:
    with atomic_write(path, "w") as f:
        f.write(json.dumps(obj, indent=2) + "\n")


# ---------------------------------------------------------------------------
# checkpoints for evaluate / predict
# ---------------------------------------------------------------------------
def _read_checkpoint(path: Path, need_trainer: bool = False) -> dict:
    from ..io import CheckpointError, load

    path = Path(path)
    if not path.is_file():
        hint = " (nothing to resume: train without --resume first)" if need_trainer else ""
        raise CLIError(f"{path}: no such checkpoint{hint}")
    try:
        state = load(path)
    except (CheckpointError, OSError) as e:
        raise CLIError(str(e)) from None
    if not isinstance(state, dict) or "model" not in state or \
            not isinstance(state.get("extra"), dict) or "config" not in state["extra"]:
        raise CLIError(f"{path}: not a checkpoint written by `chainrule train` (it lacks the "
                       "model configuration)")
    return state


def _restore_model(path: Path):
    state = _read_checkpoint(Path(path))
    extra = state["extra"]
    model = _build_model(list(extra["sizes"]), extra["config"]["activation"])
    try:
        model.load_state_dict(state["model"])
    except (KeyError, ValueError, RuntimeError) as e:
        raise CLIError(f"{path}: the weights do not fit the saved architecture: {e}") from None
    from ..data import Standardizer

    scaler = Standardizer().load_state_dict(extra["standardizer"])
    return model, extra, scaler


def evaluate_command(args) -> int:
    model, extra, scaler = _restore_model(args.checkpoint)
    config = dict(extra["config"])
    dataset = args.dataset or config["dataset"]
    data_dir = args.data_dir if args.data_dir is not None else \
        (config["data_dir"] if dataset == config["dataset"] else None)
    csv_label = args.csv_label if args.csv_label is not None else config["csv_label"]
    data = _load_data(dataset, data_dir, csv_label, config["test_fraction"],
                      classes=extra["classes"] if dataset == "csv" else None)
    x_test = data.x_test
    if x_test.shape[1] != extra["sizes"][0]:
        raise CLIError(f"{dataset} has {x_test.shape[1]} features but the model in "
                       f"{args.checkpoint} expects {extra['sizes'][0]}")
    x_test = scaler.transform(x_test)
    loss_fn = _loss_fn(config["loss"], len(extra["classes"]))
    report, test_loss = _test_report(model, loss_fn, x_test, data.y_test, extra["classes"])
    _print_report(report, test_loss, f"{args.checkpoint}")
    return 0


def _read_inputs(path: Path, extra: dict) -> np.ndarray:
    if not path.is_file():
        raise CLIError(f"{path}: no such input file")
    n_features = int(extra["sizes"][0])
    if path.suffix == ".npy":
        try:
            # allow_pickle=False: an input file must not be able to run code
            x = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as e:
            raise CLIError(f"{path}: not a readable .npy array ({e})") from None
        if x.dtype.kind not in "biuf":
            raise CLIError(f"{path}: expected a numeric array, got dtype {x.dtype}")
        if x.ndim == 1 and x.size == n_features:
            x = x[None]
        x = x.reshape(len(x), -1) if x.ndim > 2 else x
    elif path.suffix == ".csv":
        from ..data import DataError, load_csv

        names = [n for n in extra.get("feature_names") or [] if n]
        x = None
        if names and not all(n == f"col{i}" for i, n in enumerate(names)):
            try:  # a file with the training file's header: take those columns by name
                x = load_csv(path, label=None, features=names).x
            except DataError:
                x = None
        if x is None:
            try:  # otherwise every column is a feature, in the training order
                x = load_csv(path, label=None).x
            except DataError as e:
                raise CLIError(str(e)) from None
    else:
        raise CLIError(f"{path}: expected a .npy or .csv file")
    if x.ndim != 2 or x.shape[1] != n_features:
        raise CLIError(f"{path}: rows have {x.shape[1] if x.ndim == 2 else x.shape} values, "
                       f"the model expects {n_features}")
    return x.astype(np.float32) / np.float32(extra["input_scale"])


def predict_command(args) -> int:
    from .trainer import predict

    model, extra, scaler = _restore_model(args.checkpoint)
    x = scaler.transform(_read_inputs(Path(args.input), extra))
    scores = predict(model, x)
    labels = scores.argmax(axis=1)
    classes = list(extra["classes"])
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    proba = shifted / shifted.sum(axis=1, keepdims=True)
    header = ["row", "class", "label"] + ([f"p_{c}" for c in classes] if args.probabilities
                                          else [])
    rows = []
    for i, k in enumerate(labels):
        row = [str(i), str(int(k)), classes[int(k)]]
        if args.probabilities:
            row += [f"{p:.6f}" for p in proba[i]]
        rows.append(row)
    if args.output:
        import csv

        out = Path(args.output)
        with atomic_write(out, "w") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
        print(f"wrote {len(rows)} predictions to {out}")
    else:
        print(",".join(header))
        for row in rows:
            print(",".join(row))
        sys.stdout.flush()
    return 0
