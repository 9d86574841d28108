"""cr.train: the Trainer loop, history, callbacks, early stopping, determinism, resume."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.data import DataLoader, TensorDataset
from chainrule.train import (
    Callback,
    EarlyStopping,
    History,
    LambdaCallback,
    MetricsLogger,
    ModelCheckpoint,
    Trainer,
    accuracy,
    fit,
)


def _blobs(n=240, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    centers = np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])
    x = (centers[y] + rng.normal(0, 0.9, size=(n, 2))).astype(np.float32)
    return x, y.astype(np.int64)


def _setup(seed=0, dropout=0.0, callbacks=(), optimizer="adam", scheduler=False):
    """A fresh model/optimizer/loaders, all derived from ``seed``."""
    cr.manual_seed(seed)
    x, y = _blobs()
    model = nn.MLP([2, 16, 3], dropout=dropout) if dropout else nn.MLP([2, 16, 3])
    if optimizer == "adam":
        opt = cr.optim.Adam(model.parameters(), lr=0.01)
    else:
        opt = cr.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5) if scheduler else None
    train = DataLoader(TensorDataset(x[:200], y[:200]), batch_size=16, shuffle=True, seed=seed)
    val = DataLoader(TensorDataset(x[200:], y[200:]), batch_size=64)
    trainer = Trainer(model, opt, nn.functional.cross_entropy, callbacks=list(callbacks),
                      scheduler=sched, progress=False, verbose=False)
    return trainer, train, val


def test_fit_learns_and_records_history():
    trainer, train, val = _setup()
    history = trainer.fit(train, val, epochs=5)
    assert isinstance(history, History) and len(history) == 5
    assert history["epoch"] == [1, 2, 3, 4, 5]
    for col in ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"):
        assert col in history
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] > 0.85
    assert trainer.epoch == 5
    metrics = trainer.evaluate(val)
    assert set(metrics) == {"loss", "accuracy"}
    assert metrics["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-6)
    out = trainer.predict(np.zeros((3, 2), np.float32))
    assert out.shape == (3, 3)


def test_fit_function_and_regression_has_no_accuracy():
    cr.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    model = nn.Linear(3, 1)
    history = fit(model, cr.optim.SGD(model.parameters(), lr=0.1), nn.functional.mse_loss,
                  DataLoader(TensorDataset(x, y), batch_size=16), epochs=20, verbose=False,
                  progress=False)
    assert "accuracy" not in history
    assert history["loss"][-1] < 0.01 * history["loss"][0]


def test_fit_continues_to_total_epochs():
    trainer, train, val = _setup()
    trainer.fit(train, val, epochs=2)
    trainer.fit(train, val, epochs=3)
    assert trainer.history["epoch"] == [1, 2, 3]
    assert train.epoch == 3


@pytest.mark.parametrize("optimizer", ["adam", "nesterov"])
def test_same_seed_same_loss_curve_bit_for_bit(optimizer):
    runs = []
    for _ in range(2):
        trainer, train, val = _setup(seed=3, dropout=0.2, optimizer=optimizer)
        runs.append(trainer.fit(train, val, epochs=3))
    assert runs[0]["loss"] == runs[1]["loss"]
    assert runs[0]["val_loss"] == runs[1]["val_loss"]
    trainer, train, val = _setup(seed=4, dropout=0.2, optimizer=optimizer)
    assert trainer.fit(train, val, epochs=3)["loss"] != runs[0]["loss"]


@pytest.mark.parametrize("optimizer", ["adam", "nesterov"])
def test_resumed_run_equals_uninterrupted(tmp_path, optimizer):
    """Train 5 epochs straight; or 2, checkpoint, rebuild everything, resume to 5."""
    def callbacks():
        return [EarlyStopping("val_loss", patience=50)]

    full, train, val = _setup(seed=1, dropout=0.2, callbacks=callbacks(), optimizer=optimizer,
                              scheduler=True)
    reference = full.fit(train, val, epochs=5)

    first, train, val = _setup(seed=1, dropout=0.2, callbacks=callbacks(),
                               optimizer=optimizer, scheduler=True)
    first.fit(train, val, epochs=2)
    path = tmp_path / "ckpt.safetensors"
    first.save_checkpoint(path, extra={"note": "hello"})
    cr.manual_seed(12345)  # disturb the global generator: the checkpoint must restore it

    resumed, train, val = _setup(seed=99, dropout=0.2, callbacks=callbacks(),
                                 optimizer=optimizer, scheduler=True)  # different init
    assert resumed.load_checkpoint(path) == {"note": "hello"}
    assert resumed.epoch == 2
    history = resumed.fit(train, val, epochs=5)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert history[key] == reference[key], key
    for (name, a), (_, b) in zip(resumed.model.state_dict().items(),
                                 full.model.state_dict().items()):
        np.testing.assert_array_equal(np.asarray(a.array), np.asarray(b.array), err_msg=name)


def test_early_stopping_stops_and_restores_best():
    trainer, train, val = _setup()
    es = EarlyStopping("val_loss", patience=2)
    trainer.callbacks.append(es)
    # make validation loss worsen after the first epoch: a huge step size
    trainer.optimizer.param_groups[0]["lr"] = 5.0
    history = trainer.fit(train, val, epochs=30)
    assert len(history) < 30 and trainer.stop_training
    assert es.stopped_epoch == len(history) and es.wait == 2
    best_epoch = int(np.argmin(history["val_loss"])) + 1
    assert es.best_epoch == best_epoch
    assert trainer.evaluate(val)["loss"] == pytest.approx(min(history["val_loss"]), rel=1e-5)
    # a stopped run does not continue on a second fit
    assert len(trainer.fit(train, val, epochs=40)) == len(history)


def test_early_stopping_on_accuracy_mode_and_missing_metric():
    assert EarlyStopping("val_accuracy").mode == "max"
    assert EarlyStopping("val_loss").mode == "min"
    trainer, train, _ = _setup(callbacks=[EarlyStopping("val_loss")])
    with pytest.raises(ValueError, match="'val_loss' is not in the epoch's logs.*val_loader"):
        trainer.fit(train, None, epochs=1)


def test_callbacks_hooks_order_and_logs():
    events = []

    class Recorder(Callback):
        def on_train_begin(self, trainer):
            events.append("train_begin")

        def on_epoch_begin(self, trainer, epoch):
            events.append(f"epoch_begin {epoch}")

        def on_backward_end(self, trainer, batch):
            grads = [p.grad for p in trainer.model.parameters()]
            assert all(g is not None for g in grads)  # gradients present, step not yet run
            events.append("backward")

        def on_batch_end(self, trainer, batch, logs):
            assert {"loss", "batch_size", "accuracy"} <= set(logs)
            events.append("batch_end")

        def on_epoch_end(self, trainer, epoch, logs):
            assert logs["epoch"] == epoch and "val_loss" in logs
            events.append(f"epoch_end {epoch}")

        def on_train_end(self, trainer):
            events.append("train_end")

    trainer, train, val = _setup(callbacks=[Recorder()])
    trainer.fit(train, val, epochs=2)
    n = len(train)
    assert events[0] == "train_begin" and events[-1] == "train_end"
    assert events.count("backward") == events.count("batch_end") == 2 * n
    assert events[1] == "epoch_begin 1" and events[2 + 2 * n] == "epoch_end 1"


def test_lambda_callback_can_stop_training():
    stop = LambdaCallback(on_epoch_end=lambda t, e, logs: setattr(t, "stop_training", e >= 2))
    trainer, train, val = _setup(callbacks=[stop])
    assert len(trainer.fit(train, val, epochs=10)) == 2
    with pytest.raises(TypeError, match="unknown hook"):
        LambdaCallback(on_epoch_finish=print)


def test_model_checkpoint_and_metrics_logger(tmp_path):
    every = ModelCheckpoint(tmp_path / "e{epoch}.safetensors")
    best = ModelCheckpoint(tmp_path / "best.safetensors", monitor="val_accuracy",
                           save_best_only=True, extra=lambda: {"tag": 1})
    es = EarlyStopping("val_loss", patience=100)
    trainer, train, val = _setup(callbacks=[every, best, es, MetricsLogger(tmp_path / "m.csv"),
                                            MetricsLogger(tmp_path / "m.jsonl")])
    history = trainer.fit(train, val, epochs=3)
    assert sorted(p.name for p in tmp_path.glob("e*.safetensors")) == \
        ["e1.safetensors", "e2.safetensors", "e3.safetensors"]
    state = cr.load(tmp_path / "e3.safetensors")
    assert state["epoch"] == 3 and state["history"]["records"][-1]["loss"] == history["loss"][-1]
    # checkpoints run after the other callbacks: EarlyStopping's epoch-3 state is inside
    assert state["callbacks"]["EarlyStopping.0"]["best_epoch"] >= 1
    assert state["callbacks"]["EarlyStopping.0"]["best"] == min(history["val_loss"])
    assert cr.load(tmp_path / "best.safetensors")["extra"] == {"tag": 1}
    lines = (tmp_path / "m.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,loss,accuracy,val_loss,val_accuracy") and len(lines) == 4
    assert len((tmp_path / "m.jsonl").read_text().splitlines()) == 3


def test_load_checkpoint_rejects_other_files(tmp_path):
    cr.save({"w": np.zeros(2)}, tmp_path / "plain.safetensors")
    trainer, _, _ = _setup()
    with pytest.raises(ValueError, match="not a trainer checkpoint"):
        trainer.load_checkpoint(tmp_path / "plain.safetensors")


def test_bad_batches_and_metrics():
    trainer, _, _ = _setup()
    with pytest.raises(ValueError, match=r"\(inputs, targets\)"):
        trainer.fit([cr.ones(2, 2)], epochs=1)
    with pytest.raises(ValueError, match="unknown metric 'f2'"):
        Trainer(trainer.model, trainer.optimizer, nn.functional.cross_entropy, metrics=["f2"])


def test_accuracy_metric():
    assert accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1])) == 0.5
    assert accuracy(np.array([[0.1, 0.9]]), np.array([[0.0, 1.0]])) == 1.0  # one-hot targets
    assert accuracy(np.array([[1.5], [-0.5]]), np.array([[1.0], [0.0]])) == 1.0


def test_progress_bar_does_not_change_results(capsys):
    pytest.importorskip("tqdm")
    a, train, val = _setup()
    a.progress = True
    ha = a.fit(train, val, epochs=2)
    b, train, val = _setup()
    hb = b.fit(train, val, epochs=2)
    assert ha["loss"] == hb["loss"]
    assert "epoch 1/2" in capsys.readouterr().err
