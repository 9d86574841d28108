"""GradientMonitor flags vanishing, exploding and dead layers, and stays quiet otherwise."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.monitor import GradientMonitor, GradientWarning

WIDTH = 32


@pytest.fixture(autouse=True)
def _seed():
    cr.manual_seed(0)


def _digits_like(n: int = 64, features: int = WIDTH, classes: int = 10, seed: int = 0):
    """Random inputs with learnable labels: a fixed random linear teacher."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    teacher = rng.normal(size=(features, classes))
    y = (x @ teacher).argmax(axis=1)
    return cr.tensor(x), cr.tensor(y)


def _cross_entropy(logits, y):
    logp = cr.log_softmax(logits, axis=1)
    return -logp[np.arange(len(y)), y.array].mean()


def _train(model, steps: int = 5, lr: float = 0.1, monitor=None, **kwargs):
    """Plain SGD; step() after backward, as documented."""
    monitor = monitor or GradientMonitor(model, **kwargs)
    x, y = _digits_like()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # the diverging runs overflow
        for _ in range(steps):
            loss = _cross_entropy(model(x), y)
            loss.backward()
            monitor.step()
            with cr.no_grad():
                for p in model.parameters():
                    if p.grad is not None:
                        p.sub_(lr * p.grad.array)
                    p.grad = None
    return monitor


def _stack(depth: int, act, width: int = WIDTH, classes: int = 10):
    layers = []
    for i in range(depth):
        layers += [nn.Linear(WIDTH if i == 0 else width, width), act()]
    return nn.Sequential(*layers, nn.Linear(width, classes))


def _kinds(monitor) -> set:
    return {w.kind for w in monitor.warnings()}


# ---------------------------------------------------------------------------
# the four networks of the issue
# ---------------------------------------------------------------------------
def test_healthy_relu_mlp_is_not_flagged():
    model = _stack(3, nn.ReLU)
    monitor = _train(model, steps=8)
    assert monitor.warnings() == [], "\n".join(map(str, monitor.warnings()))
    assert "0 warnings" in monitor.summary()


def test_deep_sigmoid_network_is_flagged_vanishing():
    model = _stack(15, nn.Sigmoid)
    monitor = _train(model, steps=3)
    found = monitor.warnings("vanishing")
    assert found and _kinds(monitor) == {"vanishing"}
    layers = {w.layer for w in found}
    assert "0" in layers            # the first layer: farthest from the loss
    assert "30" not in layers       # the output layer is where the gradient is largest
    first = next(w for w in found if w.layer == "0")
    assert first.step == 1 and first.module_type == "Linear"
    assert "layer 0 (Linear)" in str(first) and "vanishing" in str(first)


def test_vanishing_by_ratio_alone():
    # no absolute threshold: the fall from the last layer to the first must be caught
    model = _stack(8, nn.Sigmoid)
    monitor = _train(model, steps=1, vanish_threshold=0.0)
    msgs = [w.message for w in monitor.warnings("vanishing")]
    assert msgs and all("smaller than at layer" in m for m in msgs)


def test_badly_scaled_network_is_flagged_exploding():
    model = _stack(6, nn.ReLU)
    with cr.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.mul_(10.0)
    monitor = _train(model, steps=2, lr=0.01)
    exploding = monitor.warnings("exploding")
    assert exploding
    assert any(w.step == 1 and "> 1000" in w.message for w in exploding)


def test_big_learning_rate_run_is_flagged_exploding_up_to_nan():
    model = _stack(3, nn.ReLU)
    monitor = _train(model, steps=10, lr=50.0)
    messages = [w.message for w in monitor.warnings("exploding")]
    assert any("nan" in m or "inf" in m for m in messages)
    assert any("changed the weights by" in m for m in messages)


def test_relu_network_with_large_negative_bias_is_flagged_dead():
    model = _stack(3, nn.ReLU)
    with cr.no_grad():
        model[2].bias.fill_(-10.0)
    monitor = _train(model, steps=3)
    dead = monitor.warnings("dead")
    # layer 3 first; the next ReLU may follow (its input is then a constant bias)
    assert dead[0].layer == "3" and {w.layer for w in dead} <= {"3", "5"}
    assert dead[0].module_type == "ReLU"
    assert "100% of the units (the outputs of layer 2)" in dead[0].message
    row = [r for r in monitor.history if r["layer"] == "3"][-1]
    assert row["dead_fraction"] == 1.0
    # and no gradient reaches the layers below it
    zero = {w.layer for w in monitor.warnings("vanishing")}
    assert zero == {"0", "2"}


# ---------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------
def test_history_records_and_series():
    model = _stack(2, nn.ReLU)
    initial = np.sqrt(sum(float((p.array.astype(np.float64) ** 2).sum())
                          for p in model[0].parameters()))
    monitor = _train(model, steps=3)
    layer_rows = [r for r in monitor.history if r["type"] == "Linear"]
    assert [r["layer"] for r in layer_rows[:3]] == ["0", "2", "4"]
    assert len(layer_rows) == 3 * 3 and len(monitor.history) == 3 * 5
    first, later = layer_rows[0], layer_rows[3]
    assert first["update_ratio"] is None  # nothing to compare with at the first step
    assert 0 < later["update_ratio"] < 0.1
    assert first["weight_norm"] == pytest.approx(initial, rel=1e-6)
    steps, values = monitor.series("grad_norm")["0"]
    assert steps == [1, 2, 3] and all(v > 0 for v in values)
    assert set(monitor.series("dead_fraction")) == {"1", "3"}


def test_update_ratio_measures_exactly_one_optimizer_step():
    lin = nn.Linear(3, 2)
    monitor = GradientMonitor(nn.Sequential(lin))
    x = cr.randn(4, 3)
    (lin(x) ** 2).sum().backward()
    monitor.step()
    before = [p.array.copy() for p in lin.parameters()]
    with cr.no_grad():
        lin.weight.add_(1.0)
    (lin(x) ** 2).sum().backward()
    monitor.step()
    change = np.sqrt(lin.weight.array.size)  # every weight moved by 1
    norm = np.sqrt(sum((b.astype(np.float64) ** 2).sum() for b in before))
    assert monitor.history[-1]["update_ratio"] == pytest.approx(change / norm, rel=1e-5)


def test_every_records_every_nth_step_with_a_one_step_update_ratio():
    model = _stack(1, nn.ReLU)
    monitor = _train(model, steps=7, every=3, dense_steps=0)
    steps = sorted({r["step"] for r in monitor.history})
    assert steps == [1, 4, 7]
    ratios = monitor.series("update_ratio")["0"][1]
    single = _train(_stack(1, nn.ReLU), steps=2).series("update_ratio")["0"][1]
    # one SGD step of the same size: same order of magnitude as every=1
    assert 0.1 < ratios[0] / single[0] < 10


def test_findings_are_deduplicated_and_returned_once():
    model = _stack(10, nn.Sigmoid)
    seen = []
    monitor = GradientMonitor(model, on_warning=seen.append)
    first = _train(model, steps=1, monitor=monitor).warnings()
    assert first and seen == first
    _train(model, steps=3, monitor=monitor)
    again = monitor.warnings()
    assert again[:len(first)] == first  # the same objects, updated in place
    keys = [(w.layer, w.kind) for w in again]
    assert len(keys) == len(set(keys))  # at most one finding per layer and kind
    assert all(w.count == 4 and w.last_step == 4 for w in first)
    assert "steps 1-4, seen 4x" in str(first[0])


def test_step_returns_only_new_findings():
    model = _stack(10, nn.Sigmoid)
    monitor = GradientMonitor(model)
    x, y = _digits_like()
    _cross_entropy(model(x), y).backward()
    assert monitor.step()
    model.zero_grad()
    _cross_entropy(model(x), y).backward()
    assert monitor.step() == []


def test_dead_units_ignore_no_grad_passes():
    model = _stack(1, nn.ReLU)
    monitor = GradientMonitor(model)
    x, y = _digits_like()
    _cross_entropy(model(x), y).backward()
    with cr.no_grad():
        model(cr.full((8, WIDTH), -100.0))  # an evaluation batch: not the training batch
    monitor.step()
    assert monitor.history[-1]["dead_fraction"] < 0.5


def test_remove_takes_the_hooks_off():
    model = _stack(2, nn.ReLU)
    monitor = GradientMonitor(model)
    relu = model[1]
    assert len(relu._forward_hooks) == 1
    monitor.remove()
    monitor.remove()
    assert len(relu._forward_hooks) == 0
    with GradientMonitor(model):
        assert len(relu._forward_hooks) == 1
    assert len(relu._forward_hooks) == 0


def test_model_without_parameters_is_rejected():
    with pytest.raises(ValueError, match="no parameters"):
        GradientMonitor(nn.Sequential(nn.ReLU()))


def test_warning_kind_filter_validates():
    monitor = GradientMonitor(_stack(1, nn.ReLU))
    with pytest.raises(ValueError, match="kind must be one of"):
        monitor.warnings("slow")


def test_gradient_warning_str():
    w = GradientWarning("layers.2", "exploding", 3, "gradient norm 2e+04 > 1000", "Linear")
    assert str(w) == "exploding: layers.2 (Linear) at step 3: gradient norm 2e+04 > 1000"
    assert str(GradientWarning("0", "dead", 1, "m", "ReLU")) == "dead: layer 0 (ReLU) at step 1: m"


# ---------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------
def test_summary_table():
    model = _stack(15, nn.Sigmoid)
    text = _train(model, steps=2).summary()
    lines = text.splitlines()
    assert lines[0].startswith("GradientMonitor: step 2 (2 steps,")
    assert lines[1].split() == ["layer", "type", "grad", "norm", "weight", "norm",
                                "update/weight", "dead", "warnings"]
    row0 = next(line for line in lines if line.startswith("0 "))
    assert "Linear" in row0 and row0.rstrip().endswith("vanishing (steps 1-2)")


def test_summary_before_any_step():
    assert "nothing recorded" in GradientMonitor(_stack(1, nn.ReLU)).summary()


def test_plot_writes_a_png_atomically(tmp_path):
    pytest.importorskip("matplotlib")
    model = _stack(4, nn.Sigmoid)
    monitor = _train(model, steps=3)
    out = tmp_path / "plots" / "grad_norms.png"
    assert monitor.plot(out) == str(out)
    with open(out, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.listdir(out.parent) == ["grad_norms.png"]  # no temporary file left over
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(out).st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


def test_reexported_from_nn():
    assert nn.GradientMonitor is GradientMonitor


# ---------------------------------------------------------------------------
# the training callback
# ---------------------------------------------------------------------------
class _FakeTrainer:
    """What MonitorCallback needs from chainrule.train.Trainer: .model and .log()."""

    def __init__(self, model):
        self.model = model
        self.lines = []

    def log(self, message: str) -> None:
        self.lines.append(message)


def test_monitor_callback_logs_findings_as_found_and_plots(tmp_path):
    from chainrule.train import MonitorCallback

    model = _stack(12, nn.Sigmoid)
    trainer = _FakeTrainer(model)
    plot = tmp_path / "grad_norms.png"
    cb = MonitorCallback(plot_path=plot, summary=True)
    x, y = _digits_like()
    cb.on_train_begin(trainer)
    for epoch in (1, 2):
        for batch in range(2):
            model.zero_grad()
            _cross_entropy(model(x), y).backward()
            cb.on_backward_end(trainer, batch)
            if epoch == 1 and batch == 0:  # printed at the first batch, not at the end
                assert trainer.lines and trainer.lines[0].startswith(
                    "gradient warning: vanishing: layer 0 (Linear) at step 1")
        cb.on_epoch_end(trainer, epoch, {})
        assert plot.exists()
    n_warnings = len(trainer.lines)
    cb.on_train_end(trainer)
    assert len(trainer.lines) == n_warnings + 2  # the summary table and the plot's path
    assert trainer.lines[-2].startswith("GradientMonitor: step 4")
    assert trainer.lines[-1] == f"per-layer gradient statistics: {plot}"
    assert n_warnings == len(cb.monitor.warnings())  # each finding printed once
    assert all(len(m._forward_hooks) == 0 for m in model.modules())


def test_monitor_callback_with_the_trainer(tmp_path):
    train = pytest.importorskip("chainrule.train")
    from chainrule.train import MonitorCallback

    x, y = _digits_like(n=64)
    data = pytest.importorskip("chainrule.data")
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=32)
    model = _stack(12, nn.Sigmoid)
    optim = pytest.importorskip("chainrule.optim")
    lines = []
    cb = MonitorCallback(plot_path=tmp_path / "grad_norms.png")
    trainer = train.Trainer(model, optim.SGD(model.parameters(), lr=0.1),
                            nn.functional.cross_entropy, callbacks=[cb], log=lines.append,
                            verbose=False)
    trainer.fit(loader, epochs=1)
    assert any(line.startswith("gradient warning: vanishing: layer 0") for line in lines)
    assert (tmp_path / "grad_norms.png").exists()
    assert cb.monitor.steps == 2


# ---------------------------------------------------------------------------
# chainrule train
# ---------------------------------------------------------------------------
def _train_cli(tmp_path, capsys, *extra):
    cli = pytest.importorskip("chainrule.cli")
    out = tmp_path / "run"
    argv = ["train", "--dataset", "digits", "--epochs", "1", "--out", str(out),
            "--no-progress", *extra]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        code = cli.main(argv)
    return code, out, capsys.readouterr().out


def test_chainrule_train_prints_findings_and_writes_the_gradient_plot(tmp_path, capsys):
    code, out, printed = _train_cli(tmp_path, capsys, "--hidden", "32,32,32,32,32,32,32,32",
                                    "--activation", "sigmoid", "--optimizer", "sgd")
    assert code == 0
    lines = printed.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("gradient warning:"))
    epoch = next(i for i, line in enumerate(lines) if line.startswith("epoch 1/1"))
    assert first < epoch  # printed as found, during the epoch
    assert "gradient warning: vanishing: layers.0 (Linear) at step 1" in printed
    assert "GradientMonitor: step" in printed
    assert (out / "grad_norms.png").is_file() and (out / "loss.png").is_file()


def test_chainrule_train_no_monitor(tmp_path, capsys):
    code, out, printed = _train_cli(tmp_path, capsys, "--no-monitor", "--hidden", "16")
    assert code == 0
    assert "GradientMonitor" not in printed
    assert not (out / "grad_norms.png").exists()


# ---------------------------------------------------------------------------
# early and actionable findings
# ---------------------------------------------------------------------------
def test_the_first_steps_are_all_recorded_then_every_nth():
    model = _stack(1, nn.ReLU)
    monitor = _train(model, steps=12, every=3, dense_steps=5)
    assert sorted({r["step"] for r in monitor.history}) == [1, 2, 3, 4, 5, 7, 10]
    assert GradientMonitor(model, every=10).dense_steps == 100
    ratios = monitor.series("update_ratio")["0"]
    assert ratios[0] == [2, 3, 4, 5, 7, 10]  # each one optimizer update after the last call


@pytest.mark.parametrize("kind, build, words", [
    ("vanishing", lambda: _stack(15, nn.Sigmoid),
     ["ReLU", "He", "Xavier", "normalization", "residual"]),
    ("exploding", lambda: _stack(3, nn.ReLU), ["learning rate", "clip", "scaled"]),
    ("dead", lambda: _stack(3, nn.ReLU), ["bias", "learning rate", "LeakyReLU"]),
])
def test_every_finding_says_what_to_try(kind, build, words):
    model = build()
    if kind == "dead":
        with cr.no_grad():
            model[2].bias.fill_(-10.0)
    monitor = _train(model, steps=10 if kind == "exploding" else 3,
                     lr=50.0 if kind == "exploding" else 0.1)
    found = monitor.warnings(kind)
    assert found
    for w in found:
        for word in words:
            assert word in w.message, (word, w.message)


def _scaled_steps(monitor, layer, factor: float, steps: int):
    x = cr.randn(4, layer.in_features)
    for _ in range(steps):
        (layer(x) ** 2).sum().backward()
        monitor.step()
        with cr.no_grad():
            layer.weight.mul_(1.0 + factor)
            layer.bias.mul_(1.0 + factor)
        layer.zero_grad()


def test_too_large_a_step_is_flagged_after_the_warm_up():
    lin = nn.Linear(6, 3)
    monitor = GradientMonitor(nn.Sequential(lin))
    _scaled_steps(monitor, lin, 0.2, 25)  # every update moves the weights by 20 %
    found = monitor.warnings("large-step")
    assert len(found) == 1 and "too large a step" in found[0].message
    assert "20.0% of their norm" in found[0].message and "learning rate" in found[0].message
    assert found[0].step == 20  # 10 warm-up steps, then 10 recorded ratios
    calm = nn.Linear(6, 3)
    monitor = GradientMonitor(nn.Sequential(calm))
    _scaled_steps(monitor, calm, 0.01, 25)  # 1 %: a brisk but sound step
    assert monitor.warnings() == []


def test_summary_agrees_with_its_flags_after_nans():
    model = _stack(2, nn.ReLU)
    with cr.no_grad():
        model[0].bias.fill_(-10.0)
    monitor = GradientMonitor(model)
    x, y = _digits_like()
    for poisoned in (False, False, True):
        inputs = cr.tensor(np.where(poisoned, np.nan, x.array))
        with np.errstate(all="ignore"):
            _cross_entropy(model(inputs), y).backward()
        monitor.step()
        model.zero_grad()
    row1 = next(line for line in monitor.summary().splitlines() if line.startswith("1 "))
    assert "ReLU" in row1 and " nan " in row1 and "dead (steps 1-2)" in row1
    assert " 0% " not in row1
    assert monitor.nonfinite_steps == [3]


def test_plot_marks_nan_steps_and_draws_dead_fractions(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import chainrule.nn.monitor as monitor_module

    figures = []
    save = monitor_module._save_atomic
    monkeypatch.setattr(monitor_module, "_save_atomic",
                        lambda fig, path: figures.append(fig) or save(fig, path))
    model = _stack(3, nn.ReLU)
    monitor = _train(model, steps=10, lr=50.0)
    assert monitor.nonfinite_steps  # the run blew up
    monitor.plot(tmp_path / "g.png")
    axes = figures[0].axes
    titles = [ax.get_title() for ax in axes]
    assert any(t.startswith("dead units per activation") for t in titles)
    dead_ax = axes[[t.startswith("dead") for t in titles].index(True)]
    assert len(dead_ax.get_lines()) >= len(monitor.activations)
    for ax in axes:  # the NaN steps are drawn, as red vertical lines, on every panel
        xs = {line.get_xdata()[0] for line in ax.get_lines() if line.get_color() == "red"}
        assert set(monitor.nonfinite_steps) <= xs


def test_relu_family_names_only_classes_that_exist():
    from chainrule.monitor import RELU_FAMILY
    from chainrule.nn.monitor import relu_family

    assert RELU_FAMILY and all(isinstance(getattr(nn, name), type) for name in RELU_FAMILY)
    assert nn.ReLU in relu_family() and nn.LeakyReLU in relu_family()

    class Clamped(nn.ReLU):  # a subclass is watched too
        pass

    monitor = GradientMonitor(nn.Sequential(nn.Linear(3, 3), Clamped(), nn.Linear(3, 1)))
    assert [a.type for a in monitor.activations] == ["Clamped"]


def test_dead_fraction_of_a_convolution_counts_channels():
    """After Conv2d + ReLU a unit is a channel (one kernel): 2 of 4 kernels that can only
    give negative outputs are 50% dead, whatever the spatial positions do."""
    conv = cr.nn.Conv2d(1, 4, 3, padding=1)
    with cr.no_grad():
        conv.weight.array[...] = np.abs(conv.weight.array)
        conv.weight.array[:2] *= -1
        conv.bias.array[...] = [-0.1, -0.1, 0.1, 0.1]
    model = cr.nn.Sequential(conv, cr.nn.ReLU(), cr.nn.Flatten(), cr.nn.Linear(4 * 25, 2))
    monitor = cr.nn.GradientMonitor(model)
    x = cr.tensor(np.random.default_rng(0).random((8, 1, 5, 5)))
    loss = model(x).sum()
    loss.backward()
    monitor.step()
    dead = [r["dead_fraction"] for r in monitor.history if r["dead_fraction"] is not None]
    assert dead == [0.5]


def test_misuse_is_named():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    with pytest.raises(TypeError, match=r"GradientMonitor: expected the model \(an "
                                        r"nn.Module\), got generator"):
        nn.GradientMonitor(model.parameters())
    with pytest.raises(ValueError, match="series: key must be one of grad_norm, weight_norm, "
                                         "update_ratio, dead_fraction, got 'grad'"):
        nn.GradientMonitor(model).series("grad")


def test_plot_before_any_step_writes_empty_panels_quietly(tmp_path):
    pytest.importorskip("matplotlib")
    monitor = nn.GradientMonitor(nn.Sequential(nn.Linear(2, 2), nn.ReLU()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib's "no artists with labels" legend
        monitor.plot(tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 0
