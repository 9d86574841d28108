"""scaled_dot_product_attention, MultiheadAttention and the Transformer layers against
PyTorch: state_dict keys, outputs, attention weights, input and parameter gradients."""

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


def _both(a):
    return cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _load(ours, theirs):
    theirs.double()
    ours.double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})


def _check_grads(ours, theirs):
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert p.grad is not None, name
        _close(p.grad, tparams[name].grad, 1e-8)


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"scale": 0.3}, {"mask": "bool"},
                                {"mask": "float"}])
def test_sdpa_matches_torch(kw):
    rng = np.random.default_rng(0)
    q, tq = _both(rng.standard_normal((2, 3, 5, 4)))
    k, tk = _both(rng.standard_normal((2, 3, 6, 4)))
    v, tv = _both(rng.standard_normal((2, 3, 6, 7)))
    kw = dict(kw)
    if kw.get("is_causal"):
        k, tk = _both(rng.standard_normal((2, 3, 5, 4)))
        v, tv = _both(rng.standard_normal((2, 3, 5, 7)))
    mask = kw.pop("mask", None)
    if mask == "bool":
        m = rng.random((5, 6)) > 0.3
        m[:, 0] = True  # no fully masked row
        kw["attn_mask"] = m
    elif mask == "float":
        kw["attn_mask"] = rng.standard_normal((2, 1, 5, 6))
    tkw = {key: torch.tensor(val) if isinstance(val, np.ndarray) else val
           for key, val in kw.items()}
    y = F.scaled_dot_product_attention(q, k, v, **kw)
    ty = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, **tkw)
    _close(y, ty)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    for a, b in ((q, tq), (k, tk), (v, tv)):
        _close(a.grad, b.grad)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("variant", ["self", "cross", "kdim", "masks", "per_head", "unbatched"])
def test_multihead_attention_matches_torch(batch_first, variant):
    torch.manual_seed(0)
    extra = {"kdim": 5, "vdim": 3} if variant == "kdim" else {}
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first, **extra)
    ours = cr.nn.MultiheadAttention(8, 2, batch_first=batch_first, **extra)
    _load(ours, theirs)
    rng = np.random.default_rng(1)
    n, l, s = 3, 4, 5
    shape = (n, l, 8) if batch_first else (l, n, 8)
    kshape = (n, s, extra.get("kdim", 8)) if batch_first else (s, n, extra.get("kdim", 8))
    vshape = kshape[:-1] + (extra.get("vdim", 8),)
    kwargs, tkwargs = {}, {}
    if variant == "unbatched":
        shape, kshape, vshape = (l, 8), (s, 8), (s, 8)
    q, tq = _both(rng.standard_normal(shape))
    if variant == "self":
        k, tk, v, tv = q, tq, q, tq
    else:
        k, tk = _both(rng.standard_normal(kshape))
        v, tv = _both(rng.standard_normal(vshape))
    if variant == "masks":
        pad = np.zeros((n, s), dtype=bool)
        pad[0, -2:] = True
        attn = rng.standard_normal((l, s))
        kwargs = {"key_padding_mask": pad, "attn_mask": attn}
        tkwargs = {"key_padding_mask": torch.tensor(pad), "attn_mask": torch.tensor(attn)}
    if variant == "per_head":
        kwargs = tkwargs = {"average_attn_weights": False}
    out, w = ours(q, k, v, **kwargs)
    tout, tw = theirs(tq, tk, tv, **tkwargs)
    _close(out, tout)
    _close(w, tw)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    _close(q.grad, tq.grad)
    _check_grads(ours, theirs)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_encoder_matches_torch(norm_first, activation):
    if activation == "gelu" and not hasattr(F, "gelu"):
        pytest.skip("F.gelu arrives with the op registry")
    torch.manual_seed(0)
    kw = {"dim_feedforward": 16, "dropout": 0.0, "activation": activation,
          "batch_first": True, "norm_first": norm_first}
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, **kw), 2,
                                         enable_nested_tensor=False)
    ours = cr.nn.TransformerEncoder(cr.nn.TransformerEncoderLayer(8, 2, **kw), 2)
    _load(ours, theirs)
    rng = np.random.default_rng(2)
    x, tx = _both(rng.standard_normal((3, 5, 8)))
    mask = np.triu(np.ones((5, 5), dtype=bool), 1)
    y = ours(x, mask=mask)
    ty = theirs(tx, mask=torch.tensor(mask))
    _close(y, ty, 1e-8)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    _close(x.grad, tx.grad, 1e-8)
    _check_grads(ours, theirs)


def test_transformer_decoder_layer_matches_torch():
    torch.manual_seed(0)
    kw = {"dim_feedforward": 12, "dropout": 0.0}
    theirs = torch.nn.TransformerDecoderLayer(8, 4, **kw)
    ours = cr.nn.TransformerDecoderLayer(8, 4, **kw)
    _load(ours, theirs)
    rng = np.random.default_rng(3)
    t, tt = _both(rng.standard_normal((4, 2, 8)))
    m, tm = _both(rng.standard_normal((6, 2, 8)))
    causal = np.triu(np.full((4, 4), -np.inf), 1)
    y = ours(t, m, tgt_mask=causal)
    ty = theirs(tt, tm, tgt_mask=torch.tensor(causal))
    _close(y, ty, 1e-8)
    y.sum().backward()
    ty.sum().backward()
    _close(m.grad, tm.grad, 1e-8)
    _check_grads(ours, theirs)


def test_attention_errors_and_dropout_in_training_only():
    mha = cr.nn.Sequential(cr.nn.MultiheadAttention(8, 2))
    with pytest.raises(ValueError, match=r"^0 \(MultiheadAttention 8, 2 heads\): expected "
                                         r"feature sizes"):
        mha[0](cr.ones(3, 2, 6), cr.ones(3, 2, 6), cr.ones(3, 2, 6))
    with pytest.raises(ValueError, match="embed_dim .* must be a positive multiple"):
        cr.nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="does not broadcast"):
        F.scaled_dot_product_attention(cr.ones(2, 3, 4), cr.ones(2, 3, 4), cr.ones(2, 3, 4),
                                       attn_mask=np.ones((2, 2), dtype=bool))
    layer = cr.nn.MultiheadAttention(8, 2, dropout=0.5)
    x = cr.randn(4, 3, 8)
    layer.eval()
    a, b = layer(x, x, x)[0], layer(x, x, x)[0]
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    layer.train()
    cr.manual_seed(0)
    c = layer(x, x, x)[0]
    assert not np.allclose(a.numpy(), c.numpy())
