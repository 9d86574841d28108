"""BatchNorm, LayerNorm, GroupNorm, Embedding and channel dropout against PyTorch:
state_dict keys, outputs, input and parameter gradients, running statistics."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

torch = pytest.importorskip("torch")


def _close(ours, theirs, tol=1e-9):
    ours = ours.numpy() if not isinstance(ours, np.ndarray) else ours
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


def _pair(ours_cls, theirs_cls, *args, **kwargs):
    """The same layer in both libraries, float64, chainrule loaded from torch's state."""
    torch.manual_seed(0)
    theirs = theirs_cls(*args, **kwargs).double()
    ours = ours_cls(*args, **kwargs).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with torch.no_grad():  # non-trivial affine parameters
        for p in theirs.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _run(ours, theirs, data, weights):
    x = cr.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    y, ty = ours(x), theirs(tx)
    _close(y, ty)
    (y * cr.tensor(weights)).sum().backward()
    (ty * torch.tensor(weights)).sum().backward()
    _close(x.grad, tx.grad)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _close(p.grad, tparams[name].grad)


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (5, 4)), ("BatchNorm1d", (3, 4, 6)),
                                       ("BatchNorm2d", (3, 4, 5, 2)), ("BatchNorm2d", (2, 4, 1, 1))])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"affine": False},
                                    {"track_running_stats": False}, {"momentum": 0.3}])
def test_batchnorm_train_and_eval_match_torch(cls, shape, kwargs):
    ours, theirs = _pair(getattr(cr.nn, cls), getattr(torch.nn, cls), 4, **kwargs)
    rng = np.random.default_rng(0)
    for step in range(3):  # running statistics over several batches, then eval
        data = rng.standard_normal(shape) * 2 + 1
        _run(ours, theirs, data, rng.standard_normal(shape))
        ours.zero_grad()
        theirs.zero_grad()
        for (k, v), tv in zip(ours.state_dict().items(), theirs.state_dict().values()):
            np.testing.assert_allclose(v.numpy(), tv.numpy(), rtol=1e-9, atol=1e-12,
                                       err_msg=f"{k} after step {step}")
    ours.eval()
    theirs.eval()
    _run(ours, theirs, rng.standard_normal(shape), rng.standard_normal(shape))


def test_batchnorm_one_value_per_channel_raises_in_training_only():
    bn = cr.nn.Sequential(cr.nn.BatchNorm1d(10))
    with pytest.raises(ValueError, match=r"^0 \(BatchNorm1d 10\): batch_norm: expected more "
                                         r"than 1 value per channel when training"):
        bn(cr.ones(1, 10))
    bn.eval()
    assert bn(cr.ones(1, 10)).shape == (1, 10)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 10\) or \(N, 10, L\)"):
        bn(cr.ones(4, 3))


def test_batchnorm_gradcheck_and_second_order():
    rng = np.random.default_rng(1)
    x = cr.tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    w = cr.tensor(rng.standard_normal(3), requires_grad=True)
    b = cr.tensor(rng.standard_normal(3), requires_grad=True)
    rm, rv = np.zeros(3), np.ones(3)

    def f(x, w, b):
        return F.batch_norm(x, rm.copy(), rv.copy(), w, b, training=True) ** 2

    assert cr.gradcheck(f, x, w, b)
    tx = torch.tensor(x.numpy(), requires_grad=True)
    tw = torch.tensor(w.numpy(), requires_grad=True)
    (g,) = cr.autograd.grad(f(x, w, b).sum(), (x,), create_graph=True)
    (g * g).sum().backward()
    (tg,) = torch.autograd.grad((torch.nn.functional.batch_norm(
        tx, None, None, tw, torch.tensor(b.numpy()), training=True) ** 2).sum(), (tx,),
        create_graph=True)
    (tg * tg).sum().backward()
    _close(x.grad, tx.grad, 1e-7)
    _close(w.grad, tw.grad, 1e-7)


@pytest.mark.parametrize("shape,normalized", [((3, 5), 5), ((2, 3, 4), (3, 4)), ((1, 7), [7])])
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm_matches_torch(shape, normalized, affine):
    ours, theirs = _pair(cr.nn.LayerNorm, torch.nn.LayerNorm, normalized,
                         elementwise_affine=affine)
    rng = np.random.default_rng(2)
    _run(ours, theirs, rng.standard_normal(shape) * 3, rng.standard_normal(shape))


def test_layernorm_gradcheck():
    rng = np.random.default_rng(3)
    x = cr.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = cr.tensor(rng.standard_normal(4), requires_grad=True)
    b = cr.tensor(rng.standard_normal(4), requires_grad=True)
    assert cr.gradcheck(lambda x, w, b: F.layer_norm(x, 4, w, b) ** 3, x, w, b)


@pytest.mark.parametrize("groups,shape", [(2, (3, 4, 5)), (3, (2, 6, 2, 3)), (1, (2, 3, 4))])
def test_groupnorm_matches_torch(groups, shape):
    ours, theirs = _pair(cr.nn.GroupNorm, torch.nn.GroupNorm, groups, shape[1])
    rng = np.random.default_rng(4)
    _run(ours, theirs, rng.standard_normal(shape), rng.standard_normal(shape))


@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 0}, {"padding_idx": -1},
                                    {"scale_grad_by_freq": True}])
def test_embedding_matches_torch(kwargs):
    ours, theirs = _pair(cr.nn.Embedding, torch.nn.Embedding, 7, 3, **kwargs)
    idx = np.array([[0, 2, 2, 6], [1, 0, 6, 6]])
    y, ty = ours(cr.tensor(idx)), theirs(torch.tensor(idx))
    _close(y, ty)
    gy = np.random.default_rng(5).standard_normal(ty.shape)
    (y * cr.tensor(gy)).sum().backward()
    (ty * torch.tensor(gy)).sum().backward()
    _close(ours.weight.grad, theirs.weight.grad)


def test_embedding_init_max_norm_and_errors():
    emb = cr.nn.Embedding(5, 4, padding_idx=2)
    assert np.all(emb.weight.numpy()[2] == 0)
    ours, theirs = _pair(cr.nn.Embedding, torch.nn.Embedding, 6, 4, max_norm=1.0)
    idx = np.array([1, 3, 3])
    _close(ours(cr.tensor(idx)), theirs(torch.tensor(idx)))
    _close(ours.weight, theirs.weight)  # the looked-up rows were renormalized in place
    net = cr.nn.Sequential(cr.nn.Embedding(5, 2))
    with pytest.raises(IndexError, match=r"^0 \(Embedding 5×2\): embedding: index 5 is out "
                                         r"of range for an embedding of 5 rows"):
        net(cr.tensor([1, 5]))
    with pytest.raises(TypeError, match="expected integer indices"):
        net(cr.tensor([1.0]))
    pre = cr.nn.Embedding.from_pretrained(np.eye(3))
    assert not pre.weight.requires_grad and pre(cr.tensor([2])).tolist() == [[0, 0, 1]]


@pytest.mark.parametrize("cls,shape", [(cr.nn.Dropout2d, (4, 6, 3, 3)),
                                       (cr.nn.Dropout1d, (4, 6, 5))])
def test_channel_dropout_zeroes_whole_channels(cls, shape):
    cr.manual_seed(0)
    drop = cls(0.5)
    x = cr.ones(*shape, requires_grad=True)
    y = drop(x)
    per_channel = y.numpy().reshape(shape[0], shape[1], -1)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel == 2).all(axis=2))
    assert 0 < (per_channel == 0).mean() < 1
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())  # gradient = the scaled mask
    drop.eval()
    assert drop(x) is x
