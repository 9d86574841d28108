"""Property-based tests (hypothesis): random chains of ops over random broadcastable
shapes, checked with gradcheck, and invariants of the backward pass.

Values come from a NumPy generator seeded by hypothesis (so no exact ties between
independent values) and every op in a chain is smooth on all of R (log and sqrt only
see x*x + 1, division only by y*y + 1), so central differences are trustworthy.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
MAX_SIZE = 36

UNARY = {
    "tanh": cr.tanh,
    "sigmoid": cr.sigmoid,
    "sin": cr.sin,
    "cos": lambda x: x.cos(),
    "neg": lambda x: -x,
    "scale": lambda x: 0.5 * x - 0.25,
    "x_tanh_x": lambda x: x * cr.tanh(x),
    "exp_tanh": lambda x: cr.exp(cr.tanh(x)),
    "log1p_sq": lambda x: cr.log(x * x + 1),
    "sqrt_sq1": lambda x: cr.sqrt(x * x + 1),
    "softplus": lambda x: cr.log(cr.exp(cr.tanh(x)) + 1.0),
    "pow_sq1": lambda x: (x * x + 1) ** 0.75,
    "rdiv": lambda x: 1.0 / (x * x + 1),
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1),
    "pow": lambda a, b: (a * a + 1) ** cr.tanh(b),
    "maximum": cr.maximum,
    "minimum": cr.minimum,
    "where": lambda a, b: cr.where(b > 0, a, b * 2),
    "stack_sum": lambda a, b: cr.stack([a + 0 * b, b + 0 * a]).sum(axis=0),
}
SHAPES = [(), (1,), (3,), (4,), (2, 3), (3, 1), (1, 4), (2, 1, 3), (2, 2, 2)]


def _partner_shape(draw, shape):
    """A shape that broadcasts with ``shape``: drop leading dims, set some to 1, maybe
    add a leading dim (then the result grows)."""
    n = len(shape)
    drop = draw(st.integers(0, n))
    dims = [1 if draw(st.booleans()) else d for d in shape[drop:]]
    if drop == 0 and draw(st.integers(0, 3)) == 0:
        dims = [2] + dims
    out = tuple(dims)
    if int(np.prod(np.broadcast_shapes(shape, out))) > MAX_SIZE:
        return shape
    return out


@st.composite
def chains(draw):
    """A random program: steps over one initial input and one new input per binary op."""
    seed = draw(st.integers(0, 2 ** 31 - 1))
    rng = np.random.default_rng(seed)
    shape = draw(st.sampled_from(SHAPES))
    arrays = [rng.standard_normal(shape)]
    steps = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["unary", "unary", "binary", "binary", "reduce", "shape"]))
        if kind == "unary":
            steps.append(("unary", draw(st.sampled_from(sorted(UNARY)))))
        elif kind == "binary":
            other = _partner_shape(draw, shape)
            arrays.append(rng.standard_normal(other))
            swap = draw(st.booleans())
            steps.append(("binary", draw(st.sampled_from(sorted(BINARY))), len(arrays) - 1,
                          swap))
            shape = np.broadcast_shapes(shape, other)
        elif kind == "reduce" and shape:
            name = draw(st.sampled_from(["sum", "mean", "max", "min", "logsumexp", "softmax",
                                         "log_softmax", "var"]))
            axis = draw(st.sampled_from([None, *range(-len(shape), len(shape))]))
            keep = draw(st.booleans())
            if name in ("softmax", "log_softmax"):
                axis = -1 if axis is None else axis
            if name == "var" and (int(np.prod(shape if axis is None else shape[axis])) < 2):
                name = "mean"
            steps.append(("reduce", name, axis, keep))
            shape = np.empty(shape)
            if name in ("softmax", "log_softmax"):
                shape = shape.shape
            else:
                shape = np.sum(shape, axis=axis, keepdims=keep).shape
        elif kind == "shape" and shape:
            name = draw(st.sampled_from(["T", "flatten", "flip", "unsqueeze", "index",
                                         "repeat_index"]))
            steps.append(("shape", name))
            shape = _apply_shape(name, np.empty(shape)).shape
    return arrays, steps


def _apply_shape(name, x):
    if name == "T":
        return x.T
    if name == "flatten":
        return x.reshape(-1)
    if name == "flip":
        return x[::-1]
    if name == "unsqueeze":
        return x[None]
    if name == "index":
        return x[..., :1] if x.shape[-1] > 1 else x[..., 0]
    if name == "repeat_index":
        return x[[0, 0, x.shape[0] - 1]]
    raise AssertionError(name)


def _run(steps, xs):
    y = xs[0]
    for step in steps:
        if step[0] == "unary":
            y = UNARY[step[1]](y)
        elif step[0] == "binary":
            _, name, i, swap = step
            y = BINARY[name](xs[i], y) if swap else BINARY[name](y, xs[i])
        elif step[0] == "reduce":
            _, name, axis, keep = step
            if name in ("softmax", "log_softmax"):
                y = getattr(cr, name)(y, axis=axis)
            else:
                y = getattr(cr, name)(y, axis=axis, keepdims=keep)
        else:
            y = _apply_shape(step[1], y)
    return y


@SETTINGS
@given(chains())
def test_random_chains_pass_gradcheck(program):
    arrays, steps = program
    out = _run(steps, [cr.tensor(a) for a in arrays])
    assert np.all(np.isfinite(out.numpy()))
    assert cr.gradcheck(lambda *xs: _run(steps, xs), *arrays, atol=1e-5, rtol=1e-3)


@SETTINGS
@given(chains())
def test_random_chains_forward_matches_float32_run(program):
    """The same program in float32 stays float32 and close to the float64 result."""
    arrays, steps = program
    xs32 = [cr.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    out32 = _run(steps, xs32)
    assert out32.dtype == np.float32
    out64 = _run(steps, [cr.tensor(a) for a in arrays])
    np.testing.assert_allclose(out32.numpy(), out64.numpy(), rtol=1e-3, atol=1e-4)
    out32.sum().backward()
    for x in xs32:
        if x.grad is not None:
            assert x.grad.shape == x.shape
            assert x.grad.dtype == np.float32, steps


shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


@SETTINGS
@given(shapes, st.integers(0, 2 ** 31 - 1))
def test_grad_of_sum_is_ones_and_of_mean_is_one_over_n(shape, seed):
    v = np.random.default_rng(seed).standard_normal(shape)
    x = cr.tensor(v, requires_grad=True)
    x.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(shape))
    x.grad = None
    x.mean().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(shape, 1 / max(v.size, 1)))


@st.composite
def broadcast_pairs(draw):
    small = draw(shapes)
    big = list(small)
    big = [d if d != 1 else draw(st.integers(1, 3)) for d in big]
    big = [draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2)))] + big
    return small, tuple(big)


@SETTINGS
@given(broadcast_pairs())
def test_broadcast_gradient_counts_copies(pair):
    small, big = pair
    x = cr.tensor(np.ones(small), requires_grad=True)
    (x + cr.zeros(big, dtype="float64")).sum().backward()
    copies = int(np.prod(np.broadcast_shapes(small, big))) // max(int(np.prod(small)), 1)
    np.testing.assert_array_equal(x.grad.numpy(), np.full(small, copies))
    y = cr.tensor(np.ones(small), requires_grad=True)
    cr.broadcast_to(y, np.broadcast_shapes(small, big)).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), x.grad.numpy())


@SETTINGS
@given(chains(), st.floats(-2, 2), st.floats(-2, 2))
def test_backward_is_linear_in_the_seed(program, a, b):
    arrays, steps = program
    xs = [cr.tensor(v, requires_grad=True) for v in arrays]
    y = _run(steps, xs)
    rng = np.random.default_rng(0)
    u, v = rng.standard_normal(y.shape), rng.standard_normal(y.shape)

    def vjp(seed):
        return cr.autograd.grad(y, xs, grad_outputs=seed, retain_graph=True, allow_unused=True)

    for gu, gv, guv in zip(vjp(u), vjp(v), vjp(a * u + b * v)):
        if guv is None:
            assert gu is None and gv is None
            continue
        np.testing.assert_allclose(guv.numpy(), a * gu.numpy() + b * gv.numpy(),
                                   rtol=1e-9, atol=1e-9)


@SETTINGS
@given(chains())
def test_backward_calls_accumulate_and_match_autograd_grad(program):
    arrays, steps = program
    xs = [cr.tensor(v, requires_grad=True) for v in arrays]
    loss = (_run(steps, xs) ** 2).sum()
    expected = cr.autograd.grad(loss, xs, retain_graph=True, allow_unused=True)
    loss.backward(retain_graph=True)
    loss.backward()
    for x, e in zip(xs, expected):
        if e is None:
            assert x.grad is None
        else:
            np.testing.assert_allclose(x.grad.numpy(), 2 * e.numpy(), rtol=1e-12)


@SETTINGS
@given(chains())
def test_create_graph_first_derivative_equals_plain_one(program):
    arrays, steps = program
    xs = [cr.tensor(v, requires_grad=True) for v in arrays]
    loss = _run(steps, xs).sum()
    plain = cr.autograd.grad(loss, xs, retain_graph=True, allow_unused=True)
    graph = cr.autograd.grad(loss, xs, create_graph=True, allow_unused=True)
    for p, g in zip(plain, graph):
        assert (p is None) == (g is None)
        if p is not None:
            np.testing.assert_allclose(g.numpy(), p.numpy(), rtol=1e-12, atol=1e-14)


@SETTINGS
@given(st.integers(1, 6), st.lists(st.integers(0, 5), min_size=1, max_size=12),
       st.integers(0, 2 ** 31 - 1))
def test_indexing_with_repeats_scatters_counts(n, raw, seed):
    idx = [i % n for i in raw]
    w = np.random.default_rng(seed).standard_normal(len(idx))
    x = cr.tensor(np.zeros(n), requires_grad=True)
    (x[idx] * cr.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.bincount(idx, weights=w, minlength=n))


@SETTINGS
@given(st.integers(0, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.booleans(), st.booleans(), st.integers(0, 2 ** 31 - 1))
def test_matmul_random_shapes(batch, m, k, n, vec_a, vec_b, seed):
    rng = np.random.default_rng(seed)
    bshape = tuple(rng.integers(1, 3, size=batch))
    bshape_b = tuple(d if rng.random() < 0.5 else 1 for d in bshape)
    sa = (k,) if vec_a else bshape + (m, k)
    sb = (k,) if vec_b else bshape_b + (k, n)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    out = cr.tensor(a) @ cr.tensor(b)
    np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-12)
    assert cr.gradcheck(lambda a, b: a @ b, a, b)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)], ids=str)
def test_chain_program_runner_smoke(shape):
    # the runner itself, on a fixed program: tanh -> mul broadcast -> sum(axis=-1)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape), rng.standard_normal((2,) + shape)]
    steps = [("unary", "tanh"), ("binary", "mul", 1, False), ("reduce", "sum", None, False)]
    assert cr.gradcheck(lambda *xs: _run(steps, xs), *arrays)
