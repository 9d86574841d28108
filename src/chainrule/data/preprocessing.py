"""Train/validation splitting and standardization."""

from __future__ import annotations

import numpy as np


class DataError(ValueError):
    """A data file or table is missing, truncated or not what it claims to be, or too small
    for what was asked of it (the message names it). Raised by the readers and splitters."""


__all__ = ["Standardizer", "train_val_split"]


def train_val_split(x, y, val_fraction: float = 0.1, seed: int = 0, stratify: bool = False):
    """Split ``(x, y)`` into ``(x_train, y_train), (x_val, y_val)`` by a seeded shuffle.

    ``stratify=True`` holds out ``val_fraction`` of every class separately (``y`` must
    hold class labels), so small classes are represented in both parts. The result is
    the same for the same seed; rows keep no particular order. A positive
    ``val_fraction`` that would leave either part empty (too few rows) raises
    ``DataError``; ``val_fraction=0`` returns an empty held-out part on purpose.

    >>> import numpy as np
    >>> (xt, yt), (xv, yv) = train_val_split(np.arange(10), np.arange(10), 0.3, seed=1)
    >>> len(xt), len(xv), sorted(np.concatenate([xt, xv]).tolist()) == list(range(10))
    (7, 3, True)
    """
    x, y = np.asarray(x), np.asarray(y)
    n = len(x)
    if len(y) != n:
        raise ValueError(f"train_val_split: x has {n} rows but y has {len(y)}")
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"train_val_split: val_fraction must be in [0, 1), got {val_fraction}")
    rng = np.random.default_rng(seed)
    if stratify:
        val_parts = []
        for c in np.unique(y):
            members = rng.permutation(np.flatnonzero(y == c))
            val_parts.append(members[:round(len(members) * val_fraction)])
        val_idx = np.concatenate(val_parts) if val_parts else np.array([], dtype=np.int64)
        mask = np.zeros(n, dtype=bool)
        mask[val_idx] = True
        # shuffle both parts so that classes are not in blocks
        train_idx = rng.permutation(np.flatnonzero(~mask))
        val_idx = rng.permutation(val_idx)
    else:
        perm = rng.permutation(n)
        n_val = round(n * val_fraction)
        val_idx, train_idx = perm[:n_val], perm[n_val:]
    if val_fraction > 0 and (len(val_idx) == 0 or len(train_idx) == 0):
        raise DataError(f"train_val_split: {n} rows with val_fraction={val_fraction:g} leave "
                        f"{len(train_idx)} rows to train on and {len(val_idx)} to hold out; "
                        "each part needs at least one row (use more data or another fraction)")
    return (x[train_idx], y[train_idx]), (x[val_idx], y[val_idx])


class Standardizer:
    """Shift and scale features to mean 0 and variance 1, using training statistics only.

    Fit on the training set, then apply the same transform to validation and test data
    (fitting on them would leak their statistics into training). ``per_feature=False``
    uses one mean and one deviation for all features, which suits pixels (a per-pixel
    deviation near zero at the image border would blow up rare test strokes).
    Features with zero variance are only centered.

    >>> import numpy as np
    >>> s = Standardizer().fit(np.array([[1.0, 10.0], [3.0, 10.0]]))
    >>> s.transform(np.array([[2.0, 10.0], [5.0, 11.0]])).tolist()
    [[0.0, 0.0], [3.0, 1.0]]
    """

    def __init__(self, per_feature: bool = True, eps: float = 1e-8) -> None:
        self.per_feature = per_feature
        self.eps = eps
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, x) -> Standardizer:
        x = np.asarray(x, dtype=np.float64)
        axis = 0 if self.per_feature else None
        self.mean = x.mean(axis=axis).astype(np.float32)
        std = x.std(axis=axis)
        self.std = np.where(std > self.eps, std, 1.0).astype(np.float32)
        return self

    def transform(self, x) -> np.ndarray:
        if self.mean is None:
            raise RuntimeError("Standardizer.transform: call fit(x_train) first")
        x = np.asarray(x, dtype=np.float32)
        if self.per_feature and x.shape[-1] != self.mean.shape[-1]:
            raise ValueError(f"Standardizer.transform: fitted on {self.mean.shape[-1]} features, "
                             f"got {x.shape[-1]}")
        return (x - self.mean) / self.std

    def fit_transform(self, x) -> np.ndarray:
        return self.fit(x).transform(x)

    def inverse_transform(self, x) -> np.ndarray:
        return np.asarray(x, dtype=np.float32) * self.std + self.mean

    def state_dict(self) -> dict:
        return {"per_feature": self.per_feature, "eps": self.eps,
                "mean": self.mean, "std": self.std}

    def load_state_dict(self, state: dict) -> Standardizer:
        self.per_feature = bool(state["per_feature"])
        self.eps = float(state["eps"])
        self.mean = np.asarray(state["mean"], dtype=np.float32)
        self.std = np.asarray(state["std"], dtype=np.float32)
        return self

    def __repr__(self) -> str:
        fitted = "unfitted" if self.mean is None else f"{np.size(self.mean)} means"
        return f"Standardizer(per_feature={self.per_feature}, {fitted})"
