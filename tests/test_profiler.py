"""chainrule.profiler (torch.profiler's names): what it records, its tables and traces,
its schedule (against PyTorch's), and that profiling changes no result."""

from __future__ import annotations

import gzip
import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F
from chainrule.profiler import (
    ProfilerAction,
    ProfilerActivity,
    profile,
    record_function,
    schedule,
    tensorboard_trace_handler,
)


def _model_and_data(seed: int = 0):
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    rng = np.random.default_rng(seed)
    x = cr.tensor(rng.standard_normal((4, 6)).astype(np.float32))
    y = cr.tensor(rng.integers(0, 3, 4))
    return model, cr.optim.SGD(model.parameters(), lr=0.1), x, y


def _train(model, opt, x, y, steps: int, prof=None) -> None:
    for _ in range(steps):
        with record_function("train_step"):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if prof is not None:
            prof.step()


def test_a_training_loop_is_recorded_op_by_op():
    model, opt, x, y = _model_and_data()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        _train(model, opt, x, y, 3)
    averages = {e.key: e for e in prof.key_averages()}
    # forward ops, their backward rules, leaf accumulations, optimizer steps and the span
    for name, count in (("train_step", 3), ("linear_relu", 3), ("linear", 3),
                        ("cross_entropy", 3), ("LinearReluBackward0", 3),
                        ("LinearBackward0", 3), ("CrossEntropyBackward0", 3),
                        ("AccumulateGrad", 12), ("Optimizer.step#SGD.step", 3)):
        assert averages[name].count == count, (name, averages[name].count)
        assert averages[name].cpu_time_total > 0
    # every other event happened inside a train_step: its total is all the time there is,
    # and the self times add up to it
    events = prof.events()
    top = [e for e in events if e.cpu_parent is None]
    assert {e.name for e in top} == {"train_step"}
    total = sum(e.cpu_time_total for e in top)
    assert sum(e.self_cpu_time_total for e in events) == pytest.approx(total, rel=1e-9)
    span = averages["train_step"]
    assert 0 < span.self_cpu_time_total < span.cpu_time_total
    # an op a backward rule runs (SumBackward broadcasts) is the rule's time, not an op
    with profile() as prof:
        cr.ones(3, requires_grad=True).sum().backward()
    assert [e.name for e in prof.events()] == ["sum", "SumBackward0", "AccumulateGrad"]


def test_profiling_changes_no_result():
    model, opt, x, y = _model_and_data()
    _train(model, opt, x, y, 2)
    plain = [p.detach().numpy().copy() for p in model.parameters()]
    model, opt, x, y = _model_and_data()
    with profile(record_shapes=True, profile_memory=True):
        _train(model, opt, x, y, 2)
    for a, p in zip(plain, model.parameters()):
        np.testing.assert_array_equal(a, p.detach().numpy())


def test_table_shapes_and_memory():
    model, opt, x, y = _model_and_data()
    with profile(record_shapes=True, profile_memory=True) as prof:
        _train(model, opt, x, y, 2)
    text = prof.key_averages().table(sort_by="cpu_time_total", row_limit=4)
    lines = text.splitlines()
    assert "Self CPU %" in lines[1] and "# of Calls" in lines[1] and "CPU Mem" in lines[1]
    assert lines[-1].startswith("Self CPU time total: ")
    rows = lines[3:-2]
    assert len(rows) == 4 and rows[0].split()[0] == "train_step"  # the largest total
    by_shape = {e.key: e for e in prof.key_averages(group_by_input_shape=True)}
    assert by_shape["linear"].input_shapes == [[4, 5], [3, 5], [3]]
    assert by_shape["linear_relu"].input_shapes == [[4, 6], [5, 6], [5]]
    assert "Input Shapes" in prof.key_averages(group_by_input_shape=True).table()
    # memory: the bytes of each op's result; a span holds what its ops made
    events = prof.events()
    linear = next(e for e in events if e.name == "linear")
    assert linear.cpu_memory_usage == 4 * 3 * 4  # (4, 3) float32
    span = next(e for e in events if e.name == "train_step")
    assert span.cpu_memory_usage == sum(c.cpu_memory_usage for c in span.cpu_children) > 0
    assert span.self_cpu_memory_usage == 0
    with pytest.raises(ValueError, match="sort_by='cpu'"):
        prof.key_averages().table(sort_by="cpu")
    with profile() as bare:
        cr.ones(2).exp()
    # without record_shapes: one row per name, no shapes (as PyTorch)
    assert [(e.key, e.input_shapes) for e in bare.key_averages(group_by_input_shape=True)] \
        == [("exp", [])]


@pytest.mark.filterwarnings("ignore:Profiler won't be using warmup")
@pytest.mark.parametrize("kwargs", [{"wait": 1, "warmup": 1, "active": 2},
                                    {"wait": 0, "warmup": 0, "active": 1, "repeat": 3},
                                    {"wait": 2, "warmup": 1, "active": 3, "repeat": 2, "skip_first": 3}])
def test_schedule_matches_pytorch(kwargs):
    torch_profiler = pytest.importorskip("torch.profiler")
    ours, theirs = schedule(**kwargs), torch_profiler.schedule(**kwargs)
    assert [ours(i).name for i in range(30)] == [theirs(i).name for i in range(30)]
    with pytest.raises(ValueError, match="active must be at least 1"):
        schedule(wait=1, warmup=0, active=0)


def test_schedule_records_the_active_steps_and_hands_each_cycle_over(tmp_path):
    model, opt, x, y = _model_and_data()
    cycles = []

    def ready(prof):
        cycles.append((prof.step_num, sorted({e.name for e in prof.events()
                                              if e.name == "train_step"}),
                       sum(e.name == "train_step" for e in prof.events())))
        tensorboard_trace_handler(tmp_path / "tb", worker_name="w0")(prof)

    with profile(schedule=schedule(wait=1, warmup=1, active=2, repeat=2),
                 on_trace_ready=ready) as prof:
        _train(model, opt, x, y, 10, prof)
    assert cycles == [(4, ["train_step"], 2), (8, ["train_step"], 2)]
    files = sorted(os.listdir(tmp_path / "tb"))
    assert len(files) == 2 and all(f.startswith("w0.") and f.endswith(".pt.trace.json")
                                   for f in files)
    trace = json.loads((tmp_path / "tb" / files[0]).read_text())
    names = {e["name"] for e in trace["traceEvents"]}
    assert {"train_step", "linear", "LinearBackward0"} <= names
    assert all(e["ph"] == "X" and e["dur"] >= 0 for e in trace["traceEvents"])
    torch_profiler = pytest.importorskip("torch.profiler")
    for action in ProfilerAction:  # the same values as PyTorch's (it has one more)
        assert torch_profiler.ProfilerAction[action.name].value == action.value


def test_chrome_trace_export(tmp_path):
    with profile(record_shapes=True) as prof, record_function("block"):
        (cr.ones(2, 3, requires_grad=True) * 2).sum().backward()
    prof.export_chrome_trace(tmp_path / "trace.json")
    prof.export_chrome_trace(tmp_path / "trace.json.gz")
    plain = json.loads((tmp_path / "trace.json").read_text())
    zipped = json.loads(gzip.decompress((tmp_path / "trace.json.gz").read_bytes()))
    assert plain == zipped
    events = {e["name"]: e for e in plain["traceEvents"]}
    assert events["block"]["cat"] == "user_annotation" and events["mul"]["cat"] == "cpu_op"
    assert events["mul"]["args"]["Input Dims"] == [[2, 3], []]
    assert events["block"]["ts"] <= events["mul"]["ts"]
    assert set(os.listdir(tmp_path)) == {"trace.json", "trace.json.gz"}  # no temporaries


def test_record_function_outside_a_profiler_and_as_a_decorator():
    @record_function("helper")
    def helper(t):
        return t * 3

    assert helper(cr.ones(2)).tolist() == [3.0, 3.0]  # no profiler: nothing recorded
    with profile() as prof:
        helper(cr.ones(2))
    names = [e.name for e in prof.events()]
    assert names == ["helper", "mul"]
    assert prof.events()[1].cpu_parent is prof.events()[0]


def test_nested_profiles_anomaly_inside_and_checks_restored():
    with profile() as outer:
        cr.ones(2).exp()
        with profile() as inner:
            cr.ones(2).sin()
        cr.ones(2).cos()
    assert [e.name for e in inner.events()] == ["sin"]
    assert [e.name for e in outer.events()] == ["exp", "sin", "cos"]  # it sees everything
    # anomaly detection works inside a profile, and the profile still sees the ops
    with profile() as prof:
        with cr.detect_anomaly(), np.errstate(invalid="ignore"), \
                pytest.raises(cr.anomaly.AnomalyError):
            cr.tensor([-1.0], requires_grad=True).log().sqrt()
        with cr.detect_anomaly():
            cr.ones(2).tanh()
    assert {"log", "tanh"} <= {e.name for e in prof.events()}
    from chainrule import _tensor
    from chainrule.autograd import _watchers

    assert _tensor._mode.forward_check is None and _tensor._mode.plain
    assert _watchers.fns == ()
    with pytest.raises(TypeError, match="ProfilerActivity"):
        profile(activities=["cpu"])


def test_pytorch_spellings():
    """``torch.profiler`` and the older ``torch.autograd.profiler`` as PyTorch programs
    write them, through ``import chainrule as torch``."""
    torch = cr
    model = torch.nn.Linear(4, 2)
    x = torch.randn(3, 4)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU],  # noqa: SIM117
                                record_shapes=True) as prof:
        with torch.profiler.record_function("model_inference"):
            model(x)
    assert "model_inference" in prof.key_averages().table(sort_by="cpu_time_total",
                                                          row_limit=10)
    assert torch.profiler.supported_activities() == {torch.profiler.ProfilerActivity.CPU}
    with torch.autograd.profiler.profile(use_cuda=False) as old:  # noqa: SIM117 (as written)
        with torch.autograd.profiler.record_function("forward"):
            model(x).sum().backward()
    assert {e.key for e in old.key_averages()} >= {"forward", "linear", "sum",
                                                  "LinearBackward0"}
    assert old.self_cpu_time_total > 0 and old.total_average().count == len(old.events())
    assert "Self CPU time total" in str(old)


def test_with_flops_counts_the_products_as_pytorch():
    x = np.random.default_rng(0).standard_normal((8, 8)).astype(np.float32)
    flops = []
    for lib, prof_mod in ((cr, cr.profiler), (torch_or_skip(), None)):
        prof_mod = prof_mod or lib.profiler
        with prof_mod.profile(with_flops=True) as prof:
            t = lib.tensor(x)
            t @ t
        flops.append(sum(e.flops for e in prof.events()))
    assert flops[0] == flops[1] == 2 * 8 * 8 * 8
    with profile(with_flops=True) as prof:
        layer = nn.Linear(6, 5)
        layer(cr.ones(4, 6))
    assert "Total FLOPs" in prof.key_averages().table(sort_by="flops")
    assert prof.key_averages().table(sort_by="flops").splitlines()[3].split()[0] == "linear"


def torch_or_skip():
    return pytest.importorskip("torch")

