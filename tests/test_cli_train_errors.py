"""Bad input to ``chainrule train / evaluate / predict / graph`` ends with one line on
stderr and exit status 2 (1 for a run stopped by a non-finite loss), never a traceback.
In-process, so each case costs milliseconds."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main

pytest.importorskip("sklearn")
TINY = ["--hidden", "8", "--epochs", "1", "--no-progress", "--no-monitor"]


def cli(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:  # argparse's own errors
        code = e.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(capsys, *argv, status: int = 2) -> str:
    code, _, err = cli(capsys, *argv)
    lines = err.strip().splitlines()
    assert code == status, err
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("flags, fragment", [
    (["--test-fraction", "0"], "--test-fraction: must be in (0, 1), got 0"),
    (["--val-fraction", "0.999"], "--val-fraction 0.999"),
    (["--seed", "-1"], "--seed: must be >= 0"),
    (["--hidden", "1000000000000"], "parameters"),
    (["--lr", "nan"], "--lr: must be a finite number, got nan"),
    (["--lr", "inf"], "--lr: must be a finite number, got inf"),
    (["--weight-decay", "nan"], "--weight-decay: must be a finite number"),
    (["--clip-grad", "inf"], "--clip-grad: must be a finite number"),
    (["--monitor-every", "0"], "--monitor-every: must be positive"),
    # settings the data set does not read are refused, not ignored
    (["--data-dir", "x.csv"], ("--data-dir does not apply to --dataset digits (only to "
                              "mnist, fashion-mnist, csv), got 'x.csv'")),
    (["--csv-label", "3"], "--csv-label does not apply to --dataset digits (only to csv)"),
    (["--dataset", "mnist", "--csv-label", "y"], ("--csv-label does not apply to --dataset "
                                                 "mnist")),
])
def test_bad_settings(capsys, tmp_path, flags, fragment):
    line = one_line_error(capsys, "train", *TINY, "--out", tmp_path / "run", *flags)
    assert line.startswith("chainrule train: error:") and fragment in line, line
    assert not (tmp_path / "run" / "metrics.csv").exists()


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
def _idx(path, array, dims=None):
    array = np.asarray(array, dtype=np.uint8)
    dims = array.shape if dims is None else dims
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
                + array.tobytes())


def _mnist(folder, n=40, size=28, labels=None, n_test=12, dims=None):
    folder.mkdir()
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, n) if labels is None else labels
    _idx(folder / "train-images-idx3-ubyte.gz", rng.integers(0, 255, (n, size, size)), dims)
    _idx(folder / "train-labels-idx1-ubyte.gz", labels)
    _idx(folder / "t10k-images-idx3-ubyte.gz", rng.integers(0, 255, (n_test, size, size)),
         dims)
    _idx(folder / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, n_test))
    return folder


@pytest.mark.parametrize("kind, fragment", [
    ("labels out of range", "label 12"),
    ("zero images", "holds no images"),
    ("overflowing dimensions", "train-images-idx3-ubyte.gz"),
])
def test_bad_mnist_folders(capsys, tmp_path, kind, fragment):
    folder = tmp_path / "mnist"
    if kind == "labels out of range":
        _mnist(folder, labels=np.full(40, 12))
    elif kind == "zero images":
        _mnist(folder, n=0, n_test=0)
    else:
        _mnist(folder, n=1, n_test=1, size=4, dims=(2 ** 31, 2 ** 31, 2 ** 31))
    line = one_line_error(capsys, "train", "--dataset", "mnist", "--data-dir", folder, *TINY,
                          "--out", tmp_path / "run")
    assert fragment in line, line


def test_mnist_folders_that_hold_other_images(capsys, tmp_path):
    folder = _mnist(tmp_path / "mnist7", size=7)
    line = one_line_error(capsys, "train", "--dataset", "mnist", "--data-dir", folder, *TINY,
                          "--out", tmp_path / "run")
    assert "7x7" in line, line
    folder = _mnist(tmp_path / "mnist", n=60)
    code, out, err = cli(capsys, "train", "--dataset", "mnist", "--data-dir", folder, *TINY,
                         "--out", tmp_path / "run")
    assert code == 0, err
    assert "MLP 784-8-10" in out
    np.save(tmp_path / "x.npy", np.zeros((3, 7, 7)))
    line = one_line_error(capsys, "predict", tmp_path / "run" / "best.safetensors",
                          tmp_path / "x.npy")
    assert "49 values, the model expects 784" in line


@pytest.mark.parametrize("text, fragment", [
    ("y\n0\n1\n0\n1\n", "no feature columns"),
    ("a,b,y\n1,2,0\n3,4,1\n", "--test-fraction 0.2 of its 2 data rows leaves 2 for training and 0 for testing"),
    ("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)).replace("7,1,1", "7,nan,1"),
     "line 9, column 'b'"),
    ("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)).replace("3,0,1", "inf,0,1"),
     "line 5, column 'a'"),
    ("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2 * 10 ** 9}\n" for i in range(20)),
     "integer labels go up to 1000000000"),
])
def test_bad_csv_files(capsys, tmp_path, text, fragment):
    path = tmp_path / "data.csv"
    path.write_text(text)
    line = one_line_error(capsys, "train", "--dataset", "csv", "--data-dir", path, *TINY,
                          "--out", tmp_path / "run")
    assert fragment in line, line


# ---------------------------------------------------------------------------
# runs, checkpoints, outputs
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("trained")
    assert main(["train", *TINY, "--out", str(out)]) == 0
    return out


def test_previous_run_is_refused_and_overwrite_replaces_it(capsys, trained, tmp_path):
    line = one_line_error(capsys, "train", *TINY, "--out", trained)
    assert "holds a previous run" in line and "--resume" in line and "--overwrite" in line
    folder = tmp_path / "again"
    assert main(["train", *TINY, "--out", str(folder)]) == 0
    (folder / ".summary.json.x1y2z3w4.tmp").write_text("{")  # an interrupted write's leftover
    capsys.readouterr()
    code, out, err = cli(capsys, "train", *TINY, "--val-fraction", "0", "--overwrite",
                         "--out", folder)
    assert code == 0, err
    assert "--overwrite: removed the previous run's" in out
    assert "removed 1 stale temporary file" in out and ".summary.json.x1y2z3w4.tmp" in out
    assert not (folder / "best.safetensors").exists()  # the old run's best is gone


@pytest.mark.parametrize("edit, fragment", [
    (lambda s: s["extra"].__setitem__("classes", 5), "saved metadata is damaged"),
    (lambda s: s["extra"].pop("standardizer"), "saved metadata is damaged"),
    (lambda s: s["extra"]["config"].__setitem__("hidden", "x"), "--hidden must be a list"),
    (lambda s: s["extra"]["config"].__setitem__("activation", "swish"), "--activation"),
    (lambda s: s["extra"]["config"].__setitem__("foo", 1), "unknown setting(s) 'foo'"),
    (lambda s: s["extra"].__setitem__("input_shape", [0]), "saved metadata is damaged"),
    (lambda s: s["extra"]["standardizer"].__setitem__("mean", np.zeros(3, np.float32)),
     "standardization mean has 3 values for 64 features"),
    (lambda s: s["model"].pop("layers.0.weight"), "do not fit the saved architecture"),
    (lambda s: s["model"].__setitem__("layers.0.weight", np.zeros((8, 3), np.float32)),
     "do not fit the saved architecture"),
])
@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_hand_edited_checkpoints(capsys, trained, tmp_path, edit, fragment, command):
    state = cr.load(trained / "best.safetensors")
    edit(state)
    cr.save(state, tmp_path / "edited.safetensors")
    np.save(tmp_path / "x.npy", np.zeros((2, 64)))
    extra = [tmp_path / "x.npy"] if command == "predict" else []
    line = one_line_error(capsys, command, tmp_path / "edited.safetensors", *extra)
    assert "edited.safetensors" in line and fragment in line, line


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_a_run_folder_given_as_the_checkpoint_names_its_files(capsys, trained, tmp_path,
                                                              command):
    np.save(tmp_path / "x.npy", np.zeros((2, 64)))
    extra = [tmp_path / "x.npy"] if command == "predict" else []
    line = one_line_error(capsys, command, trained, *extra)
    assert f"{trained}: a folder, not a checkpoint file" in line, line
    assert str(trained / "best.safetensors") in line and "checkpoint.safetensors" in line
    line = one_line_error(capsys, command, tmp_path, *extra)
    assert "holds no best.safetensors or checkpoint.safetensors" in line, line


def test_evaluate_refuses_a_data_dir_its_data_set_does_not_read(capsys, trained):
    line = one_line_error(capsys, "evaluate", trained / "best.safetensors", "--data-dir",
                          "other.csv")
    assert "--data-dir does not apply to --dataset digits" in line, line


def test_predict_inputs_that_are_not_npy_arrays_of_numbers(capsys, trained, tmp_path):
    (tmp_path / "text.npy").write_text("1,2,3\n")
    line = one_line_error(capsys, "predict", trained / "best.safetensors", tmp_path / "text.npy")
    assert line.endswith("text.npy: not a .npy file (it lacks NumPy's header; write one with "
                         "numpy.save)"), line  # not NumPy's guess that it is a pickle
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    line = one_line_error(capsys, "predict", trained / "best.safetensors",
                          tmp_path / "objects.npy")
    assert "objects.npy: holds Python objects, not numbers" in line, line


def test_predict_with_no_rows_or_a_folder_as_output(capsys, trained, tmp_path):
    np.save(tmp_path / "none.npy", np.zeros((0, 64)))
    line = one_line_error(capsys, "predict", trained / "best.safetensors", tmp_path / "none.npy")
    assert "no rows to predict" in line
    (tmp_path / "header.csv").write_text(",".join(f"c{i}" for i in range(64)) + "\n")
    line = one_line_error(capsys, "predict", trained / "best.safetensors",
                          tmp_path / "header.csv")
    assert "no data rows" in line
    np.save(tmp_path / "x.npy", np.zeros((2, 64)))
    line = one_line_error(capsys, "predict", trained / "best.safetensors", tmp_path / "x.npy",
                          "--output", tmp_path)
    assert "--output" in line and "a folder" in line


def test_resume_with_another_architectures_checkpoint(capsys, trained, tmp_path):
    folder = tmp_path / "run"
    assert main(["train", *TINY, "--batch-size", "64", "--out", str(folder)]) == 0
    state = cr.load(folder / "checkpoint.safetensors")
    state["extra"]["config"]["hidden"] = [16]
    cr.save(state, folder / "checkpoint.safetensors")
    capsys.readouterr()
    line = one_line_error(capsys, "train", "--resume", "--epochs", "2", "--out", folder)
    assert "cannot resume from it" in line
    line = one_line_error(capsys, "train", "--resume", "--epochs", "2", "--hidden", "32",
                          "--out", trained)
    assert "--hidden 32 differs from the 8" in line
    # a flag given with its default value is given all the same
    line = one_line_error(capsys, "train", "--resume", "--epochs", "2", "--hidden", "512,256",
                          "--out", trained)
    assert "--hidden 512,256 differs from the 8" in line
    line = one_line_error(capsys, "train", "--resume", "--epochs", "2", "--batch-size", "32",
                          "--out", folder)
    assert "--batch-size 32 differs from the batch of 64" in line


def test_resume_totals(capsys, tmp_path):
    folder = tmp_path / "run"
    assert main(["train", *TINY, "--out", str(folder)]) == 0
    line = one_line_error(capsys, "train", "--resume", "--overwrite", "--out", folder)
    assert "--resume continues the run in" in line and "--overwrite replaces it" in line
    state = cr.load(folder / "checkpoint.safetensors")
    state["extra"]["config"]["epochs"] = 2  # as if a 2-epoch run had stopped after one
    cr.save(state, folder / "checkpoint.safetensors")
    capsys.readouterr()
    # without --epochs, the run goes on to the total it was started with (not 60)
    code, out, err = cli(capsys, "train", "--resume", "--no-progress", "--no-monitor",
                         "--out", folder)
    assert code == 0, err
    assert "training to epoch 2" in out and "epoch 2/2" in out
    line = one_line_error(capsys, "train", "--resume", "--epochs", "1", "--out", folder)
    assert line.endswith("--epochs 1 is below the 2 epochs that "
                         f"{folder / 'checkpoint.safetensors'} has trained; with --resume, "
                         "--epochs is the new total: give at least 2"), line


def test_a_default_batch_size_given_must_agree_with_global_batch(capsys, tmp_path):
    line = one_line_error(capsys, "train", *TINY, "--batch-size", "32", "--global-batch",
                          "100", "--out", tmp_path)
    assert "--batch-size 32 disagrees with --global-batch 100" in line, line


def test_an_output_path_that_is_a_file(capsys, trained):
    line = one_line_error(capsys, "train", *TINY, "--out", trained / "summary.json")
    assert "summary.json" in line


def test_a_diverging_run_stops_with_one_line_and_status_1(capsys, tmp_path):
    line = one_line_error(capsys, "train", "--optimizer", "sgd", "--lr", "8", "--epochs", "6",
                          "--no-progress", "--no-monitor", "--out", tmp_path, status=1)
    assert "the training loss is nan at epoch" in line and ", step " in line, line
    assert "--lr" in line and "--clip-grad" in line and "--detect-anomaly" in line


def test_detect_anomaly_ends_with_the_anomaly_paragraph(capsys, tmp_path):
    line = one_line_error(capsys, "train", "--optimizer", "sgd", "--lr", "8", "--epochs", "6",
                          "--no-progress", "--no-monitor", "--detect-anomaly", "--out",
                          tmp_path, status=1)
    assert "detect_anomaly:" in line and "in module: layers." in line, line
    assert "training stopped at epoch" in line


@pytest.mark.parametrize("suffix", [".dot", ".svg"])
def test_graph_over_the_drawing_limit(capsys, tmp_path, suffix):
    def balanced(terms):
        if len(terms) == 1:
            return terms[0]
        half = len(terms) // 2
        return f"({balanced(terms[:half])}+{balanced(terms[half:])})"

    expr = balanced([f"x*{i}" for i in range(1, 200)])
    line = one_line_error(capsys, "graph", expr, "x=1", "--out", tmp_path / f"g{suffix}")
    assert "boxes (more than max_nodes=300)" in line


def test_evaluate_refuses_a_checkpoint_with_non_finite_weights(tmp_path):
    from chainrule.train import TrainConfig, run
    from chainrule.train.errors import RunError
    from chainrule.train.run import load_trained

    out = tmp_path / "run"
    run(TrainConfig(hidden=[8], epochs=1), out, progress=False, monitor=False)
    state = cr.load(out / "checkpoint.safetensors")
    weight = next(k for k in state["model"] if k.endswith("weight"))
    state["model"][weight] = state["model"][weight] * float("nan")
    cr.save(state, out / "checkpoint.safetensors")
    with pytest.raises(RunError, match="holds non-finite values"):
        load_trained(out / "checkpoint.safetensors")


# ---------------------------------------------------------------------------
# every command's parser: one line naming the command, never the usage block
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("argv, line", [
    (["bogus"], "chainrule: error: argument COMMAND: invalid choice: 'bogus'"),
    (["--bogus"], "chainrule: error: unrecognized arguments: --bogus (see chainrule --help)"),
    (["examples", "extra"], "chainrule examples: error: unrecognized arguments: extra"),
    (["explain"], ("chainrule explain: error: the following arguments are required: EXPR "
                   "(see chainrule explain --help)")),
    (["explain", "x*y", "x=1", "y=2", "--max-paths", "-3"],
     "chainrule explain: error: argument --max-paths: must be >= 0, got -3"),
    (["explain", "x*y", "x=1", "y=2", "--max-paths", "all"],
     "chainrule explain: error: argument --max-paths: expected an integer, got 'all'"),
    (["explain", "x", "x=1", "--bogus"], "chainrule explain: error: unrecognized arguments"),
    (["graph", "x*y", "x=1", "y=2"],
     "chainrule graph: error: the following arguments are required: --out"),
    (["evaluate", "a", "--batch-size", "0"],
     "chainrule evaluate: error: argument --batch-size: must be positive, got 0"),
])
def test_every_command_reports_a_bad_flag_in_one_line(capsys, argv, line):
    assert one_line_error(capsys, *argv).startswith(line)


def test_version(capsys):
    code, out, err = cli(capsys, "--version")
    assert (code, out, err) == (0, f"chainrule {cr.__version__}\n", "")


@pytest.mark.slow  # a subprocess per case
@pytest.mark.parametrize("argv", [["examples"], ["train", *TINY]])
def test_a_reader_that_leaves_ends_the_command_quietly(tmp_path, argv):
    """`chainrule train | head -3`: once the pipe's reader is gone, the command stops
    with SIGPIPE's status (141), no traceback."""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has left before the first line
    try:
        result = subprocess.run([sys.executable, "-m", "chainrule", *argv, *(
            ["--out", str(tmp_path / "run")] if argv[0] == "train" else [])],
            stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    finally:
        os.close(write_end)
    assert result.returncode == 141, result.stderr
    assert result.stderr == ""


# ---------------------------------------------------------------------------
# under an MPI launcher: a bad flag is reported by rank 0 alone
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("rank, says", [("0", True), ("1", False)])
def test_a_bad_flag_under_mpiexec_is_told_by_rank_0_alone(capsys, monkeypatch, rank, says):
    # argparse errors come before MPI starts: the launcher's environment names the rank
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setenv("PMI_RANK", rank)
    code, out, err = cli(capsys, "train", "--global-batch", "0")
    assert code == 2
    if says:
        assert err.strip().splitlines() == [
            ("chainrule train: error: argument --global-batch: must be positive, got 0 "
            "(see chainrule train --help)")]
    else:
        assert (out, err) == ("", "")
