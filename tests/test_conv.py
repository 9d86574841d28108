"""Convolution and pooling against PyTorch (values, input and parameter gradients) and
against central finite differences (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _both(a: np.ndarray):
    """The same float64 array as a chainrule and a torch leaf that require grad."""
    return cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _close(ours, theirs, tol=1e-10):
    ours = ours.numpy() if hasattr(ours, "numpy") and not isinstance(ours, np.ndarray) else ours
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


CONV_CASES = [
    # (N, C, H, W), (O, k, k'), kwargs
    ((2, 3, 7, 6), (4, 3, 3), {}),
    ((1, 1, 5, 5), (2, 3, 3), {"padding": 1}),
    ((2, 4, 9, 8), (6, 3, 2), {"stride": 2, "padding": (1, 0)}),
    ((2, 4, 9, 9), (4, 3, 3), {"dilation": 2, "padding": 2}),
    ((1, 6, 7, 7), (6, 3, 3), {"groups": 6, "padding": 1}),          # depthwise
    ((2, 4, 8, 7), (6, 3, 1), {"groups": 2, "stride": (2, 1)}),
    ((2, 3, 6, 6), (2, 4, 4), {"padding": "same"}),               # even kernel: asymmetric
    ((2, 3, 6, 7), (2, 3, 3), {"padding": "valid", "stride": 3}),
    ((3, 2, 5, 5), (3, 5, 5), {"padding": 2, "dilation": 1}),
    ((1, 2, 11, 10), (3, 3, 2), {"stride": (3, 2), "padding": (2, 1), "dilation": (2, 3)}),
]


@pytest.mark.parametrize("xshape,wspec,kw", CONV_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_torch(xshape, wspec, kw, bias):
    rng = np.random.default_rng(hash((xshape, wspec, bias)) % 2**32)
    o, kh, kww = wspec
    groups = kw.get("groups", 1)
    x, tx = _both(rng.standard_normal(xshape))
    w, tw = _both(rng.standard_normal((o, xshape[1] // groups, kh, kww)))
    b, tb = _both(rng.standard_normal(o)) if bias else (None, None)
    y = F.conv2d(x, w, b, **kw)
    ty = TF.conv2d(tx, tw, tb, **kw)
    _close(y, ty)
    gy = rng.standard_normal(ty.shape)
    (y * cr.tensor(gy)).sum().backward()
    (ty * torch.tensor(gy)).sum().backward()
    _close(x.grad, tx.grad)
    _close(w.grad, tw.grad)
    if bias:
        _close(b.grad, tb.grad)


def test_conv2d_gradcheck():
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((2, 4, 5, 6)), requires_grad=True)
    w = cr.tensor(rng.standard_normal((4, 2, 3, 2)), requires_grad=True)
    b = cr.tensor(rng.standard_normal(4), requires_grad=True)
    assert cr.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, groups=2),
                        x, w, b)


def test_conv2d_unbatched_and_float32():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 8, 8)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    y = F.conv2d(cr.tensor(x), cr.tensor(w), padding=1)
    ty = TF.conv2d(torch.tensor(x), torch.tensor(w), padding=1)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-4, atol=1e-4)


def test_conv2d_chain_in_channels_last_memory():
    """A conv's output (an NCHW view of NHWC memory) feeds the next conv, a pool, and a
    flatten into a linear layer: the values and gradients stay PyTorch's."""
    rng = np.random.default_rng(2)
    x, tx = _both(rng.standard_normal((2, 3, 8, 8)))
    w1, tw1 = _both(rng.standard_normal((4, 3, 3, 3)))
    w2, tw2 = _both(rng.standard_normal((5, 4, 3, 3)))
    lw, tlw = _both(rng.standard_normal((3, 5 * 4 * 4)))

    def ours(x):
        h = F.max_pool2d(F.relu(F.conv2d(x, w1, padding=1)), 2)
        h = F.relu(F.conv2d(h, w2, padding=1))
        return F.linear(h.reshape(2, -1), lw)

    def theirs(x):
        h = TF.max_pool2d(TF.relu(TF.conv2d(x, tw1, padding=1)), 2)
        h = TF.relu(TF.conv2d(h, tw2, padding=1))
        return TF.linear(h.reshape(2, -1), tlw)

    y, ty = ours(x), theirs(tx)
    _close(y, ty)
    y.sum().backward()
    ty.sum().backward()
    for a, b in ((x, tx), (w1, tw1), (w2, tw2), (lw, tlw)):
        _close(a.grad, b.grad)


def test_conv1d_matches_torch():
    rng = np.random.default_rng(3)
    x, tx = _both(rng.standard_normal((2, 4, 11)))
    w, tw = _both(rng.standard_normal((6, 2, 3)))
    b, tb = _both(rng.standard_normal(6))
    kw = {"stride": 2, "padding": 2, "dilation": 2, "groups": 2}
    y, ty = F.conv1d(x, w, b, **kw), TF.conv1d(tx, tw, tb, **kw)
    _close(y, ty)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    for a, t in ((x, tx), (w, tw), (b, tb)):
        _close(a.grad, t.grad)


@pytest.mark.parametrize("kw", [
    {}, {"stride": 2}, {"stride": 2, "padding": 1, "output_padding": 1},
    {"stride": (2, 3), "padding": (0, 1), "dilation": (1, 2)}, {"groups": 2, "stride": 2},
])
def test_conv_transpose2d_matches_torch(kw):
    rng = np.random.default_rng(4)
    groups = kw.get("groups", 1)
    x, tx = _both(rng.standard_normal((2, 4, 5, 4)))
    w, tw = _both(rng.standard_normal((4, 6 // groups, 3, 3)))
    b, tb = _both(rng.standard_normal(6))
    y, ty = F.conv_transpose2d(x, w, b, **kw), TF.conv_transpose2d(tx, tw, tb, **kw)
    _close(y, ty)
    gy = rng.standard_normal(ty.shape)
    (y * cr.tensor(gy)).sum().backward()
    (ty * torch.tensor(gy)).sum().backward()
    for a, t in ((x, tx), (w, tw), (b, tb)):
        _close(a.grad, t.grad)


POOL_CASES = [
    ((2, 3, 8, 8), {"kernel_size": 2}),
    ((2, 3, 7, 9), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((1, 2, 7, 7), {"kernel_size": 2, "ceil_mode": True}),
    ((1, 2, 9, 8), {"kernel_size": (3, 2), "stride": (2, 1), "dilation": (2, 1)}),
    ((2, 1, 10, 10), {"kernel_size": 3, "stride": 1}),                  # overlapping windows
    ((1, 2, 6, 5), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
]


@pytest.mark.parametrize("shape,kw", POOL_CASES)
def test_max_pool2d_matches_torch(shape, kw):
    rng = np.random.default_rng(5)
    # ties on purpose: rounded values repeat inside windows; the first arg-max wins
    data = np.round(rng.standard_normal(shape), 1)
    x, tx = _both(data)
    y, ty = F.max_pool2d(x, **kw), TF.max_pool2d(tx, **kw)
    _close(y, ty)
    gy = rng.standard_normal(ty.shape)
    (y * cr.tensor(gy)).sum().backward()
    (ty * torch.tensor(gy)).sum().backward()
    _close(x.grad, tx.grad)
    _, idx = F.max_pool2d(cr.tensor(data), return_indices=True, **kw)
    _, tidx = TF.max_pool2d(torch.tensor(data), return_indices=True, **kw)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


def test_max_pool2d_propagates_nan_and_second_order():
    data = np.arange(16.0).reshape(1, 1, 4, 4)
    data[0, 0, 1, 0] = np.nan
    y = F.max_pool2d(cr.tensor(data), 2)
    ty = TF.max_pool2d(torch.tensor(data), 2)
    np.testing.assert_array_equal(np.isnan(y.numpy()), np.isnan(ty.numpy()))
    x = cr.tensor(np.random.default_rng(6).standard_normal((1, 2, 5, 5)), requires_grad=True)
    assert cr.gradcheck(lambda x: F.max_pool2d(x, 3, stride=2, padding=1) ** 2, x)
    (gx,) = cr.autograd.grad(F.max_pool2d(x, 2).pow(2).sum(), (x,), create_graph=True)
    gx.sum().backward()  # d/dx Σ 2·pool(x) routed back: 2 at each arg-max
    mask = np.zeros((1, 2, 5, 5))
    tx = torch.tensor(x.numpy(), requires_grad=True)
    (tgx,) = torch.autograd.grad(TF.max_pool2d(tx, 2).pow(2).sum(), (tx,), create_graph=True)
    tgx.sum().backward()
    _close(x.grad, tx.grad)
    del mask


def test_max_pool1d_matches_torch():
    rng = np.random.default_rng(7)
    x, tx = _both(rng.standard_normal((2, 3, 11)))
    y = F.max_pool1d(x, 3, stride=2, padding=1)
    ty = TF.max_pool1d(tx, 3, stride=2, padding=1)
    _close(y, ty)
    y.sum().backward()
    ty.sum().backward()
    _close(x.grad, tx.grad)


@pytest.mark.parametrize("kw", [
    {"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": 2, "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": (2, 3), "divisor_override": 5},
])
def test_avg_pool2d_matches_torch(kw):
    rng = np.random.default_rng(8)
    x, tx = _both(rng.standard_normal((2, 3, 7, 8)))
    y, ty = F.avg_pool2d(x, **kw), TF.avg_pool2d(tx, **kw)
    _close(y, ty)
    gy = rng.standard_normal(ty.shape)
    (y * cr.tensor(gy)).sum().backward()
    (ty * torch.tensor(gy)).sum().backward()
    _close(x.grad, tx.grad)
    assert cr.gradcheck(lambda x: F.avg_pool2d(x, **kw) ** 2,
                        cr.tensor(x.numpy(), requires_grad=True))


@pytest.mark.parametrize("size", [1, 3, (2, 5), (None, 2), 7])
def test_adaptive_avg_pool2d_matches_torch(size):
    rng = np.random.default_rng(9)
    x, tx = _both(rng.standard_normal((2, 3, 7, 8)))
    y, ty = F.adaptive_avg_pool2d(x, size), TF.adaptive_avg_pool2d(tx, size)
    _close(y, ty)
    y.pow(2).sum().backward()
    ty.pow(2).sum().backward()
    _close(x.grad, tx.grad)


@pytest.mark.parametrize("call,message", [
    (lambda: F.conv2d(cr.ones(2, 3, 5, 5), cr.ones(4, 2, 3, 3)),
     "expected input with 2 channels"),
    (lambda: F.conv2d(cr.ones(1, 3, 2, 2), cr.ones(4, 3, 3, 3)), "larger than the padded input"),
    (lambda: F.conv2d(cr.ones(1, 3, 5, 5), cr.ones(4, 3, 3, 3), stride=2, padding="same"),
     "padding='same' is not supported for strided"),
    (lambda: F.conv2d(cr.ones(1, 4, 5, 5), cr.ones(3, 2, 3, 3), groups=2), "groups=2 must divide"),
    (lambda: F.max_pool2d(cr.ones(1, 1, 2, 2), 3), "larger than the input 2×2"),
    (lambda: F.max_pool2d(cr.ones(1, 1, 6, 6), 2, padding=2), "at most half the kernel"),
    (lambda: F.conv2d(cr.ones(5, 5), cr.ones(1, 1, 3, 3)), "expected a 4-D input"),
])
def test_conv_errors_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _cnn(nn):
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding="same", bias=False), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
        nn.Conv2d(6, 6, 3, groups=3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(6 * 2 * 2, 5))


@pytest.mark.parametrize("fusion", [True, False])
def test_cnn_loads_torch_state_dict_and_matches(fusion):
    """Sequential's fusions (Conv2d + ReLU, ReLU + MaxPool2d) change nothing: outputs,
    input and parameter gradients equal PyTorch's, ReLU zeros (pooling ties) included."""
    torch.manual_seed(0)
    tnet = _cnn(torch.nn).double()
    net = _cnn(cr.nn).double()
    net.load_state_dict({k: v.numpy() for k, v in tnet.state_dict().items()})
    assert list(net.state_dict()) == list(tnet.state_dict())
    rng = np.random.default_rng(10)
    data = rng.standard_normal((3, 1, 10, 10))
    data[0, 0, :2, :2] = -1.0  # a window of ReLU zeros
    x, tx = _both(data)
    previous = cr.nn.set_fusion(fusion)
    try:
        y = net(x)
    finally:
        cr.nn.set_fusion(previous)
    ty = tnet(tx)
    _close(y, ty)
    y.pow(2).sum().backward()
    ty.pow(2).sum().backward()
    _close(x.grad, tx.grad)
    tparams = dict(tnet.named_parameters())
    for name, p in net.named_parameters():
        _close(p.grad, tparams[name].grad)


def test_conv_layers_init_shapes_and_errors():
    conv = cr.nn.Conv2d(6, 12, (3, 5), groups=3, bias=True)
    assert conv.weight.shape == (12, 2, 3, 5) and conv.bias.shape == (12,)
    bound = 1 / np.sqrt(2 * 15)
    assert np.abs(conv.weight.numpy()).max() <= bound and np.abs(conv.bias.numpy()).max() <= bound
    assert cr.nn.ConvTranspose2d(4, 6, 3, groups=2).weight.shape == (4, 3, 3, 3)
    assert cr.nn.Conv1d(3, 5, 4).weight.shape == (5, 3, 4)
    net = cr.nn.Sequential(cr.nn.Conv2d(1, 32, 3))
    with pytest.raises(ValueError, match=r"^0 \(Conv2d 1→32, k3\): expected input of shape "
                                         r"\(N, 1, H, W\), got \(64, 28, 28\)"):
        net(cr.ones(64, 28, 28))
    pool = cr.nn.Sequential(cr.nn.Identity(), cr.nn.MaxPool2d(5))
    with pytest.raises(ValueError, match=r"^1 \(MaxPool2d k5\): max_pool2d: the pooling window "
                                         r"5×5 .* is larger than the input 3×3"):
        pool(cr.ones(1, 2, 3, 3))


def test_conv_transpose2d_output_size_and_conv1d_layer_match_torch():
    torch.manual_seed(1)
    tup = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1).double()
    up = cr.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1).double()
    up.load_state_dict({k: v.numpy() for k, v in tup.state_dict().items()})
    data = np.random.default_rng(11).standard_normal((2, 3, 4, 4))
    _close(up(cr.tensor(data), output_size=(8, 8)),
           tup(torch.tensor(data), output_size=(8, 8)))
    tc = torch.nn.Conv1d(3, 4, 3, padding="same").double()
    c = cr.nn.Conv1d(3, 4, 3, padding="same").double()
    c.load_state_dict({k: v.numpy() for k, v in tc.state_dict().items()})
    seq = np.random.default_rng(12).standard_normal((2, 3, 9))
    _close(c(cr.tensor(seq)), tc(torch.tensor(seq)))


@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": (2, 3), "stride": 2},
                                {"kernel_size": 3, "padding": 1, "dilation": 2}])
def test_unfold_fold_match_torch(kw):
    rng = np.random.default_rng(13)
    x, tx = _both(rng.standard_normal((2, 3, 7, 8)))
    cols, tcols = F.unfold(x, **kw), TF.unfold(tx, **kw)
    _close(cols, tcols)
    back, tback = F.fold(cols, (7, 8), **kw), TF.fold(tcols, (7, 8), **kw)
    _close(back, tback)
    (back * back).sum().backward()
    (tback * tback).sum().backward()
    _close(x.grad, tx.grad)
    assert cr.gradcheck(lambda x: F.fold(F.unfold(x, **kw), (7, 8), **kw) ** 2,
                        cr.tensor(rng.standard_normal((1, 2, 7, 8)), requires_grad=True))


@pytest.mark.parametrize("size", [(1, 1), (3, 4), (5, 3), 2])
def test_adaptive_max_pool2d_matches_torch(size):
    rng = np.random.default_rng(14)
    data = np.round(rng.standard_normal((2, 3, 7, 8)), 1)  # ties
    x, tx = _both(data)
    (y, idx), (ty, tidx) = F.adaptive_max_pool2d(x, size, True), \
        TF.adaptive_max_pool2d(tx, size, True)
    _close(y, ty)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    y.pow(2).sum().backward()
    ty.pow(2).sum().backward()
    _close(x.grad, tx.grad)
    _close(cr.nn.AdaptiveMaxPool2d(size)(cr.tensor(data)), torch.nn.AdaptiveMaxPool2d(size)(
        torch.tensor(data)))


@pytest.mark.parametrize("shape,kw", [
    ((2, 3, 5, 4), {"scale_factor": 2}),
    ((2, 3, 5, 4), {"size": (7, 9)}),
    ((2, 3, 5, 4), {"size": (3, 2), "mode": "nearest-exact"}),
    ((2, 3, 5, 4), {"scale_factor": 1.7, "mode": "bilinear"}),
    ((2, 3, 5, 4), {"size": (8, 3), "mode": "bilinear", "align_corners": True}),
    ((2, 3, 5, 4), {"size": (8, 7), "mode": "bilinear", "align_corners": False}),
    ((2, 3, 6), {"scale_factor": 2.5, "mode": "linear"}),
    ((2, 3, 6), {"size": 4, "mode": "linear", "align_corners": True}),
    ((1, 1, 3), {"scale_factor": 3}),
])
def test_interpolate_matches_torch(shape, kw):
    rng = np.random.default_rng(15)
    x, tx = _both(rng.standard_normal(shape))
    y, ty = F.interpolate(x, **kw), TF.interpolate(tx, **kw)
    _close(y, ty)
    gy = rng.standard_normal(ty.shape)
    (y * cr.tensor(gy)).sum().backward()
    (ty * torch.tensor(gy)).sum().backward()
    _close(x.grad, tx.grad)
    _close(cr.nn.Upsample(**kw)(cr.tensor(x.numpy())),
           torch.nn.Upsample(**kw)(torch.tensor(x.numpy())))


def test_interpolate_errors():
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(cr.ones(1, 1, 4, 4))
    with pytest.raises(ValueError, match="mode 'linear' is not supported for a 4-D input"):
        F.interpolate(cr.ones(1, 1, 4, 4), scale_factor=2, mode="linear")


def test_conv2d_random_geometries_match_torch():
    """40 random geometries (odd sizes, padding beyond the kernel, batch 1, groups)."""
    rng = np.random.default_rng(20)
    for _ in range(40):
        groups = int(rng.choice([1, 1, 2, 3]))
        cin, cout = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
        kh, kw = (int(k) for k in rng.integers(1, 5, 2))
        sh, sw = (int(s) for s in rng.integers(1, 4, 2))
        dh, dw = (int(d) for d in rng.integers(1, 3, 2))
        ph, pw = (int(p) for p in rng.integers(0, 4, 2))
        h = int(rng.integers(dh * (kh - 1) + 1, 12)) + 0
        w = int(rng.integers(dw * (kw - 1) + 1, 12))
        n = int(rng.integers(1, 3))
        kw_args = {"stride": (sh, sw), "padding": (ph, pw), "dilation": (dh, dw),
                   "groups": groups}
        x, tx = _both(rng.standard_normal((n, cin, h, w)))
        wt, twt = _both(rng.standard_normal((cout, cin // groups, kh, kw)))
        b, tb = _both(rng.standard_normal(cout))
        y, ty = F.conv2d(x, wt, b, **kw_args), TF.conv2d(tx, twt, tb, **kw_args)
        _close(y, ty)
        gy = rng.standard_normal(ty.shape)
        (y * cr.tensor(gy)).sum().backward()
        (ty * torch.tensor(gy)).sum().backward()
        for a, t in ((x, tx), (wt, twt), (b, tb)):
            _close(a.grad, t.grad)
        # the transposed convolution with the same geometry maps back to (h, w)
        up = F.conv_transpose2d(y.detach(), wt.detach(), None, (sh, sw), (ph, pw),
                                groups=groups, dilation=(dh, dw))
        tup = TF.conv_transpose2d(ty.detach(), twt.detach(), None, (sh, sw), (ph, pw),
                                  groups=groups, dilation=(dh, dw))
        _close(up, tup)


def test_pooling_random_geometries_match_torch():
    rng = np.random.default_rng(21)
    for _ in range(40):
        kh, kw = (int(k) for k in rng.integers(1, 4, 2))
        sh, sw = (int(s) for s in rng.integers(1, 4, 2))
        ph, pw = int(rng.integers(0, kh // 2 + 1)), int(rng.integers(0, kw // 2 + 1))
        dh, dw = (int(d) for d in rng.integers(1, 3, 2))
        ceil = bool(rng.integers(0, 2))
        h = int(rng.integers(dh * (kh - 1) + 1, 11))
        w = int(rng.integers(dw * (kw - 1) + 1, 11))
        data = np.round(rng.standard_normal((int(rng.integers(1, 3)), 2, h, w)), 1)
        kwm = {"kernel_size": (kh, kw), "stride": (sh, sw), "padding": (ph, pw),
               "dilation": (dh, dw), "ceil_mode": ceil}
        x, tx = _both(data)
        y, ty = F.max_pool2d(x, **kwm), TF.max_pool2d(tx, **kwm)
        _close(y, ty)
        gy = rng.standard_normal(ty.shape)
        (y * cr.tensor(gy)).sum().backward()
        (ty * torch.tensor(gy)).sum().backward()
        _close(x.grad, tx.grad)
        kwa = {"kernel_size": (kh, kw), "stride": (sh, sw), "padding": (ph, pw),
               "ceil_mode": ceil, "count_include_pad": bool(rng.integers(0, 2))}
        _close(F.avg_pool2d(cr.tensor(data), **kwa), TF.avg_pool2d(torch.tensor(data), **kwa))
