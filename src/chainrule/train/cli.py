"""``chainrule train``, ``chainrule evaluate`` and ``chainrule predict``: the command-line
face of :func:`chainrule.train.run` and :func:`chainrule.train.load_trained`.

``chainrule.cli`` calls :func:`add_subcommands`; each flag of ``train`` is a field of
:class:`~chainrule.train.TrainConfig` (``--batch-size`` is ``batch_size``), and the
choices of ``--dataset``, ``--model``, ``--loss`` and ``--optimizer`` are the names in
their registries. Expected failures raise :class:`~chainrule.errors.CLIError`, printed by
the entry point as one line.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from ..errors import CLIError, one_line_errors
from ..files import atomic_write
from .config import BEST_METRICS, SCHEDULES, TrainConfig
from .datasets import DATASETS
from .models import ACTIVATIONS, LOSSES, MODELS
from .optimizers import OPTIMIZERS
from .report import print_report, test_report
from .run import MONITOR_PLOT, load_data, load_trained, run

__all__ = ["add_subcommands", "nonnegative", "positive"]


# ---------------------------------------------------------------------------
# argument types
# ---------------------------------------------------------------------------
def _one_line_errors(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """One-line errors (``errors.one_line_errors``), and ``args.given``: the flags given."""

    def note_given(self, args, ns) -> None:
        ns.given = _given_dests(self, args)

    return one_line_errors(parser, note_given)


def _given_dests(parser: argparse.ArgumentParser, args) -> frozenset[str]:
    """The destinations of the flags on the command line ``args``: a flag given with its
    default value is given (``--batch-size 32`` asks for 32), one left out is not. Parses
    again with every default suppressed, so that only the given ones land."""
    saved = [(action, action.default) for action in parser._actions]
    saved_defaults = parser._defaults
    try:
        for action, _ in saved:
            action.default = argparse.SUPPRESS
        parser._defaults = {}
        found, _ = type(parser).parse_known_args(parser, args, argparse.Namespace())
    finally:
        for action, default in saved:
            action.default = default
        parser._defaults = saved_defaults
    return frozenset(vars(found))


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


def _number(kind, strict: bool, high: float | None = None):
    """An argparse type: a finite number of ``kind`` (int or float) that is > 0
    (``strict``) or >= 0, and below ``high`` when given."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        if value < 0 or (strict and value == 0) or (high is not None and value > high):
            bound = "positive" if strict else ">= 0"
            if high is not None:
                bound += f" and at most {high}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    parse.__name__ = f"{'positive' if strict else 'nonnegative'} {kind.__name__}"
    return parse


def positive(kind):
    """An argparse type for a finite number > 0 of ``kind`` (int or float)."""
    return _number(kind, strict=True)


def nonnegative(kind, high: float | None = None):
    """An argparse type for a finite number >= 0 of ``kind`` (at most ``high``)."""
    return _number(kind, strict=False, high=high)


def _fraction(strict: bool):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        low_ok = value > 0.0 if strict else value >= 0.0
        if not (low_ok and value < 1.0):
            raise argparse.ArgumentTypeError(
                f"must be in {'(0' if strict else '[0'}, 1), got {text}")
        return value

    parse.__name__ = "fraction"
    return parse


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show a flag's default only where it has a meaningful one."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or \
                "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


# ---------------------------------------------------------------------------
# the parser
# ---------------------------------------------------------------------------
def _add_data_arguments(p: argparse.ArgumentParser, default: str | None) -> None:
    p.add_argument("--dataset", choices=DATASETS.names(), default=default,
                   help="data set (default: %(default)s)" if default else
                   "data set (default: the one the checkpoint was trained on)")
    p.add_argument("--data-dir", metavar="PATH",
                   help="folder with the MNIST-format IDX .gz files, or for csv a .csv file "
                        "(or a folder with train.csv and test.csv); default for mnist and "
                        "fashion-mnist: $CHAINRULE_DATA/NAME, data/NAME, ../shared/data/NAME")
    p.add_argument("--csv-label", metavar="COLUMN",
                   help="csv: label column by name or index (default: the last column)")


def add_subcommands(subparsers) -> None:
    """Register ``train``, ``evaluate`` and ``predict`` on the top-level parser."""
    fmt = _HelpFormatter
    d = TrainConfig()
    p = subparsers.add_parser(
        "train", help="train a classifier (an MLP on digits by default)", formatter_class=fmt,
        description="Train a classifier with mini-batch gradient descent, show progress, "
                    "report test accuracy per class, and write a checkpoint, metrics and "
                    "plots into --out. The same run from Python: chainrule.train.run("
                    "TrainConfig(...)).")
    _add_data_arguments(p, d.dataset)
    p.add_argument("--model", choices=MODELS.names(), default=d.model,
                   help="; ".join(f"{s.name}: {s.help}" for s in MODELS if s.help))
    p.add_argument("--hidden", type=_hidden, default=",".join(map(str, d.hidden)),
                   metavar="W1,W2", help="hidden layer widths ('none' for a linear model)")
    p.add_argument("--activation", choices=ACTIVATIONS, default=d.activation,
                   help="nonlinearity between the layers")
    p.add_argument("--loss", choices=LOSSES.names(), default=d.loss,
                   help="; ".join(f"{s.name}: {s.help}" for s in LOSSES if s.help))
    p.add_argument("--optimizer", choices=OPTIMIZERS.names(), default=d.optimizer,
                   help="; ".join(f"{s.name}: {s.help}" for s in OPTIMIZERS if s.help))
    p.add_argument("--lr", type=positive(float), default=None,
                   help="step size (default per optimizer: "
                        + ", ".join(f"{s.name} {s.default_lr:g}" for s in OPTIMIZERS) + ")")
    p.add_argument("--lr-schedule", choices=SCHEDULES, default=d.lr_schedule,
                   help="constant step size, or cosine annealing to 0 over --epochs")
    p.add_argument("--epochs", type=positive(int), default=d.epochs,
                   help="epochs in total (with --resume: the new total; left out, the "
                        "total the run was started with)")
    p.add_argument("--batch-size", type=positive(int), default=d.batch_size,
                   help="samples per gradient step (1: SGD, the training set size: full "
                        "batch); under mpiexec -n K, per process (the step takes K times as "
                        "many)")
    p.add_argument("--global-batch", type=positive(int), default=None, metavar="N",
                   help="under mpiexec -n K: samples per gradient step over all processes "
                        "(default K × --batch-size; given with --batch-size, the two must "
                        "agree)")
    p.add_argument("--weight-decay", type=nonnegative(float), default=d.weight_decay,
                   help="L2 regularization strength (decoupled for adamw)")
    p.add_argument("--clip-grad", type=positive(float), default=None, metavar="MAX_NORM",
                   help="scale the gradients down to this global norm before each step")
    p.add_argument("--seed", type=nonnegative(int, high=2 ** 63 - 1), default=d.seed,
                   help="seed of initialization, validation split and batch order")
    p.add_argument("--val-fraction", type=_fraction(strict=False), default=d.val_fraction,
                   help="share of the training set held out for validation (0: none)")
    p.add_argument("--test-fraction", type=_fraction(strict=True), default=d.test_fraction,
                   help="digits and single-file csv: share held out as the test set")
    p.add_argument("--patience", type=nonnegative(int), default=d.patience,
                   help="early stopping: epochs without a better --best-metric value (0: off)")
    p.add_argument("--best-metric", choices=BEST_METRICS, default=d.best_metric,
                   help="validation metric that picks the best epoch (best.safetensors, the "
                        "reported model) and drives early stopping")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder (default: runs/DATASET)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run saved in --out (its settings; --epochs is the new "
                        "total)")
    p.add_argument("--overwrite", action="store_true",
                   help="start afresh in an --out that holds a previous run, removing its "
                        "files (without it such a folder is refused)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (it is also off when stderr is not a terminal)")
    p.add_argument("--threads", type=positive(int), default=1, metavar="N",
                   help="BLAS threads for the matrix products. 1 by default: on 2 idle cores "
                        "2 threads train the digits MLP only ~10%% faster, but when another "
                        "process is busy they wait on each other and run up to 10x slower")
    group = p.add_argument_group("gradient diagnostics")
    group.add_argument("--no-monitor", action="store_true",
                       help="do not monitor per-layer gradients (on by default: warnings "
                            f"for vanishing/exploding/dead layers and {MONITOR_PLOT})")
    group.add_argument("--monitor-every", type=positive(int), default=10, metavar="N",
                       help="record the gradient statistics every N batches (every batch "
                            "for the first 100)")
    group.add_argument("--detect-anomaly", action="store_true",
                       help="stop at the first NaN/Inf in the forward or backward pass and "
                            "say which op and layer made it (slow: for debugging)")
    p.set_defaults(func=train_command)
    _one_line_errors(p)

    e = subparsers.add_parser(
        "evaluate", help="evaluate a saved checkpoint on a test set", formatter_class=fmt,
        description="Report loss, accuracy and per-class precision/recall of a checkpoint "
                    "written by `chainrule train` on the test set of its data set (or "
                    "another one given with --dataset/--data-dir).")
    e.add_argument("checkpoint", metavar="CHECKPOINT")
    _add_data_arguments(e, None)
    e.add_argument("--batch-size", type=positive(int), default=1024,
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


# ---------------------------------------------------------------------------
# the commands
# ---------------------------------------------------------------------------
_CONFIG_FIELDS = tuple(TrainConfig.__dataclass_fields__)


def config_from_args(args) -> TrainConfig:
    """The :class:`TrainConfig` that ``chainrule train``'s flags describe."""
    return TrainConfig(**{name: getattr(args, name) for name in _CONFIG_FIELDS})


def train_command(args) -> int:
    run(config_from_args(args), args.out, resume=args.resume, overwrite=args.overwrite,
        monitor=not args.no_monitor, monitor_every=args.monitor_every,
        detect_anomaly=args.detect_anomaly, progress=False if args.no_progress else None,
        threads=args.threads, global_batch=args.global_batch,
        explicit=getattr(args, "given", None))
    return 0


def evaluate_command(args) -> int:
    import dataclasses

    trained = load_trained(args.checkpoint)
    config = trained.config
    dataset = args.dataset or config.dataset
    same = dataset == config.dataset
    config = dataclasses.replace(
        config, dataset=dataset,
        data_dir=args.data_dir if args.data_dir is not None else
        (config.data_dir if same else None),
        csv_label=args.csv_label if args.csv_label is not None else config.csv_label)
    config.validate()  # e.g. a --data-dir given to a data set that reads none
    data = load_data(config, classes=trained.classes if dataset == "csv" else None)
    x_test = data.x_test
    if x_test.shape[1] != trained.num_features:
        raise CLIError(f"{dataset} has {x_test.shape[1]} features but the model in "
                       f"{args.checkpoint} expects {trained.num_features}")
    if len(data.classes) > len(trained.classes):
        raise CLIError(f"{dataset} has {len(data.classes)} classes but the model in "
                       f"{args.checkpoint} predicts {len(trained.classes)}")
    x_test = trained.scaler.transform(x_test)
    report, test_loss = test_report(trained.model, trained.loss_fn, x_test, data.y_test,
                                    trained.classes, batch_size=args.batch_size)
    print_report(report, test_loss, f"{args.checkpoint}")
    return 0


def _read_inputs(path: Path, trained) -> np.ndarray:
    if path.is_dir():
        raise CLIError(f"{path}: a folder, not an input file")
    if not path.is_file():
        raise CLIError(f"{path}: no such input file")
    n_features = trained.num_features
    if path.suffix == ".npy":
        with open(path, "rb") as f:
            magic = f.read(6)
        if magic != b"\x93NUMPY":  # np.load would guess at a pickle and say so
            raise CLIError(f"{path}: not a .npy file (it lacks NumPy's header; write one "
                           "with numpy.save)")
        try:
            # allow_pickle=False: an input file must not be able to run code
            x = np.load(path, allow_pickle=False)
        except ValueError as e:
            if "pickle" in str(e):  # an object array (its items would be unpickled)
                raise CLIError(f"{path}: holds Python objects, not numbers; inputs must be "
                               "a numeric array") from None
            raise CLIError(f"{path}: not a readable .npy array ({e})") from None
        except (OSError, EOFError) as e:
            raise CLIError(f"{path}: not a readable .npy array ({e})") from None
        if x.dtype.kind not in "biuf":
            raise CLIError(f"{path}: expected a numeric array, got dtype {x.dtype}")
        if x.ndim == 1 and x.size == n_features:
            x = x[None]
        x = x.reshape(len(x), -1) if x.ndim > 2 else x
    elif path.suffix == ".csv":
        from ..data import DataError, load_csv

        names = [n for n in trained.feature_names or [] if n]
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
    if len(x) == 0:
        raise CLIError(f"{path}: no rows to predict")
    x = x.astype(np.float32)
    bad = np.argwhere(~np.isfinite(x))
    if len(bad):
        i, j = (int(v) for v in bad[0])
        raise CLIError(f"{path}: row {i}, column {j} is {x[i, j]}: inputs must be finite "
                       "numbers")
    return x / np.float32(trained.input_scale)


def predict_command(args) -> int:
    from .trainer import predict

    trained = load_trained(args.checkpoint)
    out = Path(args.output) if args.output else None
    if out is not None and out.is_dir():
        raise CLIError(f"--output {out}: a folder; name a .csv file to write")
    x = trained.scaler.transform(_read_inputs(Path(args.input), trained))
    scores = predict(trained.model, x)
    labels = scores.argmax(axis=1)
    classes = trained.classes
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
    if out is not None:
        import csv

        try:
            with atomic_write(out, "w") as f:
                writer = csv.writer(f)
                writer.writerow(header)
                writer.writerows(rows)
        except OSError as e:
            raise CLIError(f"cannot write {out}: {e.strerror or e}") from None
        print(f"wrote {len(rows)} predictions to {out}")
    else:
        print(",".join(header))
        for row in rows:
            print(",".join(row))
        sys.stdout.flush()
    return 0

