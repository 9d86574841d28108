"""Losses (functional and modules): values and gradients against PyTorch, gradcheck in
float64 (first and second derivatives), stability, and error messages."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

REDUCTIONS = ["mean", "sum", "none"]


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _compare(torch, ours, theirs, inputs, grad_inputs=(0,), rtol=1e-7, atol=1e-10,
             seed=0):
    """Run ``ours`` on chainrule tensors and ``theirs`` on torch tensors built from the
    same float64 arrays; compare the values and the gradients of the inputs listed in
    ``grad_inputs`` (for a non-scalar loss, of sum(loss * r) with a fixed random r)."""
    ct = [cr.tensor(a, requires_grad=i in grad_inputs) if np.asarray(a).dtype.kind == "f"
          else cr.tensor(a) for i, a in enumerate(inputs)]
    tt = [torch.tensor(a, requires_grad=i in grad_inputs) for i, a in enumerate(inputs)]
    out, tout = ours(*ct), theirs(*tt)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=rtol, atol=atol)
    r = np.random.default_rng(seed).standard_normal(out.shape)
    (out * cr.tensor(r)).sum().backward()
    (tout * torch.tensor(r)).sum().backward()
    for i in grad_inputs:
        np.testing.assert_allclose(ct[i].grad.numpy(), tt[i].grad.numpy(), rtol=rtol,
                                   atol=atol, err_msg=f"gradient of input {i}")
    return out


def _gradgradcheck(f, x):
    """Second derivatives: the gradient function itself checked against finite
    differences (requires every rule to work with create_graph=True)."""
    return cr.gradcheck(lambda x: cr.autograd.grad(f(x), x, create_graph=True)[0], x)


# ---------------------------------------------------------------------------
# regression losses
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
def test_regression_losses_match_torch(torch, rng, name, reduction):
    x = rng.standard_normal((6, 3)) * 2
    y = rng.standard_normal((6, 3)) * 2
    y[0, 0] = x[0, 0]  # a zero residual: l1's kink
    kw = {"reduction": reduction}
    extra = {"huber_loss": {"delta": 0.7}, "smooth_l1_loss": {"beta": 0.5}}.get(name, {})
    _compare(torch, lambda a, b: getattr(F, name)(a, b, **kw, **extra),
             lambda a, b: getattr(torch.nn.functional, name)(a, b, **kw, **extra),
             [x, y], grad_inputs=(0, 1))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
def test_regression_losses_gradcheck(rng, name):
    x = rng.standard_normal(5)
    y = x + np.array([-2.0, -0.4, 0.3, 0.8, 2.5])  # away from the kinks at 0 and ±delta
    assert cr.gradcheck(lambda x, y: getattr(F, name)(x, y), x, y)
    assert cr.gradcheck(lambda x, y: getattr(F, name)(x, y, reduction="none"), x, y)


def test_loss_modules_match_functions(rng):
    x, y = cr.tensor(rng.standard_normal(4)), cr.tensor(rng.standard_normal(4))
    assert nn.MSELoss()(x, y).item() == F.mse_loss(x, y).item()
    assert nn.L1Loss(reduction="sum")(x, y).item() == F.l1_loss(x, y, "sum").item()
    assert nn.HuberLoss(delta=0.5)(x, y).item() == F.huber_loss(x, y, delta=0.5).item()
    assert nn.SmoothL1Loss(beta=0.5)(x, y).item() == F.smooth_l1_loss(x, y, beta=0.5).item()
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss()"  # as PyTorch prints it


def test_shape_mismatch_is_an_error_not_a_broadcast():
    with pytest.raises(ValueError) as info:
        F.mse_loss(cr.randn(32, 1), cr.randn(32))
    assert str(info.value).startswith("mse_loss: input shape (32, 1) and target shape (32,) "
                                      "differ")
    with pytest.raises(ValueError, match="l1_loss: input shape"):
        F.l1_loss(cr.randn(3), np.zeros(4))
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        F.mse_loss(cr.randn(3), cr.randn(3), reduction="avg")


def test_targets_may_be_arrays_lists_or_integer_tensors_and_dtype_is_kept():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for target in ([1, 2, 4], np.array([1.0, 2.0, 4.0]), cr.tensor([1, 2, 4])):
        loss = F.mse_loss(x, target)
        assert loss.dtype == cr.float32
        assert loss.item() == pytest.approx(1 / 3)
    loss.backward()
    assert x.grad.dtype == cr.float32


# ---------------------------------------------------------------------------
# binary classification
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_matches_torch(torch, rng, reduction, weighted):
    p = rng.uniform(0.02, 0.98, (5, 3))
    t = rng.uniform(0, 1, (5, 3))
    w = rng.uniform(0.5, 2, (5, 3)) if weighted else None
    tw = torch.tensor(w) if weighted else None
    _compare(torch, lambda a, b: F.binary_cross_entropy(a, b, w, reduction),
             lambda a, b: torch.nn.functional.binary_cross_entropy(a, b, tw,
                                                                   reduction=reduction),
             [p, t], grad_inputs=(0, 1))


def test_bce_clamps_log_at_minus_100_like_torch(torch):
    p = np.array([0.0, 1.0, 1e-50, 0.5])
    t = np.array([1.0, 0.0, 1.0, 1.0])
    out = _compare(torch, lambda a, b: F.binary_cross_entropy(a, b, reduction="none"),
                   lambda a, b: torch.nn.functional.binary_cross_entropy(a, b,
                                                                         reduction="none"),
                   [p, t], grad_inputs=(0,), rtol=1e-6)
    assert out.numpy()[0] == 100.0 and np.all(np.isfinite(out.numpy()))


def test_bce_rejects_values_outside_0_1():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*with_logits"):
        F.binary_cross_entropy(cr.tensor([0.5, 1.5]), cr.tensor([0.0, 1.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_with_logits_matches_torch(torch, rng, reduction, weighted):
    x = rng.standard_normal((4, 3)) * 3
    x[0, 0] = 0.0  # σ(0) - t: where a composed relu/abs form would get it wrong
    t = rng.uniform(0, 1, (4, 3))
    w = rng.uniform(0.5, 2, (4, 3)) if weighted else None
    pw = rng.uniform(0.5, 3, 3) if weighted else None
    tw = torch.tensor(w) if weighted else None
    tpw = torch.tensor(pw) if weighted else None
    _compare(torch, lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, reduction, pw),
             lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
                 a, b, tw, reduction=reduction, pos_weight=tpw),
             [x, t], grad_inputs=(0, 1))


def test_bce_with_logits_is_stable_for_huge_logits(torch):
    x = np.array([1000.0, -1000.0, 80.0, -80.0], dtype=np.float32)
    t = np.array([0.0, 1.0, 1.0, 0.0], dtype=np.float32)
    out = _compare(torch, lambda a, b: F.binary_cross_entropy_with_logits(a, b,
                                                                          reduction="none"),
                   lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
                       a, b, reduction="none"), [x, t], rtol=1e-6, atol=1e-6)
    assert out.dtype == cr.float32
    np.testing.assert_allclose(out.numpy(), [1000, 1000, 0, 0], atol=1e-6)


def test_bce_gradcheck_first_and_second_order(rng):
    p = rng.uniform(0.1, 0.9, 6)
    t = rng.uniform(0, 1, 6)
    x = rng.standard_normal(6) * 2
    pw = np.array([2.0])
    assert cr.gradcheck(lambda p, t: F.binary_cross_entropy(p, t), p, t)
    assert cr.gradcheck(lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=pw),
                        x, t)
    assert cr.gradcheck(lambda x, t: F.binary_cross_entropy_with_logits(x, t), x, t)
    tt = cr.tensor(t)
    assert _gradgradcheck(lambda p: F.binary_cross_entropy(p, tt), cr.tensor(p))
    assert _gradgradcheck(lambda x: F.binary_cross_entropy_with_logits(x, tt, pos_weight=pw),
                          cr.tensor(x))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_loss(reduction):
    s = cr.tensor([2.0, 0.5, -1.0, 0.2], dtype=cr.float64, requires_grad=True)
    y = np.array([1, 1, 1, -1])
    loss = F.hinge_loss(s, y, reduction=reduction)
    per = np.maximum(0, 1 - y * s.numpy())
    expected = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    np.testing.assert_allclose(loss.numpy(), expected)
    loss.sum().backward()
    scale = 1 / 4 if reduction == "mean" else 1
    np.testing.assert_allclose(s.grad.numpy(), -y * (per > 0) * scale)
    assert nn.HingeLoss()(s, y).item() == pytest.approx(per.mean())
    assert cr.gradcheck(lambda s: F.hinge_loss(s, y), np.array([2.0, 0.5, -1.0, 0.2]))


def test_hinge_loss_rejects_01_labels():
    with pytest.raises(ValueError, match=r"labels must be -1 or \+1, got 0 .*2 \* y - 1"):
        F.hinge_loss(cr.randn(3), [0, 1, 1])


# ---------------------------------------------------------------------------
# cross-entropy and NLL
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("ignore", [False, True])
def test_cross_entropy_matches_torch(torch, rng, reduction, weighted, smoothing, ignore):
    x = rng.standard_normal((7, 5)) * 2
    y = rng.integers(0, 5, 7)
    if ignore:
        y[[1, 4]] = -100
    w = rng.uniform(0.2, 2, 5) if weighted else None
    tw = torch.tensor(w) if weighted else None
    _compare(torch, lambda a: F.cross_entropy(a, y, w, reduction, smoothing),
             lambda a: torch.nn.functional.cross_entropy(
                 a, torch.tensor(y), tw, reduction=reduction, label_smoothing=smoothing),
             [x])


def test_cross_entropy_is_one_node_with_softmax_minus_onehot_gradient():
    x = cr.tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]], requires_grad=True)
    loss = F.cross_entropy(x, [2, 0])
    assert loss.op == "cross_entropy" and loss.parents[0] is x
    loss.backward()
    p = np.exp(x.numpy()) / np.exp(x.numpy()).sum(1, keepdims=True)
    p[[0, 1], [2, 0]] -= 1
    np.testing.assert_allclose(x.grad.numpy(), p / 2, rtol=1e-6)


@pytest.mark.parametrize("scale", [1e3, 1e4])
def test_cross_entropy_is_stable_for_huge_logits(torch, rng, scale):
    x = (rng.standard_normal((6, 10)) * scale).astype(np.float32)
    y = rng.integers(0, 10, 6)
    loss = _compare(torch, lambda a: F.cross_entropy(a, y),
                    lambda a: torch.nn.functional.cross_entropy(a, torch.tensor(y)), [x],
                    rtol=1e-5, atol=1e-3)
    assert loss.dtype == cr.float32 and np.isfinite(loss.item())


def test_cross_entropy_keeps_float32():
    x = cr.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(x, np.array([0, 1, 2, 0]))
    assert loss.dtype == cr.float32
    loss.backward()
    assert x.grad.dtype == cr.float32
    loss = F.cross_entropy(x, [0, 1, 2, 0], weight=np.ones(3), label_smoothing=0.1)
    assert loss.dtype == cr.float32


def test_cross_entropy_nd_unbatched_and_soft_targets(torch, rng):
    x = rng.standard_normal((3, 4, 2, 5))
    y = rng.integers(0, 4, (3, 2, 5))
    for red in REDUCTIONS:
        _compare(torch, lambda a, red=red: F.cross_entropy(a, y, reduction=red),
                 lambda a, red=red: torch.nn.functional.cross_entropy(
                     a, torch.tensor(y), reduction=red),
                 [x])
    v = rng.standard_normal(6)
    _compare(torch, lambda a: F.cross_entropy(a, 2, reduction="none"),
             lambda a: torch.nn.functional.cross_entropy(a, torch.tensor(2), reduction="none"),
             [v])
    probs = rng.dirichlet(np.ones(4), 5)
    logits = rng.standard_normal((5, 4))
    w = rng.uniform(0.5, 2, 4)
    for red in REDUCTIONS:
        _compare(torch, lambda a, b, red=red: F.cross_entropy(a, b, weight=w, reduction=red,
                                                     label_smoothing=0.1),
                 lambda a, b, red=red: torch.nn.functional.cross_entropy(
                     a, b, torch.tensor(w), reduction=red, label_smoothing=0.1),
                 [logits, probs], grad_inputs=(0, 1))


def test_cross_entropy_gradcheck_first_and_second_order(rng):
    x = rng.standard_normal((5, 4))
    y = np.array([0, 3, 1, 1, 2])
    w = np.array([0.5, 1.0, 2.0, 1.5])
    assert cr.gradcheck(lambda x: F.cross_entropy(x, y), x)
    assert cr.gradcheck(lambda x: F.cross_entropy(x, y, reduction="none"), x)
    assert cr.gradcheck(lambda x: F.cross_entropy(x, y, w, "sum", 0.3), x)
    y_ignored = np.array([0, -100, 1, 1, 2])
    assert cr.gradcheck(lambda x: F.cross_entropy(x, y_ignored, w, label_smoothing=0.1), x)
    assert _gradgradcheck(lambda x: F.cross_entropy(x, y), cr.tensor(x))
    assert _gradgradcheck(lambda x: F.cross_entropy(x, y_ignored, w, "sum", 0.3), cr.tensor(x))


def test_cross_entropy_hessian_vector_product_matches_torch(torch, rng):
    x = rng.standard_normal((3, 4))
    v = rng.standard_normal((3, 4))
    y = np.array([1, 0, 3])
    cx = cr.tensor(x, requires_grad=True)
    (g,) = cr.autograd.grad(F.cross_entropy(cx, y), cx, create_graph=True)
    (hv,) = cr.autograd.grad((g * cr.tensor(v)).sum(), cx)
    tx = torch.tensor(x, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.nn.functional.cross_entropy(tx, torch.tensor(y)), tx,
                                create_graph=True)
    (thv,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), tx)
    np.testing.assert_allclose(hv.numpy(), thv.numpy(), rtol=1e-7, atol=1e-12)


def test_cross_entropy_retain_graph_backward_twice_gives_same_gradient():
    x = cr.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(x, [0, 1, 2, 1])
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    x.grad = None
    loss.backward()
    np.testing.assert_array_equal(first, x.grad.numpy())


def test_cross_entropy_target_errors():
    x = cr.randn(4, 10)
    with pytest.raises(ValueError) as info:
        F.cross_entropy(x, [1, 2, 12, 3])
    assert str(info.value) == "cross_entropy: target must hold class indices in [0, 10), got 12"
    with pytest.raises(ValueError, match=r"in \[0, 10\), got -1"):
        F.cross_entropy(x, [1, 2, -1, 3])
    with pytest.raises(TypeError, match="integer class indices, got dtype float32.*long"):
        F.cross_entropy(x, cr.tensor([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(ValueError, match=r"needs a target of shape \(4,\).*\(4, 1\)"):
        F.cross_entropy(x, np.zeros((4, 1), dtype=int))
    with pytest.raises(ValueError, match=r"weight must have shape \(10,\), got \(3,\)"):
        F.cross_entropy(x, [1, 2, 3, 4], weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        F.cross_entropy(x, [1, 2, 3, 4], label_smoothing=1.5)


def test_cross_entropy_module(torch, rng):
    x = rng.standard_normal((4, 3))
    y = np.array([0, 2, 1, 2])
    w = np.array([1.0, 2.0, 0.5])
    crit = nn.CrossEntropyLoss(weight=cr.tensor(w), label_smoothing=0.1)
    assert "weight" in crit.state_dict()
    ours = crit(cr.tensor(x), cr.tensor(y)).item()
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(w), label_smoothing=0.1)(
        torch.tensor(x), torch.tensor(y)).item()
    assert ours == pytest.approx(theirs, rel=1e-7)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_matches_torch(torch, rng, reduction, weighted):
    logp = np.log(rng.dirichlet(np.ones(4), 6))
    y = rng.integers(0, 4, 6)
    y[2] = -100
    w = rng.uniform(0.5, 2, 4) if weighted else None
    tw = torch.tensor(w) if weighted else None
    _compare(torch, lambda a: F.nll_loss(a, y, w, reduction),
             lambda a: torch.nn.functional.nll_loss(a, torch.tensor(y), tw,
                                                    reduction=reduction), [logp])
    assert nn.NLLLoss()(cr.tensor(logp), y).item() == pytest.approx(
        torch.nn.NLLLoss()(torch.tensor(logp), torch.tensor(y)).item())


def test_log_softmax_plus_nll_equals_cross_entropy_and_gradchecks(rng):
    x = rng.standard_normal((5, 3))
    y = np.array([0, 2, 1, 1, 0])
    a = F.nll_loss(F.log_softmax(cr.tensor(x), dim=1), y).item()
    b = F.cross_entropy(cr.tensor(x), y).item()
    assert a == pytest.approx(b, rel=1e-12)
    assert cr.gradcheck(lambda x: F.nll_loss(x, y, reduction="none"), x)
    assert _gradgradcheck(lambda x: F.nll_loss(F.log_softmax(x, dim=1), y), cr.tensor(x))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_multi_margin_loss_matches_torch(torch, rng, reduction, p, weighted):
    x = rng.standard_normal((6, 4))
    y = rng.integers(0, 4, 6)
    w = rng.uniform(0.5, 2, 4) if weighted else None
    tw = torch.tensor(w) if weighted else None
    _compare(torch, lambda a: F.multi_margin_loss(a, y, p=p, margin=0.8, weight=w,
                                                  reduction=reduction),
             lambda a: torch.nn.functional.multi_margin_loss(
                 a, torch.tensor(y), p=p, margin=0.8, weight=tw, reduction=reduction), [x])


def test_multi_margin_loss_is_the_svm_loss_and_gradchecks():
    s = cr.tensor([[3.2, 5.1, -1.7]], dtype=cr.float64)  # the notes' cat example: class 0
    loss = F.multi_margin_loss(s, [0])
    assert loss.item() == pytest.approx((max(0, 1 - 3.2 + 5.1) + max(0, 1 - 3.2 - 1.7)) / 3)
    assert nn.MultiMarginLoss()(s, [0]).item() == loss.item()
    x = np.array([[0.3, 1.9, -2.0, 0.1], [2.0, -1.0, 0.4, 0.25]])
    assert cr.gradcheck(lambda x: F.multi_margin_loss(x, [1, 0]), x)
    assert cr.gradcheck(lambda x: F.multi_margin_loss(x, [1, 0], p=2, reduction="none"), x)


# ---------------------------------------------------------------------------
# L2 regularization
# ---------------------------------------------------------------------------
def test_l2_penalty_has_gradient_lambda_w():
    lin = nn.Linear(3, 2)
    lam = 0.1
    pen = F.l2_penalty(lin, lam)
    w, b = lin.weight.numpy(), lin.bias.numpy()
    assert pen.item() == pytest.approx(lam / 2 * ((w ** 2).sum() + (b ** 2).sum()), rel=1e-6)
    pen.backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), lam * w, rtol=1e-6)
    only_w = F.l2_penalty([lin.weight], 2.0)
    assert only_w.item() == pytest.approx((w ** 2).sum(), rel=1e-6)
    assert cr.gradcheck(lambda a, b: F.l2_penalty([a, b], 0.3), np.ones((2, 2)), np.ones(3))
    with pytest.raises(ValueError, match="no parameters"):
        F.l2_penalty([])


# ---------------------------------------------------------------------------
# functional activations
# ---------------------------------------------------------------------------
def test_functional_activations_match_torch(torch, rng):
    x = rng.standard_normal((3, 4))
    for ours, theirs in [
        (F.relu, torch.nn.functional.relu),
        (F.sigmoid, torch.sigmoid),
        (F.tanh, torch.tanh),
        (lambda a: F.leaky_relu(a, 0.2), lambda a: torch.nn.functional.leaky_relu(a, 0.2)),
        (lambda a: F.softmax(a, dim=0), lambda a: torch.softmax(a, dim=0)),
        (lambda a: F.log_softmax(a, dim=1), lambda a: torch.log_softmax(a, dim=1)),
    ]:
        _compare(torch, ours, theirs, [x])


def test_soft_target_cross_entropy_gradcheck(rng):
    x = rng.standard_normal((4, 3))
    t = rng.dirichlet(np.ones(3), 4)
    w = np.array([1.0, 0.5, 2.0])
    assert cr.gradcheck(lambda x, t: F.cross_entropy(x, t), x, t)
    assert cr.gradcheck(lambda x, t: F.cross_entropy(x, t, w, "none", 0.2), x, t)


def test_fused_ops_second_order(rng):
    t = cr.tensor(rng.uniform(0, 1, 5))
    assert _gradgradcheck(lambda x: F.binary_cross_entropy_with_logits(x, t, reduction="sum"),
                          cr.tensor(rng.standard_normal(5)))
    y = np.array([2, 0, 1])
    assert _gradgradcheck(lambda x: F.nll_loss(F.log_softmax(x, dim=1), y, reduction="none")
                          .sum(), cr.tensor(rng.standard_normal((3, 3))))

    def dropped(x):
        cr.manual_seed(3)
        return (F.dropout(x, 0.3) * x * x).sum()

    assert _gradgradcheck(dropped, cr.tensor(rng.standard_normal(6)))


def test_losses_accept_integer_and_boolean_binary_targets():
    x = cr.tensor([0.3, 0.8])
    assert F.binary_cross_entropy(x, [0, 1]).item() == pytest.approx(
        -(np.log(0.7) + np.log(0.8)) / 2, rel=1e-5)
    assert F.binary_cross_entropy_with_logits(cr.tensor([0.0]), np.array([True])).item() == \
        pytest.approx(np.log(2), rel=1e-6)


def test_cross_entropy_ignore_index_inside_the_class_range(torch, rng):
    x = rng.standard_normal((5, 4))
    y = np.array([0, 1, 0, 3, 2])
    _compare(torch, lambda a: F.cross_entropy(a, y, ignore_index=0, label_smoothing=0.1),
             lambda a: torch.nn.functional.cross_entropy(a, torch.tensor(y), ignore_index=0,
                                                         label_smoothing=0.1), [x])
    _compare(torch, lambda a: F.nll_loss(a, y, ignore_index=3, reduction="sum"),
             lambda a: torch.nn.functional.nll_loss(a, torch.tensor(y), ignore_index=3,
                                                    reduction="sum"), [x])
    assert np.isnan(F.cross_entropy(cr.tensor(x), np.full(5, -100)).item())  # 0/0 as PyTorch


@pytest.mark.parametrize("bad", [2.0, -0.5, float("nan")])
def test_bce_rejects_targets_outside_0_1_as_torch(bad):
    with pytest.raises(ValueError, match=r"target must hold probabilities in \[0, 1\], got "
                                         r"(2|-0.5|nan) at index \(1,\)"):
        F.binary_cross_entropy(cr.tensor([0.5, 0.5]), cr.tensor([1.0, bad]))
    with pytest.raises(ValueError, match=r"input must hold probabilities"):
        F.binary_cross_entropy(cr.tensor([0.5, bad]), cr.tensor([1.0, 1.0]))
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor([0.5, 0.5]),
                                                 torch.tensor([1.0, bad]))


@pytest.mark.parametrize("loss", ["cross_entropy", "cross_entropy_smoothed", "nll_loss",
                                  "cross_entropy_4d", "zero_weights"])
def test_a_batch_with_every_target_ignored_sends_no_gradient_as_torch(torch, rng, loss):
    # a padding-only batch: the mean is 0/0 = NaN in both libraries, but PyTorch sends no
    # gradient back (zeros), so accumulated gradients survive it; all-zero class weights on
    # kept samples are NaN in both
    x = rng.standard_normal((3, 4))
    y = np.array([1, 2, 0]) if loss == "zero_weights" else np.full(3, -100)
    kwargs = {"weight": np.zeros(4)} if loss == "zero_weights" else {}
    t_kwargs = {"weight": torch.zeros(4, dtype=torch.float64)} if kwargs else {}
    results = []
    for lib, fn, target, kw in ((cr, F, y, kwargs),
                                (torch, torch.nn.functional, torch.tensor(y), t_kwargs)):
        a = lib.tensor(x, requires_grad=True)
        if loss == "nll_loss":
            out = fn.nll_loss(fn.log_softmax(a, 1), target, **kw)
        elif loss == "cross_entropy_4d":  # (N, C, L) input, (N, L) targets
            out = fn.cross_entropy(a.T.reshape(1, 4, 3), target.reshape(1, 3))
        else:
            out = fn.cross_entropy(a, target, label_smoothing=0.2 * (loss ==
                                                                    "cross_entropy_smoothed"),
                                   **kw)
        out.backward()
        results.append((out.item(), a.grad.numpy()))
    (ours, grad), (theirs, t_grad) = results
    assert np.isnan(ours) and np.isnan(theirs)
    np.testing.assert_array_equal(grad, t_grad)
