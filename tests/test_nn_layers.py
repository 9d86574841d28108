"""Layers, containers, initializers and gradient clipping, against PyTorch where it applies."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.nn import init


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _t(torch, a, grad=False):
    return torch.tensor(np.asarray(a), requires_grad=grad)


# ---------------------------------------------------------------------------
# Linear
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch_values_and_grads(torch, rng, shape, bias):
    lin = nn.Linear(4, 3, bias=bias)
    tlin = torch.nn.Linear(4, 3, bias=bias)
    with torch.no_grad():
        tlin.weight.copy_(torch.from_numpy(lin.weight.numpy()))
        if bias:
            tlin.bias.copy_(torch.from_numpy(lin.bias.numpy()))
    xa = rng.standard_normal(shape).astype(np.float32)
    ga = rng.standard_normal(shape[:-1] + (3,)).astype(np.float32)
    x = cr.tensor(xa, requires_grad=True)
    tx = _t(torch, xa, grad=True)
    y, ty = lin(x), tlin(tx)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert y.dtype == cr.float32 and y.op == "linear"
    y.backward(ga)
    ty.backward(torch.from_numpy(ga))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(lin.weight.grad.numpy(), tlin.weight.grad.numpy(), rtol=1e-5,
                               atol=1e-5)
    if bias:
        np.testing.assert_allclose(lin.bias.grad.numpy(), tlin.bias.grad.numpy(), rtol=1e-5,
                                   atol=1e-5)
    else:
        assert lin.bias is None


def test_linear_is_one_node_and_skips_input_gradient():
    lin = nn.Linear(3, 2)
    x = cr.randn(4, 3)  # data: does not require grad
    y = lin(x)
    assert y.op == "linear" and len(y.parents) == 3
    assert y._ctx == (False, True, True)
    y.sum().backward()
    assert x.grad is None and lin.weight.grad.shape == (2, 3)


def test_linear_default_init_is_small_noise_scaled_by_fan_in():
    cr.manual_seed(0)
    lin = nn.Linear(400, 300)
    w = lin.weight.numpy()
    bound = 1 / math.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(lin.bias.numpy()).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # U(-r, r) has std r/√3
    assert len(np.unique(w)) > 1000  # never all equal


def test_linear_is_seeded():
    cr.manual_seed(3)
    a = nn.Linear(5, 5).weight.numpy()
    cr.manual_seed(3)
    b = nn.Linear(5, 5).weight.numpy()
    np.testing.assert_array_equal(a, b)


def test_linear_converts_arrays_but_refuses_a_tensor_of_another_dtype():
    lin = nn.Linear(3, 2)
    assert lin(np.ones((2, 3))).dtype == cr.float32  # a float64 array is converted
    x = cr.tensor(np.ones((2, 3)), requires_grad=True)  # a float64 Tensor: as PyTorch
    with pytest.raises(RuntimeError, match=r"Linear 3→2: input has dtype float64 but the "
                                           r"weights have dtype float32.*x\.float\(\)"):
        lin(x)
    with pytest.raises(RuntimeError, match="linear: input has dtype float64"):
        F.linear(x, lin.weight)
    y = lin.double()(x)
    y.sum().backward()
    assert y.dtype == cr.float64 and x.grad.dtype == cr.float64


def test_functional_linear_checks_shapes():
    w = cr.randn(3, 4)
    with pytest.raises(ValueError, match="expected input with last dimension 4, got 5"):
        F.linear(cr.randn(2, 5), w)
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\)"):
        F.linear(cr.randn(2, 4), w, cr.randn(4))


# ---------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------
ACTIVATIONS = [
    (nn.ReLU(), "relu", {}),
    (nn.LeakyReLU(0.1), "leaky_relu", {"negative_slope": 0.1}),
    (nn.Sigmoid(), "sigmoid", {}),
    (nn.Tanh(), "tanh", {}),
    (nn.Softmax(dim=1), "softmax", {"dim": 1}),
    (nn.LogSoftmax(dim=1), "log_softmax", {"dim": 1}),
    (nn.Identity(), None, {}),
]


@pytest.mark.parametrize("module,name,kw", ACTIVATIONS, ids=[a[1] or "identity" for a in
                                                               ACTIVATIONS])
def test_activation_modules_match_torch(torch, rng, module, name, kw):
    xa = rng.standard_normal((4, 5))
    xa[0, 0] = 0.0  # the kink of relu and leaky_relu: PyTorch's gradient there is 0 / slope
    ga = rng.standard_normal((4, 5))
    x = cr.tensor(xa, requires_grad=True)
    tx = _t(torch, xa, grad=True)
    y = module(x)
    ty = tx if name is None else getattr(torch.nn.functional, name)(tx, **kw)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-12)
    if name is None:
        assert y is x
        return
    y.backward(ga)
    ty.backward(torch.from_numpy(ga))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-12)


def test_relu_keeps_dtype_and_nan():
    y = F.relu(cr.tensor([-1.0, float("nan"), 2.0]))
    assert y.dtype == cr.float32
    assert np.isnan(y.numpy()[1]) and y.numpy()[0] == 0 and y.numpy()[2] == 2


def test_relu_gradcheck_and_double_backward():
    x = cr.tensor([-1.5, -0.3, 0.4, 2.0], dtype=cr.float64, requires_grad=True)
    assert cr.gradcheck(lambda x: F.relu(x) * x, x)
    (g,) = cr.autograd.grad((F.relu(x) * x).sum(), x, create_graph=True)
    (gg,) = cr.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [0, 0, 2, 2])  # d²(relu(x) x)/dx² = 2 for x > 0


def test_flatten():
    x = cr.randn(2, 3, 4)
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)


# ---------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------
def test_dropout_train_scales_and_eval_passes_through():
    cr.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = cr.ones(200, 100, requires_grad=True)
    y = drop(x)
    vals = np.unique(y.numpy())
    np.testing.assert_allclose(vals, [0.0, 1 / 0.75], rtol=1e-6)
    assert abs((y.numpy() == 0).mean() - 0.25) < 0.02
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())  # same mask in backward
    drop.eval()
    assert drop(x) is x


def test_dropout_is_seedable():
    drop = nn.Dropout(0.5)
    cr.manual_seed(7)
    a = drop(cr.ones(50)).numpy()
    cr.manual_seed(7)
    b = drop(cr.ones(50)).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, drop(cr.ones(50)).numpy())


def test_dropout_edge_probabilities_and_errors():
    x = cr.ones(10)
    assert nn.Dropout(0.0)(x) is x
    assert np.all(nn.Dropout(1.0)(x).numpy() == 0)
    assert F.dropout(x, 0.5, training=False) is x
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)


def test_dropout_gradcheck_with_fixed_mask():
    x = cr.randn(6, dtype=cr.float64, requires_grad=True)

    def f(x):
        cr.manual_seed(1)
        return F.dropout(x, 0.4) * x

    assert cr.gradcheck(f, x)


# ---------------------------------------------------------------------------
# containers
# ---------------------------------------------------------------------------
def test_sequential_indexing_len_iteration_append():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    assert len(seq) == 2 and isinstance(seq[-1], nn.ReLU)
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU"]
    seq.append(nn.Linear(3, 1))
    assert len(seq) == 3 and seq[2]._path == "2"
    assert seq(cr.randn(4, 2)).shape == (4, 1)
    with pytest.raises(IndexError, match="index 3 is out of range for 3 modules"):
        seq[3]
    seq.insert(0, nn.Identity())
    assert [type(m).__name__ for m in seq] == ["Identity", "Linear", "ReLU", "Linear"]
    assert seq[3]._path == "3" and next(n for n, _ in seq.named_parameters()) == "1.weight"
    del seq[0]
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight",
                                                      "2.bias"]
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh)


def test_sequential_from_ordered_dict_and_bad_argument():
    from collections import OrderedDict

    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert [n for n, _ in seq.named_parameters()] == ["fc.weight", "fc.bias"]
    assert seq.act._path == "act"
    with pytest.raises(TypeError, match="argument 1 is function, not a Module"):
        nn.Sequential(nn.Linear(2, 2), lambda x: x)


def test_module_list_registers_parameters():
    class Tower(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(3, 3) for _ in range(3)])

        def forward(self, x):
            for b in self.blocks:
                x = b(x).tanh()
            return x

    t = Tower()
    assert len(t.blocks) == 3
    assert [n for n, _ in t.named_parameters()][-1] == "blocks.2.bias"
    assert t.blocks[1]._path == "blocks.1"
    assert t(cr.randn(2, 3)).shape == (2, 3)
    with pytest.raises(NotImplementedError, match="iterate"):
        t.blocks(cr.randn(1, 3))


@pytest.mark.parametrize("activation,cls", [("relu", nn.ReLU), ("tanh", nn.Tanh),
                                            ("sigmoid", nn.Sigmoid),
                                            ("leaky_relu", nn.LeakyReLU)])
def test_mlp_structure(activation, cls):
    mlp = nn.MLP([64, 128, 32, 10], activation=activation)
    kinds = [type(m) for m in mlp.layers]
    assert kinds == [nn.Linear, cls, nn.Linear, cls, nn.Linear]  # none after the last layer
    assert [n for n, _ in mlp.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias",
        "layers.4.weight", "layers.4.bias"]
    assert mlp(cr.randn(3, 64)).shape == (3, 10)


def test_mlp_options_and_errors():
    mlp = nn.MLP([4, 8, 2], activation=nn.Tanh, dropout=0.5)
    assert [type(m).__name__ for m in mlp.layers] == ["Linear", "Tanh", "Dropout", "Linear"]
    assert nn.MLP([3, 2]).layers[0].out_features == 2
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        nn.MLP([3, 4, 2], activation="swish")
    with pytest.raises(ValueError, match="at least an input and an output size"):
        nn.MLP([3])


def test_mlp_matches_torch_end_to_end(torch, rng):
    mlp = nn.MLP([6, 5, 4, 3], activation="tanh")
    tm = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4),
                             torch.nn.Tanh(), torch.nn.Linear(4, 3))
    tm.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in
                        mlp.layers.state_dict().items()})
    xa = rng.standard_normal((7, 6)).astype(np.float32)
    ya = rng.integers(0, 3, 7)
    loss = F.cross_entropy(mlp(cr.tensor(xa)), ya)
    tloss = torch.nn.functional.cross_entropy(tm(torch.from_numpy(xa)), torch.from_numpy(ya))
    loss.backward()
    tloss.backward()
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-6)
    for p, tp in zip(mlp.parameters(), tm.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------
# init
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape,fans", [((30, 20), (20, 30)), ((16, 8, 3, 3), (72, 144)),
                                        ((5, 4, 7), (28, 35))])
def test_fan_in_fan_out_as_torch(torch, shape, fans):
    assert init._calculate_fan_in_and_fan_out(cr.zeros(*shape)) == fans
    assert torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape)) == fans


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(cr.zeros(5))


def test_calculate_gain_matches_torch(torch):
    for name, param in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                        ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None),
                        ("conv2d", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("fn,kw,expected_std", [
    (init.xavier_uniform_, {}, math.sqrt(2 / (300 + 500))),
    (init.xavier_normal_, {"gain": 2.0}, 2 * math.sqrt(2 / (300 + 500))),
    (init.kaiming_uniform_, {"nonlinearity": "relu"}, math.sqrt(2 / 500)),
    (init.kaiming_normal_, {"nonlinearity": "relu"}, math.sqrt(2 / 500)),
    (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / 300)),
    (init.kaiming_uniform_, {"a": math.sqrt(5)}, 1 / math.sqrt(500) / math.sqrt(3)),
    (init.normal_, {"std": 0.02}, 0.02),
    (init.uniform_, {"a": -1.0, "b": 1.0}, 1 / math.sqrt(3)),
])
def test_init_statistics(fn, kw, expected_std):
    cr.manual_seed(0)
    w = nn.Parameter(cr.zeros(300, 500))
    version = w._version
    assert fn(w, **kw) is w
    assert w._version > version and w.dtype == cr.float32
    assert abs(w.numpy().mean()) < 0.02 * expected_std * 10
    assert w.numpy().std() == pytest.approx(expected_std, rel=0.02)


def test_init_bounds_and_constants():
    w = nn.Parameter(cr.zeros(50, 40))
    init.xavier_uniform_(w)
    assert np.abs(w.numpy()).max() <= math.sqrt(6 / 90)
    init.constant_(w, 0.5)
    assert np.all(w.numpy() == 0.5)
    init.ones_(w)
    assert np.all(w.numpy() == 1)
    init.zeros_(w)
    assert np.all(w.numpy() == 0)
    init.eye_(w)
    assert np.trace(w.numpy()) == 40
    init.trunc_normal_(w, std=1.0, a=-0.5, b=0.5)
    assert np.abs(w.numpy()).max() <= 0.5


def test_init_works_while_grad_is_enabled_and_is_seeded():
    w = nn.Parameter(cr.zeros(4, 4))
    assert cr.is_grad_enabled()
    cr.manual_seed(5)
    a = init.normal_(w).numpy().copy()
    cr.manual_seed(5)
    np.testing.assert_array_equal(a, init.normal_(w).numpy())
    import numpy.random as npr

    b = init.normal_(w, generator=npr.default_rng(5)).numpy().copy()
    c = init.normal_(w, generator=npr.default_rng(5)).numpy()
    np.testing.assert_array_equal(b, c)


# ---------------------------------------------------------------------------
# clip_grad_norm_
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_matches_torch(torch, rng, norm_type):
    grads = [rng.standard_normal((3, 4)).astype(np.float32),
             rng.standard_normal(5).astype(np.float32)]
    ps = [nn.Parameter(np.zeros_like(g)) for g in grads]
    tps = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for p, tp, g in zip(ps, tps, grads):
        p.grad = cr.tensor(g)
        tp.grad = torch.from_numpy(g.copy())
    total = nn.utils.clip_grad_norm_(ps, 0.5, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, 0.5, norm_type)
    assert total.item() == pytest.approx(ttotal.item(), rel=1e-5)
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5)
        assert p.grad.dtype == cr.float32


def test_clip_grad_norm_never_mutates_gradient_arrays():
    shared = np.array([3.0, 4.0], dtype=np.float32)
    a, b = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(2))
    a.grad = cr.Tensor(shared)
    original = a.grad.array
    b.grad = a.grad
    total = nn.utils.clip_grad_norm_([a], 1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_array_equal(original, [3.0, 4.0])  # untouched
    np.testing.assert_allclose(a.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    assert b.grad.numpy().tolist() == [3.0, 4.0]


def test_clip_grad_norm_below_threshold_and_without_grads():
    p = nn.Parameter(np.zeros(2))
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0
    p.grad = cr.tensor([0.3, 0.4])
    g = p.grad
    assert nn.utils.clip_grad_norm_(nn.Linear(2, 2).parameters(), 1.0).item() == 0.0
    assert nn.utils.clip_grad_norm_(p, 1.0).item() == pytest.approx(0.5)
    assert p.grad is g  # nothing to clip: left alone
    p.grad = cr.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="nan"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_and_vector_round_trip():
    lin = nn.Linear(3, 2)
    lin.weight.grad = cr.tensor(np.full((2, 3), 5.0, dtype=np.float32))
    nn.utils.clip_grad_value_(lin.parameters(), 1.0)
    assert np.all(lin.weight.grad.numpy() == 1.0)
    vec = nn.utils.parameters_to_vector(lin.parameters())
    assert vec.shape == (8,)
    nn.utils.vector_to_parameters(np.arange(8.0), lin.parameters())
    np.testing.assert_array_equal(lin.bias.numpy(), [6, 7])
    with pytest.raises(ValueError, match="8"):
        nn.utils.vector_to_parameters(np.arange(3.0), lin.parameters())


@pytest.mark.parametrize("batch", [1, 5, 64, 100])
def test_linear_small_and_large_batches_agree_with_numpy(rng, batch):
    # batches of at most 64 rows take the (W xᵀ)ᵀ route; the result must be the same
    # product, row-major, and its gradients the same
    lin = nn.Linear(20, 70).double()
    xa = rng.standard_normal((batch, 20))
    x = cr.tensor(xa, requires_grad=True)
    y = lin(x)
    w, b = lin.weight.numpy(), lin.bias.numpy()
    np.testing.assert_allclose(y.numpy(), xa @ w.T + b, rtol=1e-12, atol=1e-12)
    assert y.array.flags.c_contiguous
    ga = rng.standard_normal((batch, 70))
    y.backward(ga)
    np.testing.assert_allclose(x.grad.numpy(), ga @ w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lin.weight.grad.numpy(), ga.T @ xa, rtol=1e-12, atol=1e-12)


def test_linear_gradcheck_first_and_second_order(rng):
    x = rng.standard_normal((3, 4))
    w = rng.standard_normal((5, 4))
    b = rng.standard_normal(5)
    assert cr.gradcheck(lambda x, w, b: F.linear(x, w, b), x, w, b)
    assert cr.gradcheck(lambda x, w: F.linear(x, w), x, w)
    assert cr.gradcheck(lambda x, w, b: F.linear(x, w, b), rng.standard_normal(4), w, b)
    assert cr.gradcheck(lambda x, w, b: F.linear(x, w, b), rng.standard_normal((2, 3, 4)), w, b)
    # second order: the gradient of sum(tanh(linear)) checked against finite differences
    wt, bt = cr.tensor(w), cr.tensor(b)

    def grad_x(x):
        out = F.linear(x, wt, bt).tanh().sum()
        return cr.autograd.grad(out, x, create_graph=True)[0]

    assert cr.gradcheck(grad_x, x)
    xt = cr.tensor(x)

    def grad_w(w):
        out = (F.linear(xt, w, bt) ** 2).sum()
        return cr.autograd.grad(out, w, create_graph=True)[0]

    assert cr.gradcheck(grad_w, w)


def test_functional_linear_accepts_arrays():
    y = F.linear(np.ones((2, 3)), np.ones((4, 3)), np.zeros(4))
    np.testing.assert_array_equal(y.numpy(), np.full((2, 4), 3.0))
    with pytest.raises(ValueError, match="weight must be 2-D"):
        F.linear(cr.ones(3), cr.ones(3))


# ---------------------------------------------------------------------------
# Sequential's fused Linear + ReLU
# ---------------------------------------------------------------------------
def _mlp_grads(model, x, y):
    for p in model.parameters():
        p.grad = None
    out = model(x)
    F.cross_entropy(out, y).backward()
    return out, [p.grad.numpy().copy() for p in model.parameters()]


def test_fused_linear_relu_matches_separate_layers(rng):
    model = nn.MLP([6, 8, 8, 3]).double()
    x = cr.tensor(rng.standard_normal((5, 6)))
    y = np.array([0, 1, 2, 1, 0])
    out, grads = _mlp_grads(model, x, y)
    assert out.parents[0].op == "linear_relu"  # the last Linear's input: the fused pair
    assert out.parents[0]._module == ("layers.2", "layers.3")  # both modules
    previous = nn.set_fusion(False)
    try:
        out2, grads2 = _mlp_grads(model, x, y)
    finally:
        nn.set_fusion(previous)
    assert out2.parents[0].op == "relu"
    np.testing.assert_allclose(out.numpy(), out2.numpy(), rtol=1e-14)
    for g, g2 in zip(grads, grads2):
        np.testing.assert_allclose(g, g2, rtol=1e-12, atol=1e-15)


def test_fused_linear_relu_gradcheck_first_and_second_order(rng):
    from chainrule.ops import nn_ops

    x = rng.standard_normal((4, 3))
    w = rng.standard_normal((5, 3))
    b = rng.standard_normal(5)
    f = lambda x, w, b: nn_ops.linear_relu(x, w, b)
    assert cr.gradcheck(f, x, w, b)
    wt, bt = cr.tensor(w), cr.tensor(b)

    def grad_x(x):
        out = (nn_ops.linear_relu(x, wt, bt) ** 2).sum()
        return cr.autograd.grad(out, x, create_graph=True)[0]

    assert cr.gradcheck(grad_x, x)


def test_hooks_and_path_tracking_turn_fusion_off_where_needed():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4), nn.ReLU())
    seen = []
    seq[0].register_forward_hook(lambda m, inp, out: seen.append(out.op))
    out = seq(cr.randn(2, 3))
    assert seen == ["linear"]  # the hooked Linear ran on its own
    assert out.op == "linear_relu" and out._module == ("2", "3")
    previous = nn.set_track_path(True)
    try:
        assert seq(cr.randn(2, 3)).op == "relu"
    finally:
        nn.set_track_path(previous)
