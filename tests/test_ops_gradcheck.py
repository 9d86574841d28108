"""Every building block's gradient against central finite differences (float64).

The cases are tables of (id, function, input shapes, input domains): random inputs are
drawn from a seeded generator in a domain where the op is smooth (positive for log and
sqrt, away from kinks for abs / relu / clip, no ties for max / maximum), then
``cr.gradcheck`` compares the backward pass with central differences. Broadcasting,
0-d tensors and size-1 dimensions are part of the tables. The second half checks
second derivatives (``create_graph=True``) against finite differences of the first
derivative, and the tie rules at the kinks.
"""

import numpy as np
import pytest

import chainrule as cr

# ---------------------------------------------------------------------------
# input domains
# ---------------------------------------------------------------------------
KINKS = {"clip": (-0.5, 0.5, 0.3, 0.0)}


def _away(x, points, gap=0.05):
    """Move values that lie within ``gap`` of a kink out of its neighbourhood."""
    x = np.array(x, dtype=np.float64)
    for p in points:
        close = np.abs(x - p) < gap
        x[close] = p + 2 * gap * np.where(x[close] >= p, 1, -1)
    return x


def draw(rng, shape, domain="any"):
    x = rng.standard_normal(shape)
    if domain == "pos":
        return np.abs(x) + 0.5
    if domain == "nonzero":  # away from the kink at 0 (abs, relu, leaky_relu, division)
        return _away(x, (0.0,), 0.2)
    if domain == "clip":
        return _away(x, KINKS["clip"])
    if domain == "unit":
        return rng.uniform(-0.9, 0.9, shape)
    assert domain == "any", domain
    return x


def inputs(seed, shapes, domains):
    rng = np.random.default_rng(seed)
    if isinstance(domains, str):
        domains = (domains,) * len(shapes)
    return [draw(rng, s, d) for s, d in zip(shapes, domains)]


def check(fn, shapes, domains="any", seed=0, **kw):
    assert cr.gradcheck(fn, *inputs(seed, shapes, domains), **kw) is True


# ---------------------------------------------------------------------------
# elementwise unary ops
# ---------------------------------------------------------------------------
UNARY = [
    ("neg", lambda x: -x, "any"),
    ("neg_fn", cr.neg, "any"),
    ("pos", lambda x: +x * 2, "any"),
    ("exp", cr.exp, "any"),
    ("exp_method", lambda x: x.exp(), "any"),
    ("log", cr.log, "pos"),
    ("sqrt", cr.sqrt, "pos"),
    ("abs", cr.abs, "nonzero"),
    ("abs_builtin", lambda x: abs(x), "nonzero"),
    ("tanh", cr.tanh, "any"),
    ("sigmoid", cr.sigmoid, "any"),
    ("sigmoid_method", lambda x: (x * 3).sigmoid(), "any"),
    ("sin", cr.sin, "any"),
    ("cos", cr.cos, "any"),
    ("relu", cr.relu, "nonzero"),
    ("relu_method", lambda x: x.relu(), "nonzero"),
    ("leaky_relu", lambda x: cr.leaky_relu(x, 0.1), "nonzero"),
    ("leaky_relu_default", cr.leaky_relu, "nonzero"),
    ("pow2", lambda x: x ** 2, "any"),
    ("pow3", lambda x: x ** 3, "any"),
    ("pow_int0", lambda x: x ** 1 + x ** 0, "any"),
    ("pow_half", lambda x: x ** 0.5, "pos"),
    ("pow_neg", lambda x: x ** -1.5, "pos"),
    ("pow_npscalar", lambda x: x ** np.float64(2.5), "pos"),
    ("pow_fn", lambda x: cr.pow(x, 3), "any"),
    ("rpow", lambda x: 2.0 ** x, "any"),
    ("clip_both", lambda x: cr.clip(x, -0.5, 0.5), "clip"),
    ("clip_min", lambda x: cr.clip(x, min=0.0), "clip"),
    ("clip_max", lambda x: x.clip(max=0.3), "clip"),
    ("clamp", lambda x: x.clamp(-0.5, 0.3), "clip"),
    ("sq_mul", lambda x: x * x, "any"),
]
UNARY_SHAPES = [(), (1,), (5,), (3, 4), (2, 1, 3)]


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name,fn,domain", UNARY, ids=[u[0] for u in UNARY])
def test_unary(name, fn, domain, shape):
    check(fn, [shape], domain)


# ---------------------------------------------------------------------------
# binary ops, with broadcasting
# ---------------------------------------------------------------------------
BINARY = [
    ("add", lambda a, b: a + b, ("any", "any")),
    ("add_fn", cr.add, ("any", "any")),
    ("sub", lambda a, b: a - b, ("any", "any")),
    ("sub_fn", cr.sub, ("any", "any")),
    ("mul", lambda a, b: a * b, ("any", "any")),
    ("div", lambda a, b: a / b, ("any", "nonzero")),
    ("div_fn", cr.div, ("any", "nonzero")),
    ("pow_tensor", lambda a, b: a ** b, ("pos", "any")),
    ("pow_tensor_fn", cr.pow, ("pos", "any")),
    ("maximum", cr.maximum, ("any", "any")),
    ("minimum", cr.minimum, ("any", "any")),
    ("maximum_method", lambda a, b: a.maximum(b), ("any", "any")),
    ("where", lambda a, b: cr.where(a > 0, a * 2, b), ("nonzero", "any")),
    ("mixed", lambda a, b: (a * b + a / (b * b + 1) - b).tanh(), ("any", "any")),
]
BINARY_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 1), (1, 4)),
    ((4,), (2, 3, 4)),
    ((2, 3, 4), (3, 1)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((), ()),
    ((2, 1, 3), (1,)),
    ((1, 1), (3, 1)),
]


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("name,fn,domains", BINARY, ids=[b[0] for b in BINARY])
def test_binary(name, fn, domains, shapes):
    check(fn, shapes, domains)


CONSTANT_OPERANDS = [
    ("radd", lambda x: 2 + x),
    ("rsub", lambda x: 1 - x),
    ("rmul", lambda x: 2.5 * x),
    ("rdiv", lambda x: 1 / (x * x + 1)),
    ("np_scalar_mul", lambda x: np.float64(0.5) * x),
    ("np_scalar_rsub", lambda x: np.float64(3.0) - x),
    ("np_array_mul", lambda x: x * np.arange(1.0, 5.0)),
    ("np_array_radd", lambda x: np.ones(4) + x),
    ("np_array_rdiv", lambda x: np.arange(1.0, 5.0) / (x * x + 1)),
    ("np_array_rpow", lambda x: np.full(4, 1.5) ** x),
    ("maximum_const", lambda x: cr.maximum(x, 0.1)),
    ("minimum_const_left", lambda x: cr.minimum(0.1, x)),
    ("where_const", lambda x: cr.where(x > 0, x, 0.0)),
    ("where_np_cond", lambda x: cr.where(np.array([True, False, True, False]), x, -x)),
]


@pytest.mark.parametrize("name,fn", CONSTANT_OPERANDS, ids=[c[0] for c in CONSTANT_OPERANDS])
def test_constant_operands(name, fn):
    check(fn, [(3, 4)], "nonzero")


# ---------------------------------------------------------------------------
# reductions
# ---------------------------------------------------------------------------
REDUCTIONS = [
    ("sum", cr.sum),
    ("mean", cr.mean),
    ("max", cr.max),
    ("min", cr.min),
    ("logsumexp", cr.logsumexp),
]
AXES = [None, 0, -1, 1, (0, 2), (2, 0), (0, 1, 2)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name,op", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reductions(name, op, axis, keepdims):
    check(lambda x: op(x, axis=axis, keepdims=keepdims), [(2, 3, 4)])


@pytest.mark.parametrize("name,op", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
@pytest.mark.parametrize("shape,axis", [((), None), ((1,), 0), ((3, 1, 2), 1), ((3, 1, 2), -1),
                                        ((1, 1), None), ((5,), -1)], ids=str)
def test_reductions_small_shapes(name, op, shape, axis):
    check(lambda x: op(x, axis=axis), [shape])
    check(lambda x: op(x, axis=axis, keepdims=True), [shape])


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "logsumexp"])
def test_reduction_methods(name):
    check(lambda x: getattr(x, name)(axis=1, keepdims=True) * 2, [(3, 4)])
    check(lambda x: getattr(x, name)(), [(3, 4)])


@pytest.mark.parametrize("op", [cr.softmax, cr.log_softmax], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,axis", [((5,), -1), ((5,), 0), ((2, 3, 4), -1), ((2, 3, 4), 0),
                                        ((2, 3, 4), 1), ((3, 1), -1), ((1, 4), 0)], ids=str)
def test_softmax(op, shape, axis):
    check(lambda x: op(x, axis=axis), [shape])


def test_softmax_default_axis_and_methods():
    check(lambda x: cr.softmax(x) * cr.log_softmax(x), [(3, 4)])
    check(lambda x: x.softmax(0) + x.log_softmax(axis=1), [(3, 4)])


@pytest.mark.parametrize("op", [cr.var, cr.std], ids=["var", "std"])
@pytest.mark.parametrize("axis,keepdims,correction", [
    (None, False, 1), (0, False, 1), (-1, True, 1), ((0, 2), False, 1), (1, False, 0),
    (None, True, 0)], ids=str)
def test_var_std(op, axis, keepdims, correction):
    check(lambda x: op(x, axis=axis, keepdims=keepdims, correction=correction), [(2, 3, 4)])


def test_var_std_methods():
    check(lambda x: x.var() + x.std(axis=0).sum(), [(4, 3)])


# ---------------------------------------------------------------------------
# linear algebra
# ---------------------------------------------------------------------------
MATMUL_SHAPES = [
    ((3,), (3,)),           # 1-D . 1-D -> 0-d
    ((3,), (3, 4)),         # 1-D . 2-D
    ((3, 4), (4,)),         # 2-D . 1-D
    ((2, 3), (3, 4)),       # 2-D . 2-D
    ((1, 3), (3, 1)),       # size-1 dimensions
    ((5, 2, 3), (3, 4)),    # batched . 2-D
    ((2, 3), (5, 3, 4)),    # 2-D . batched
    ((2, 1, 3, 4), (5, 4, 2)),  # broadcast batch dimensions
    ((2, 3, 4), (4,)),      # batched . 1-D
    ((3,), (2, 3, 4)),      # 1-D . batched
    ((2, 2, 3), (2, 3, 2)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    check(lambda a, b: a @ b, shapes)
    check(cr.matmul, shapes, seed=1)


def test_matmul_constant_operands():
    w = np.random.default_rng(3).standard_normal((4, 2))
    check(lambda x: x @ w, [(3, 4)])           # Tensor @ ndarray
    check(lambda x: w.T @ x, [(4, 5)])         # ndarray @ Tensor (reflected)
    check(lambda x: x.matmul(cr.tensor(w)), [(3, 4)])


def test_dot_outer():
    check(cr.dot, [(4,), (4,)])
    check(lambda a, b: a.dot(b), [(4,), (4,)])
    check(cr.outer, [(3,), (4,)])
    check(cr.outer, [(1,), (4,)])


# ---------------------------------------------------------------------------
# shape ops
# ---------------------------------------------------------------------------
SHAPE_OPS = [
    ("T", lambda x: x.T, (2, 3, 4)),
    ("mT", lambda x: x.mT, (2, 3, 4)),
    ("transpose", cr.transpose, (2, 3, 4)),
    ("transpose_swap", lambda x: x.transpose(0, 2), (2, 3, 4)),
    ("transpose_neg", lambda x: cr.transpose(x, -1, 0), (2, 3, 4)),
    ("transpose_perm", lambda x: x.transpose((2, 0, 1)), (2, 3, 4)),
    ("permute", lambda x: x.permute(2, 0, 1), (2, 3, 4)),
    ("permute_tuple", lambda x: cr.permute(x, (1, 2, 0)), (2, 3, 4)),
    ("swapaxes", lambda x: cr.swapaxes(x, 0, 1), (2, 3, 4)),
    ("T_2d", lambda x: x.T, (3, 4)),
    ("T_1d", lambda x: x.T, (4,)),
    ("reshape", lambda x: x.reshape(4, 6), (2, 3, 4)),
    ("reshape_tuple", lambda x: cr.reshape(x, (6, -1)), (2, 3, 4)),
    ("reshape_flat", lambda x: x.reshape(-1), (2, 3, 4)),
    ("reshape_0d", lambda x: x.reshape(()), (1, 1)),
    ("reshape_from_0d", lambda x: x.reshape(1, 1, 1), ()),
    ("view", lambda x: x.view(-1, 4), (2, 3, 4)),
    ("flatten", cr.flatten, (2, 3, 4)),
    ("flatten_1", lambda x: x.flatten(1), (2, 3, 4)),
    ("flatten_01", lambda x: x.flatten(0, 1), (2, 3, 4)),
    ("flatten_0d", cr.flatten, ()),
    ("squeeze", cr.squeeze, (3, 1, 2, 1)),
    ("squeeze_axis", lambda x: x.squeeze(1), (3, 1, 2, 1)),
    ("squeeze_neg", lambda x: x.squeeze(-1), (3, 1, 2, 1)),
    ("squeeze_tuple", lambda x: cr.squeeze(x, (1, 3)), (3, 1, 2, 1)),
    ("squeeze_all_ones", cr.squeeze, (1, 1)),
    ("unsqueeze0", lambda x: x.unsqueeze(0), (2, 3)),
    ("unsqueeze_neg", lambda x: cr.unsqueeze(x, -1), (2, 3)),
    ("unsqueeze_mid", lambda x: cr.expand_dims(x, 1), (2, 3)),
    ("unsqueeze_0d", lambda x: x.unsqueeze(0), ()),
    ("broadcast_to", lambda x: cr.broadcast_to(x, (2, 3, 4)), (3, 1)),
    ("broadcast_to_0d", lambda x: x.broadcast_to((2, 3)), ()),
    ("broadcast_to_same", lambda x: cr.broadcast_to(x, (3, 4)), (3, 4)),
    ("expand", lambda x: x.expand(2, -1, 4), (3, 1)),
    ("expand_tuple", lambda x: cr.expand(x, (3, 5)), (3, 1)),
]


@pytest.mark.parametrize("name,fn,shape", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_shape_ops(name, fn, shape):
    check(fn, [shape])


_MASK = np.random.default_rng(7).standard_normal((4, 5)) > 0
INDEXING = [
    ("int", lambda x: x[2]),
    ("neg_int", lambda x: x[-1]),
    ("scalar_element", lambda x: x[1, 3]),
    ("np_int", lambda x: x[np.int64(1)]),
    ("slices", lambda x: x[1:, ::2]),
    ("neg_step", lambda x: x[::-1]),
    ("neg_step_both", lambda x: x[::-2, 4:0:-3]),
    ("int_and_neg_step", lambda x: x[-1, ::-2]),
    ("ellipsis", lambda x: x[..., 0]),
    ("ellipsis_slice", lambda x: x[..., 1:3]),
    ("newaxis", lambda x: x[None, 1]),
    ("newaxis_mid", lambda x: x[:, None, 2:]),
    ("empty_tuple", lambda x: x[()]),
    ("int_list_repeats", lambda x: x[[0, 0, 2]]),
    ("int_list_repeats_slice", lambda x: x[[0, 0, 2], 1:]),
    ("int_list_cols", lambda x: x[:, [3, 3, 3, 0]]),
    ("int_array_2d", lambda x: x[np.array([[0, 1], [1, 1]])]),
    ("pairs", lambda x: x[[0, 1, 1], [2, 2, 4]]),
    ("pairs_neg", lambda x: x[np.array([-1, -1]), np.array([0, 0])]),
    ("tensor_index", lambda x: x[cr.tensor([3, 0, 3])]),
    ("bool_mask", lambda x: x[_MASK]),
    ("bool_rows", lambda x: x[np.array([True, False, True, True])]),
    ("bool_rows_list", lambda x: x[[True, False, False, True]]),
    ("bool_tensor_mask", lambda x: x[cr.tensor(_MASK)]),
    ("mask_from_values", lambda x: x[x > 0]),
]


@pytest.mark.parametrize("name,fn", INDEXING, ids=[i[0] for i in INDEXING])
def test_getitem(name, fn):
    check(fn, [(4, 5)])


def test_getitem_0d_and_1d():
    check(lambda x: x[()], [()])
    check(lambda x: x[None], [()])
    check(lambda x: x[[1, 1, 1, 0]], [(3,)])
    check(lambda x: x[::-1][1], [(3,)])


def test_getitem_repeated_indices_accumulate():
    x = cr.tensor(np.arange(5.0), requires_grad=True)
    x[[0, 0, 2, 0, 4, 4]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 0, 1, 0, 2])
    y = cr.tensor(np.zeros((2, 3)), requires_grad=True)
    (y[[1, 1], [2, 2]] * cr.tensor([1.0, 10.0])).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [[0, 0, 0], [0, 0, 11]])


def test_concatenate():
    cat = cr.concatenate
    check(lambda a, b, c: cat([a, b, c]), [(2, 3), (1, 3), (4, 3)])
    check(lambda a, b: cat([a, b], axis=1), [(2, 1), (2, 3)])
    check(lambda a, b: cat((a, b), axis=-1), [(2, 3, 1), (2, 3, 2)])
    check(lambda a: cat([a, a * 2, a], axis=0), [(2, 2)])  # one input used three times
    check(lambda a: cat([a]), [(3,)])


def test_stack():
    check(lambda a, b, c: cr.stack([a, b, c]), [(2, 3)] * 3)
    check(lambda a, b: cr.stack([a, b], axis=-1), [(2, 3)] * 2)
    check(lambda a, b: cr.stack([a, b], axis=1), [(2, 3)] * 2)
    check(lambda a, b: cr.stack([a, b, a]), [(), ()])


def _weighted(pieces):
    return cr.stack([(p * (i + 1)).sum() for i, p in enumerate(pieces)])


def test_split_chunk():
    check(lambda x: _weighted(cr.split(x, 2)), [(5, 3)])
    check(lambda x: _weighted(x.split([1, 2], axis=1)), [(5, 3)])
    check(lambda x: _weighted(cr.split(x, 2, axis=-1)), [(2, 4)])
    check(lambda x: _weighted(cr.chunk(x, 3)), [(7, 2)])
    check(lambda x: _weighted(x.chunk(2, axis=1)), [(2, 4)])
    # only some pieces used: the others get no gradient
    check(lambda x: cr.split(x, 2)[1] * 3, [(5, 3)])


def test_cast():
    # through float32 and back: a linear function, checked with a coarse step
    check(lambda x: (x.astype("float32") * 2).astype("float64") + x,
          [(3, 4)], eps=1e-3, atol=1e-3, rtol=1e-3)
    check(lambda x: cr.cast(x, cr.float64) * 3, [(3,)])  # no-op cast
    check(lambda x: x.double() * x.to("float64"), [(3,)])
    x = cr.randn(3, requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64 and y.op == "cast"
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy(), rtol=1e-6)


# ---------------------------------------------------------------------------
# tie rules and kinks (exact values)
# ---------------------------------------------------------------------------
def _grads(fn, *values):
    ts = [cr.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in values]
    fn(*ts).sum().backward()
    return [t.grad.numpy() for t in ts]


def test_maximum_minimum_split_ties_evenly():
    ga, gb = _grads(cr.maximum, [1.0, 2.0, 3.0], [1.0, 5.0, 0.0])
    np.testing.assert_array_equal(ga, [0.5, 0, 1])
    np.testing.assert_array_equal(gb, [0.5, 1, 0])
    ga, gb = _grads(cr.minimum, [1.0, 2.0, 3.0], [1.0, 5.0, 0.0])
    np.testing.assert_array_equal(ga, [0.5, 1, 0])
    np.testing.assert_array_equal(gb, [0.5, 0, 1])
    # broadcast tie: the scalar collects half from each tied element
    ga, gb = _grads(cr.maximum, [0.0, 1.0, 0.0], 0.0)
    np.testing.assert_array_equal(ga, [0.5, 1, 0.5])
    np.testing.assert_array_equal(gb, 1.0)


def test_kinks_at_zero():
    (g,) = _grads(cr.relu, [-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(g, [0, 0, 1])                  # relu'(0) = 0
    (g,) = _grads(cr.abs, [-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(g, [-1, 0, 1])                 # abs'(0) = 0
    (g,) = _grads(lambda x: cr.leaky_relu(x, 0.1), [-1.0, 0.0, 2.0])
    np.testing.assert_allclose(g, [0.1, 0.1, 1])                 # as PyTorch: slope at 0
    (g,) = _grads(lambda x: cr.clip(x, -1.0, 1.0), [-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(g, [0, 1, 1, 1, 0])            # the bounds pass gradient


def test_max_min_reduction_split_among_ties():
    (g,) = _grads(lambda x: x.max(axis=1), [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    np.testing.assert_array_equal(g, [[0, 0.5, 0.5], [0.5, 0.5, 0]])
    (g,) = _grads(lambda x: x.max(), [[1.0, 3.0, 3.0], [3.0, 2.0, 0.0]])
    np.testing.assert_allclose(g, [[0, 1 / 3, 1 / 3], [1 / 3, 0, 0]])
    (g,) = _grads(lambda x: x.min(axis=0), [[1.0, 3.0], [1.0, 2.0]])
    np.testing.assert_array_equal(g, [[0.5, 0], [0.5, 1]])
    (g,) = _grads(lambda x: x.max(axis=(0, 2)), np.ones((2, 2, 2)))
    np.testing.assert_array_equal(g, np.full((2, 2, 2), 0.25))
    (g,) = _grads(lambda x: x.max(), 4.0)  # 0-d
    np.testing.assert_array_equal(g, 1.0)


@pytest.mark.parametrize("op", [
    cr.max, cr.min,
    cr.sum, cr.mean, cr.logsumexp, cr.softmax, cr.log_softmax, cr.tanh, cr.relu, cr.sigmoid,
    lambda x: cr.maximum(x, 0.0), lambda x: x[[0, 0, 1]], lambda x: x @ cr.ones(4, 2),
    lambda x: cr.var(x, axis=0), lambda x: x ** 3, lambda x: 2.0 ** x],
    ids=["max", "min", "sum", "mean", "logsumexp", "softmax", "log_softmax", "tanh", "relu",
         "sigmoid", "maximum", "getitem", "matmul", "var", "pow", "rpow"])
def test_gradient_keeps_float32(op):
    x = cr.randn(3, 4, requires_grad=True)
    op(x).sum().backward()
    assert x.grad.dtype == np.float32
    assert x.grad.shape == x.shape


# ---------------------------------------------------------------------------
# second derivatives: create_graph=True against finite differences of the first
# ---------------------------------------------------------------------------
def gradgradcheck(f, *arrays, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """d/dx of <v, d<w, f(x)>/dx> by the recorded backward pass vs central differences
    of the (ordinary) first derivative."""
    rng = np.random.default_rng(seed)
    xs = [cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    w = rng.standard_normal(f(*xs).shape)
    vs = [rng.standard_normal(x.shape) for x in xs]

    def first(create_graph):
        gs = cr.autograd.grad((f(*xs) * w).sum(), xs, create_graph=create_graph,
                              allow_unused=True)
        total = cr.tensor(0.0, dtype="float64")
        for g, v in zip(gs, vs):
            if g is not None:
                total = total + (g * v).sum()
        return total

    s = first(True)
    if s.requires_grad:
        analytic = cr.autograd.grad(s, xs, allow_unused=True)
    else:  # the first derivative does not depend on x: the second is 0
        analytic = [None] * len(xs)
    for x, a in zip(xs, analytic):
        a = np.zeros(x.shape) if a is None else a.numpy()
        numeric = np.zeros(x.shape)
        base = np.array(x.array)  # (a 0-d value is a NumPy scalar: copy it into a buffer)
        for k in range(base.size):
            for sign in (1, -1):
                bumped = base.copy()
                bumped.reshape(-1)[k] += sign * eps
                x.array = bumped
                numeric.reshape(-1)[k] += sign * first(False).item() / (2 * eps)
        x.array = base
        np.testing.assert_allclose(a, numeric, atol=atol, rtol=rtol)


SECOND_UNARY = [u for u in UNARY if u[0] not in ("neg_fn", "exp_method", "relu_method",
                                                  "sigmoid_method", "pow_fn")]


@pytest.mark.parametrize("name,fn,domain", SECOND_UNARY, ids=[u[0] for u in SECOND_UNARY])
def test_second_derivative_unary(name, fn, domain):
    gradgradcheck(fn, *inputs(0, [(2, 3)], domain))
    gradgradcheck(fn, *inputs(1, [()], domain))


@pytest.mark.parametrize("name,fn,domains", BINARY, ids=[b[0] for b in BINARY])
def test_second_derivative_binary(name, fn, domains):
    gradgradcheck(fn, *inputs(0, [(3, 1), (1, 4)], domains))


SECOND_OTHER = [
    ("matmul_2d", lambda a, b: a @ b, [(2, 3), (3, 4)]),
    ("matmul_1d", lambda a, b: a @ b, [(3,), (3,)]),
    ("matmul_mixed", lambda a, b: a @ b, [(3,), (3, 2)]),
    ("matmul_batched", lambda a, b: a @ b, [(2, 1, 2, 3), (3, 3, 2)]),
    ("matmul_sq", lambda a, b: (a @ b) ** 2, [(2, 3), (3,)]),
    ("sum_axis", lambda x: x.sum(axis=0) ** 2, [(2, 3)]),
    ("mean_keep", lambda x: x.mean(axis=1, keepdims=True) * x, [(2, 3)]),
    ("max", lambda x: x.max(axis=1) ** 2, [(2, 3)]),
    ("min_all", lambda x: x.min() * x, [(2, 3)]),
    ("logsumexp", lambda x: cr.logsumexp(x, axis=1), [(2, 3)]),
    ("softmax", lambda x: cr.softmax(x, axis=-1), [(2, 3)]),
    ("log_softmax", lambda x: cr.log_softmax(x, axis=0), [(2, 3)]),
    ("var", lambda x: cr.var(x, axis=1), [(2, 3)]),
    ("std", lambda x: x.std(), [(2, 3)]),
    ("getitem_repeat", lambda x: x[[0, 0, 2]] ** 3, [(3,)]),
    ("getitem_slice", lambda x: x[::-1, 1:] ** 3, [(2, 3)]),
    ("getitem_mask", lambda x: x[x > 0] ** 3, [(2, 3)]),
    ("concat", lambda a, b: cr.concatenate([a * a, b], axis=1) ** 2, [(2, 1), (2, 3)]),
    ("stack", lambda a, b: cr.stack([a * b, a]) ** 2, [(3,), (3,)]),
    ("transpose", lambda x: x.T ** 3, [(2, 3)]),
    ("reshape", lambda x: x.reshape(3, 2) ** 3, [(2, 3)]),
    ("broadcast_to", lambda x: cr.broadcast_to(x, (2, 3)) ** 3, [(3,)]),
    ("cast", lambda x: x.astype("float64") ** 3, [(3,)]),
    ("split", lambda x: _weighted(cr.split(x ** 3, 2)), [(3,)]),
    ("mlp", lambda w, x: cr.tanh(x @ w).sum(axis=1) ** 2, [(3, 2), (4, 3)]),
]


@pytest.mark.parametrize("name,fn,shapes", SECOND_OTHER, ids=[s[0] for s in SECOND_OTHER])
def test_second_derivative_other(name, fn, shapes):
    gradgradcheck(fn, *inputs(0, shapes, "nonzero"))


def test_third_derivative_through_nested_grad():
    x = cr.tensor(0.7, dtype="float64", requires_grad=True)
    y = cr.sin(x) * x ** 3
    (g1,) = cr.autograd.grad(y, x, create_graph=True)
    (g2,) = cr.autograd.grad(g1, x, create_graph=True)
    (g3,) = cr.autograd.grad(g2, x)
    v = 0.7
    expected = (-np.cos(v) * v ** 3 - 9 * np.sin(v) * v ** 2 + 18 * np.cos(v) * v
                + 6 * np.sin(v))
    np.testing.assert_allclose(g3.item(), expected, rtol=1e-10)


def test_hessian_vector_product():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((4, 4))
    a_sym = a + a.T
    x = cr.tensor(rng.standard_normal(4), requires_grad=True, dtype="float64")
    v = rng.standard_normal(4)
    # f = 1/2 x^T A x + sum(x^4)/4: H = A + diag(3 x^2)
    f = 0.5 * (x @ (cr.tensor(a_sym) @ x)) + (x ** 4).sum() / 4
    (g,) = cr.autograd.grad(f, x, create_graph=True)
    (hv,) = cr.autograd.grad((g * v).sum(), x)
    expected = (a_sym + np.diag(3 * x.numpy() ** 2)) @ v
    np.testing.assert_allclose(hv.numpy(), expected, rtol=1e-10)


def test_hvp_against_finite_differences_of_gradient():
    rng = np.random.default_rng(6)
    w1, w2 = rng.standard_normal((3, 5)), rng.standard_normal((5,))

    def loss(x):
        return (cr.tanh(x @ cr.tensor(w1)) @ cr.tensor(w2)).sigmoid().sum()

    x0, v, eps = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), 1e-6
    grad = cr.grad(loss)
    x = cr.tensor(x0, requires_grad=True)
    (g,) = cr.autograd.grad(loss(x), x, create_graph=True)
    (hv,) = cr.autograd.grad((g * cr.tensor(v)).sum(), x)
    numeric = (grad(x0 + eps * v).numpy() - grad(x0 - eps * v).numpy()) / (2 * eps)
    np.testing.assert_allclose(hv.numpy(), numeric, rtol=1e-5, atol=1e-8)


def test_pow_zero_exponent_gradient_is_zero_everywhere():
    (g,) = _grads(lambda x: x ** 0, [0.0, 2.0, -1.0])
    np.testing.assert_array_equal(g, [0, 0, 0])
    gradgradcheck(lambda x: x ** 0 * x, np.array([0.5, -1.0]))


def test_where_condition_broadcasts_over_both_branches():
    mask = np.random.default_rng(8).standard_normal((2, 3)) > 0
    check(lambda a, b: cr.where(mask, a, b), [(3,), ()])
    check(lambda a, b: cr.where(cr.tensor(mask[:, :1]), a, b), [(1, 3), (2, 1)])


def test_python_sum_of_tensors():
    check(lambda a, b, c: sum([a, b * 2, c]), [(3,), (3,), ()])
