"""``chainrule train --model cnn`` end to end on a tiny MNIST-format data set written
here (400 28×28 images; the class is the quadrant holding a bright square), and the
cnn model entry's errors."""

from __future__ import annotations

import gzip
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _write_idx(path: Path, array: np.ndarray, magic: int) -> None:
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _quadrant_images(n: int, seed: int):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    x = rng.integers(0, 60, (n, 28, 28))
    for i, label in enumerate(y):
        r, c = 14 * (label // 2) + rng.integers(0, 9), 14 * (label % 2) + rng.integers(0, 9)
        x[i, r:r + 5, c:c + 5] = 255
    return x, y


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-mnist")
    for split, n, seed in (("train", 400, 0), ("t10k", 200, 1)):
        x, y = _quadrant_images(n, seed)
        _write_idx(folder / f"{split}-images-idx3-ubyte.gz", x, 0x803)
        _write_idx(folder / f"{split}-labels-idx1-ubyte.gz", y, 0x801)
    return folder


def _train(*args, cwd: Path):
    return subprocess.run([sys.executable, "-m", "chainrule", "train", *args],
                          capture_output=True, text=True, timeout=300, cwd=cwd, check=False)


def test_train_cnn_learns_and_evaluates(tiny_mnist, tmp_path):
    out = tmp_path / "run"
    proc = _train("--dataset", "mnist", "--data-dir", str(tiny_mnist), "--model", "cnn",
                  "--epochs", "3", "--batch-size", "16", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "CNN 1×28×28" in proc.stdout, proc.stdout
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() \
        else None
    accuracies = [float(v) for v in __import__("re").findall(r"test accuracy[: ]+([\d.]+)",
                                                             proc.stdout)]
    assert (summary and summary["test_accuracy"] >= 0.9) or \
        (accuracies and max(accuracies) >= 0.9), proc.stdout
    # evaluate rebuilds the cnn from the checkpoint (eval mode: BatchNorm running stats)
    ev = subprocess.run([sys.executable, "-m", "chainrule", "evaluate", str(out / "best.safetensors")
                         if (out / "best.safetensors").exists() else str(out),
                         "--dataset", "mnist", "--data-dir", str(tiny_mnist)],
                        capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False)
    assert ev.returncode == 0, ev.stderr


def test_train_cnn_on_digits_images(tmp_path):
    """The bundled 8×8 digits are images too: the cnn trains on them without files."""
    proc = _train("--dataset", "digits", "--model", "cnn", "--epochs", "2",
                  "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "CNN 1×8×8" in proc.stdout


def test_train_cnn_on_table_data_is_one_line_error(tmp_path):
    table = tmp_path / "table.csv"
    rows = ["a,b,c,label"] + [f"{i},{i % 3},{i * 2},{i % 2}" for i in range(40)]
    table.write_text("\n".join(rows) + "\n")
    proc = _train("--dataset", "csv", "--data-dir", str(table), "--model", "cnn",
                  "--epochs", "1", "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "--model cnn needs image inputs" in proc.stderr and "(3,)" in proc.stderr


def test_cnn_resume_continues_exactly(tmp_path):
    """BatchNorm's running statistics, dropout's generator and Adam's state travel with
    the checkpoint: 1 epoch + resume to 2 equals 2 epochs straight."""
    import csv

    common = ["--dataset", "digits", "--model", "cnn", "--seed", "3", "--no-progress",
              "--batch-size", "64"]
    full = _train("--out", str(tmp_path / "full"), *common, "--epochs", "2", cwd=tmp_path)
    assert full.returncode == 0, full.stderr
    part = _train("--out", str(tmp_path / "part"), *common, "--epochs", "1", cwd=tmp_path)
    assert part.returncode == 0, part.stderr
    resumed = _train("--out", str(tmp_path / "part"), "--resume", "--epochs", "2",
                     "--no-progress", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr

    def curve(folder):
        rows = list(csv.DictReader((folder / "metrics.csv").read_text().splitlines()))
        return [{k: v for k, v in r.items() if k != "time"} for r in rows]

    assert len(curve(tmp_path / "full")) == 2
    assert curve(tmp_path / "part") == curve(tmp_path / "full")
