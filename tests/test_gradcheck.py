"""cr.gradcheck itself: what it accepts, its fast (random-direction) mode, its report."""

import numpy as np
import pytest

import chainrule as cr
from chainrule._tensor import record
from chainrule.ops.registry import Op


def _scaled_square(scale):
    """x**2 recorded with the rule scale * 2x: right for scale == 1."""
    return lambda x: record(x.array ** 2, Op("square", lambda F, g, ans, ctx, x: (g * (2 * scale) * x,), register=False), (x,))


def test_returns_true_for_correct_gradients():
    assert cr.gradcheck(lambda x: (x.tanh() * x).sum(), cr.randn(3)) is True
    assert cr.gradcheck(lambda a, b: a @ b, np.ones((2, 3)), np.ones((3,))) is True


def test_accepts_tensors_arrays_floats_and_lists():
    f = lambda a, b, c, d: (a * b).sum() + c * d.sum()
    assert cr.gradcheck(f, cr.tensor([1.0, 2.0]), np.array([3.0, 4.0]), 2.0, [1.0, 5.0])


def test_checks_in_float64_even_for_float32_inputs():
    seen = []

    def f(x):
        seen.append(x.dtype)
        return (x * x * x).sum()

    assert cr.gradcheck(f, cr.tensor([0.1, 0.2, 0.3]))  # float32 would fail at eps=1e-6
    assert set(seen) == {np.dtype(np.float64)}


def test_does_not_modify_the_inputs():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a = np.array([3.0, 4.0])
    cr.gradcheck(lambda x, a: (x * a).sum(), x, a)
    assert x.grad is None and x.tolist() == [1.0, 2.0] and a.tolist() == [3.0, 4.0]


def test_integer_inputs_pass_through_as_constants():
    idx = cr.tensor([2, 0, 2])
    assert cr.gradcheck(lambda x, i: x[i] ** 2, np.array([1.0, 2.0, 3.0]), idx)
    assert cr.gradcheck(lambda x, k: x ** k, np.array([1.0, 2.0]), 3)


def test_non_scalar_output_checks_full_jacobian():
    # a wrong rule that only breaks off-diagonal structure is still caught
    def wrong_cumsum(x):
        out = np.cumsum(x.array)
        return record(out, Op("cumsum", lambda F, g, ans, ctx, x: (g,), register=False), (x,))  # should be reversed cumsum

    with pytest.raises(cr.GradcheckError):
        cr.gradcheck(wrong_cumsum, np.array([1.0, 2.0, 3.0]))


def test_detects_wrong_rule_and_tolerances_matter():
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(cr.GradcheckError):
        cr.gradcheck(_scaled_square(1.01), x)          # 1% off: rtol 1e-3 catches it
    assert cr.gradcheck(_scaled_square(1.01), x, rtol=0.02)
    assert cr.gradcheck(_scaled_square(1.0), x)


def test_max_report_limits_rows():
    x = np.arange(1.0, 21.0)
    with pytest.raises(cr.GradcheckError) as info:
        cr.gradcheck(_scaled_square(2.0), x, max_report=4)
    msg = str(info.value)
    assert "20 of 20" in msg
    assert sum(ln.strip().startswith("(") for ln in msg.splitlines()) == 4
    assert "(19,)" in msg  # the worst element (largest x) is listed


def test_names_the_second_input():
    with pytest.raises(cr.GradcheckError, match=r"input 1 \(shape \(2,\)\)"):
        cr.gradcheck(lambda a, b: a.sum() + _scaled_square(3.0)(b).sum(),
                     np.ones(2), np.ones(2))


def test_output_independent_of_inputs():
    with pytest.raises(cr.GradcheckError, match="does not depend"):
        cr.gradcheck(lambda x: cr.tensor(1.0), np.ones(2))


def test_no_float_input():
    with pytest.raises(ValueError, match="nothing to check"):
        cr.gradcheck(lambda i: cr.tensor(1.0), cr.tensor([1, 2]))


def test_function_must_return_tensor():
    with pytest.raises(TypeError, match="must return a Tensor"):
        cr.gradcheck(lambda x: 1.0, np.ones(2))


def test_unused_input_with_zero_numeric_gradient_passes():
    assert cr.gradcheck(lambda a, b: a.sum() * 2, np.ones(2), np.ones(3))


def test_missing_gradient_is_reported():
    # a rule that drops the gradient of a used input
    def drops(a, b):
        return record(a.array * b.array, Op("mul_no_b", lambda F, g, ans, ctx, a, b: (g * b, None), register=False), (a, b))

    with pytest.raises(cr.GradcheckError, match="input 1"):
        cr.gradcheck(drops, np.ones(2), np.full(2, 3.0))


# ---------------------------------------------------------------------------
# fast mode: one random direction per input
# ---------------------------------------------------------------------------
def _counting(f):
    calls = []

    def wrapped(*xs):
        calls.append(1)
        return f(*xs)

    return wrapped, calls


def test_fast_mode_default_for_large_inputs():
    x = np.random.default_rng(0).standard_normal(5000)
    f, calls = _counting(lambda x: (x.tanh() * x).sum())
    assert cr.gradcheck(f, x) is True
    assert len(calls) <= 4  # 1 forward + 2 per input: not 2 per element


def test_fast_mode_off_for_small_inputs():
    f, calls = _counting(lambda x: (x * x).sum())
    cr.gradcheck(f, np.ones(10))
    assert len(calls) == 1 + 2 * 10


def test_fast_mode_forced_either_way():
    f, calls = _counting(lambda x: (x * x).sum())
    cr.gradcheck(f, np.ones(10), fast=True)
    assert len(calls) == 3
    f, calls = _counting(lambda x: (x * x).sum())
    cr.gradcheck(f, np.ones(2100), fast=False)
    assert len(calls) == 1 + 2 * 2100


def test_fast_mode_catches_wrong_rule_and_reports():
    x = np.random.default_rng(1).standard_normal((60, 50))
    with pytest.raises(cr.GradcheckError) as info:
        cr.gradcheck(lambda x: _scaled_square(1.1)(x) * 0.5, x)
    msg = str(info.value)
    assert "input 0 (shape (60, 50))" in msg and "random direction" in msg
    assert "analytic" in msg and "numeric" in msg
    assert "atol=1e-05" in msg and "rtol=0.001" in msg
    assert cr.gradcheck(lambda x: _scaled_square(1.0)(x) * 0.5, x) is True


def test_fast_mode_large_matmul():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((50, 60)), rng.standard_normal((60, 40))
    assert cr.gradcheck(lambda a, b: cr.tanh(a @ b), a, b, fast=True)


def test_fast_mode_is_seeded():
    x = np.random.default_rng(3).standard_normal(3000)
    assert cr.gradcheck(lambda x: (x ** 3).sum(), x, seed=1)
    assert cr.gradcheck(lambda x: (x ** 3).sum(), x, seed=2)


# ---------------------------------------------------------------------------
# gradcheck of a function that differentiates inside (a gradgradcheck)
# ---------------------------------------------------------------------------
def test_gradcheck_of_a_gradient_function():
    def first_derivative(x):
        (g,) = cr.autograd.grad((x ** 3).sum() + x.sin().sum(), x, create_graph=True)
        return g

    assert cr.gradcheck(first_derivative, np.array([0.5, -1.0, 2.0]))
