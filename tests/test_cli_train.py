"""`chainrule train / evaluate / predict` end to end, in subprocesses (tiny runs)."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr

pytest.importorskip("sklearn")
pytestmark = pytest.mark.slow  # each case starts a Python process
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TINY = ["--hidden", "32", "--epochs", "2", "--batch-size", "32", "--no-progress"]


def run(*args, cwd=None, module=True):
    cmd = [sys.executable, "-m", "chainrule", *map(str, args)] if module else \
        [str(Path(sys.executable).parent / "chainrule"), *map(str, args)]
    return subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=cwd, timeout=300)


def assert_one_line_error(result, *fragments):
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


def accuracy_of(result) -> float:
    for line in result.stdout.splitlines():
        if line.startswith("test accuracy: "):
            return float(line.split()[2])
    raise AssertionError(f"no test accuracy line in:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    result = run("train", "--out", out, *TINY, "--epochs", "4", "--seed", "1")
    assert result.returncode == 0, result.stderr
    return out, result


def test_train_writes_everything(trained):
    out, result = trained
    acc = accuracy_of(result)
    assert 0.5 < acc <= 1.0
    assert "precision" in result.stdout and "recall" in result.stdout  # per-class table
    assert "epoch 4/4" in result.stdout
    for name in ("checkpoint.safetensors", "best.safetensors", "metrics.csv", "loss.png",
                 "accuracy.png", "summary.json"):
        assert (out / name).is_file(), name
    for png in ("loss.png", "accuracy.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.DictReader((out / "metrics.csv").read_text().splitlines()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3", "4"]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(rows[0])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["test_accuracy"] == pytest.approx(acc, abs=1e-4)
    assert len(summary["per_class"]) == 10
    state = cr.load(out / "checkpoint.safetensors")
    assert state["epoch"] == 4 and state["extra"]["config"]["hidden"] == [32]
    assert state["extra"]["input_shape"] == [1, 8, 8] and len(state["extra"]["classes"]) == 10
    assert cr.load(out / "best.safetensors")["kind"] == "chainrule.weights"


def test_evaluate_reproduces_test_accuracy(trained):
    out, result = trained
    ev = run("evaluate", out / "best.safetensors")
    assert ev.returncode == 0, ev.stderr
    assert accuracy_of(ev) == accuracy_of(result)


def test_predict_npy_and_csv(trained, tmp_path):
    from sklearn.datasets import load_digits

    out, _ = trained
    digits = load_digits()
    raw = digits.data[:20]  # raw 0..16 units, as in the data set
    np.save(tmp_path / "x.npy", raw)
    np.save(tmp_path / "images.npy", digits.images[:20])  # (N, 8, 8): flattened
    res = run("predict", out / "best.safetensors", tmp_path / "x.npy")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[0] == "row,class,label" and len(lines) == 21
    predicted = np.array([int(line.split(",")[1]) for line in lines[1:]])
    assert np.mean(predicted == digits.target[:20]) >= 0.6
    res2 = run("predict", out / "best.safetensors", tmp_path / "images.npy")
    assert res2.stdout == res.stdout
    with open(tmp_path / "x.csv", "w", newline="") as f:
        csv.writer(f).writerows(raw.tolist())
    res3 = run("predict", out / "best.safetensors", tmp_path / "x.csv", "--probabilities",
               "--output", tmp_path / "pred.csv")
    assert res3.returncode == 0, res3.stderr
    rows = list(csv.DictReader((tmp_path / "pred.csv").read_text().splitlines()))
    assert [int(r["class"]) for r in rows] == predicted.tolist()
    assert sum(float(rows[0][f"p_{k}"]) for k in range(10)) == pytest.approx(1, abs=1e-4)


def test_resume_continues_exactly(tmp_path):
    common = [*TINY, "--seed", "2", "--patience", "50"]
    full = run("train", "--out", tmp_path / "full", *common, "--epochs", "4")
    assert full.returncode == 0, full.stderr
    part = run("train", "--out", tmp_path / "part", *common, "--epochs", "2")
    assert part.returncode == 0, part.stderr
    resumed = run("train", "--out", tmp_path / "part", "--resume", "--epochs", "4",
                  "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stdout

    def curve(folder):
        rows = list(csv.DictReader((folder / "metrics.csv").read_text().splitlines()))
        return [{k: v for k, v in r.items() if k != "time"} for r in rows]

    assert len(curve(tmp_path / "full")) == 4
    assert curve(tmp_path / "part") == curve(tmp_path / "full")
    assert accuracy_of(resumed) == accuracy_of(full)


def test_csv_dataset_with_text_labels(tmp_path):
    rng = np.random.default_rng(0)
    names = np.array(["cat", "dog", "eel"])
    y = rng.integers(0, 3, size=300)
    x = np.array([[0, 2], [-2, -1], [2, -1]])[y] + rng.normal(0, 0.5, size=(300, 2))
    path = tmp_path / "animals.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kind", "a", "b"])
        w.writerows([[names[k], *row] for k, row in zip(y, x.round(4).tolist())])
    res = run("train", "--dataset", "csv", "--data-dir", path, "--csv-label", "kind",
              "--out", tmp_path / "run", "--hidden", "8", "--epochs", "15", "--no-progress",
              "--batch-size", "16")
    assert res.returncode == 0, res.stderr
    assert accuracy_of(res) > 0.9
    assert "cat" in res.stdout and "eel" in res.stdout  # per-class rows use the names
    # predict reads a CSV with a header, columns by name (the label column is ignored)
    res = run("predict", tmp_path / "run" / "best.safetensors", path)
    assert res.returncode == 0, res.stderr
    labels = [line.split(",")[2] for line in res.stdout.strip().splitlines()[1:]]
    assert np.mean(np.array(labels) == names[y]) > 0.9


def test_console_script_and_help():
    res = run("train", "--help", module=False)
    assert res.returncode == 0 and "--optimizer" in res.stdout and "--resume" in res.stdout


@pytest.mark.parametrize("args, fragments", [
    (["train", "--optimizer", "adamax"], ["chainrule train: error:", "invalid choice"]),
    (["train", "--dataset", "cifar"], ["invalid choice: 'cifar'"]),
    (["train", "--bogus"], ["unrecognized arguments: --bogus"]),
    (["train", "--hidden", "64,abc"], ["--hidden", "64,abc"]),
    (["train", "--lr", "-1"], ["--lr", "must be positive"]),
    (["train", "--epochs", "0"], ["--epochs"]),
    (["train", "--val-fraction", "1.5"], ["--val-fraction"]),
    (["train", "--dataset", "csv"], ["--data-dir"]),
    (["evaluate"], ["CHECKPOINT"]),
])
def test_bad_flags_one_line_errors(args, fragments, tmp_path):
    assert_one_line_error(run(*args, cwd=tmp_path), *fragments)


def test_missing_and_malformed_data(tmp_path):
    assert_one_line_error(run("train", "--dataset", "mnist", "--data-dir", tmp_path / "none",
                              "--out", tmp_path / "o"), "no such directory")
    assert not (tmp_path / "o").exists()  # nothing written for a failed start
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (bad / name).write_bytes(b"<html>404</html>")
    assert_one_line_error(run("train", "--dataset", "fashion-mnist", "--data-dir", bad),
                          "train-images-idx3-ubyte.gz")
    assert_one_line_error(run("train", "--dataset", "csv", "--data-dir", tmp_path / "x.csv"),
                          "x.csv: no such file")
    assert_one_line_error(run("train", "--resume", "--out", tmp_path / "fresh"),
                          "no such checkpoint")


def test_bad_checkpoints_and_inputs(trained, tmp_path):
    out, _ = trained
    truncated = tmp_path / "cut.safetensors"
    truncated.write_bytes((out / "best.safetensors").read_bytes()[:200])
    assert_one_line_error(run("evaluate", truncated), "cut.safetensors", "truncated")
    foreign = tmp_path / "model.safetensors"
    foreign.write_bytes(b"PK\x03\x04 some zip file pretending to be a checkpoint")
    assert_one_line_error(run("evaluate", foreign), "model.safetensors")
    cr.save({"w": np.zeros(3)}, tmp_path / "plain.safetensors")
    assert_one_line_error(run("predict", tmp_path / "plain.safetensors", tmp_path / "x.npy"),
                          "not a checkpoint written by `chainrule train`")
    np.save(tmp_path / "wide.npy", np.zeros((2, 65)))
    assert_one_line_error(run("predict", out / "best.safetensors", tmp_path / "wide.npy"),
                          "65", "expects 64")
    (tmp_path / "in.txt").write_text("1,2")
    assert_one_line_error(run("predict", out / "best.safetensors", tmp_path / "in.txt"),
                          ".npy or .csv")
    assert_one_line_error(run("predict", out / "best.safetensors", tmp_path / "none.npy"),
                          "no such input file")


def test_mnist_one_quick_epoch(tmp_path):
    folder = DATA / "mnist"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (the shared MNIST files)")
    res = run("train", "--dataset", "mnist", "--data-dir", folder, "--hidden", "32",
              "--epochs", "1", "--batch-size", "256", "--val-fraction", "0.05", "--no-progress",
              "--out", tmp_path)
    assert res.returncode == 0, res.stderr
    assert accuracy_of(res) > 0.85


@pytest.mark.parametrize("flags", [
    ["--optimizer", "sgd"], ["--optimizer", "momentum"], ["--optimizer", "nesterov"],
    ["--optimizer", "adagrad"], ["--optimizer", "rmsprop"], ["--optimizer", "adamw",
                                                              "--weight-decay", "0.01"],
    ["--loss", "svm", "--activation", "tanh"], ["--loss", "mse", "--activation", "sigmoid"],
    ["--hidden", "none", "--val-fraction", "0", "--lr-schedule", "cosine"],
    ["--best-metric", "val_accuracy", "--patience", "1"],
])
def test_every_option_trains(flags, tmp_path, capsys):
    """In-process (fast): each optimizer, loss, activation and schedule runs end to end."""
    from chainrule.cli import main

    assert main(["train", "--out", str(tmp_path), "--hidden", "16", "--epochs", "2",
                 "--no-progress", *flags]) == 0
    out = capsys.readouterr().out
    assert accuracy_of(subprocess.CompletedProcess([], 0, out, "")) > 0.3
    assert (tmp_path / "checkpoint.safetensors").is_file()
    assert (tmp_path / "best.safetensors").is_file() == ("--val-fraction" not in flags)
