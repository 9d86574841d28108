"""PyTorch as an oracle: values and gradients of ops and compositions in float64,
including the tie-breaking rules where chainrule follows PyTorch."""

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def compare(cr_fn, torch_fn, *arrays, seed=0, rtol=1e-10, atol=1e-12):
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = cr_fn(*xs), torch_fn(*ts)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=rtol, atol=atol)
    w = np.random.default_rng(seed).standard_normal(out.shape)
    (out * cr.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    for i, (x, t) in enumerate(zip(xs, ts)):
        expected = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        got = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i}")


def rand(*shape, seed=0, low=None):
    x = np.random.default_rng(seed + 17 * len(shape)).standard_normal(shape)
    return np.abs(x) + low if low is not None else x


KINKY = np.array([-2.0, -1.0, -0.5, 0.0, 0.0, 0.5, 1.0, 3.0])

UNARY = [
    ("exp", cr.exp, torch.exp, rand(3, 4)),
    ("log", cr.log, torch.log, rand(3, 4, low=0.1)),
    ("sqrt", cr.sqrt, torch.sqrt, rand(3, 4, low=0.1)),
    ("abs", cr.abs, torch.abs, KINKY),
    ("tanh", cr.tanh, torch.tanh, rand(3, 4)),
    ("sigmoid", cr.sigmoid, torch.sigmoid, np.array([-800.0, -40.0, -1.0, 0.0, 2.0, 40.0, 800.0])),
    ("sin", cr.sin, torch.sin, rand(5)),
    ("cos", cr.cos, torch.cos, rand(5)),
    ("relu", cr.relu, torch.relu, KINKY),
    ("leaky_relu", lambda x: cr.leaky_relu(x, 0.2),
     lambda x: torch.nn.functional.leaky_relu(x, 0.2), KINKY),
    ("neg", lambda x: -x, lambda x: -x, rand(3)),
    ("pow2", lambda x: x ** 2, lambda x: x ** 2, KINKY),
    ("pow3", lambda x: x ** 3, lambda x: x ** 3, KINKY),
    ("pow_half", lambda x: x ** 0.5, lambda x: x ** 0.5, rand(4, low=0.1)),
    ("pow_neg", lambda x: x ** -2.0, lambda x: x ** -2.0, rand(4, low=0.1)),
    ("rpow", lambda x: 3.0 ** x, lambda x: 3.0 ** x, rand(4)),
    ("clip", lambda x: cr.clip(x, -1.0, 0.5), lambda x: torch.clamp(x, -1.0, 0.5), KINKY),
    ("clip_min", lambda x: cr.clip(x, min=0.0), lambda x: torch.clamp(x, min=0.0), KINKY),
    ("clip_max", lambda x: x.clip(max=-0.5), lambda x: torch.clamp(x, max=-0.5), KINKY),
    ("sign_mul", lambda x: cr.sign(x) * x, lambda x: torch.sign(x) * x, KINKY),
]


@pytest.mark.parametrize("name,fn,tfn,x", UNARY, ids=[u[0] for u in UNARY])
def test_unary(name, fn, tfn, x):
    compare(fn, tfn, x)


def test_pow_zero_exponent_at_zero():
    compare(lambda x: x ** 0, lambda x: x ** 0, np.array([0.0, 1.0, -2.0]))


BINARY = [
    ("add", lambda a, b: a + b, (3, 1), (1, 4)),
    ("sub", lambda a, b: a - b, (4,), (2, 3, 4)),
    ("mul", lambda a, b: a * b, (2, 3), ()),
    ("div", lambda a, b: a / b, (2, 3), (3,)),
    ("pow", lambda a, b: a ** b, (2, 3), (3,)),
    ("maximum", None, (3, 1), (1, 4)),
    ("minimum", None, (2, 3), (2, 3)),
]


@pytest.mark.parametrize("name,fn,sa,sb", BINARY, ids=[b[0] for b in BINARY])
def test_binary_broadcasting(name, fn, sa, sb):
    a, b = rand(*sa, seed=1), rand(*sb, seed=2)
    if name == "pow":
        a = np.abs(a) + 0.2
    if name == "div":
        b = np.abs(b) + 0.5
    if fn is None:
        compare(getattr(cr, name), getattr(torch, name), a, b)
    else:
        compare(fn, fn, a, b)


def test_pow_tensor_exponent_at_zero_base():
    a = np.array([0.0, 0.0, 2.0, 0.5])
    b = np.array([2.0, 3.0, 0.5, -1.0])
    compare(lambda a, b: a ** b, lambda a, b: a ** b, a, b)


def test_maximum_minimum_ties():
    a = np.array([1.0, 2.0, 3.0, 0.0, -1.0])
    b = np.array([1.0, 5.0, 3.0, 0.0, -2.0])
    compare(cr.maximum, torch.maximum, a, b)
    compare(cr.minimum, torch.minimum, a, b)
    compare(lambda a: cr.maximum(a, cr.tensor(0.0, dtype="float64")),
            lambda a: torch.maximum(a, torch.tensor(0.0, dtype=torch.float64)), KINKY)


def test_where():
    a, b = rand(3, 4, seed=3), rand(4, seed=4)
    compare(lambda a, b: cr.where(a > 0, a, b), lambda a, b: torch.where(a > 0, a, b), a, b)


def _t_axis(axis):
    return tuple(range(3)) if axis is None else axis


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)], ids=str)
def test_reductions(axis, keepdims):
    x = rand(2, 3, 4, seed=5)
    ax = _t_axis(axis)
    compare(lambda x: x.sum(axis=axis, keepdims=keepdims), lambda x: x.sum(ax, keepdims), x)
    compare(lambda x: x.mean(axis=axis, keepdims=keepdims), lambda x: x.mean(ax, keepdims), x)
    compare(lambda x: x.max(axis=axis, keepdims=keepdims),
            lambda x: torch.amax(x, ax, keepdims), x)
    compare(lambda x: x.min(axis=axis, keepdims=keepdims),
            lambda x: torch.amin(x, ax, keepdims), x)
    compare(lambda x: cr.logsumexp(x, axis=axis, keepdims=keepdims),
            lambda x: torch.logsumexp(x, ax, keepdims), x)


def test_max_min_reduction_ties_match_amax():
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 1.0], [5.0, 5.0, 5.0, 5.0]])
    for axis in (None, 0, 1):
        ax = (0, 1) if axis is None else axis
        compare(lambda x, a=axis: x.max(axis=a), lambda x, a=ax: torch.amax(x, a), x)
        compare(lambda x, a=axis: x.min(axis=a), lambda x, a=ax: torch.amin(x, a), x)


@pytest.mark.parametrize("correction", [0, 1])
@pytest.mark.parametrize("axis", [None, 0, (0, 2)], ids=str)
def test_var_std(axis, correction):
    x = rand(2, 3, 4, seed=6)
    ax = _t_axis(axis)
    compare(lambda x: cr.var(x, axis=axis, correction=correction),
            lambda x: torch.var(x, ax, correction=correction), x)
    compare(lambda x: cr.std(x, axis=axis, correction=correction, keepdims=True),
            lambda x: torch.std(x, ax, correction=correction, keepdim=True), x)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_log_softmax(axis):
    x = rand(3, 4, 5, seed=7) * 3
    compare(lambda x: cr.softmax(x, axis=axis), lambda x: torch.softmax(x, axis), x)
    compare(lambda x: cr.log_softmax(x, axis=axis), lambda x: torch.log_softmax(x, axis), x)


def test_softmax_large_logits():
    x = np.array([[1000.0, 0.0, -1000.0], [3.0, 3.0, 3.0]])
    compare(lambda x: cr.softmax(x, axis=1), lambda x: torch.softmax(x, 1), x)
    compare(lambda x: cr.log_softmax(x, axis=1), lambda x: torch.log_softmax(x, 1), x)
    compare(lambda x: cr.logsumexp(x, axis=1), lambda x: torch.logsumexp(x, 1), x)


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((3,), (3, 4)), ((3, 4), (4,)),
                                   ((2, 3), (3, 4)), ((2, 1, 3, 4), (5, 4, 2)),
                                   ((3,), (2, 3, 4)), ((2, 3, 4), (4,))], ids=str)
def test_matmul(sa, sb):
    compare(lambda a, b: a @ b, lambda a, b: a @ b, rand(*sa, seed=8), rand(*sb, seed=9))


def test_dot_outer_transpose():
    compare(cr.dot, torch.dot, rand(4, seed=1), rand(4, seed=2))
    compare(cr.outer, torch.outer, rand(3, seed=1), rand(4, seed=2))
    compare(lambda x: x.T * 2, lambda x: x.T * 2, rand(3, 4))
    compare(lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1), rand(2, 3, 4))
    compare(lambda x: x.transpose(0, 2), lambda x: x.transpose(0, 2), rand(2, 3, 4))


def test_shape_ops():
    x = rand(2, 3, 4)
    compare(lambda x: x.reshape(4, 6), lambda x: x.reshape(4, 6), x)
    compare(lambda x: x.flatten(1), lambda x: x.flatten(1), x)
    compare(lambda x: x.unsqueeze(1).expand(2, 5, 3, 4), lambda x: x.unsqueeze(1).expand(2, 5, 3, 4),
            x)
    compare(lambda x: x.squeeze(1), lambda x: x.squeeze(1), rand(3, 1, 2))
    compare(lambda a, b: cr.concatenate([a, b], axis=1), lambda a, b: torch.cat([a, b], 1),
            rand(2, 3), rand(2, 5))
    compare(lambda a, b: cr.stack([a, b], axis=-1), lambda a, b: torch.stack([a, b], -1),
            rand(2, 3), rand(2, 3, seed=4))
    compare(lambda x: cr.split(x, 2)[1] * cr.split(x, 2)[0],
            lambda x: torch.split(x, 2)[1] * torch.split(x, 2)[0], rand(4, 3))
    compare(lambda x: cr.chunk(x, 3, axis=1)[2], lambda x: torch.chunk(x, 3, 1)[2], rand(2, 6))


def test_indexing():
    x = rand(4, 5)
    mask = x > 0
    for cr_idx, t_idx in [((slice(1, None), slice(None, None, 2)),) * 2,
                          ([0, 0, 2],) * 2,
                          ((slice(None), [3, 3, 1]),) * 2,
                          (([0, 1, 1], [2, 2, 4]),) * 2,
                          (mask, torch.tensor(mask)),
                          ((Ellipsis, 0),) * 2,
                          ((None, 1),) * 2,
                          (-1, -1)]:
        compare(lambda x, i=cr_idx: x[i], lambda x, i=t_idx: x[i], x)
    compare(lambda x: x[::-1], lambda x: torch.flip(x, (0,)), x)


def test_composition_mlp_cross_entropy():
    rng = np.random.default_rng(10)
    X, W1, b1 = rng.standard_normal((6, 4)), rng.standard_normal((4, 5)), rng.standard_normal(5)
    W2, labels = rng.standard_normal((5, 3)), np.array([0, 2, 1, 1, 0, 2])

    def cr_loss(W1, b1, W2):
        h = cr.tanh(cr.tensor(X) @ W1 + b1)
        logp = cr.log_softmax(h @ W2, axis=1)
        return -logp[np.arange(6), labels].mean()

    def t_loss(W1, b1, W2):
        h = torch.tanh(torch.tensor(X) @ W1 + b1)
        return torch.nn.functional.cross_entropy(h @ W2, torch.tensor(labels))

    compare(cr_loss, t_loss, W1, b1, W2)


def test_composition_layernorm_attention():
    rng = np.random.default_rng(11)
    x, q, k = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 4)), rng.standard_normal((4, 4))

    def cr_f(x, q, k):
        mu = x.mean(axis=-1, keepdims=True)
        xn = (x - mu) / cr.sqrt(cr.var(x, axis=-1, keepdims=True, correction=0) + 1e-5)
        att = cr.softmax((xn @ q) @ (xn @ k).mT / 2.0, axis=-1)
        return cr.relu(att @ xn) + cr.maximum(xn, 0.1 * xn)

    def t_f(x, q, k):
        xn = torch.nn.functional.layer_norm(x, (4,), eps=1e-5)
        att = torch.softmax((xn @ q) @ (xn @ k).mT / 2.0, -1)
        return torch.relu(att @ xn) + torch.maximum(xn, 0.1 * xn)

    compare(cr_f, t_f, x, q, k, rtol=1e-9, atol=1e-10)


def test_second_derivatives_match():
    rng = np.random.default_rng(12)
    a, v = rng.standard_normal((3, 3)), rng.standard_normal(3)
    x0 = rng.standard_normal(3)

    def f(x, lib):
        m = cr.tensor(a) if lib is cr else torch.tensor(a)
        return (lib.tanh(m @ x) ** 2).sum() + lib.sigmoid(x).sum() * lib.exp(x[0])

    x = cr.tensor(x0, requires_grad=True)
    (g,) = cr.autograd.grad(f(x, cr), x, create_graph=True)
    (hv,) = cr.autograd.grad((g * cr.tensor(v)).sum(), x)
    tx = torch.tensor(x0, requires_grad=True)
    (tg,) = torch.autograd.grad(f(tx, torch), tx, create_graph=True)
    (thv,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), tx)
    np.testing.assert_allclose(g.numpy(), tg.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(hv.numpy(), thv.numpy(), rtol=1e-10)


def test_accumulation_semantics_match():
    x0 = np.array([1.0, -2.0, 3.0])
    x, tx = cr.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    for lib, t in ((cr, x), (torch, tx)):
        b = t + t
        c = b * b + lib.exp(b).sum()
        c.sum().backward(retain_graph=True)
        c.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_pow_tensor_exponent_zero_at_zero_base():
    # d/dx x ** y at x = 0, y = 0 is 0 (as PyTorch), not 0 * inf = nan
    compare(lambda a, b: a ** b, lambda a, b: a ** b, np.array([0.0, 0.0, 1.5]), np.array([0.0, 1.0, 0.0]))
