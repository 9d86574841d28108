"""The losses and tensor functions of loss_functions.py / tensor_functions.py (and their
modules) against PyTorch: the same values and the same gradients for every input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as CF

torch = pytest.importorskip("torch")
TF = torch.nn.functional

rng = np.random.default_rng(7)


def _normal(*shape):
    return rng.standard_normal(shape)


def _positive(*shape):
    return rng.uniform(0.1, 3.0, shape)


def _probs(*shape):
    p = rng.uniform(0.05, 1.0, shape)
    return p / p.sum(axis=-1, keepdims=True)


def _signs(*shape):
    return rng.choice([-1.0, 1.0], size=shape)


# name -> (call(F, *tensors), arrays, indices of arrays that take gradients)
# (call receives the functional module, so the same lambda serves both libraries)
probs_with_zero = _probs(4, 5)
probs_with_zero[1, 2] = 0.0
counts = rng.poisson(2.0, (6, 3)).astype(float)
counts_from_one = counts + 1  # (Stirling's term of a zero count: a nan target gradient
#                              in PyTorch, 0 here; it is masked out of the value in both)
CASES = {
    "kl_div-batchmean": (lambda F, x, t: F.kl_div(x, t, reduction="batchmean"),
                         [np.log(_probs(4, 5)), probs_with_zero], [0]),
    # (the target's derivative log t + 1 is −∞ at t = 0: PyTorch gives nan there, we
    # give the finite limit of the masked term; compared where both are finite)
    "kl_div-sum": (lambda F, x, t: F.kl_div(x, t, reduction="sum"),
                   [np.log(_probs(4, 5)), _probs(4, 5)], [0, 1]),
    "kl_div-none-log_target": (
        lambda F, x, t: F.kl_div(x, t, reduction="none", log_target=True),
        [np.log(_probs(3, 4)), np.log(_probs(3, 4))], [0, 1]),
    "kl_div-legacy-reduce": (lambda F, x, t: F.kl_div(x, t, reduce=False),
                             [np.log(_probs(3, 4)), _probs(3, 4)], [0]),
    "poisson_nll": (lambda F, x, t: F.poisson_nll_loss(x, t), [_normal(6, 3), counts], [0]),
    "poisson_nll-full-none": (lambda F, x, t: F.poisson_nll_loss(x, t, full=True,
                                                                  reduction="none"),
                              [_normal(6, 3), counts_from_one], [0, 1]),
    "poisson_nll-full-zero-counts": (lambda F, x, t: F.poisson_nll_loss(x, t, full=True),
                                     [_normal(6, 3), counts], [0]),
    "poisson_nll-rate": (lambda F, x, t: F.poisson_nll_loss(x, t, log_input=False,
                                                             reduction="sum"),
                         [_positive(6, 3), counts], [0]),
    "gaussian_nll": (lambda F, x, t, v: F.gaussian_nll_loss(x, t, v),
                     [_normal(5, 3), _normal(5, 3), _positive(5, 3)], [0, 1, 2]),
    "gaussian_nll-full-sum-small-var": (
        lambda F, x, t, v: F.gaussian_nll_loss(x, t, v, full=True, eps=0.5, reduction="sum"),
        [_normal(5, 3), _normal(5, 3), _positive(5, 3) / 3], [0, 2]),
    "gaussian_nll-var-per-sample": (lambda F, x, t, v: F.gaussian_nll_loss(x, t, v),
                                    [_normal(5, 3), _normal(5, 3), _positive(5)], [0, 2]),
    "gaussian_nll-var-shared": (lambda F, x, t, v: F.gaussian_nll_loss(x, t, v,
                                                                        reduction="none"),
                                [_normal(5, 3), _normal(5, 3), _positive(5, 1)], [0, 2]),
    "gaussian_nll-float-var": (lambda F, x, t: F.gaussian_nll_loss(x, t, 0.7),
                               [_normal(5, 3), _normal(5, 3)], [0]),
    "soft_margin": (lambda F, x, y: F.soft_margin_loss(x, y), [_normal(4, 3), _signs(4, 3)],
                    [0]),
    "soft_margin-none": (lambda F, x, y: F.soft_margin_loss(x, y, reduction="none"),
                         [3 * _normal(7), _signs(7)], [0]),
    "multilabel_soft_margin": (lambda F, x, y: F.multilabel_soft_margin_loss(x, y),
                               [_normal(4, 5), rng.integers(0, 2, (4, 5)).astype(float)],
                               [0, 1]),
    "multilabel_soft_margin-weight-none": (
        lambda F, x, y, w: F.multilabel_soft_margin_loss(x, y, weight=w, reduction="none"),
        [_normal(4, 5), rng.integers(0, 2, (4, 5)).astype(float), _positive(5)], [0]),
    "margin_ranking": (lambda F, a, b, y: F.margin_ranking_loss(a, b, y, margin=0.3),
                       [_normal(8), _normal(8), _signs(8)], [0, 1]),
    "margin_ranking-sum": (lambda F, a, b, y: F.margin_ranking_loss(a, b, y,
                                                                     reduction="sum"),
                           [_normal(8), _normal(8), _signs(8)], [0, 1]),
    "cosine_embedding": (lambda F, a, b, y: F.cosine_embedding_loss(a, b, y, margin=0.1),
                         [_normal(6, 4), _normal(6, 4), _signs(6)], [0, 1]),
    "cosine_embedding-none": (lambda F, a, b, y: F.cosine_embedding_loss(a, b, y,
                                                                          reduction="none"),
                              [_normal(6, 4), _normal(6, 4), _signs(6)], [0, 1]),
    "triplet_margin": (lambda F, a, p, n: F.triplet_margin_loss(a, p, n, margin=2.0),
                       [_normal(6, 4), _normal(6, 4), _normal(6, 4)], [0, 1, 2]),
    "triplet_margin-p1-swap": (lambda F, a, p, n: F.triplet_margin_loss(
        a, p, n, margin=3.0, p=1, swap=True, reduction="none"),
        [_normal(6, 4), _normal(6, 4), _normal(6, 4)], [0, 1, 2]),
    "triplet_margin-p3-unbatched": (lambda F, a, p, n: F.triplet_margin_loss(a, p, n, p=3),
                                    [_normal(4), _normal(4), _normal(4)], [0, 1, 2]),
    "cosine_similarity": (lambda F, a, b: F.cosine_similarity(a, b),
                          [_normal(5, 4), _normal(5, 4)], [0, 1]),
    "cosine_similarity-broadcast-dim": (lambda F, a, b: F.cosine_similarity(a, b, dim=-1),
                                        [_normal(3, 1, 4), _normal(5, 4)], [0, 1]),
    "cosine_similarity-tiny-norm": (lambda F, a, b: F.cosine_similarity(a, b, dim=0),
                                    [np.array([1e-9, 0.0]), np.array([1.0, 1.0])], [0, 1]),
    "pairwise_distance": (lambda F, a, b: F.pairwise_distance(a, b),
                          [_normal(5, 4), _normal(5, 4)], [0, 1]),
    "pairwise_distance-inf-keepdim": (lambda F, a, b: F.pairwise_distance(
        a, b, p=math.inf, keepdim=True), [_normal(5, 4), _normal(5, 4)], [0, 1]),
    "pairwise_distance-equal-points": (lambda F, a, b: F.pairwise_distance(a, b, eps=0.0),
                                       [np.ones((2, 3)), np.ones((2, 3))], [0, 1]),
    "normalize": (lambda F, x: F.normalize(x), [_normal(4, 3)], [0]),
    "normalize-p1-dim0": (lambda F, x: F.normalize(x, p=1, dim=0), [_normal(4, 3)], [0]),
    "normalize-zero-row": (lambda F, x: F.normalize(x, dim=-1),
                           [np.vstack([_normal(1, 3), np.zeros((1, 3))])], [0]),
    "pad-constant": (lambda F, x: F.pad(x, (1, 2)), [_normal(2, 3)], [0]),
    "pad-constant-2d-value": (lambda F, x: F.pad(x, (1, 0, 2, 1), value=-1.5),
                              [_normal(2, 3, 4)], [0]),
    "pad-constant-crop": (lambda F, x: F.pad(x, (-1, 2, 1, -1)), [_normal(2, 3, 4)], [0]),
    "pad-reflect": (lambda F, x: F.pad(x, (2, 3), mode="reflect"), [_normal(2, 3, 5)], [0]),
    "pad-reflect-2d": (lambda F, x: F.pad(x, (1, 2, 2, 1), mode="reflect"),
                       [_normal(1, 2, 4, 5)], [0]),
    "pad-replicate-2d": (lambda F, x: F.pad(x, (3, 1, 0, 2), mode="replicate"),
                         [_normal(1, 2, 3, 4)], [0]),
    "pad-circular": (lambda F, x: F.pad(x, (2, 1), mode="circular"), [_normal(2, 3, 4)],
                     [0]),
}


def _run(lib, call, arrays, grad_on):
    if lib is torch:
        ts = [torch.tensor(a, requires_grad=i in grad_on) for i, a in enumerate(arrays)]
        out = call(TF, *ts)
    else:
        ts = [cr.tensor(a, requires_grad=i in grad_on) for i, a in enumerate(arrays)]
        out = call(CF, *ts)
    # a weighted sum, so every output element's gradient is checked
    weights = np.linspace(0.5, 1.5, int(np.prod(out.shape)) or 1).reshape(out.shape)
    (out * lib.tensor(weights)).sum().backward()
    value = out.detach().numpy() if lib is torch else out.numpy()
    grads = [ts[i].grad.numpy() for i in grad_on]
    return value, grads


@pytest.mark.parametrize("name", list(CASES))
def test_value_and_gradients_match_torch(name):
    call, arrays, grad_on = CASES[name]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kl_div's 'mean' warning, in both libraries
        want, want_grads = _run(torch, call, arrays, grad_on)
    got, got_grads = _run(cr, call, arrays, grad_on)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=f"{name} value")
    for i, g, w in zip(grad_on, got_grads, want_grads):
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10,
                                   err_msg=f"{name} gradient of input {i}")


@pytest.mark.parametrize("name", ["kl_div-sum", "gaussian_nll", "triplet_margin",
                                  "cosine_similarity", "pad-reflect", "normalize"])
def test_float32_stays_float32(name):
    call, arrays, _ = CASES[name]
    out = call(CF, *[cr.tensor(a.astype(np.float32)) for a in arrays])
    assert out.dtype == np.float32


MODULES = [
    ("KLDivLoss", {"reduction": "batchmean"}, [np.log(_probs(4, 5)), _probs(4, 5)]),
    ("KLDivLoss", {"log_target": True, "reduction": "sum"},
     [np.log(_probs(4, 5)), np.log(_probs(4, 5))]),
    ("PoissonNLLLoss", {"full": True}, [_normal(6, 3), counts]),
    ("GaussianNLLLoss", {"eps": 1e-3}, [_normal(5, 3), _normal(5, 3), _positive(5, 3)]),
    ("SoftMarginLoss", {}, [_normal(4, 3), _signs(4, 3)]),
    ("MultiLabelSoftMarginLoss", {"reduction": "sum"},
     [_normal(4, 5), rng.integers(0, 2, (4, 5)).astype(float)]),
    ("MarginRankingLoss", {"margin": 0.5}, [_normal(8), _normal(8), _signs(8)]),
    ("CosineEmbeddingLoss", {"margin": -0.2}, [_normal(6, 4), _normal(6, 4), _signs(6)]),
    ("TripletMarginLoss", {"margin": 0.5, "p": 1.0, "swap": True},
     [_normal(6, 4), _normal(6, 4), _normal(6, 4)]),
    ("SoftMarginLoss", {"size_average": False}, [_normal(4, 3), _signs(4, 3)]),
]


@pytest.mark.parametrize("name,kwargs,arrays", MODULES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(MODULES)])
def test_loss_modules_match_torch(name, kwargs, arrays):
    ours = getattr(cr.nn, name)(**kwargs)
    theirs = getattr(torch.nn, name)(**kwargs)
    xc = cr.tensor(arrays[0], requires_grad=True)
    xt = torch.tensor(arrays[0], requires_grad=True)
    lc = ours(xc, *[cr.tensor(a) for a in arrays[1:]])
    lt = theirs(xt, *[torch.tensor(a) for a in arrays[1:]])
    lc.backward()
    lt.backward()
    np.testing.assert_allclose(lc.numpy(), lt.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("num_classes", [-1, 6])
def test_one_hot_matches_torch(num_classes):
    idx = rng.integers(0, 5, (3, 4))
    got = CF.one_hot(cr.tensor(idx), num_classes)
    want = TF.one_hot(torch.tensor(idx), num_classes)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("call,error,match", [
    (lambda: CF.one_hot(cr.tensor([0.0, 1.0])), TypeError, "integer class indices"),
    (lambda: CF.one_hot(cr.tensor([0, 3]), 3), ValueError, "out of range for num_classes=3"),
    (lambda: CF.one_hot(cr.tensor([-1, 0])), ValueError, ">= 0"),
    (lambda: CF.pad(cr.ones(2, 3), (1,)), ValueError, "even number"),
    (lambda: CF.pad(cr.ones(3), (1, 1, 1, 1)), ValueError, "has only 1"),
    (lambda: CF.pad(cr.ones(2, 3), (3, 0), mode="reflect"), ValueError,
     "smaller than the size 3"),
    (lambda: CF.pad(cr.ones(2, 3), (1, 1), mode="wrap"), ValueError, "mode must be one of"),
    (lambda: CF.kl_div(cr.ones(2, 3), cr.ones(3), reduction="sum"), ValueError, "differ"),
    (lambda: CF.soft_margin_loss(cr.ones(3), cr.tensor([0.0, 1.0, 1.0])), ValueError,
     "1 or -1"),
    (lambda: CF.gaussian_nll_loss(cr.ones(2, 3), cr.ones(2, 3), cr.ones(3, 3)), ValueError,
     "does not fit"),
    (lambda: CF.gaussian_nll_loss(cr.ones(2), cr.ones(2), -1.0), ValueError, ">= 0"),
    (lambda: CF.triplet_margin_loss(cr.ones(2, 3), cr.ones(2, 3), cr.ones(2, 3), margin=0),
     ValueError, "margin must be > 0"),
    (lambda: CF.cosine_embedding_loss(cr.ones(2, 3), cr.ones(2, 3), cr.ones(3)), ValueError,
     "target of shape"),
    (lambda: CF.kl_div(cr.ones(2), cr.ones(2), reduction="avg"), ValueError, "reduction"),
])
def test_errors_name_the_function_and_the_problem(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("name,kwargs", [("CosineSimilarity", {"dim": 0}),
                                         ("CosineSimilarity", {}),
                                         ("PairwiseDistance", {"p": 1.0, "keepdim": True})])
def test_distance_modules_match_torch(name, kwargs):
    a, b = _normal(3, 4), _normal(3, 4)
    got = getattr(cr.nn, name)(**kwargs)(cr.tensor(a), cr.tensor(b))
    want = getattr(torch.nn, name)(**kwargs)(torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    assert repr(getattr(cr.nn, name)(**kwargs)).split("(")[0] == name


@pytest.mark.parametrize("shape", [(5,), (2, 5), (2, 3, 4), (2, 3, 4, 5)])
@pytest.mark.parametrize("name, module", [("softmax", "Softmax"),
                                          ("log_softmax", "LogSoftmax"),
                                          ("softmin", "Softmin")])
def test_softmax_without_dim_normalizes_where_pytorch_does(shape, name, module):
    """PyTorch's implicit dim (0 for 1-D and 3-D input, else 1; deprecated, with a
    warning), not the last axis: (C, H, W) and (N, C, H, W) inputs over the channels."""
    import warnings

    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = getattr(torch.nn.functional, name)(torch.tensor(x)).numpy()
    for call in (lambda t: getattr(CF, name)(t), lambda t: getattr(cr.nn, module)()(t)):
        with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name} has "
                                             f"been deprecated") as caught:
            got = call(cr.tensor(x))
        assert caught[0].filename == __file__  # the warning points at the caller's line
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert repr(getattr(cr.nn, module)()) == repr(getattr(torch.nn, module)())
