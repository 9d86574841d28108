"""Edge cases of the tensor surface the compat programs p26-p31 brought in, against
PyTorch, and the errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _both(array, dtype=np.float64):
    array = np.asarray(array, dtype=dtype)
    return cr.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


def _same(ours, theirs, **tol):
    np.testing.assert_allclose(np.asarray(ours.detach().numpy()),
                               theirs.detach().numpy(), **(tol or {"rtol": 1e-12}))


def test_logcumsumexp_is_stable_for_far_apart_values():
    values = [[-1000.0, 0.0, 5.0, -3.0], [800.0, 799.0, -5.0, 801.0]]
    a, t = _both(values)
    out, tout = cr.logcumsumexp(a, 1), torch.logcumsumexp(t, 1)
    _same(out, tout)
    w = np.arange(8.0).reshape(2, 4) - 3
    (out * cr.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    _same(a.grad, t.grad)
    assert np.isfinite(a.grad.numpy()).all()


def test_cummax_cummin_ties_and_nan_as_torch():
    values = [1.0, 3.0, 3.0, 2.0, float("nan"), 5.0, 0.0]
    for name in ("cummax", "cummin"):
        ours = getattr(cr, name)(cr.tensor(values), 0)
        theirs = getattr(torch, name)(torch.tensor(values), 0)
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy(), err_msg=name)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy(), err_msg=name)


def test_clamp_with_tensor_bounds_sends_gradients_where_pytorch_does():
    x, tx = _both([-2.0, -0.5, 0.0, 0.5, 2.0, 1.0])
    lo, tlo = _both([-1.0, -1.0, 0.0, 0.0, 0.0, 2.0])   # lo > hi in the last position
    hi, thi = _both([1.0, 1.0, 1.0, 0.2, 1.0, 0.5])
    out, tout = cr.clamp(x, lo, hi), torch.clamp(tx, tlo, thi)
    _same(out, tout)
    w = np.arange(1.0, 7.0)
    (out * cr.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    for ours, theirs in ((x, tx), (lo, tlo), (hi, thi)):
        _same(ours.grad, theirs.grad)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "nearest", "midpoint"])
def test_quantile_forms(interpolation):
    data = np.random.default_rng(1).standard_normal((3, 5))
    a, t = _both(data)
    q = [0.1, 0.5, 0.9]
    out = cr.quantile(a, cr.tensor(q, dtype=cr.float64), dim=1, keepdim=True, interpolation=interpolation)
    tout = torch.quantile(t, torch.tensor(q, dtype=torch.float64), dim=1, keepdim=True,
                          interpolation=interpolation)
    assert out.shape == tuple(tout.shape)
    _same(out, tout)
    out.sum().backward()
    tout.sum().backward()
    _same(a.grad, t.grad)
    _same(cr.quantile(a, 0.25), torch.quantile(t, 0.25))


def test_searchsorted_per_row_and_sides():
    seq = [[1.0, 3.0, 5.0, 7.0], [2.0, 4.0, 6.0, 8.0]]
    vals = [[3.0, 6.0], [2.0, 9.0]]
    for right in (False, True):
        ours = cr.searchsorted(cr.tensor(seq), cr.tensor(vals), right=right)
        theirs = torch.searchsorted(torch.tensor(seq), torch.tensor(vals), right=right)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert cr.searchsorted(cr.tensor([1.0, 2.0]), cr.tensor([2.0]), side="right").item() == 2
    with pytest.raises(ValueError, match="contradict"):
        cr.searchsorted(cr.tensor([1.0]), cr.tensor([1.0]), right=True, side="left")


def test_strides_and_offsets_in_elements_as_pytorch():
    base = np.arange(24.0).reshape(2, 3, 4)
    x, t = cr.tensor(base), torch.tensor(base)
    for f in (lambda v: v, lambda v: v.transpose(1, 2), lambda v: v[:, 1],
              lambda v: v.expand(3, 2, 3, 4), lambda v: v.transpose(0, 2).contiguous(),
              lambda v: v[1, :, 2:]):
        assert f(x).stride() == f(t).stride()
        assert f(x).storage_offset() == f(t).storage_offset()
        assert f(x).is_contiguous() == f(t).is_contiguous()


def test_index_put_accumulates_and_masked_scatter_fills_in_order():
    x, t = _both(np.zeros((3, 2)))
    v, tv = _both([1.0, 2.0, 3.0])
    idx = (np.array([0, 0, 2]), np.array([1, 1, 0]))
    out = x.index_put((cr.tensor(idx[0]), cr.tensor(idx[1])), v, accumulate=True)
    tout = tx = t.index_put((torch.tensor(idx[0]), torch.tensor(idx[1])), tv, accumulate=True)
    _same(out, tout)
    (out * out).sum().backward()
    (tx * tx).sum().backward()
    _same(v.grad, tv.grad)
    mask = np.array([[True, False], [False, True], [True, True]])
    src = np.arange(1.0, 7.0)
    _same(cr.zeros(3, 2).masked_scatter(cr.tensor(mask), cr.tensor(src)),
          torch.zeros(3, 2, dtype=torch.float64).masked_scatter(torch.tensor(mask),
                                                                 torch.tensor(src)))


def test_detach_in_place_and_materialized_grads():
    w = cr.ones(2, requires_grad=True)
    h = w * 2
    h.detach_()
    assert not h.requires_grad and h.is_leaf and h.grad_fn is None
    unused = cr.ones(1, requires_grad=True)
    g = cr.autograd.grad((w * 3).sum(), [w, unused], materialize_grads=True)
    assert g[1].shape == (1,) and g[1].item() == 0.0
    with pytest.raises(ValueError, match="materialize_grads"):
        cr.autograd.grad((w * 3).sum(), [w], allow_unused=False, materialize_grads=True)


def test_dtype_helpers_as_pytorch():
    assert cr.finfo(cr.float32).eps == torch.finfo(torch.float32).eps
    assert cr.finfo().tiny == torch.finfo().tiny
    assert cr.iinfo(cr.int16).max == torch.iinfo(torch.int16).max
    assert str(cr.promote_types(cr.int32, cr.float16)) == "float16"
    assert str(cr.result_type(cr.tensor([1, 2]), 2.5)) == "float32"
    assert cr.can_cast(cr.float64, cr.int32) is False and cr.can_cast(cr.int64, cr.int8)
    assert (cr.tensor([4, 9], dtype=cr.int32) ** 0.5).dtype == cr.float32
    with pytest.raises(TypeError, match="not a floating-point dtype"):
        cr.finfo(cr.int32)


def test_bad_input_names_the_op_and_the_shapes():
    x = cr.ones(3, 4)
    with pytest.raises(TypeError, match="index_put: indices must be a tuple"):
        x.index_put(cr.tensor([0]), cr.ones(4))
    with pytest.raises(ValueError, match="selects 12 positions but source has only 2"):
        x.masked_scatter(x > 0, cr.ones(2))
    with pytest.raises(IndexError, match="take: index out of range for 12"):
        cr.take(x, cr.tensor([12]))
    with pytest.raises(ValueError, match="unfold: size 5 and step 1 do not fit dim 1"):
        x.unfold(1, 5, 1)
    with pytest.raises(ValueError, match="tensordot: contracted dims"):
        cr.tensordot(x, x, dims=([1], [1, 0]))
    with pytest.raises(ValueError, match="cross: no dim of size 3"):
        cr.cross(cr.ones(2, 4), cr.ones(2, 4))
    with pytest.raises(ValueError, match="quantile: q must be"):
        cr.quantile(x, 1.5)
    with pytest.raises(TypeError, match="histc: expected a floating-point tensor"):
        cr.histc(cr.tensor([1, 2]))
    with pytest.raises(ValueError, match="index_copy: source has shape"):
        x.index_copy(0, cr.tensor([0, 1]), cr.ones(3, 4))
    with pytest.raises(ValueError, match="einsum: letter 'i' repeats"):
        cr.einsum("ii", x)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_with_ties_and_untouched_rows(reduce, include_self):
    # ties among src, and with base where base takes part (include_self); PyTorch also
    # counts a tie with an excluded base value, losing part of the gradient (docs/pytorch.md)
    base = [[1.0, 2.0], [0.5, 0.5], [3.0, -1.0]] if include_self else \
        [[7.0, -7.0], [0.5, 0.5], [3.0, -1.0]]
    src = [[1.0, 2.0], [1.0, 0.0], [2.0, 2.0]]
    index = [[0, 0], [0, 1], [0, 0]]            # row 2 is never reached
    x, tx = _both(base)
    s, ts = _both(src)
    out = x.scatter_reduce(0, cr.tensor(index), s, reduce, include_self=include_self)
    tout = tx.scatter_reduce(0, torch.tensor(index), ts, reduce, include_self=include_self)
    _same(out, tout)
    w = np.arange(6.0).reshape(3, 2) + 1
    (out * cr.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    _same(x.grad, tx.grad)
    _same(s.grad, ts.grad)


def test_scatter_reduce_refusals_and_special_names():
    x = cr.zeros(2, 2)
    with pytest.raises(ValueError, match="reduce must be one of"):
        x.scatter_reduce(0, cr.tensor([[0, 1]]), cr.ones(1, 2), "max")
    with pytest.raises(IndexError, match="scatter_reduce: index out of range"):
        x.scatter_reduce(0, cr.tensor([[0, 2]]), cr.ones(1, 2), "sum")
    with pytest.raises(AttributeError, match="chainrule.special has no 'zeta'"):
        _ = cr.special.zeta
    p = cr.tensor([0.0, 0.25, 1.0], dtype=cr.float64)
    np.testing.assert_allclose(cr.special.entr(p).numpy(),
                               torch.special.entr(torch.tensor(p.numpy())).numpy())


def test_scatter_reduce_ties_share_the_whole_gradient():
    x = cr.tensor([[2.0, 0.0]], requires_grad=True)
    src = cr.tensor([[2.0, 5.0], [2.0, 5.0]], requires_grad=True)
    out = x.scatter_reduce(0, cr.tensor([[0, 0], [0, 0]]), src, "amax", include_self=False)
    out.sum().backward()
    np.testing.assert_allclose(src.grad.numpy(), [[0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.0]])


def test_special_functions_numpy_forms_match_scipy():
    special = pytest.importorskip("scipy.special")
    from chainrule.ops import special_ops as S

    x = np.array([0.1, 0.5, 1.0, 2.5, 7.0, 13.2, 40.0, -0.5, -2.3, -7.7])
    np.testing.assert_allclose(S._numpy_digamma(x), special.digamma(x), rtol=1e-13, atol=1e-13)
    for n in (1, 2, 3):
        np.testing.assert_allclose(S._numpy_polygamma(n, x), special.polygamma(n, x),
                                   rtol=1e-12)
    np.testing.assert_allclose(S._numpy_lgamma(x), special.gammaln(x), rtol=1e-13)
    np.testing.assert_allclose(S._numpy_erfc(x), special.erfc(x), rtol=1e-13)
    y = np.array([-0.999, -0.5, 0.0, 0.3, 0.9, 0.99999])
    np.testing.assert_allclose(S._numpy_erfinv(y), special.erfinv(y), rtol=1e-12)
    edges = S._numpy_erfinv(np.array([1.0, -1.0, 1.5]))
    assert edges[0] == np.inf and edges[1] == -np.inf and np.isnan(edges[2])
    assert S._numpy_digamma(np.array([0.0]))[0] == -np.inf
    assert S._numpy_lgamma(np.array([-3.0]))[0] == np.inf


def test_special_functions_against_torch():
    x, t = _both([0.3, 1.7, 4.2, 9.5])
    for ours, theirs in ((cr.lgamma(x), torch.lgamma(t)), (cr.digamma(x), torch.digamma(t)),
                         (cr.polygamma(2, x), torch.polygamma(2, t)),
                         (cr.erfc(x), torch.erfc(t)), (cr.erfinv(x / 10), torch.erfinv(t / 10)),
                         (cr.mvlgamma(x + 2, 3), torch.mvlgamma(t + 2, 3))):
        _same(ours, theirs, rtol=1e-12)
        x.grad, t.grad = None, None
        ours.sum().backward()
        theirs.sum().backward()
        _same(x.grad, t.grad, rtol=1e-8)  # PyTorch's trigamma is good to ~1e-9


def test_shape_changes_in_place_keep_earlier_ops_right():
    w = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    tw = torch.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    results = []
    for lib, leaf in ((cr, w), (torch, tw)):
        h = leaf * 2
        used_before = (h * h).sum()  # saved h with its old shape
        h.t_()
        h.unsqueeze_(0)
        assert tuple(h.shape) == (1, 3, 2)
        (h.squeeze(0) * lib.arange(6.0, dtype=lib.float64).reshape(3, 2)).sum().backward()
        results.append(leaf.grad.numpy().copy())
        del used_before
    np.testing.assert_allclose(results[0], results[1])
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        cr.ones(2, requires_grad=True).unsqueeze_(0)


def test_diagonal_is_a_view_that_writes_through():
    x = cr.zeros(3, 3)
    x.diagonal().fill_(2.0)
    x.diagonal(1).add_(1.0)
    np.testing.assert_allclose(x.numpy(), np.eye(3) * 2 + np.eye(3, k=1))
    assert x.diagonal().data_ptr() == x.data_ptr()


def test_odd_methods_refuse_what_they_cannot_do():
    w = cr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="view\\(dtype\\).*not differentiable"):
        (w * 2).view(cr.int32)
    with pytest.raises(NotImplementedError, match="reduce='multiply'"):
        cr.zeros(3).scatter(0, cr.tensor([0]), w[:1] * 1, reduce="multiply")
    with pytest.raises(ValueError, match="put: 2 indices but source has 1"):
        cr.zeros(3).put(cr.tensor([0, 1]), cr.ones(1))
    with pytest.raises(ValueError, match="use_reentrant=False"):
        from chainrule.utils.checkpoint import checkpoint

        checkpoint(lambda a, b=1: a * b, w, use_reentrant=True, b=2)
    bits = cr.tensor([1.0], dtype=cr.float32).view(cr.int32)
    assert bits.item() == 1065353216 and bits.dtype == cr.int32


def test_split_form_function_gets_its_context_from_setup_context():
    class Double(cr.autograd.Function):
        @staticmethod
        def forward(x):
            return x * 2

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.mark = ("seen", inputs[0].shape, output.shape)

        @staticmethod
        def backward(ctx, g):
            assert ctx.mark == ("seen", (2,), (2,))
            return g * 2

    x = cr.ones(2, requires_grad=True)
    Double.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_unfold_windows_are_views_of_the_input():
    x = cr.zeros(2, 6)
    windows = x.unfold(1, 2, 2)
    windows[0, 1, 0] = 5.0  # the window starting at column 2
    assert x[0, 2].item() == 5.0
    t = torch.arange(12.0).reshape(2, 6)
    assert x.unfold(1, 3, 1).shape == tuple(t.unfold(1, 3, 1).shape)


@pytest.mark.parametrize("code", [
    "x = L.tensor([0.0, 0.0], requires_grad=True); x.norm().backward()",
    "x = L.tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True); L.linalg.norm(x, dim=1).sum().backward()",
    "x = L.tensor([1.0, 1.0], requires_grad=True); x.std().backward()",
    "x = L.tensor([1.0, 1.0, 0.5], requires_grad=True); x.max(0).values.backward()",
    "x = L.tensor([[1.0, 1.0], [2.0, 0.5]], requires_grad=True); x.min(1).values.sum().backward()",
    "x = L.tensor([1.0, 1.0, 0.5], requires_grad=True); x.median().backward()",
    "x = L.tensor([1.0, 2.0], requires_grad=True); L.dist(x, L.tensor([1.0, 2.0])).backward()",
])
def test_gradients_at_kinks_and_ties_are_pytorch_s(code):
    grads = []
    for lib in (cr, torch):
        ns = {"L": lib}
        exec(code, ns)  # noqa: S102 - the cases above
        grads.append(np.asarray(ns["x"].grad.numpy()))
    np.testing.assert_array_equal(grads[0], grads[1])


def test_variance_without_degrees_of_freedom_is_nan_with_a_warning():
    with pytest.warns(RuntimeWarning, match="degrees of freedom"):
        out = cr.tensor([[1.0, 2.0]]).var(0)
    assert np.isnan(out.numpy()).all()


def test_detach_of_a_scalar_shares_its_memory():
    x = cr.tensor(1.0, requires_grad=True)
    y = x.detach()
    y.add_(1)
    assert x.item() == 2.0
    z = (x * 3).detach()
    assert z.item() == 6.0
