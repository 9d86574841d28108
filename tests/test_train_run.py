"""``cr.train.run``: resumed runs end byte-identical to uninterrupted ones (for every
stopping epoch and for kills between an epoch's writes), non-finite losses stop a run,
and the output folder is checked and kept clean. In-process and on tiny runs."""

from __future__ import annotations

import csv
import dataclasses
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.train import (
    MODELS,
    OPTIMIZERS,
    NonFiniteLossError,
    RunError,
    TerminateOnNaN,
    TrainConfig,
    Trainer,
    TrainingStopped,
    run,
)
from chainrule.train.callbacks import ModelCheckpoint

EPOCHS = 5


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A 3-class csv problem small enough that an epoch takes milliseconds."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=180)
    x = np.array([[0, 2], [-2, -1], [2, -1]])[y] + rng.normal(0, 1.2, size=(180, 2))
    path = tmp_path_factory.mktemp("data") / "blobs.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "b", "kind"])
        w.writerows([[*row, int(k)] for row, k in zip(x.round(4).tolist(), y)])
    return path


def tiny(table, **changes) -> TrainConfig:
    base = TrainConfig(dataset="csv", data_dir=str(table), hidden=[6], epochs=EPOCHS,
                       batch_size=16, optimizer="sgd", lr=0.2, patience=2,
                       best_metric="val_accuracy", val_fraction=0.25)
    return dataclasses.replace(base, **changes)


def quiet_run(config, out, **kwargs):
    lines: list[str] = []
    result = run(config, out, monitor=False, progress=False, log=lines.append, **kwargs)
    return result, lines


def report_of(lines: list[str]) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.startswith("test accuracy:"))
    return lines[start:start + 2]


def outcome(folder, lines):
    return ((folder / "best.safetensors").read_bytes(), (folder / "summary.json").read_bytes(),
            report_of(lines))


@pytest.fixture(scope="module")
def uninterrupted(table, tmp_path_factory):
    folder = tmp_path_factory.mktemp("full")
    result, lines = quiet_run(tiny(table), folder)
    assert result.model_of.startswith("best validation epoch")
    return outcome(folder, lines), result


class Killed(BaseException):
    """Stands for kill -9: nothing after it in the epoch runs."""


@pytest.mark.parametrize("stop", range(1, EPOCHS))
def test_resume_after_every_stopping_epoch_is_byte_identical(table, tmp_path, uninterrupted,
                                                             stop):
    expected, _ = uninterrupted
    quiet_run(tiny(table, epochs=stop), tmp_path)
    _, lines = quiet_run(TrainConfig(epochs=EPOCHS), tmp_path, resume=True)
    assert outcome(tmp_path, lines) == expected


@pytest.mark.parametrize("where", ["before the epoch's checkpoint files",
                                   "after the best file, before the checkpoint"])
@pytest.mark.parametrize("epoch", range(1, EPOCHS + 1))
def test_kill_between_an_epochs_writes_then_resume_is_byte_identical(
        table, tmp_path, uninterrupted, monkeypatch, where, epoch):
    expected, result = uninterrupted
    save = ModelCheckpoint.save

    def dying_save(self, trainer, e):
        if e == epoch and (where.startswith("before") or not self.save_best_only):
            raise Killed
        save(self, trainer, e)

    monkeypatch.setattr(ModelCheckpoint, "save", dying_save)
    killed = False
    try:
        quiet_run(tiny(table), tmp_path)
    except Killed:
        killed = True
    assert killed == (epoch <= result.epochs)  # unless early stopping ended the run first
    monkeypatch.setattr(ModelCheckpoint, "save", save)
    if epoch == 1 and killed:  # nothing to resume: the run starts again
        _, lines = quiet_run(tiny(table), tmp_path, overwrite=True)
    else:
        _, lines = quiet_run(TrainConfig(epochs=EPOCHS), tmp_path, resume=True)
    assert outcome(tmp_path, lines) == expected


def test_kill_after_training_before_the_report_then_resume_is_byte_identical(
        table, tmp_path, uninterrupted, monkeypatch):
    from chainrule.train import report

    expected, _ = uninterrupted

    def killed(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(report, "plot_history", killed)
    with pytest.raises(Killed):
        quiet_run(tiny(table), tmp_path)
    assert not (tmp_path / "summary.json").exists()
    monkeypatch.undo()
    _, lines = quiet_run(TrainConfig(epochs=EPOCHS), tmp_path, resume=True)
    assert outcome(tmp_path, lines) == expected


def test_the_checkpoint_holds_the_best_value_of_its_own_epoch(table, tmp_path):
    quiet_run(tiny(table, epochs=3, patience=0), tmp_path)
    state = cr.load(tmp_path / "checkpoint.safetensors")
    best = cr.load(tmp_path / "best.safetensors")
    history = state["history"]["records"]
    top = max(r["val_accuracy"] for r in history)
    assert state["callbacks"]["ModelCheckpoint.0"]["best"] == top
    assert best["value"] == top
    assert best["epoch"] == next(r["epoch"] for r in history if r["val_accuracy"] == top)


def test_run_from_python_matches_the_cli(table, tmp_path, capsys):
    from chainrule.cli import main

    config = tiny(table, epochs=2)
    result, _ = quiet_run(config, tmp_path / "py")
    args = ["train", "--dataset", "csv", "--data-dir", str(table), "--hidden", "6",
            "--epochs", "2", "--batch-size", "16", "--optimizer", "sgd", "--lr", "0.2",
            "--patience", "2", "--best-metric", "val_accuracy", "--val-fraction", "0.25",
            "--no-monitor", "--no-progress", "--out", str(tmp_path / "cli")]
    assert main(args) == 0
    assert (tmp_path / "cli" / "summary.json").read_bytes() == \
        (tmp_path / "py" / "summary.json").read_bytes()
    assert f"test accuracy: {result.test_accuracy:.4f}" in capsys.readouterr().out


def test_registries_name_their_entries():
    assert {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"} <= \
        set(OPTIMIZERS.names())
    assert "mlp" in MODELS
    with pytest.raises(KeyError, match="unknown optimizer 'adamax' \\(choose from sgd"):
        OPTIMIZERS["adamax"]
    with pytest.raises(ValueError, match="already registered"):
        OPTIMIZERS.add(OPTIMIZERS["sgd"])


@pytest.mark.parametrize("field, value, fragment", [
    ("lr", float("nan"), "--lr must be a finite number > 0, got nan"),
    ("lr", math.inf, "--lr must be a finite number > 0, got inf"),
    ("weight_decay", float("nan"), "--weight-decay"),
    ("clip_grad", 0.0, "--clip-grad"),
    ("seed", -1, "--seed must be an integer in 0.."),
    ("test_fraction", 0.0, "--test-fraction must be in (0, 1)"),
    ("val_fraction", 1.0, "--val-fraction must be in [0, 1)"),
    ("hidden", [4, 0], "--hidden"),
    ("optimizer", "adamax", "--optimizer must be one of sgd"),
    ("epochs", 0, "--epochs must be an integer >= 1"),
])
def test_config_refuses_bad_settings(field, value, fragment):
    with pytest.raises(ValueError) as info:
        TrainConfig(**{field: value}).validate()
    assert fragment in str(info.value)


# ---------------------------------------------------------------------------
# non-finite losses
# ---------------------------------------------------------------------------
def _diverging_trainer(**kwargs):
    cr.manual_seed(0)
    model = cr.nn.MLP([4, 32, 3])
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32) * 100
    y = np.arange(64) % 3
    loader = cr.data.DataLoader(cr.data.TensorDataset(x, y), batch_size=8)
    trainer = Trainer(model, cr.optim.SGD(model.parameters(), lr=1e3),
                      cr.nn.functional.cross_entropy, verbose=False, **kwargs)
    return trainer, loader


def test_trainer_stops_at_the_first_non_finite_loss_before_its_step():
    trainer, loader = _diverging_trainer()
    with np.errstate(all="ignore"), pytest.raises(NonFiniteLossError) as info:
        trainer.fit(loader, epochs=5)
    e = info.value
    assert e.epoch >= 1 and e.step >= 1 and not math.isfinite(e.loss)
    assert f"at epoch {e.epoch}, step {e.step}" in str(e)
    assert "lower learning rate" in str(e) and "detect_anomaly" in str(e)
    # the step of the bad loss never ran: the weights are those of the last finite step
    assert all(np.all(np.isfinite(p.array)) for p in trainer.model.parameters())


def test_terminate_on_nan_callback_and_opting_out():
    trainer, loader = _diverging_trainer(terminate_on_nan=False)
    with np.errstate(all="ignore"):
        history = trainer.fit(loader, epochs=3)  # trains on, as asked
    assert not math.isfinite(history["loss"][-1])
    trainer, loader = _diverging_trainer(terminate_on_nan=False, callbacks=[TerminateOnNaN()])
    with np.errstate(all="ignore"), pytest.raises(NonFiniteLossError, match="at epoch 1"):
        trainer.fit(loader, epochs=3)


def test_clip_grad_norm_bounds_every_step():
    trainer, loader = _diverging_trainer(clip_grad_norm=1.0)
    norms = []
    trainer.callbacks.append(cr.train.LambdaCallback(on_batch_end=lambda t, b, logs: norms.append(
        math.sqrt(sum(float((p.grad.array.astype(np.float64) ** 2).sum())
                      for p in t.model.parameters())))))
    with np.errstate(all="ignore"):
        trainer.fit(loader, epochs=1)
    assert norms and max(norms) <= 1.0 + 1e-4


def test_a_run_whose_loss_turns_nan_stops_and_keeps_the_last_checkpoint(table, tmp_path):
    config = tiny(table, lr=1e4, epochs=30, optimizer="sgd", patience=0, hidden=[64, 64])
    with pytest.raises(TrainingStopped) as info:
        quiet_run(config, tmp_path)
    message = str(info.value)
    assert info.value.exit_status == 1
    assert "--lr" in message and "--clip-grad" in message and "--detect-anomaly" in message
    epoch = int(message.split(" at epoch ")[1].split(",")[0])
    assert ", step " in message
    if epoch > 1:
        state = cr.load(tmp_path / "checkpoint.safetensors")
        assert state["epoch"] == epoch - 1
        assert all(np.all(np.isfinite(v)) for v in state["model"].values())
        assert f"the checkpoint of epoch {epoch - 1} is kept" in message
    else:
        assert not (tmp_path / "checkpoint.safetensors").exists()


# ---------------------------------------------------------------------------
# the output folder
# ---------------------------------------------------------------------------
def test_a_fresh_run_refuses_a_folder_with_a_previous_run_and_overwrite_clears_it(table,
                                                                                  tmp_path):
    quiet_run(tiny(table, epochs=1), tmp_path)
    with pytest.raises(RunError, match="--resume.*--overwrite"):
        quiet_run(tiny(table, epochs=1), tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    # the new run writes no best file (no validation): the old one must not survive
    _, lines = quiet_run(tiny(table, epochs=1, val_fraction=0.0), tmp_path, overwrite=True)
    assert any(line.startswith("--overwrite: removed the previous run's") for line in lines)
    assert not (tmp_path / "best.safetensors").exists()
    assert (tmp_path / "notes.txt").read_text() == "mine"  # not a run file: kept


def test_stale_temporary_files_are_removed_and_reported(table, tmp_path):
    stale = tmp_path / ".checkpoint.safetensors.ab12cd34.tmp"
    stale.write_bytes(b"\0" * 100)
    other = tmp_path / ".notes.txt.swp"
    other.write_bytes(b"x")
    _, lines = quiet_run(tiny(table, epochs=1), tmp_path)
    assert not stale.exists() and other.exists()
    assert any("removed 1 stale temporary file" in line and stale.name in line
               for line in lines)


def test_a_full_disk_is_refused_before_training(table, tmp_path, monkeypatch):
    import shutil

    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage",
                        lambda p: real(p)._replace(free=1024))
    with pytest.raises(RunError, match="free on its disk"):
        quiet_run(tiny(table), tmp_path)
    assert not (tmp_path / "metrics.csv").exists()


def test_an_unwritable_folder_is_refused_before_training(table, tmp_path, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(RunError, match="cannot write into the output folder .*Permission"):
        quiet_run(tiny(table), tmp_path)


def test_resume_refuses_changed_settings_and_foreign_weights(table, tmp_path):
    quiet_run(tiny(table, epochs=1), tmp_path)
    with pytest.raises(RunError, match="--hidden 12 differs from the 6"):
        quiet_run(TrainConfig(epochs=2, hidden=[12]), tmp_path, resume=True)
    state = cr.load(tmp_path / "checkpoint.safetensors")
    state["extra"]["config"]["hidden"] = [7]  # another architecture's settings
    cr.save(state, tmp_path / "checkpoint.safetensors")
    with pytest.raises(RunError, match="cannot resume from it"):
        quiet_run(TrainConfig(epochs=2), tmp_path, resume=True)


def test_batch_size_and_global_batch_must_agree(table, tmp_path):
    """One process: --global-batch is the batch; a --batch-size beside it must be the
    same number, and a resumed run keeps its batch whichever flag asks to change it."""
    with pytest.raises(RunError, match="--batch-size 16 disagrees with --global-batch 20: "
                                       "give one of them"):
        quiet_run(tiny(table), tmp_path, global_batch=20)
    assert not (tmp_path / "metrics.csv").exists()
    result, _ = quiet_run(tiny(table, epochs=1), tmp_path, global_batch=16)
    assert result.config.batch_size == 16
    with pytest.raises(RunError, match="--global-batch 24 differs from the batch of 16"):
        quiet_run(TrainConfig(epochs=2), tmp_path, resume=True, global_batch=24)
    with pytest.raises(RunError, match="--batch-size 8 differs from the batch of 16"):
        quiet_run(TrainConfig(epochs=2, batch_size=8), tmp_path, resume=True)
    result, _ = quiet_run(TrainConfig(epochs=2, batch_size=16), tmp_path, resume=True,
                          global_batch=16)
    assert result.config.batch_size == 16


def test_explicit_settings_count_even_at_their_defaults(table, tmp_path):
    """``explicit`` (the flags given) decides what was asked for: a setting given with
    its default value is checked; without ``explicit``, only settings that differ from
    the defaults count (Python callers)."""
    with pytest.raises(RunError, match="--batch-size 32 disagrees with --global-batch 20"):
        quiet_run(tiny(table, batch_size=32), tmp_path, global_batch=20,
                  explicit={"batch_size"})
    assert not (tmp_path / "metrics.csv").exists()
    result, _ = quiet_run(tiny(table, epochs=1, batch_size=32), tmp_path, global_batch=20)
    assert result.config.batch_size == 20  # a default batch is not asked for
    with pytest.raises(RunError, match="--batch-size 32 differs from the batch of 20"):
        quiet_run(TrainConfig(epochs=2), tmp_path, resume=True,
                  explicit={"epochs", "batch_size"})
    with pytest.raises(RunError, match="--hidden 512,256 differs from the 6"):
        quiet_run(TrainConfig(epochs=2), tmp_path, resume=True, explicit={"hidden"})
    result, _ = quiet_run(TrainConfig(epochs=2), tmp_path, resume=True, explicit={"epochs"})
    assert result.epochs == 2 and result.config.hidden == [6]


def test_wording_of_batches_and_epochs(table, tmp_path):
    from chainrule.train.distributed_run import World

    two = World(rank=0, size=2)
    assert two.describe_batch(64, 1295) == \
        "data parallel over 2 processes (MPI): global batch 64 = 2 × 32 per process"
    assert two.describe_batch(49, 1295) == \
        "data parallel over 2 processes (MPI): global batch 49 = 2 × 24–25 per process"
    assert two.describe_batch(4000, 1295) == (
        "data parallel over 2 processes (MPI): global batch 4000, more than the 1295 "
        "training samples: each step takes all 1295 = 2 × 647–648 per process")
    _, lines = quiet_run(tiny(table, epochs=1), tmp_path)
    assert any(line.startswith("trained 1 epoch in ") for line in lines), lines
