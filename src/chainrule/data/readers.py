"""Readers for the bundled and standard data sets, and for CSV files.

All readers return NumPy arrays: features as float32, class labels as int64.
Nothing here touches the network: MNIST and Fashion-MNIST are read from the
original IDX gzip files in a folder the user names.
"""

from __future__ import annotations

import csv
import gzip
import math
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .preprocessing import DataError, train_val_split

__all__ = [
    "MNIST_FILES",
    "CSVData",
    "DataError",
    "load_csv",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "read_idx",
    "read_idx_header",
]


# ---------------------------------------------------------------------------
# IDX (the MNIST file format)
# ---------------------------------------------------------------------------
# magic = 0x00 0x00 <type code> <number of dimensions>
_IDX_TYPES = {
    0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}


# deflate never expands data by more than 1032:1, so a gzip file of n bytes holds at
# most about 1032 n bytes: a header that declares more is lying (a damaged or hostile
# file) and is refused before anything is decompressed or allocated
_GZIP_MAX_RATIO = 1032
_READ_CHUNK = 1 << 22
# gzip raises EOFError for a cut-off stream and BadGzipFile (OSError) for foreign data
_DECOMPRESS_ERRORS = (OSError, EOFError, zlib.error)


def _open_idx(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _read_exact(f, n: int, path: Path, what: str) -> bytes:
    data = f.read(n)
    if len(data) < n:
        raise DataError(f"{path}: truncated {what} ({len(data)} of {n} bytes)")
    return data


def _idx_header(f, path: Path, expect_magic: int | None) -> tuple[np.dtype, tuple, int]:
    """Read and check the IDX header from the open stream: (dtype, dims, header bytes)."""
    head = f.read(4)
    if len(head) < 4:
        raise DataError(f"{path}: {len(head)} bytes is too short for an IDX header")
    magic = int.from_bytes(head, "big")
    if head[0] != 0 or head[1] != 0 or head[2] not in _IDX_TYPES or head[3] == 0:
        raise DataError(f"{path}: not an IDX file (magic number {magic:#010x})")
    if expect_magic is not None and magic != expect_magic:
        raise DataError(f"{path}: magic number {magic}, expected {expect_magic} "
                        f"({'images' if expect_magic == 2051 else 'labels'} file)")
    dtype, ndim = _IDX_TYPES[head[2]], head[3]
    raw_dims = _read_exact(f, 4 * ndim, path, f"header ({ndim} dimensions)")
    dims = tuple(int.from_bytes(raw_dims[4 * i: 4 * i + 4], "big") for i in range(ndim))
    return dtype, dims, 4 + 4 * ndim


def read_idx_header(path: str | os.PathLike, expect_magic: int | None = None
                    ) -> tuple[np.dtype, tuple[int, ...]]:
    """The element type and dimensions an IDX file declares, reading only its header.

    Also checks that the file can hold that many bytes (for ``.gz`` files: at most
    deflate's 1032:1 ratio), so a caller can compare counts across files before any
    payload is read. Raises ``DataError`` naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        with _open_idx(path) as f:
            dtype, dims, header = _idx_header(f, path, expect_magic)
    except _DECOMPRESS_ERRORS as e:
        raise DataError(f"{path}: cannot decompress ({e}); the file is truncated or "
                        "not a gzip file") from None
    _check_declared_size(path, dtype, dims, header)
    return dtype, dims


def _check_declared_size(path: Path, dtype: np.dtype, dims: tuple, header: int) -> int:
    expected = math.prod(dims) * dtype.itemsize  # Python ints: a product cannot overflow
    size = path.stat().st_size
    if path.suffix == ".gz":
        most = _GZIP_MAX_RATIO * size + (1 << 16)
        if header + expected > most:
            raise DataError(f"{path}: the header declares dimensions {dims} ({expected} data "
                            f"bytes), more than a {size}-byte gzip file can hold; the file is "
                            "damaged or not an IDX file")
    elif header + expected > size:
        raise DataError(f"{path}: truncated: dimensions {dims} need {expected} data bytes, "
                        f"found {max(size - header, 0)}")
    return expected


def read_idx(path: str | os.PathLike, expect_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzip-compressed when the name ends in ``.gz``) into an array.

    The header is checked: two zero bytes, a known type code, the number of dimensions,
    and a payload exactly as long as the dimensions say. ``expect_magic`` (2051 for
    images, 2049 for labels) checks the magic number as a 32-bit big-endian integer.
    The declared size is checked against what the file can hold before anything is
    allocated, and the payload is decompressed straight into the result, so a damaged
    or hostile file costs no more memory and time than the data it really holds.
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
        with _open_idx(path) as f:
            dtype, dims, header = _idx_header(f, path, expect_magic)
            expected = _check_declared_size(path, dtype, dims, header)
            out = np.empty(expected, dtype=np.uint8)  # pages are touched only as filled
            view, filled = memoryview(out), 0
            while filled < expected:
                got = f.readinto(view[filled: filled + _READ_CHUNK])
                if not got:
                    raise DataError(f"{path}: truncated: dimensions {dims} need {expected} "
                                    f"data bytes, found {filled}")
                filled += got
            if f.read(1):
                raise DataError(f"{path}: has trailing bytes: dimensions {dims} need "
                                f"{expected} data bytes, the file holds more")
    except _DECOMPRESS_ERRORS as e:
        raise DataError(f"{path}: cannot decompress ({e}); the file is truncated or "
                        "not a gzip file") from None
    data = out.view(dtype).reshape(dims)
    return data.astype(dtype.newbyteorder("="), copy=False) if dtype.itemsize > 1 else data


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


def _load_idx_pair(directory, flatten: bool, normalize: bool, split: str,
                   image_shape: tuple[int, int] | None, num_classes: int | None):
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise DataError(f"{directory}: no such directory")
    image_name, label_name = MNIST_FILES[split]
    image_path, label_path = _find(directory, image_name), _find(directory, label_name)
    # both headers first: every count is checked before a payload is read
    _, image_dims = read_idx_header(image_path, expect_magic=2051)
    _, label_dims = read_idx_header(label_path, expect_magic=2049)
    if len(image_dims) != 3:
        raise DataError(f"{image_path}: expected 3 dimensions (count, rows, cols), got "
                        f"{image_dims}")
    if image_shape is not None and image_dims[1:] != tuple(image_shape):
        raise DataError(f"{image_path}: images are {image_dims[1]}x{image_dims[2]} pixels, "
                        f"expected {image_shape[0]}x{image_shape[1]} (MNIST format)")
    if image_dims[0] == 0:
        raise DataError(f"{image_path}: the file holds no images")
    if len(label_dims) != 1 or label_dims[0] != image_dims[0]:
        raise DataError(f"{label_path}: {label_dims[0] if len(label_dims) == 1 else label_dims}"
                        f" labels for {image_dims[0]} images in {image_path.name}")
    labels = read_idx(label_path, expect_magic=2049)
    if num_classes is not None:
        outside = (labels < 0) | (labels >= num_classes)
        if outside.any():
            i = int(np.argmax(outside))
            raise DataError(f"{label_path}: label {labels[i]} at index {i} is outside 0.."
                            f"{num_classes - 1} ({np.count_nonzero(outside)} such labels)")
    images = read_idx(image_path, expect_magic=2051)
    if flatten:
        images = images.reshape(images.shape[0], -1)
    if normalize:
        images = images.astype(np.float32) / np.float32(255.0)
    return images, labels.astype(np.int64)


def load_mnist(directory: str | os.PathLike, flatten: bool = True, normalize: bool = True,
               image_shape: tuple[int, int] | None = (28, 28), num_classes: int | None = 10):
    """Read MNIST from the four original IDX gzip files in ``directory``.

    Returns ``(x_train, y_train), (x_test, y_test)`` (as Keras' ``mnist.load_data``):
    60000 and 10000 images, flattened to 784 float32 values in [0, 1] (``flatten=False``
    keeps 28×28, ``normalize=False`` keeps the uint8 pixels), labels int64 in 0..9.
    Missing, truncated or foreign files raise ``DataError`` naming the file, and so do
    files whose images are not ``image_shape`` pixels, which hold no images, whose label
    and image counts differ, or whose labels are outside ``0..num_classes-1`` (pass
    ``None`` to accept other MNIST-format data sets).

    >>> (x, y), (xt, yt) = load_mnist("../shared/data/mnist")  # doctest: +SKIP
    >>> x.shape, xt.shape  # doctest: +SKIP
    ((60000, 784), (10000, 784))
    """
    return (_load_idx_pair(directory, flatten, normalize, "train", image_shape, num_classes),
            _load_idx_pair(directory, flatten, normalize, "test", image_shape, num_classes))


def load_fashion_mnist(directory: str | os.PathLike, flatten: bool = True,
                       normalize: bool = True, image_shape: tuple[int, int] | None = (28, 28),
                       num_classes: int | None = 10):
    """Read Fashion-MNIST (same file names and format as MNIST); see ``load_mnist``.

    Classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
    7 Sneaker, 8 Bag, 9 Ankle boot (``FASHION_CLASSES``).
    """
    return load_mnist(directory, flatten, normalize, image_shape, num_classes)


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
            reader = csv.reader(f, delimiter=delimiter)
            # (line number, cells): blank lines are skipped but errors name the real line
            rows = [(reader.line_num, r) for r in reader if r and any(c.strip() for c in r)]
    except (UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"{path}: not a readable CSV text file ({e})") from None
    if not rows:
        raise DataError(f"{path}: empty CSV file")
    first = rows[0][1]
    if header is None:
        header = not all(_is_number(c) for c in first)
    names = [c.strip() for c in first] if header else [f"col{i}" for i in range(len(first))]
    body = rows[1:] if header else rows
    if not body:
        raise DataError(f"{path}: no data rows")
    width = len(names)
    for lineno, r in body:
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
    if not feature_cols:
        raise DataError(f"{path}: no feature columns: the file has only the label column "
                        f"{names[label_col]!r}" if label_col is not None else
                        f"{path}: no feature columns selected")

    def cell(row: int, col: int) -> str:
        lineno, cells = body[row]
        return f"{path}: line {lineno}, column {names[col]!r}: {cells[col].strip()!r}"

    try:
        with np.errstate(over="ignore"):  # beyond float32 becomes inf, refused below
            x = np.array([[float(r[i]) for i in feature_cols] for _, r in body], dtype=np.float32)
    except ValueError:
        row, col = next((n, i) for n, (_, r) in enumerate(body) for i in feature_cols
                        if not _is_number(r[i]))
        raise DataError(f"{cell(row, col)} is not a number (feature columns must be "
                        "numeric)") from None
    x = x.reshape(len(body), len(feature_cols))
    # NaN/inf cells (or numbers beyond float32's range) would train a NaN model
    non_finite = ~np.isfinite(x)
    if non_finite.any():
        row, j = (int(i) for i in np.argwhere(non_finite)[0])
        raise DataError(f"{cell(row, feature_cols[j])} is not a finite float32 number "
                        f"({np.count_nonzero(non_finite)} such cells); fill or drop them first")
    y, class_names = None, None
    if label_col is not None:
        raw = [r[label_col].strip() for _, r in body]
        if all(_is_number(v) for v in raw) and classes is None:
            values = np.array([float(v) for v in raw])
            non_finite = ~np.isfinite(values)
            if non_finite.any():
                row = int(np.argmax(non_finite))
                raise DataError(f"{cell(row, label_col)} is not a finite label "
                                f"({np.count_nonzero(non_finite)} such labels)")
            # integers exactly representable as float64 are class indices
            if np.all(values == np.round(values)) and np.all(np.abs(values) < 2.0**53):
                y = values.astype(np.int64)
            else:
                with np.errstate(over="ignore"):
                    y = values.astype(np.float32)
                if not np.isfinite(y).all():
                    row = int(np.argmax(~np.isfinite(y)))
                    raise DataError(f"{cell(row, label_col)} is beyond float32's range")
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

