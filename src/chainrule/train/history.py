"""Per-epoch training history: a list of records and a column view, written as CSV/JSONL."""

from __future__ import annotations

import csv
import json
import math
import os

from ..files import atomic_write

__all__ = ["History"]


class History:
    """What happened in each epoch: ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``...

    ``history.records`` is a list of dicts, one per epoch (``epoch`` counts from 1);
    ``history["val_loss"]`` is one column as a list (as Keras' ``History.history``).

    >>> h = History()
    >>> h.append({"epoch": 1, "loss": 0.9, "val_loss": 1.0})
    >>> h.append({"epoch": 2, "loss": 0.5, "val_loss": 0.7})
    >>> h["loss"], h.last["val_loss"], len(h)
    ([0.9, 0.5], 0.7, 2)
    """

    def __init__(self, records: list[dict] | None = None) -> None:
        self.records: list[dict] = [dict(r) for r in records or []]

    def append(self, record: dict) -> None:
        self.records.append(dict(record))

    @property
    def columns(self) -> list[str]:
        """Column names in first-seen order."""
        names: dict[str, None] = {}
        for r in self.records:
            names.update(dict.fromkeys(r))
        return list(names)

    @property
    def history(self) -> dict[str, list]:
        """Keras-style ``{name: [value per epoch]}`` (None where an epoch lacks the value)."""
        return {c: [r.get(c) for r in self.records] for c in self.columns}

    @property
    def last(self) -> dict:
        return self.records[-1] if self.records else {}

    def __getitem__(self, name: str) -> list:
        if name not in self.columns:
            raise KeyError(f"History: no column {name!r} (columns: {', '.join(self.columns)})")
        return [r.get(name) for r in self.records]

    def __contains__(self, name: str) -> bool:
        return name in self.columns

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return f"History({len(self)} epochs, columns={self.columns})"

    # -- files --------------------------------------------------------------
    def to_csv(self, path: str | os.PathLike) -> None:
        """Write one row per epoch (atomically: temporary file, then rename)."""
        with atomic_write(path, "w") as f:
            writer = csv.DictWriter(f, fieldnames=self.columns)
            writer.writeheader()
            for r in self.records:
                writer.writerow({k: _cell(v) for k, v in r.items()})

    def to_jsonl(self, path: str | os.PathLike) -> None:
        """Write one JSON object per epoch and line (non-finite numbers become null)."""
        with atomic_write(path, "w") as f:
            f.writelines(json.dumps({k: _json(v) for k, v in r.items()}) + "\n" for r in self.records)

    def state_dict(self) -> dict:
        return {"records": [dict(r) for r in self.records]}

    def load_state_dict(self, state: dict) -> None:
        self.records = [dict(r) for r in state["records"]]


def _cell(v):
    return "" if v is None else repr(v) if isinstance(v, float) else v


def _json(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
