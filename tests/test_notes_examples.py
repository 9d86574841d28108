"""The worked examples of the notes on backpropagation, each as a test."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr


def leaf(v):
    return cr.tensor(v, dtype="float64", requires_grad=True)


def sig(v):
    return 1 / (1 + np.exp(-v))


def test_add_then_multiply_circuit():
    """f(x, y, z) = (x + y) z at (-2, 5, -4)."""
    x, y, z = leaf(-2.0), leaf(5.0), leaf(-4.0)
    q = x + y
    f = q * z
    assert q.item() == 3.0 and f.item() == -12.0
    f.backward()
    assert (x.grad.item(), y.grad.item(), z.grad.item()) == (-4.0, -4.0, 3.0)


def test_add_then_multiply_circuit_float32_default():
    x, y, z = (cr.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    f = (x + y) * z
    f.backward()
    assert f.item() == -12.0
    assert [t.grad.item() for t in (x, y, z)] == [-4.0, -4.0, 3.0]


def test_sigmoid_neuron():
    """sigma(w0 x0 + w1 x1 + w2) at w = (2, -3, -3), x = (-1, -2)."""
    w = leaf([2.0, -3.0, -3.0])
    x = leaf([-1.0, -2.0])
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = cr.sigmoid(dot)
    assert dot.item() == 1.0
    assert f.item() == pytest.approx(0.73, abs=0.005)
    local = (1 - f.item()) * f.item()  # the local gradient of the sigmoid gate
    assert local == pytest.approx(0.2, abs=0.005)
    f.backward()
    np.testing.assert_allclose(w.grad.numpy(), [-0.2, -0.39, 0.2], atol=0.005)
    np.testing.assert_allclose(x.grad.numpy(), [0.39, -0.59], atol=0.005)
    # exactly: dsigma = sigma (1 - sigma) times the inputs of each product
    s = sig(1.0) * (1 - sig(1.0))
    np.testing.assert_allclose(w.grad.numpy(), [-s, -2 * s, s], rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), [2 * s, -3 * s], rtol=1e-12)


def test_sigmoid_neuron_staged_like_the_notes():
    """The same neuron written gate by gate (exp, +1, 1/x), as the notes draw it."""
    w0, x0, w1, x1, w2 = (leaf(v) for v in (2.0, -1.0, -3.0, -2.0, -3.0))
    f = 1.0 / (1.0 + cr.exp(-(w0 * x0 + w1 * x1 + w2)))
    f.backward()
    grads = [t.grad.item() for t in (w0, x0, w1, x1, w2)]
    np.testing.assert_allclose(grads, [-0.2, 0.39, -0.39, -0.59, 0.2], atol=0.005)


def test_sigmoid_neuron_as_matmul():
    w = leaf([[2.0, -3.0]])
    b = leaf([-3.0])
    x = leaf([-1.0, -2.0])
    f = cr.sigmoid(w @ x + b).sum()
    f.backward()
    np.testing.assert_allclose(w.grad.numpy(), [[-0.2, -0.39]], atol=0.005)
    np.testing.assert_allclose(b.grad.numpy(), [0.2], atol=0.005)
    np.testing.assert_allclose(x.grad.numpy(), [0.39, -0.59], atol=0.005)


def test_norm_of_matrix_vector_product():
    """f = ||W x||^2: grad_W f = 2 q x^T and grad_x f = 2 W^T q with q = W x."""
    rng = np.random.default_rng(0)
    for shape in ((3, 4), (1, 1), (5, 2)):
        w0, x0 = rng.standard_normal(shape), rng.standard_normal(shape[1])
        W, x = leaf(w0), leaf(x0)
        q = W @ x
        f = (q * q).sum()
        f.backward()
        qv = w0 @ x0
        assert f.item() == pytest.approx(qv @ qv)
        np.testing.assert_allclose(W.grad.numpy(), 2 * np.outer(qv, x0), rtol=1e-12)
        np.testing.assert_allclose(x.grad.numpy(), 2 * w0.T @ qv, rtol=1e-12)


def test_fourth_power_through_composed_graph():
    """a^4 = (a^2)^2: backprop through the composition gives 4 a^3."""
    for v in (-1.5, 0.0, 0.3, 2.0):
        a = leaf(v)
        b = a * a
        c = b * b
        c.backward()
        assert a.grad.item() == pytest.approx(4 * v ** 3)
        a2 = leaf(v)
        ((a2 ** 2) ** 2).backward()
        assert a2.grad.item() == pytest.approx(4 * v ** 3)


finite = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(w=finite, x=finite, b=finite, t=st.floats(0.0, 1.0), lam=st.floats(0.0, 2.0))
def test_logistic_neuron_with_l2(w, x, b, t, lam):
    """z = w x + b, y = sigma(z), L = 1/2 (y - t)^2 + lam/2 w^2."""
    W, B = leaf(w), leaf(b)
    z = W * x + B
    y = cr.sigmoid(z)
    L = 0.5 * (y - t) ** 2 + lam / 2 * W ** 2
    L.backward()
    s = sig(w * x + b)
    ds = s * (1 - s)
    assert L.item() == pytest.approx(0.5 * (s - t) ** 2 + lam / 2 * w ** 2, abs=1e-12)
    assert W.grad.item() == pytest.approx((s - t) * ds * x + lam * w, abs=1e-12)
    assert B.grad.item() == pytest.approx((s - t) * ds, abs=1e-12)


def test_logistic_neuron_with_l2_seeded_vectors():
    rng = np.random.default_rng(3)
    for _ in range(20):
        w, x, b, t = rng.standard_normal(4)
        lam = rng.uniform(0, 1)
        W, B = leaf(w), leaf(b)
        L = 0.5 * (cr.sigmoid(W * x + B) - t) ** 2 + (lam / 2) * W * W
        gw, gb = cr.autograd.grad(L, [W, B])
        s = sig(w * x + b)
        np.testing.assert_allclose(gw.item(), (s - t) * s * (1 - s) * x + lam * w, rtol=1e-12)
        np.testing.assert_allclose(gb.item(), (s - t) * s * (1 - s), rtol=1e-12)


def test_add_gate_distributes():
    x, y = leaf(3.0), leaf(-7.0)
    f = (x + y) * 5.0  # upstream gradient 5
    f.backward()
    assert x.grad.item() == 5.0 and y.grad.item() == 5.0


def test_max_gate_routes():
    x, y = leaf(3.0), leaf(-7.0)
    f = cr.maximum(x, y) * 5.0
    f.backward()
    assert x.grad.item() == 5.0 and y.grad.item() == 0.0
    z, w = leaf(-1.0), leaf(2.0)
    (cr.maximum(z, w) * 5.0).backward()
    assert z.grad.item() == 0.0 and w.grad.item() == 5.0


def test_multiply_gate_switches():
    x, y = leaf(3.0), leaf(-7.0)
    f = (x * y) * 5.0
    f.backward()
    assert x.grad.item() == 5.0 * -7.0 and y.grad.item() == 5.0 * 3.0


def test_gates_together():
    """The notes' circuit 2 (x y + max(z, w)): each gate does its own thing."""
    x, y, z, w = leaf(3.0), leaf(-4.0), leaf(2.0), leaf(-1.0)
    f = (x * y + cr.maximum(z, w)) * 2.0
    f.backward()
    assert [t.grad.item() for t in (x, y, z, w)] == [-8.0, 6.0, 2.0, 0.0]
