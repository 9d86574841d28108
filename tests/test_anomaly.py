"""detect_anomaly: the first NaN/Inf in forward or backward raises a precise error."""

from __future__ import annotations

import importlib
import sys
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled

_tensor_mod = importlib.import_module("chainrule._tensor")
_autograd_mod = importlib.import_module("chainrule.autograd")


@pytest.fixture(autouse=True)
def _quiet_numpy():
    # NumPy warns about log(0) and 0/0; the point of these tests is what chainrule says
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _line_of(text: str) -> int:
    """Line number in this file of the first line containing ``text``."""
    with open(__file__) as f:
        for i, line in enumerate(f, 1):
            if text in line and "_line_of" not in line:
                return i
    raise AssertionError(text)


# ---------------------------------------------------------------------------
# forward
# ---------------------------------------------------------------------------
def test_forward_log_of_zero_names_op_shapes_values_and_source_line():
    x = cr.tensor([0.0, 1.0, 2.5, 0.0], requires_grad=True)
    with pytest.raises(AnomalyError) as info, cr.detect_anomaly():
        loss = cr.log(x).sum()  # MARK-forward-log
        loss.backward()
    msg = str(info.value)
    assert "forward 'log'" in msg
    assert "2 non-finite values (nan: 0, inf: 2)" in msg
    assert "output of shape (4,)" in msg
    assert "input 0: shape (4,), min 0, max 2.5, non-finite 0" in msg
    line = _line_of("# MARK-forward-log")
    assert f"test_anomaly.py:{line}: loss = cr.log(x).sum()" in msg
    err = info.value
    assert isinstance(err, RuntimeError)
    assert (err.op, err.phase) == ("log", "forward")
    assert err.created_at.endswith("loss = cr.log(x).sum()  # MARK-forward-log")


def test_forward_raises_at_the_first_op_not_a_later_one():
    x = cr.tensor([-1.0, 4.0], requires_grad=True)
    with pytest.raises(AnomalyError) as info, cr.detect_anomaly():
        y = cr.sqrt(x)          # sqrt(-1) = nan: the first anomaly
        z = cr.exp(y) * 2.0     # would propagate it
        z.sum()
    assert info.value.op == "sqrt"
    assert "nan: 1, inf: 0" in str(info.value)
    assert "first at index (0,)" in str(info.value)


def test_forward_checks_ops_that_do_not_require_grad():
    with pytest.raises(AnomalyError, match="forward 'div'") as info, cr.detect_anomaly():
        cr.tensor([1.0, 0.0]) / cr.tensor([0.0, 0.0])
    # such a node keeps no parents, but the message still describes the inputs
    assert "input 1: shape (2,), min 0, max 0, non-finite 0" in str(info.value)


def test_forward_notes_an_input_that_was_already_non_finite():
    x = cr.tensor([np.nan, 1.0], requires_grad=True)
    with pytest.raises(AnomalyError) as info, cr.detect_anomaly():
        x * 2.0
    msg = str(info.value)
    assert "input 0: shape (2,), min 1, max 1, non-finite 1" in msg
    assert "already non-finite" in msg


def test_outside_the_context_nothing_is_checked():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    y = cr.log(x)  # -inf, silently, as NumPy
    assert np.isneginf(y.array[0])
    assert _tensor_mod._mode.forward_check is None
    assert _autograd_mod._watchers.fns == ()
    assert getattr(y, "_trace", None) is None  # no stack walk happened
    z = cr.where(x > 0, cr.sqrt(x), 0.0).sum()
    z.backward()
    assert np.isnan(x.grad.array[0])


def test_integer_and_boolean_outputs_are_not_flagged():
    x = cr.tensor([0.0, np.inf])
    with cr.detect_anomaly():
        mask = x > 0
        idx = cr.argmax(cr.tensor([1.0, 2.0]))
    assert mask.dtype == np.bool_ and int(idx) == 1


# ---------------------------------------------------------------------------
# backward
# ---------------------------------------------------------------------------
def test_backward_nan_from_where_masking_sqrt_at_zero():
    x = cr.tensor([0.0, 4.0, 9.0], requires_grad=True)
    with cr.detect_anomaly():
        y = cr.where(x > 0, cr.sqrt(x), 0.0).sum()  # MARK-where-sqrt
        assert np.isfinite(y.array)  # the forward pass is clean
        with pytest.raises(AnomalyError) as info:
            y.backward()
    msg = str(info.value)
    assert msg.startswith("detect_anomaly: backward adjoint of input 0 of 'sqrt' is non-finite")
    assert "(nan: 1, inf: 0)" in msg and "first at index (0,)" in msg
    assert "input 0: shape (3,), min 0, max 9, non-finite 0" in msg
    assert f"test_anomaly.py:{_line_of('# MARK-where-sqrt')}:" in msg
    assert "0 * inf = nan" in msg
    assert (info.value.op, info.value.phase) == ("sqrt", "backward")


def test_backward_inf_from_sqrt_at_zero():
    x = cr.tensor([0.0, 1.0], requires_grad=True, name="x")
    with cr.detect_anomaly():
        y = cr.sqrt(x).sum()
        with pytest.raises(AnomalyError, match=r"input 0 \('x'\) of 'sqrt'.*inf: 1"):
            y.backward()
    assert x.grad is None  # raised before anything reached the leaf


def test_forward_overflow_is_caught_at_the_multiplication():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([1e-30, 1.0], requires_grad=True)
    with pytest.raises(AnomalyError, match="forward 'mul'") as info, cr.detect_anomaly():
        q = a / b               # 1e30 still fits in float32
        (q * q).sum()           # 1e60 does not
    assert "input 0: shape (2,), min 2, max 1e+30" in str(info.value)


def test_backward_only_anomaly_in_division():
    # 1/b with b tiny is finite, but d(1/b)/db = -1/b^2 overflows float32
    b = cr.tensor([1e-20, 1.0], requires_grad=True)
    with cr.detect_anomaly():
        y = (1.0 / b).sum()
        with pytest.raises(AnomalyError) as info:
            y.backward()
    msg = str(info.value)
    assert "backward adjoint of input 1 of 'div'" in msg
    assert "input 1: shape (2,)" in msg


def test_backward_nan_seed_is_reported_as_coming_from_the_caller():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.detect_anomaly():
        y = x * 3.0
        with pytest.raises(AnomalyError, match="gradient passed to backward"):
            y.backward(cr.tensor([np.nan, 1.0]))


def test_graph_recorded_before_the_context_has_no_source_line():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    y = cr.sqrt(x).sum()
    with cr.detect_anomaly(), pytest.raises(AnomalyError, match="recorded before detect_anomaly"):
        y.backward()


def test_create_graph_backward_is_checked_too():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with cr.detect_anomaly():
        y = cr.sqrt(x).sum()
        with pytest.raises(AnomalyError, match="backward of 'sqrt'.*forward 'div'"):
            cr.autograd.grad(y, x, create_graph=True)


# ---------------------------------------------------------------------------
# context manager / decorator mechanics
# ---------------------------------------------------------------------------
def test_nesting_restores_the_previous_state():
    assert not is_anomaly_enabled()
    with detect_anomaly():
        with detect_anomaly():
            assert is_anomaly_enabled()
        assert is_anomaly_enabled()
        with detect_anomaly(False):
            assert not is_anomaly_enabled()
            cr.log(cr.tensor([0.0]))  # not checked
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    assert _autograd_mod._watchers.fns == ()


def test_state_is_restored_after_an_error():
    with pytest.raises(AnomalyError), detect_anomaly():
        cr.log(cr.tensor([0.0]))
    assert not is_anomaly_enabled()
    assert _autograd_mod._watchers.fns == ()


def test_previous_forward_hook_is_restored():
    def other(t):
        pass

    previous = _tensor_mod._set_forward_check(other)
    try:
        with detect_anomaly():
            assert _tensor_mod._mode.forward_check is not other
        assert _tensor_mod._mode.forward_check is other
    finally:
        _tensor_mod._set_forward_check(previous)


def test_decorator_and_reentrant_instance():
    guard = cr.detect_anomaly()

    @guard
    def f(v):
        return cr.log(cr.tensor(v, requires_grad=True))

    assert float(f(1.0).array) == 0.0
    with pytest.raises(AnomalyError, match="forward 'log'"):
        f(0.0)
    assert not is_anomaly_enabled()
    with guard:
        with guard:
            assert is_anomaly_enabled()
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()


def test_traces_are_recorded_only_for_graph_nodes():
    x = cr.tensor([1.0], requires_grad=True)
    with detect_anomaly():
        y = x * 2.0
        c = cr.tensor([1.0]) * 2.0
    module, site = y._trace
    assert module is None
    assert site.endswith("y = x * 2.0")
    assert getattr(c, "_trace", None) is None


def test_exported_names():
    assert cr.detect_anomaly is detect_anomaly
    assert issubclass(AnomalyError, RuntimeError)
    assert "chainrule.anomaly" in sys.modules


# ---------------------------------------------------------------------------
# inside nn.Module
# ---------------------------------------------------------------------------
def test_module_path_of_a_library_layer_and_the_users_calling_line():
    from chainrule import nn

    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    with cr.no_grad():
        model[0].weight.fill_(1.0)  # every hidden unit active, whatever the random init
        model[0].bias.fill_(0.0)
        model[2].weight.fill_(3e38)  # the second Linear overflows float32
    x = cr.tensor([[1.0, 2.0]])
    with pytest.raises(AnomalyError) as info, cr.detect_anomaly():
        model(x)  # MARK-sequential
    msg = str(info.value)
    assert "in module: 2 (Linear)" in msg
    assert info.value.module == "2 (Linear)"
    assert f"test_anomaly.py:{_line_of('# MARK-sequential')}: model(x)" in msg


def test_module_path_of_a_user_module_nested_in_sequential():
    from chainrule import nn

    class Log(nn.Module):
        def forward(self, x):
            return cr.log(x)  # MARK-user-forward

    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), Log()))
    x = cr.tensor([[1.0, 2.0]])
    with cr.no_grad():
        model[0].bias.fill_(-100.0)  # relu -> 0 -> log(0) = -inf
    with pytest.raises(AnomalyError) as info, cr.detect_anomaly():
        model(x)
    msg = str(info.value)
    assert "forward 'log'" in msg and "in module: 1.1 (Log)" in msg
    assert f"test_anomaly.py:{_line_of('# MARK-user-forward')}: return cr.log(x)" in msg


def test_backward_anomaly_names_the_module_the_node_was_made_in():
    from chainrule import nn

    class Root(nn.Module):
        def forward(self, x):
            return cr.sqrt(x)

    model = nn.Sequential(Root())
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with cr.detect_anomaly():
        y = model(x).sum()
        with pytest.raises(AnomalyError, match=r"(?s)backward .*'sqrt'.*in module: 0 \(Root\)"):
            y.backward()


def test_module_tracking_is_switched_off_again():
    from chainrule.nn import module as nn_module

    with cr.detect_anomaly():
        assert nn_module._mode.track_path
    assert not nn_module._mode.track_path
