"""The data sets a training run can use, by name (``TrainConfig.dataset``,
``chainrule train --dataset NAME``).

Each entry of ``DATASETS`` is a :class:`DatasetSpec` whose ``load(config, classes)``
returns a :class:`Data`: flat float32 feature rows (``x.shape == (N, prod(input_shape))``),
int64 class labels, the class names, the shape one sample has as a model input and the
factor that turns the files' own units into the loaded ones. To add a data set, write its
loader and add one entry::

    DATASETS.add(DatasetSpec("iris", _load_iris, help="150 flowers, 4 measurements"))

Every loaded data set then goes through :func:`check_data` (finite values, labels in
range, enough rows); the readers (``chainrule.data``) name the file, line and column of
a bad cell before that.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .registry import Registry

if TYPE_CHECKING:
    from .config import TrainConfig

__all__ = ["DATASETS", "Data", "DataProblem", "DatasetSpec", "check_data"]


class DataProblem(ValueError):
    """The data cannot train a classifier (the message names the file, row or column)."""


@dataclass
class Data:
    """A data set prepared the way a run needs it (train and test parts, not yet split
    into validation or standardized)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]
    input_shape: tuple[int, ...]
    scale: float = 1.0  # raw file units -> loaded units (digits 16, MNIST 255, csv 1)
    per_feature: bool = True  # standardize each column (tables) or all together (pixels)
    feature_names: list[str] | None = None
    label_name: str | None = None
    source: str = ""  # what to name in messages (a file or folder)


@dataclass(frozen=True)
class DatasetSpec:
    """A named data set: ``load(config, classes)`` -> :class:`Data`.

    ``classes`` is given when a trained model's class names must be kept (evaluating a
    checkpoint on a csv file). ``needs_data_dir``: the loader reads ``config.data_dir``;
    ``reads_label_column``: it reads ``config.csv_label`` (a setting given to a data set
    that does not read it is refused, not ignored).
    """

    name: str
    load: Callable[..., Data]
    help: str = ""
    needs_data_dir: bool = False
    reads_label_column: bool = False


DATASETS: Registry[DatasetSpec] = Registry("dataset")


# ---------------------------------------------------------------------------
# digits, MNIST, Fashion-MNIST
# ---------------------------------------------------------------------------
def _load_digits(config: TrainConfig, classes=None) -> Data:
    from ..data import load_digits

    (x, y), (xt, yt) = load_digits(test_fraction=config.test_fraction, seed=0)
    return Data(x, y, xt, yt, [str(i) for i in range(10)], (1, 8, 8), scale=16.0,
                per_feature=False, source="digits")


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
    raise DataProblem(f"no {name} data found (looked in {', '.join(map(str, candidates))}); "
                      "pass --data-dir DIR with train-images-idx3-ubyte.gz, "
                      "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
                      "t10k-labels-idx1-ubyte.gz")


def _idx_loader(name: str, class_names: list[str]) -> Callable[..., Data]:
    def load(config: TrainConfig, classes=None) -> Data:
        from ..data import load_mnist

        folder = _mnist_dir(name, config.data_dir)
        (x, y), (xt, yt) = load_mnist(folder, flatten=False)
        for part, images in (("training", x), ("test", xt)):
            if len(images) == 0 or images[0].size == 0:
                raise DataProblem(f"{folder}: the {part} images file holds no images "
                                  f"(shape {images.shape})")
        if x.shape[1:] != xt.shape[1:]:
            raise DataProblem(f"{folder}: training images are {x.shape[1]}x{x.shape[2]} but "
                              f"test images are {xt.shape[1]}x{xt.shape[2]}")
        shape = (1, *x.shape[1:])
        return Data(x.reshape(len(x), -1), y, xt.reshape(len(xt), -1), yt, list(class_names),
                    shape, scale=255.0, per_feature=False, source=str(folder))

    return load


# ---------------------------------------------------------------------------
# csv
# ---------------------------------------------------------------------------
def _csv_label(csv_label: str | None):
    if csv_label is None:
        return -1
    return int(csv_label) if csv_label.lstrip("-").isdigit() else csv_label


def _load_csv(config: TrainConfig, classes=None) -> Data:
    from ..data import DataError, load_csv, train_val_split

    if not config.data_dir:
        raise DataProblem("--dataset csv needs --data-dir FILE.csv (or a folder with "
                          "train.csv and test.csv)")
    path = Path(config.data_dir).expanduser()
    label = _csv_label(config.csv_label)
    if path.is_dir():
        train_path, test_path = path / "train.csv", path / "test.csv"
        if not train_path.is_file() or not test_path.is_file():
            raise DataProblem(f"{path}: expected train.csv and test.csv in this folder")
        train = load_csv(train_path, label=label, classes=classes)
        test = load_csv(test_path, label=label, features=train.feature_names,
                        classes=train.classes)
        x, y, xt, yt = train.x, train.y, test.x, test.y
        source = str(train_path)
    else:
        train = load_csv(path, label=label, classes=classes)
        if train.y.dtype.kind in "iu" and len(train.y) < 2:
            raise DataProblem(f"{path}: {len(train.y)} data row: too few to hold out a test set")
        stratify = train.y.dtype.kind in "iu"
        try:
            (x, y), (xt, yt) = train_val_split(train.x, train.y,
                                               val_fraction=config.test_fraction, seed=0,
                                               stratify=stratify)
        except DataError as e:
            n = len(train.x)
            held = sum(round(int(c) * config.test_fraction) for c in np.unique(
                train.y, return_counts=True)[1]) if stratify else round(n * config.test_fraction)
            raise DataProblem(f"{path}: --test-fraction {config.test_fraction:g} of its {n} "
                              f"data rows leaves {n - held} for training and {held} for "
                              f"testing ({e}); give more rows (or a folder with train.csv "
                              "and test.csv)") from None
        if len(xt) == 0 or len(x) == 0:
            held = round(len(train.x) * config.test_fraction)
            raise DataProblem(f"{path}: --test-fraction {config.test_fraction:g} of its "
                              f"{len(train.x)} data rows leaves {len(train.x) - held} for "
                              f"training and {held} for testing; give more rows (or a folder "
                              "with train.csv and test.csv)")
        source = str(path)
    if y.dtype.kind == "f":
        raise DataProblem(f"{source}: the label column {train.label_name!r} holds non-integer "
                          "numbers; chainrule train fits classifiers (integer or text labels)")
    if train.classes:
        names = list(train.classes)
    else:
        labels = np.concatenate([y, yt])
        if labels.size and labels.min() < 0:
            raise DataProblem(f"{source}: class labels must be >= 0 (or text), found "
                              f"{int(labels.min())}")
        top = int(labels.max(initial=0))
        distinct = len(np.unique(labels))
        # labels index the output layer: 0..K-1 with few gaps, not arbitrary ids
        if top + 1 > 4 * distinct + 16:
            raise DataProblem(f"{source}: integer labels go up to {top} but only {distinct} "
                              "distinct values appear; number the classes 0..K-1 or use "
                              "text labels")
        names = [str(i) for i in range(top + 1)]
    return Data(x, y, xt, yt, names, (int(x.shape[1]),), scale=1.0, per_feature=True,
                feature_names=train.feature_names, label_name=train.label_name,
                source=source)


DATASETS.add(DatasetSpec("digits", _load_digits,
                         help="scikit-learn's bundled 8x8 digits (1797 images, no download)"))
DATASETS.add(DatasetSpec("mnist", _idx_loader("mnist", [str(i) for i in range(10)]),
                         help="MNIST from the four original IDX .gz files",
                         needs_data_dir=True))
DATASETS.add(DatasetSpec("fashion-mnist", _idx_loader("fashion-mnist", [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
    "Bag", "Ankle boot"]), help="Fashion-MNIST (same files and format as MNIST)",
    needs_data_dir=True))
DATASETS.add(DatasetSpec("csv", _load_csv,
                         help="a .csv file (numeric features, integer or text label), or a "
                              "folder with train.csv and test.csv", needs_data_dir=True,
                         reads_label_column=True))


# ---------------------------------------------------------------------------
# checks every data set goes through
# ---------------------------------------------------------------------------
def check_data(data: Data) -> None:
    """Refuse data that cannot train a classifier, naming what is wrong and where."""
    src = data.source or "the data set"
    features = math.prod(data.input_shape)
    for part, x, y in (("training", data.x_train, data.y_train),
                       ("test", data.x_test, data.y_test)):
        if len(x) == 0:
            raise DataProblem(f"{src}: the {part} set has no samples")
        if x.ndim != 2 or x.shape[1] != features or features == 0:
            raise DataProblem(f"{src}: {part} samples have shape {x.shape[1:]}, expected "
                              f"{features} values ({'x'.join(map(str, data.input_shape))})")
        if len(y) != len(x):
            raise DataProblem(f"{src}: {len(x)} {part} samples but {len(y)} labels")
        if y.dtype.kind not in "iu":
            raise DataProblem(f"{src}: {part} labels must be integers, got {y.dtype}")
        if y.size and (y.min() < 0 or y.max() >= len(data.classes)):
            value = int(y.min()) if y.min() < 0 else int(y.max())
            raise DataProblem(f"{src}: {part} label {value} is out of range for "
                              f"{len(data.classes)} classes (0..{len(data.classes) - 1})")
        if x.dtype.kind == "f":
            bad = np.argwhere(~np.isfinite(x))
            if len(bad):
                i, j = (int(v) for v in bad[0])
                where = f"{part} sample {i}"
                column = data.feature_names[j] if data.feature_names else f"feature {j}"
                raise DataProblem(f"{src}: {where}, {column} is {x[i, j]}: features must "
                                  "be finite numbers")
    if len(data.classes) < 2:
        raise DataProblem(f"{src}: only {len(data.classes)} class; a classifier needs at "
                          "least 2")
