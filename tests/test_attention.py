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


_MHA_FORWARD_CASES = {
    # CLIP's attention pooling: separate q/k/v projections, a concatenated bias, no weights
    "separate_pooling": {"separate": True, "l_q": 1, "need_weights": False},
    "packed_masks": {"attn_mask": "float", "key_padding_mask": True},
    "bias_kv_zero_attn_per_head": {"bias_kv": True, "add_zero_attn": True,
                                   "average_attn_weights": False, "key_padding_mask": True},
    "unbatched_causal": {"unbatched": True, "is_causal": True, "attn_mask": "bool"},
}


@pytest.mark.parametrize("case", list(_MHA_FORWARD_CASES), ids=list(_MHA_FORWARD_CASES))
def test_multi_head_attention_forward_matches_torch(case):
    kw = _MHA_FORWARD_CASES[case]
    rng = np.random.default_rng(3)
    e, h, n, l_k = 8, 2, 3, 5
    l_q = kw.get("l_q", 4)
    shape = (lambda l: (l, e)) if kw.get("unbatched") else (lambda l: (l, n, e))
    arrays = {"q": rng.standard_normal(shape(l_q)), "kv": rng.standard_normal(shape(l_k)),
              "in_w": rng.normal(0, 0.3, (3 * e, e)), "in_b": rng.normal(0, 0.1, 3 * e),
              "out_w": rng.normal(0, 0.3, (e, e)), "out_b": rng.normal(0, 0.1, e),
              "bias_k": rng.normal(0, 0.3, (1, 1, e)), "bias_v": rng.normal(0, 0.3, (1, 1, e))}
    float_mask = rng.standard_normal((l_q, l_k))
    results = {}
    for lib in (cr, torch):
        t = {k: lib.tensor(v, requires_grad=True) for k, v in arrays.items()}
        masks = {}
        if kw.get("attn_mask") == "float":
            masks["attn_mask"] = lib.tensor(float_mask)
        elif kw.get("attn_mask") == "bool":
            masks["attn_mask"] = lib.tensor(np.triu(np.ones((l_q, l_k), bool), 1))
        if kw.get("key_padding_mask"):
            lengths = np.array([[5], [3], [4]])
            masks["key_padding_mask"] = lib.tensor(np.arange(l_k)[None, :] >= lengths)
        if kw.get("separate"):
            weights = {"in_proj_weight": None, "use_separate_proj_weight": True,
                       "q_proj_weight": t["in_w"][:e], "k_proj_weight": t["in_w"][e:2 * e],
                       "v_proj_weight": t["in_w"][2 * e:]}
        else:
            weights = {"in_proj_weight": t["in_w"]}
        lib_F = F if lib is cr else torch.nn.functional
        out, w = lib_F.multi_head_attention_forward(
            t["q"], t["kv"], t["kv"], e, h, in_proj_bias=t["in_b"],
            bias_k=t["bias_k"] if kw.get("bias_kv") else None,
            bias_v=t["bias_v"] if kw.get("bias_kv") else None,
            add_zero_attn=kw.get("add_zero_attn", False), dropout_p=0.5,
            out_proj_weight=t["out_w"], out_proj_bias=t["out_b"], training=False,
            need_weights=kw.get("need_weights", True),
            average_attn_weights=kw.get("average_attn_weights", True),
            is_causal=kw.get("is_causal", False), **weights, **masks)
        loss = (out * out).sum() + (0 if w is None else (w * w).sum())
        loss.backward()
        results[lib.__name__] = (out, w, {k: v.grad for k, v in t.items()})
    (out, w, grads), (t_out, t_w, t_grads) = results["chainrule"], results["torch"]
    _close(out, t_out)
    assert (w is None) == (t_w is None)
    if w is not None:
        _close(w, t_w)
    for k, g in grads.items():
        assert (g is None) == (t_grads[k] is None), k
        if g is not None:
            _close(g, t_grads[k])


def test_multi_head_attention_forward_errors_name_what_is_missing():
    q = cr.randn(4, 2, 8)
    w, b = cr.randn(24, 8), cr.zeros(24)
    ow = cr.randn(8, 8)
    with pytest.raises(NotImplementedError, match="static_k"):
        F.multi_head_attention_forward(q, q, q, 8, 2, w, b, None, None, False, 0.0, ow, None,
                                       static_k=cr.randn(4, 4, 4))
    with pytest.raises(ValueError, match="embed_dim_to_check is 6"):
        F.multi_head_attention_forward(q, q, q, 6, 2, w, b, None, None, False, 0.0, ow, None)
    with pytest.raises(ValueError, match="q_proj_weight, k_proj_weight and v_proj_weight"):
        F.multi_head_attention_forward(q, q, q, 8, 2, None, b, None, None, False, 0.0, ow, None,
                                       use_separate_proj_weight=True)
    with pytest.raises(ValueError, match=r"in_proj_weight must have shape \(24, 8\)"):
        F.multi_head_attention_forward(q, q, q, 8, 2, cr.randn(8, 8), b, None, None, False,
                                       0.0, ow, None)


_ENCODER_PATHS = {  # which configurations take PyTorch's inference fast path (zeros at pads)
    "fast_path_with_norm": {"final_norm": True},
    "fast_path_float_mask": {"float_mask": True},
    "fast_path_fully_padded_row": {"all_padded": True},  # zeros there, not NaN
    "norm_first": {"norm_first": True},
    "sequence_first": {"batch_first": False},
    "odd_heads": {"nhead": 1},
    "mask_not_left_aligned": {"holes": True},
    "grad_mode": {"no_grad": False},
    "fastpath_disabled": {"disable": True},
    "nested_tensor_off": {"enable_nested_tensor": False},
}


@pytest.mark.parametrize("case", list(_ENCODER_PATHS), ids=list(_ENCODER_PATHS))
def test_transformer_encoder_padded_outputs_in_eval_as_torch(case):
    kw = _ENCODER_PATHS[case]
    rng = np.random.default_rng(5)
    batch_first = kw.get("batch_first", True)
    x = rng.standard_normal((2, 5, 8) if batch_first else (5, 2, 8))
    pad = np.array([[False] * 5, [False, False, True, False, True] if kw.get("holes")
                    else [True] * 5 if kw.get("all_padded")
                    else [False, False, False, True, True]])
    outs = []
    for lib in (cr, torch):
        layer = lib.nn.TransformerEncoderLayer(8, kw.get("nhead", 2), 16, dropout=0.0,
                                               batch_first=batch_first,
                                               norm_first=kw.get("norm_first", False))
        enc = lib.nn.TransformerEncoder(layer, 2, norm=lib.nn.LayerNorm(8)
                                        if kw.get("final_norm") else None,
                                        enable_nested_tensor=kw.get("enable_nested_tensor",
                                                                    True))
        enc.double()
        with lib.no_grad():
            for i, p in enumerate(enc.parameters()):
                p.copy_(lib.tensor(np.cos(np.arange(p.numel()) * 0.7 + i)
                                   .reshape(tuple(p.shape)) * 0.3))
        enc.eval()
        mask = lib.tensor(pad)
        if kw.get("float_mask"):
            mask = lib.zeros(2, 5, dtype=lib.float64).masked_fill(mask, float("-inf"))
        lib.backends.mha.set_fastpath_enabled(not kw.get("disable"))
        try:
            if kw.get("no_grad", True):
                with lib.no_grad():
                    out = enc(lib.tensor(x), src_key_padding_mask=mask)
            else:
                out = enc(lib.tensor(x), src_key_padding_mask=mask)
        finally:
            lib.backends.mha.set_fastpath_enabled(True)
        outs.append(out.detach().numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-7, atol=1e-9)
