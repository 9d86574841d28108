"""Tensor-API ops added for PyTorch programs (tests/compat/programs p91-p100): values and
gradients against PyTorch, derivatives against finite differences in float64, and the
refusals that replace silent wrong results."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _both(array):
    array = np.asarray(array, dtype=np.float64)
    return cr.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


def _same(ours, theirs):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    np.testing.assert_allclose(np.asarray(ours.numpy() if hasattr(ours, "numpy") else ours),
                               theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("zeros", [0, 1, 2])
def test_scatter_reduce_prod_values_and_gradients_with_zeros(include_self, zeros):
    # zeros among the factors of one slot: the gradient of a factor is the product of
    # the others, so with one zero only that zero gets a gradient, with two none does
    rng = np.random.default_rng(zeros)
    base = rng.uniform(-1.5, 1.5, (4, 3))
    src = rng.uniform(-1.5, 1.5, (5, 3))
    index = np.array([[0, 1, 3], [0, 1, 1], [2, 0, 1], [0, 3, 3], [2, 2, 1]])
    if zeros >= 1:
        src[0, 0] = 0.0
    if zeros >= 2:
        base[0, 0] = 0.0
        src[2, 1] = 0.0   # second zero in slot (1, 1)... and
        src[4, 2] = 0.0   # ...slot (1, 2) holds src zeros at two rows
        src[1, 2] = 0.0
    x, tx = _both(base)
    s, ts = _both(src)
    out = x.scatter_reduce(0, cr.tensor(index), s, "prod", include_self=include_self)
    tout = tx.scatter_reduce(0, torch.tensor(index), ts, "prod", include_self=include_self)
    _same(out, tout)
    w = rng.standard_normal((4, 3))
    (out * cr.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    _same(x.grad, tx.grad)
    _same(s.grad, ts.grad)


def test_scatter_reduce_prod_gradcheck_first_and_second_order():
    rng = np.random.default_rng(5)
    index = cr.tensor(rng.integers(0, 3, (4, 2)))
    for include_self in (True, False):
        def f(a, b, include_self=include_self):
            return a.scatter_reduce(1, index, b, "prod", include_self=include_self)

        args = (cr.tensor(rng.uniform(0.5, 1.5, (4, 3)), requires_grad=True),
                cr.tensor(rng.uniform(-1.5, 1.5, (4, 2)), requires_grad=True))
        assert cr.gradcheck(f, args)
        assert cr.autograd.gradgradcheck(f, args)


def test_scatter_reduce_prod_of_a_larger_src_and_of_integers():
    x = cr.ones(3)
    src = cr.tensor([2.0, 3.0, 4.0, 5.0, 6.0])
    out = x.scatter_reduce(0, cr.tensor([0, 0, 2]), src, "prod")   # src beyond the index unused
    np.testing.assert_array_equal(out.numpy(), [6.0, 1.0, 4.0])
    ints = cr.tensor([1, 2, 3]).index_reduce(0, cr.tensor([2, 2]), cr.tensor([4, 5]), "prod",
                                             include_self=False)
    np.testing.assert_array_equal(ints.numpy(), [1, 2, 20])
    assert ints.dtype == cr.int64


def test_histogram_as_torch():
    rng = np.random.default_rng(3)
    data = rng.standard_normal(50).astype(np.float32)
    t = torch.tensor(data)
    c = cr.tensor(data)
    for kwargs in ({"bins": 7}, {"bins": 4, "range": (-1.0, 1.0)},
                   {"bins": 5, "density": True}, {"bins": 3, "weight": np.arange(50.0, dtype=np.float32)}):
        ours = cr.histogram(c, **{k: cr.tensor(v) if k == "weight" else v for k, v in kwargs.items()})
        theirs = torch.histogram(t, **{k: torch.tensor(v) if k == "weight" else v
                                       for k, v in kwargs.items()})
        np.testing.assert_allclose(ours.hist.numpy(), theirs.hist.numpy(), rtol=1e-6)
        np.testing.assert_allclose(ours.bin_edges.numpy(), theirs.bin_edges.numpy(), rtol=1e-6)
        assert ours.hist.dtype == cr.float32
    edges = [-2.0, -0.1, 0.3, 2.5]
    hist, got_edges = c.histogram(cr.tensor(edges))
    np.testing.assert_array_equal(hist.numpy(), torch.histogram(t, torch.tensor(edges)).hist.numpy())
    np.testing.assert_array_equal(got_edges.numpy(), np.float32(edges))
    with pytest.raises(TypeError, match="histogram: expected a floating-point tensor"):
        cr.histogram(cr.tensor([1, 2]))
    with pytest.raises(ValueError, match="histogram: bins must be an int or a 1-D increasing"):
        cr.histogram(c, cr.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="weight shape"):
        cr.histogram(c, 3, weight=cr.ones(4))


def test_sign_of_nan_is_zero_as_torch():
    x = [float("nan"), -0.0, 0.0, -2.0, 3.0]
    np.testing.assert_array_equal(cr.sign(cr.tensor(x)).numpy(), torch.sign(torch.tensor(x)).numpy())
    assert cr.tensor(float("nan")).sign().item() == 0.0
    np.testing.assert_array_equal(cr.tensor([-3, 0, 4]).sign().numpy(), [-1, 0, 1])


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, float("inf")])
def test_pdist_values_and_gradients(p):
    rng = np.random.default_rng(1)
    data = rng.standard_normal((5, 3))
    data[3] = data[1]  # a zero distance: PyTorch's gradient there is 0
    x, tx = _both(data)
    w = rng.standard_normal(10)
    out = cr.pdist(x, p)
    tout = torch.pdist(tx, p)
    _same(out, tout)
    (out * cr.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    _same(x.grad, tx.grad)
    _same(cr.nn.functional.pdist(x, p), tout)
    with pytest.raises(ValueError, match=r"pdist: expected a 2-D input \(N, M\), got shape \(5,\)"):
        cr.pdist(cr.ones(5))


@pytest.mark.parametrize("call", [
    lambda m, x, s: m.slice_scatter(x, s[:, :2], dim=1, start=1, end=3),
    lambda m, x, s: m.slice_scatter(x, s[:, :, :2], dim=-1, start=0, step=2),
    lambda m, x, s: m.select_scatter(x, s[:, 0], 1, -1),
    lambda m, x, s: m.diagonal_scatter(x, s[:, 0, :3], offset=1, dim1=1, dim2=2),
    lambda m, x, s: m.diagonal_scatter(x, s[0, :, :3], offset=-1, dim1=2, dim2=0),
    lambda m, x, s: x.diagonal_scatter(s[1, :, :3], 0, 0, 1),
])
def test_functional_scatter_forms_as_torch(call):
    rng = np.random.default_rng(2)
    x, tx = _both(rng.standard_normal((3, 4, 4)))
    s, ts = _both(rng.standard_normal((3, 4, 4)))
    out, tout = call(cr, x, s), call(torch, tx, ts)
    _same(out, tout)
    w = rng.standard_normal(tuple(tout.shape))
    (out * cr.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    _same(x.grad, tx.grad)
    _same(s.grad, ts.grad)
    assert cr.gradcheck(lambda a, b: call(cr, a, b),
                        (cr.tensor(x.numpy(), requires_grad=True), cr.tensor(s.numpy(), requires_grad=True)))


def test_functional_scatter_forms_refuse_a_wrong_shape():
    with pytest.raises(ValueError, match=r"slice_scatter: src has shape \(3, 1\), the slot it "
                                         r"fills has shape \(3, 2\)"):
        cr.slice_scatter(cr.zeros(3, 4), cr.ones(3, 1), dim=1, start=2)
    with pytest.raises(IndexError, match="select_scatter: index 5 is out of range"):
        cr.select_scatter(cr.zeros(3, 4), cr.ones(3), 1, 5)
    with pytest.raises(ValueError, match="diagonal_scatter: src has shape"):
        cr.diagonal_scatter(cr.zeros(3, 4), cr.ones(4))


def test_complex_data_is_refused_where_it_enters():
    message = "complex tensors are not part of chainrule"
    for make in (lambda: cr.tensor([1 + 2j]), lambda: cr.from_numpy(np.array([1j])),
                 lambda: cr.as_tensor(np.ones(2, np.complex64)), lambda: cr.zeros(2, dtype=cr.complex64),
                 lambda: cr.tensor([1.0]).to(cr.cfloat), lambda: cr.ones(2) * np.array([1j])):
        with pytest.raises(TypeError, match=message):
            make()
    assert not cr.tensor([1.0]).is_complex()


@pytest.mark.parametrize("code", [
    "lib.tensor([1, 250], dtype=lib.uint8) + (-1)",
    "lib.tensor([1, 250], dtype=lib.uint8) * 1000",
    "lib.tensor([1], dtype=lib.int8) + 200",
    "lib.tensor([1], dtype=lib.int32) + 2 ** 40",
    "lib.tensor([1, 250], dtype=lib.uint8).add_(-1)",
    "lib.tensor([1, 250], dtype=lib.uint8).sub_(300)",
    "lib.tensor([1, 250], dtype=lib.uint8).fill_(-1)",
    "lib.tensor([3, 4], dtype=lib.int16).mul_(40000)",
])
def test_python_ints_outside_an_integer_dtype_wrap_as_torch(code):
    ours, theirs = eval(code, {"lib": cr}), eval(code, {"lib": torch})
    assert ours.dtype == np.dtype(str(theirs.dtype).replace("torch.", ""))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_setitem_with_an_out_of_range_int_wraps_and_huge_ints_are_refused():
    u = cr.tensor([1, 2], dtype=cr.uint8)
    u[0] = -1
    u += 300
    assert u.tolist() == [43, 46]
    with pytest.raises(OverflowError, match="does not fit in 64 bits"):
        _ = cr.tensor([1], dtype=cr.uint8) + 2 ** 70


def test_squeeze_of_a_dim_that_is_not_1_keeps_it():
    x = cr.ones(2, 1, 3, requires_grad=True)
    for dims in (0, (0, 1), -1, (0, 2)):
        assert x.squeeze(dims).shape == torch.ones(2, 1, 3).squeeze(dims).shape
    y = cr.zeros(1, 3)
    y.squeeze_(1)
    assert y.shape == (1, 3)
    x.squeeze(0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 1, 3)))


def test_small_torch_names_angle_adjoint_negative_repeat_interleave_div_():
    data = [-1.5, 0.0, 2.0, float("nan")]
    a, ta = _both(data)
    out, tout = cr.angle(a), torch.angle(ta)
    _same(out, tout)
    out.nan_to_num().sum().backward()
    tout.nan_to_num().sum().backward()
    _same(a.grad, ta.grad)
    _same(cr.angle(cr.tensor([-2, 3])), torch.angle(torch.tensor([-2, 3])))
    m = np.arange(6.0).reshape(1, 2, 3)
    _same(cr.tensor(m).adjoint(), torch.tensor(m).adjoint())
    _same(cr.negative(cr.tensor([1, -2])), torch.negative(torch.tensor([1, -2])))
    _same(cr.repeat_interleave(cr.tensor([2, 0, 3])), torch.repeat_interleave(torch.tensor([2, 0, 3])))
    with pytest.raises(ValueError, match="one-argument form takes a 1-D integer tensor"):
        cr.repeat_interleave(cr.tensor([1.5]))
    for mode in ("floor", "trunc"):
        ours = cr.tensor([-7, 7, 5]).div_(2, rounding_mode=mode)
        theirs = torch.tensor([-7, 7, 5]).div_(2, rounding_mode=mode)
        _same(ours, theirs)
        assert ours.dtype == cr.int64


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("stride", [None, 1])
def test_max_unpool_writes_each_position_once(dims, stride):
    rng = np.random.default_rng(dims)
    shape = (2, 3, 6) if dims == 1 else (1, 2, 4, 5)
    data = rng.standard_normal(shape)
    lib_pool = {1: "max_pool1d", 2: "max_pool2d"}[dims]
    lib_unpool = {1: "max_unpool1d", 2: "max_unpool2d"}[dims]
    x, tx = _both(data)
    pooled, idx = getattr(cr.nn.functional, lib_pool)(x, 2, stride=stride, return_indices=True)
    tpooled, tidx = getattr(torch.nn.functional, lib_pool)(tx, 2, stride=stride, return_indices=True)
    size = shape[2:]
    out = getattr(cr.nn.functional, lib_unpool)(pooled, idx, 2, stride=stride, output_size=size)
    tout = getattr(torch.nn.functional, lib_unpool)(tpooled, tidx, 2, stride=stride, output_size=size)
    _same(out, tout)
    if stride is None:  # no duplicates: PyTorch's gradient is the exact one
        w = rng.standard_normal(shape)
        (out * cr.tensor(w)).sum().backward()
        (tout * torch.tensor(w)).sum().backward()
        _same(x.grad, tx.grad)
    p = cr.tensor(pooled.numpy(), requires_grad=True)
    assert cr.gradcheck(lambda v: getattr(cr.nn.functional, lib_unpool)(
        v, idx, 2, stride=stride, output_size=size), (p,))


def test_max_unpool1d_module_and_bad_indices():
    pool = cr.nn.MaxPool1d(2, return_indices=True)
    unpool = cr.nn.MaxUnpool1d(2)
    x = cr.tensor(np.arange(8.0).reshape(1, 1, 8))
    y, idx = pool(x)
    np.testing.assert_array_equal(unpool(y, idx).numpy(), [[[0, 1, 0, 3, 0, 5, 0, 7]]])
    with pytest.raises(ValueError, match="max_unpool1d: an index 9 is outside the output 8"):
        cr.nn.functional.max_unpool1d(y, idx + 2, 2)


@pytest.mark.parametrize("name", ["fmax", "fmin", "maximum", "minimum"])
def test_extreme_of_two_gradients_at_ties_and_nan_as_torch(name):
    nan = float("nan")
    a, ta = _both([1.0, 2.0, nan, 3.0, nan, -1.0])
    b, tb = _both([1.0, 1.0, 1.0, nan, nan, 4.0])
    w = np.arange(1.0, 7.0)
    out, tout = getattr(cr, name)(a, b), getattr(torch, name)(ta, tb)
    _same(out, tout)
    (out * cr.tensor(w)).nan_to_num().sum().backward()
    (tout * torch.tensor(w)).nan_to_num().sum().backward()
    _same(a.grad, ta.grad)
    _same(b.grad, tb.grad)


def test_atan2_gradient_at_the_origin_is_zero_as_torch():
    y, ty = _both([0.0, 1.0, 0.0])
    x, tx = _both([0.0, 0.0, -2.0])
    cr.atan2(y, x).sum().backward()
    torch.atan2(ty, tx).sum().backward()
    _same(y.grad, ty.grad)
    _same(x.grad, tx.grad)
    assert cr.gradcheck(cr.atan2, (cr.tensor([0.5, -1.0], dtype=cr.float64, requires_grad=True),
                                   cr.tensor([2.0, -0.3], dtype=cr.float64, requires_grad=True)))


def test_multinomial_without_replacement_past_the_positive_weights_as_torch():
    # PyTorch draws every category of positive weight first, then ones of weight 0
    cr.manual_seed(0)
    weights = cr.tensor([[0.0, 1.0, 0.0, 2.0], [5.0, 0.0, 0.0, 0.0]])
    for _ in range(20):
        draws = cr.multinomial(weights, 3)
        assert sorted(draws[0, :2].tolist()) == [1, 3] and draws[0, 2].item() in (0, 2)
        assert draws[1, 0].item() == 0 and len(set(draws[1].tolist())) == 3
    assert torch.multinomial(torch.tensor([[0.0, 1.0, 0.0, 2.0]]), 3).shape == draws[:1].shape


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3), (9, 4), (13, 17)])
def test_interpolate_antialias_as_torch(mode, align_corners, size):
    rng = np.random.default_rng(4)
    x, tx = _both(rng.standard_normal((2, 3, 7, 9)))
    out = cr.nn.functional.interpolate(x, size=size, mode=mode, align_corners=align_corners,
                                       antialias=True)
    tout = torch.nn.functional.interpolate(tx, size=size, mode=mode, align_corners=align_corners,
                                           antialias=True)
    _same(out, tout)
    w = rng.standard_normal(tuple(tout.shape))
    (out * cr.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    _same(x.grad, tx.grad)


def test_interpolate_antialias_by_scale_factor_and_its_refusal():
    x = np.random.default_rng(5).standard_normal((1, 2, 12, 10))
    for factor in (0.5, 0.3, 1.5):
        _same(cr.nn.functional.interpolate(cr.tensor(x), scale_factor=factor, mode="bilinear",
                                           antialias=True),
              torch.nn.functional.interpolate(torch.tensor(x), scale_factor=factor,
                                              mode="bilinear", antialias=True))
    with pytest.raises(ValueError, match="antialias=True needs mode 'bilinear' or 'bicubic'"):
        cr.nn.functional.interpolate(cr.tensor(x), scale_factor=0.5, antialias=True)


@pytest.mark.parametrize("loss", ["soft_margin_loss", "multilabel_soft_margin_loss"])
def test_logistic_losses_have_their_gradient_at_zero_logits(loss):
    # a zero-initialized output layer gives logits of exactly 0: the gradient there is
    # −y σ(0) = −y/2, not 0
    logits, tlogits = _both(np.zeros((2, 3)))
    target = np.array([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]])
    if loss == "multilabel_soft_margin_loss":
        target = (target > 0).astype(np.float64)
    getattr(cr.nn.functional, loss)(logits, cr.tensor(target)).backward()
    getattr(torch.nn.functional, loss)(tlogits, torch.tensor(target)).backward()
    _same(logits.grad, tlogits.grad)
    assert np.abs(logits.grad.numpy()).min() > 0


def test_tile_takes_its_repeats_as_varargs_too():
    t = np.arange(6.0).reshape(2, 3)
    for args in ((1, 2), ((2,),), (2, 1, 1)):
        _same(cr.tensor(t).tile(*args), torch.tensor(t).tile(*args))


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window",
                                  "bartlett_window", "kaiser_window"])
@pytest.mark.parametrize("length", [0, 1, 2, 7, 16])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_as_torch(name, length, periodic):
    ours = getattr(cr, name)(length, periodic, dtype=cr.float64)
    theirs = getattr(torch, name)(length, periodic, dtype=torch.float64)
    _same(ours, theirs)
    assert getattr(cr, name)(4).dtype == cr.float32
    with pytest.raises(ValueError, match=f"{name}: window_length must be a non-negative int"):
        getattr(cr, name)(-1)


@pytest.mark.parametrize("code", [
    "lib.greater(a, 0.1)", "lib.greater_equal(a, b)", "lib.less(a, b)", "lib.less_equal(a, 0)",
    "lib.not_equal(a, b)", "lib.multiply(a, b)", "lib.subtract(a, b, alpha=3)",
    "lib.row_stack([a, b])", "lib.detach(a)", "lib.real(a)", "lib.conj(a)", "lib.isreal(a)",
    "lib.fill(a, 1.5)", "lib.frobenius_norm(a, (0, 1))", "lib.nuclear_norm(a)",
    "lib.conv1d(a.view(1, 3, 4), b.view(3, 1, 4)[:, :, :2].repeat(2, 3, 1)[:2], None, 1, 1)",
    "lib.max_pool1d(a.view(1, 3, 4), 2)", "lib.avg_pool1d(a.view(1, 3, 4), 2)",
    "lib.adaptive_max_pool1d(a.view(1, 3, 4), 3)[1]", "lib.layer_norm(a, (4,))",
    "lib.group_norm(a.view(1, 3, 4), 3)", "lib.embedding(a, lib.tensor([2, 0, 2]))",
    "lib.batch_norm(a, b[0], b[1], b[2].abs(), b[0].abs() + 1, False, 0.1, 1e-5, False)",
    "lib.instance_norm(a.view(1, 3, 4), None, None, None, None, True, 0.1, 1e-5, False)",
    "lib.dropout(a, 0.3, False)", "lib.cosine_similarity(a, b)", "lib.prelu(a, b[0, :1])",
    "lib.relu_(a.clone())", "lib.sigmoid_(a.clone())", "lib.clamp_(a.clone(), -0.5, 0.5)",
    "lib.zero_(a.clone())", "lib.pixel_shuffle(a.reshape(1, 4, 3, 1), 2)",
])
def test_torch_level_spellings_as_torch(code):
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    ours = eval(code, {"lib": cr, "a": cr.tensor(a), "b": cr.tensor(b)})
    theirs = eval(code, {"lib": torch, "a": torch.tensor(a), "b": torch.tensor(b)})
    _same(ours, theirs)


def test_torch_level_in_place_names_and_misses():
    x = cr.tensor([-1.0, 2.0])
    assert cr.relu_(x) is x and x.tolist() == [0.0, 2.0]
    with pytest.raises(AttributeError, match="torch.frobnicate_ is not part of chainrule"):
        _ = cr.frobnicate_
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex"):
        cr.imag(x)


def test_flags_layout_and_more_in_place_methods():
    x = cr.tensor([[0.5, -2.0], [3.0, 0.0]])
    for flag in ("is_sparse", "is_quantized", "is_meta", "is_mps", "is_nested"):
        assert getattr(x, flag) is False
    assert x.layout == cr.strided and str(x.layout) == "torch.strided"
    assert x.isreal().all().item()
    t = torch.tensor(x.numpy())
    _same(x.clone().atan_(), t.clone().atan_())
    _same(x.clone().nextafter_(cr.zeros(2, 2)), t.clone().nextafter_(torch.zeros(2, 2)))
    n = cr.tensor([12, 18, 7])
    tn = torch.tensor([12, 18, 7])
    _same(n.clone().gcd_(cr.tensor(8)), tn.clone().gcd_(torch.tensor(8)))
    _same(n.clone().lcm_(cr.tensor(4)), tn.clone().lcm_(torch.tensor(4)))
    _same(n.clone().bitwise_left_shift_(2), tn.clone().bitwise_left_shift_(2))
    assert [p.shape for p in x.unsafe_chunk(2, 1)] == [(2, 1), (2, 1)]


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_bicubic_as_torch(padding_mode, align_corners):
    rng = np.random.default_rng(7)
    x, tx = _both(rng.standard_normal((2, 3, 5, 6)))
    grid = rng.uniform(-1.5, 1.5, (2, 4, 3, 2))
    grid[0, 0, 0] = [1.0, -1.0]  # exactly on the corners
    g, tg = _both(grid)
    out = cr.nn.functional.grid_sample(x, g, mode="bicubic", padding_mode=padding_mode,
                                       align_corners=align_corners)
    tout = torch.nn.functional.grid_sample(tx, tg, mode="bicubic", padding_mode=padding_mode,
                                           align_corners=align_corners)
    _same(out, tout)
    w = rng.standard_normal(tuple(tout.shape))
    (out * cr.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    _same(x.grad, tx.grad)
    _same(g.grad, tg.grad)
    inner = cr.tensor(rng.uniform(-0.9, 0.9, (1, 2, 2, 2)), requires_grad=True)
    image = cr.tensor(rng.standard_normal((1, 1, 4, 4)), requires_grad=True)
    assert cr.gradcheck(lambda a, b: cr.nn.functional.grid_sample(
        a, b, mode="bicubic", padding_mode=padding_mode, align_corners=align_corners),
        (image, inner))


@pytest.mark.parametrize("code", [
    "lib.cat([lib.ones(2), lib.tensor([1, 2])])",
    "lib.stack([lib.tensor(1), lib.tensor(2.5)])",
    "lib.cat([lib.tensor([True]), lib.tensor([2], dtype=lib.uint8), lib.tensor([-1], dtype=lib.int8)])",
    "lib.cat([lib.tensor([1.5], dtype=lib.float16), lib.tensor([7])])",
    "lib.cat([lib.ones(1, dtype=lib.float64), lib.ones(1)])",
])
def test_cat_and_stack_promote_as_torch(code):
    ours, theirs = eval(code, {"lib": cr}), eval(code, {"lib": torch})
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    _same(ours, theirs)


def test_cat_of_mixed_dtypes_sends_the_gradient_to_the_float_part():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    out = cr.cat([a, cr.tensor([3, 4])])
    assert out.dtype == cr.float32
    (out * cr.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 2.0])


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_creation_takes_size_as_a_keyword(name):
    assert getattr(cr, name)(size=(2, 3)).shape == (2, 3)
    assert getattr(cr, name)(size=[4], dtype=cr.float64).dtype == cr.float64
    with pytest.raises(TypeError, match=f"{name}: the shape is given twice"):
        getattr(cr, name)(2, size=(2,))


@pytest.mark.parametrize("name", ["atan2", "copysign", "xlogy"])
@pytest.mark.parametrize("dtypes", [("int32", "int64"), ("bool", "uint8"), ("float16", "int64"),
                                    ("float32", "float64"), ("int16", "float16")])
@pytest.mark.parametrize("shapes", [((2,), (2,)), ((), (2,)), ((2,), ())])
def test_result_dtypes_of_float_binary_ops_as_torch(name, dtypes, shapes):
    (da, db), (sa, sb) = dtypes, shapes
    a = np.full(sa, 1, dtype=da)
    b = np.full(sb, 2, dtype=db)
    ours = getattr(cr, name)(cr.tensor(a), cr.tensor(b))
    theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy().astype(np.float64),
                               theirs.numpy().astype(np.float64), rtol=1e-3)


@pytest.mark.parametrize("code", [
    "lib.tensor([True, False]).sign()", "lib.tensor([True, False]).square()",
    "lib.tensor([1, 0], dtype=lib.uint8).all()", "lib.tensor([[1, 0]], dtype=lib.uint8).any(1)",
    "lib.logsumexp(lib.tensor([[1, 2], [3, 4]]), 1)", "lib.tensor([1, 2], dtype=lib.int32).nansum()",
    "lib.tensor([[1, 2]], dtype=lib.int8).nansum(1)",
    "lib.nansum(lib.tensor([1.0, float('nan')]), dtype=lib.float64)",
])
def test_unary_and_reduction_dtypes_as_torch(code):
    ours, theirs = eval(code, {"lib": cr}), eval(code, {"lib": torch})
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    _same(ours, theirs)


def test_masked_fill_keeps_the_tensor_dtype_as_torch():
    ints = np.array([[-2, 3], [4, -1]])
    for value in (2.5, -2.7, True):
        ours = cr.tensor(ints).masked_fill(cr.tensor(ints) > 0, value)
        theirs = torch.tensor(ints).masked_fill(torch.tensor(ints) > 0, value)
        assert ours.dtype == cr.int64
        _same(ours, theirs)
    t = cr.tensor(ints)
    t.masked_fill_(t < 0, 1.9)
    assert t.tolist() == [[1, 3], [4, 1]]
    value = cr.tensor(0.5, requires_grad=True)
    x = cr.tensor([1.0, -1.0, 2.0], requires_grad=True)
    (x.masked_fill(x > 0, value) * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert value.grad.item() == 4.0 and x.grad.tolist() == [0.0, 2.0, 0.0]


def test_linalg_errors_are_linalg_errors_caught_as_in_torch_code():
    # the habit: try a Cholesky, add jitter on failure
    matrix = cr.tensor([[1.0, 2.0], [2.0, 1.0]])  # indefinite
    try:
        cr.linalg.cholesky(matrix)
        jittered = False
    except cr.linalg.LinAlgError:
        jittered = True
    assert jittered and issubclass(cr.linalg.LinAlgError, RuntimeError)
    for call in (lambda: cr.linalg.inv(cr.zeros(2, 2)),
                 lambda: cr.linalg.solve(cr.zeros(2, 2), cr.ones(2))):
        with pytest.raises(cr.linalg.LinAlgError, match="singular"):
            call()


def test_linalg_vander_diagonal_matmul_solve_ex_as_torch():
    rng = np.random.default_rng(8)
    v, tv = _both(rng.standard_normal((2, 3)))
    out, tout = cr.linalg.vander(v, N=4), torch.linalg.vander(tv, N=4)
    _same(out, tout)
    out.sum().backward()
    tout.sum().backward()
    _same(v.grad, tv.grad)
    m = np.arange(24.0).reshape(2, 3, 4)
    _same(cr.linalg.diagonal(cr.tensor(m), offset=1), torch.linalg.diagonal(torch.tensor(m), offset=1))
    a = np.stack([np.eye(3) * 2, np.zeros((3, 3))])
    b = rng.standard_normal((2, 3, 2))
    ours, theirs = cr.linalg.solve_ex(cr.tensor(a), cr.tensor(b)), \
        torch.linalg.solve_ex(torch.tensor(a), torch.tensor(b))
    _same(ours.info, theirs.info)
    _same(ours.result[0], theirs.result[0])
    _same(cr.linalg.solve_ex(cr.tensor(a[0]), cr.tensor(b[0])).result,
          torch.linalg.solve_ex(torch.tensor(a[0]), torch.tensor(b[0])).result)
    with pytest.raises(cr.linalg.LinAlgError):
        cr.linalg.solve_ex(cr.tensor(a), cr.tensor(b), check_errors=True)


def test_special_ndtri_as_torch():
    p, tp = _both([0.001, 0.1, 0.5, 0.77, 0.999])
    out, tout = cr.special.ndtri(p), torch.special.ndtri(tp)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-9)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-8)
    np.testing.assert_allclose(cr.special.ndtr(cr.special.ndtri(p)).detach().numpy(),
                               p.detach().numpy(), rtol=1e-12)
