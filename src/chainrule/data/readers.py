"""Readers for the bundled and standard data sets, and for CSV files.

All readers return NumPy arrays: features as float32, class labels as int64.
Nothing here touches the network: MNIST and Fashion-MNIST are read from the
original IDX gzip files in a folder the user names.
"""

from __future__ import annotations

import csv
import gzip
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "MNIST_FILES",
    "CSVData",
    "DataError",
    "load_csv",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "read_idx",
]


class DataError(ValueError):
    """A data file is missing, truncated or not what it claims to be (the message names it)."""


# ---------------------------------------------------------------------------
# IDX (the MNIST file format)
# ---------------------------------------------------------------------------
# magic = 0x00 0x00 <type code> <number of dimensions>
_IDX_TYPES = {
    0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}


def read_idx(path: str | os.PathLike, expect_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzip-compressed when the name ends in ``.gz``) into an array.

    The header is checked: two zero bytes, a known type code, the number of dimensions,
    and a payload exactly as long as the dimensions say. ``expect_magic`` (2051 for
    images, 2049 for labels) checks the magic number as a 32-bit big-endian integer.
    Every failure raises ``DataError`` naming the file.

    >>> import gzip, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte.gz")
    >>> with gzip.open(path, "wb") as f:
    ...     _ = f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    >>> read_idx(path, expect_magic=2049).tolist()
    [7, 2, 1]
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:
        # gzip raises EOFError for a cut-off stream and BadGzipFile (OSError) for foreign data
        raise DataError(f"{path}: cannot decompress ({e}); the file is truncated or "
                        "not a gzip file") from None
    if len(raw) < 4:
        raise DataError(f"{path}: {len(raw)} bytes is too short for an IDX header")
    magic = int.from_bytes(raw[:4], "big")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES or raw[3] == 0:
        raise DataError(f"{path}: not an IDX file (magic number {magic:#010x})")
    if expect_magic is not None and magic != expect_magic:
        raise DataError(f"{path}: magic number {magic}, expected {expect_magic} "
                        f"({'images' if expect_magic == 2051 else 'labels'} file)")
    dtype, ndim = _IDX_TYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated header ({len(raw)} bytes, {ndim} dimensions need "
                        f"{header})")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    payload = len(raw) - header
    if payload != expected:
        what = "truncated" if payload < expected else "has trailing bytes"
        raise DataError(f"{path}: {what}: dimensions {dims} need {expected} data bytes, "
                        f"found {payload}")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="), copy=True) if dtype.itemsize > 1 else data.copy()


MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def _find(directory: Path, name: str) -> Path:
    # accept the decompressed file too, as some mirrors ship it unpacked
    for candidate in (directory / name, directory / name[:-3]):
        if candidate.is_file():
            return candidate
    raise DataError(f"{directory / name}: no such file (expected the original MNIST-format "
                    f"files {', '.join(n for pair in MNIST_FILES.values() for n in pair)} "
                    f"in {directory})")


def _load_idx_pair(directory, flatten: bool, normalize: bool, split: str):
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise DataError(f"{directory}: no such directory")
    image_name, label_name = MNIST_FILES[split]
    image_path, label_path = _find(directory, image_name), _find(directory, label_name)
    images = read_idx(image_path, expect_magic=2051)
    labels = read_idx(label_path, expect_magic=2049)
    if images.ndim != 3:
        raise DataError(f"{image_path}: expected 3 dimensions (count, rows, cols), got "
                        f"{images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise DataError(f"{label_path}: {labels.shape[0]} labels for {images.shape[0]} images "
                        f"in {image_path.name}")
    if flatten:
        images = images.reshape(images.shape[0], -1)
    if normalize:
        images = images.astype(np.float32) / np.float32(255.0)
    return images, labels.astype(np.int64)


def load_mnist(directory: str | os.PathLike, flatten: bool = True, normalize: bool = True):
    """Read MNIST from the four original IDX gzip files in ``directory``.

    Returns ``(x_train, y_train), (x_test, y_test)`` (as Keras' ``mnist.load_data``):
    60000 and 10000 images, flattened to 784 float32 values in [0, 1] (``flatten=False``
    keeps 28×28, ``normalize=False`` keeps the uint8 pixels), labels int64 in 0..9.
    Missing, truncated or foreign files raise ``DataError`` naming the file.

    >>> (x, y), (xt, yt) = load_mnist("../shared/data/mnist")  # doctest: +SKIP
    >>> x.shape, xt.shape  # doctest: +SKIP
    ((60000, 784), (10000, 784))
    """
    return (_load_idx_pair(directory, flatten, normalize, "train"),
            _load_idx_pair(directory, flatten, normalize, "test"))


def load_fashion_mnist(directory: str | os.PathLike, flatten: bool = True,
                       normalize: bool = True):
    """Read Fashion-MNIST (same file names and format as MNIST); see ``load_mnist``.

    Classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
    7 Sneaker, 8 Bag, 9 Ankle boot (``FASHION_CLASSES``).
    """
    return load_mnist(directory, flatten, normalize)


FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")


# ---------------------------------------------------------------------------
# scikit-learn's bundled 8x8 digits
# ---------------------------------------------------------------------------
def load_digits(test_fraction: float = 0.2, seed: int = 0, normalize: bool = True):
    """The 1797 8×8 handwritten digits bundled with scikit-learn (no download needed).

    Returns ``(x_train, y_train), (x_test, y_test)``: a seeded, class-stratified split
    with ``test_fraction`` of each class held out; features are 64 float32 values
    (pixel intensities 0..16, divided by 16 when ``normalize``), labels int64 in 0..9.
    Needs scikit-learn (``pip install 'chainrule[train]'``).

    >>> (x, y), (xt, yt) = load_digits()
    >>> x.shape, xt.shape, x.dtype, y.dtype
    ((1438, 64), (359, 64), dtype('float32'), dtype('int64'))
    """
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError:
        raise DataError("load_digits needs scikit-learn, which ships the digits data: "
                        "pip install 'chainrule[train]'") from None
    bunch = _sk_load_digits()
    x = bunch.data.astype(np.float32)
    if normalize:
        x /= np.float32(16.0)
    y = bunch.target.astype(np.int64)
    from .preprocessing import train_val_split

    return train_val_split(x, y, val_fraction=test_fraction, seed=seed, stratify=True)


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------
@dataclass
class CSVData:
    """Features and labels read from a CSV file; unpacks as ``x, y``.

    ``classes`` lists the original label strings when the labels were not integers
    (``y`` then holds indices into it); ``feature_names`` are the header names (or
    ``col0, col1, ...`` when the file has no header).
    """

    x: np.ndarray
    y: np.ndarray | None
    feature_names: list[str] = field(default_factory=list)
    label_name: str | None = None
    classes: list[str] | None = None

    def __iter__(self) -> Iterator[np.ndarray]:
        yield self.x
        yield self.y


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def load_csv(path: str | os.PathLike, label: str | int | None = -1,
             features: list[str | int] | None = None, delimiter: str = ",",
             header: bool | None = None, classes: list[str] | None = None) -> CSVData:
    """Read a numeric CSV file into features ``x`` (float32) and labels ``y``.

    Args:
        label: the label column, by header name or by index (negative counts from the
            end); ``None`` reads features only (for prediction inputs).
        features: the feature columns by name or index; default all but the label.
        header: whether the first row holds column names; ``None`` guesses (a first row
            with any non-numeric cell is a header).
        classes: class names to map string labels onto (as stored by a trained model);
            default: the sorted distinct labels.

    Integer labels stay int64 class indices; other numeric labels become float32
    (regression targets); text labels become indices into ``result.classes``.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(path, "w").write("a,b,kind\\n1,2,cat\\n3,4,dog\\n5,6,cat\\n")
    >>> x, y = load_csv(path, label="kind")
    >>> x.tolist(), y.tolist(), load_csv(path, label="kind").classes
    ([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [0, 1, 0], ['cat', 'dog'])
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [r for r in csv.reader(f, delimiter=delimiter) if r and any(c.strip() for c in r)]
    except (UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"{path}: not a readable CSV text file ({e})") from None
    if not rows:
        raise DataError(f"{path}: empty CSV file")
    if header is None:
        header = not all(_is_number(c) for c in rows[0])
    names = [c.strip() for c in rows[0]] if header else [f"col{i}" for i in range(len(rows[0]))]
    body = rows[1:] if header else rows
    if not body:
        raise DataError(f"{path}: no data rows")
    width = len(names)
    for lineno, r in enumerate(body, start=2 if header else 1):
        if len(r) != width:
            raise DataError(f"{path}: line {lineno} has {len(r)} columns, expected {width}")

    def column(key) -> int:
        if isinstance(key, (int, np.integer)) or (isinstance(key, str) and key.lstrip("-").isdigit()
                                                   and key not in names):
            i = int(key)
            if not -width <= i < width:
                raise DataError(f"{path}: column index {i} out of range for {width} columns")
            return i % width
        if key not in names:
            raise DataError(f"{path}: no column named {key!r} (columns: {', '.join(names)})")
        return names.index(key)

    label_col = None if label is None else column(label)
    feature_cols = [column(k) for k in features] if features is not None else \
        [i for i in range(width) if i != label_col]
    try:
        x = np.array([[float(r[i]) for i in feature_cols] for r in body], dtype=np.float32)
    except ValueError as e:
        raise DataError(f"{path}: feature columns must be numeric ({e})") from None
    x = x.reshape(len(body), len(feature_cols))
    y, class_names = None, None
    if label_col is not None:
        raw = [r[label_col].strip() for r in body]
        if all(_is_number(v) for v in raw) and classes is None:
            values = np.array([float(v) for v in raw])
            if np.all(values == np.round(values)):
                y = values.astype(np.int64)
            else:
                y = values.astype(np.float32)
        else:
            class_names = list(classes) if classes is not None else sorted(set(raw))
            lookup = {c: i for i, c in enumerate(class_names)}
            unknown = sorted(set(raw) - set(lookup))
            if unknown:
                raise DataError(f"{path}: labels {unknown[:5]} are not among the classes "
                                f"{class_names}")
            y = np.array([lookup[v] for v in raw], dtype=np.int64)
    return CSVData(x=x, y=y, feature_names=[names[i] for i in feature_cols],
                   label_name=None if label_col is None else names[label_col],
                   classes=class_names)
