"""torch.distributions' API: densities, entropies, moments and KL divergences checked
against PyTorch (values and parameter gradients), derivatives against finite differences
(float64), samples by their statistics, and the errors for bad parameters and values."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import distributions as crd

torch = pytest.importorskip("torch")
td = torch.distributions

rng = np.random.default_rng(0)
LOC = rng.standard_normal((3, 2))
SCALE = rng.uniform(0.5, 2.0, (3, 2))
LOGITS = rng.standard_normal((3, 4))
PROBS = rng.dirichlet(np.ones(4), 3)
BIN_PROBS = rng.uniform(0.1, 0.9, (3, 2))
COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])
TRIL = np.linalg.cholesky(COV)


def _mvn_value():
    return rng.standard_normal((5, 3))


# name -> (constructor(lib, D, params), parameter arrays, value to score)
CASES = {
    "normal": (lambda D, p: D.Normal(p[0], p[1]), [LOC, SCALE], LOC + 0.3),
    "normal_scalar_args": (lambda D, p: D.Normal(p[0], 2.0), [LOC], LOC - 0.1),
    "uniform": (lambda D, p: D.Uniform(p[0], p[0] + p[1]), [LOC, SCALE], LOC + 0.25 * SCALE),
    "categorical_logits": (lambda D, p: D.Categorical(logits=p[0]), [LOGITS],
                           np.array([0, 3, 1])),
    "categorical_probs": (lambda D, p: D.Categorical(probs=p[0]), [PROBS],
                          np.array([[2, 0, 1], [3, 3, 0]])),
    "bernoulli_probs": (lambda D, p: D.Bernoulli(probs=p[0]), [BIN_PROBS],
                        np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])),
    "bernoulli_logits": (lambda D, p: D.Bernoulli(logits=p[0]), [LOC],
                         np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])),
    "one_hot": (lambda D, p: D.OneHotCategorical(logits=p[0]), [LOGITS], np.eye(4)[[1, 0, 3]]),
    "independent": (lambda D, p: D.Independent(D.Normal(p[0], p[1]), 1), [LOC, SCALE], LOC),
    "mvn_cov": (lambda D, p: D.MultivariateNormal(p[0], covariance_matrix=p[1]),
                [LOC[0].tolist() + [0.5], COV], _mvn_value()),
    "mvn_tril": (lambda D, p: D.MultivariateNormal(p[0], scale_tril=p[1]),
                 [np.zeros(3), TRIL], _mvn_value()),
    "mvn_precision": (lambda D, p: D.MultivariateNormal(p[0], precision_matrix=p[1]),
                      [np.ones(3), COV], _mvn_value()),
    "mixture": (lambda D, p: D.MixtureSameFamily(D.Categorical(logits=p[0][:, :2]),
                                                 D.Normal(p[1], p[2])),
                [LOGITS, LOC, SCALE], np.array([0.3, -1.0, 2.0])),
}
STATISTICS = ("mean", "variance", "stddev")


def _build(lib, name, dtype):
    make, params, _ = CASES[name]
    D = crd if lib is cr else td
    tensors = [lib.tensor(np.asarray(p, dtype=dtype), requires_grad=True) for p in params]
    return make(D, tensors), tensors


def _scored(lib, name, what):
    dist, params = _build(lib, name, np.float64)
    value = CASES[name][2]
    value = lib.tensor(value if value.dtype.kind == "f" else value.astype(np.int64))
    out = dist.log_prob(value) if what == "log_prob" else dist.entropy()
    return dist, params, out


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("what", ["log_prob", "entropy"])
def test_values_and_gradients_match_torch(name, what):
    if what == "entropy" and name == "mixture":
        pytest.skip("MixtureSameFamily has no closed-form entropy (PyTorch neither)")
    _, ours_params, ours = _scored(cr, name, what)
    _, theirs_params, theirs = _scored(torch, name, what)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    if not theirs.requires_grad:  # e.g. a Normal's entropy with a constant scale
        assert not ours.requires_grad
        return
    weights = np.linspace(0.5, 1.5, ours.numel()).reshape(tuple(ours.shape))
    (ours * cr.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    for a, b in zip(ours_params, theirs_params):
        if b.grad is None:
            assert a.grad is None or not a.grad.numpy().any()
        else:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_moments_match_torch(name):
    ours, _ = _build(cr, name, np.float64)
    theirs, _ = _build(torch, name, np.float64)
    for stat in STATISTICS:
        try:
            expected = getattr(theirs, stat)
        except NotImplementedError:
            continue
        np.testing.assert_allclose(getattr(ours, stat).detach().numpy(),
                                   expected.detach().numpy(), rtol=1e-10, err_msg=stat)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert tuple(ours.sample((2,)).shape) == tuple(theirs.sample((2,)).shape)
    assert str(ours.sample().dtype) == str(theirs.sample().dtype).replace("torch.", "")


@pytest.mark.parametrize("name", ["normal", "uniform", "categorical_logits", "bernoulli_logits",
                                  "mvn_cov", "mvn_precision", "mixture", "independent"])
def test_log_prob_gradients_against_finite_differences(name):
    make, params, value = CASES[name]
    value = cr.tensor(value if value.dtype.kind == "f" else value.astype(np.int64))

    def f(*ps):
        return make(crd, list(ps)).log_prob(value)

    assert cr.gradcheck(f, *[cr.tensor(np.asarray(p, dtype=np.float64)) for p in params])


def _kl_pairs(D, lib):
    t = lambda a: lib.tensor(np.asarray(a, dtype=np.float64))
    return {
        "normal": (D.Normal(t(LOC), t(SCALE)), D.Normal(t(LOC[::-1].copy()), t(SCALE ** 0.5))),
        "categorical": (D.Categorical(logits=t(LOGITS)), D.Categorical(probs=t(PROBS))),
        "one_hot": (D.OneHotCategorical(logits=t(LOGITS)), D.OneHotCategorical(probs=t(PROBS))),
        "bernoulli": (D.Bernoulli(probs=t(BIN_PROBS)), D.Bernoulli(logits=t(LOC))),
        "uniform": (D.Uniform(t(LOC), t(LOC + SCALE)), D.Uniform(t(LOC - 1), t(LOC + 3))),
        "mvn": (D.MultivariateNormal(t(np.zeros(3)), t(COV)),
                D.MultivariateNormal(t(np.ones(3)), scale_tril=t(np.eye(3) * 1.5))),
        "independent": (D.Independent(D.Normal(t(LOC), t(SCALE)), 1),
                        D.Independent(D.Normal(t(np.zeros((3, 2))), t(np.ones((3, 2)))), 1)),
        "zero_probs": (D.Categorical(probs=t([[0.5, 0.5, 0.0]])),
                       D.Categorical(probs=t([[0.2, 0.0, 0.8]]))),
    }


@pytest.mark.parametrize("pair", list(_kl_pairs(crd, cr)))
def test_kl_divergence_matches_torch(pair):
    ours = crd.kl_divergence(*_kl_pairs(crd, cr)[pair])
    theirs = td.kl_divergence(*_kl_pairs(td, torch)[pair])
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)


def test_kl_gradient_against_finite_differences():
    def kl(loc, log_scale):
        return crd.kl_divergence(crd.Normal(loc, log_scale.exp()),
                                 crd.Normal(cr.zeros(3, 2, dtype=cr.float64), 2.0))

    assert cr.gradcheck(kl, cr.tensor(LOC), cr.tensor(np.log(SCALE)))


def test_register_kl_and_an_unregistered_pair():
    class Shifted(crd.Normal):
        pass

    with pytest.raises(NotImplementedError, match=r"\(Normal, Categorical\).*register_kl"):
        crd.kl_divergence(crd.Normal(0.0, 1.0), crd.Categorical(logits=cr.zeros(2)))
    # a subclass falls back to its parent's rule until it registers its own
    base = crd.kl_divergence(Shifted(0.0, 1.0), crd.Normal(1.0, 1.0)).item()
    assert base == pytest.approx(0.5)

    @crd.register_kl(Shifted, crd.Normal)
    def _kl(p, q):
        return cr.tensor(42.0)

    assert crd.kl_divergence(Shifted(0.0, 1.0), crd.Normal(1.0, 1.0)).item() == 42.0
    assert crd.kl_divergence(crd.Normal(0.0, 1.0), crd.Normal(1.0, 1.0)).item() == 0.5


def test_samples_follow_the_distribution_and_the_seed():
    cr.manual_seed(3)
    normal = crd.Normal(cr.tensor([1.0, -2.0]), cr.tensor([0.5, 2.0]))
    draws = normal.sample((20000,)).numpy()
    np.testing.assert_allclose(draws.mean(0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(draws.std(0), [0.5, 2.0], rtol=0.03)
    cat = crd.Categorical(probs=cr.tensor([0.1, 0.6, 0.3]))
    counts = np.bincount(cat.sample((20000,)).numpy(), minlength=3) / 20000
    np.testing.assert_allclose(counts, [0.1, 0.6, 0.3], atol=0.015)
    mvn = crd.MultivariateNormal(cr.zeros(3, dtype=cr.float64), cr.tensor(COV))
    np.testing.assert_allclose(np.cov(mvn.sample((40000,)).numpy().T), COV, atol=0.05)
    bern = crd.Bernoulli(probs=cr.tensor([0.2, 0.7]))
    np.testing.assert_allclose(bern.sample((20000,)).numpy().mean(0), [0.2, 0.7], atol=0.015)
    cr.manual_seed(5)
    a = normal.sample((3,))
    cr.manual_seed(5)
    assert np.array_equal(a.numpy(), normal.sample((3,)).numpy())
    assert not normal.sample().requires_grad


def test_rsample_carries_gradients_to_the_parameters():
    loc = cr.tensor([0.5, -0.5], requires_grad=True)
    scale = cr.tensor([1.0, 2.0], requires_grad=True)
    cr.manual_seed(0)
    z = crd.Normal(loc, scale).rsample((4,))
    z.sum().backward()
    cr.manual_seed(0)
    eps = (crd.Normal(loc, scale).sample((4,)) - loc.detach()) / scale.detach()
    np.testing.assert_allclose(loc.grad.numpy(), [4.0, 4.0])
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0).numpy(), rtol=1e-5)
    with pytest.raises(NotImplementedError, match="Categorical has no reparameterized"):
        crd.Categorical(logits=cr.zeros(3)).rsample()


@pytest.mark.parametrize("make, message", [
    (lambda: crd.Normal(cr.tensor([0.0]), cr.tensor([-1.0])),
     r"Normal: expected parameter scale .*GreaterThan"),
    (lambda: crd.Categorical(probs=cr.tensor([0.5, 0.5]), logits=cr.zeros(2)),
     "either probs or logits, not both"),
    (lambda: crd.Categorical(), "not neither"),
    (lambda: crd.Categorical(probs=cr.tensor([-0.1, 1.1])), "probs .*Simplex"),
    (lambda: crd.Bernoulli(probs=cr.tensor([1.5])), r"probs .*Interval"),
    (lambda: crd.Uniform(1.0, 0.0), "low .*LessThan"),
    (lambda: crd.MultivariateNormal(cr.zeros(2), cr.tensor([[1.0, 2.0], [2.0, 1.0]])),
     "covariance_matrix .*PositiveDefinite"),
    (lambda: crd.MultivariateNormal(cr.zeros(3), cr.eye(2)), r"k = loc's last size 3"),
    (lambda: crd.Independent(crd.Normal(cr.zeros(2), 1.0), 2), "between 0 and the base's 1"),
    (lambda: crd.Categorical(logits=cr.zeros(3)).log_prob(cr.tensor([3])),
     r"Categorical.log_prob: .*support .*upper_bound=2"),
    (lambda: crd.Bernoulli(probs=cr.tensor([0.5])).log_prob(cr.tensor([0.5])), "Boolean"),
    (lambda: crd.MixtureSameFamily(crd.Categorical(logits=cr.zeros(3)),
                                   crd.Normal(cr.zeros(2), 1.0)),
     "3 components but .* rightmost batch size is 2"),
])
def test_bad_parameters_and_values_are_named(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_validation_can_be_switched_off():
    d = crd.Normal(cr.tensor([0.0]), cr.tensor([-1.0]), validate_args=False)
    assert np.isnan(d.log_prob(cr.tensor([0.0])).numpy()).all()
    crd.Distribution.set_default_validate_args(False)
    try:
        crd.Categorical(logits=cr.zeros(3)).log_prob(cr.tensor([1]))
        crd.Normal(0.0, -1.0)
    finally:
        crd.Distribution.set_default_validate_args(True)


def test_repr_names_the_parameters():
    assert repr(crd.Normal(cr.zeros(2), cr.ones(2))) == "Normal(loc: Size([2]), scale: Size([2]))"
    assert repr(crd.Independent(crd.Normal(cr.zeros(2), 1.0), 1)).startswith("Independent(Normal(")


def test_broadcast_shapes_matches_torch():
    for shapes in [((2, 1), (3,)), ((1,), (4, 1, 2)), (3, (2, 3)), ((),)]:
        assert tuple(cr.broadcast_shapes(*shapes)) == tuple(torch.broadcast_shapes(*shapes))
    with pytest.raises(ValueError, match="do not broadcast"):
        cr.broadcast_shapes((2,), (3,))


def test_a_missing_distribution_is_named():
    with pytest.raises(AttributeError, match=r"torch.distributions.Beta is not part of "
                                             r"chainrule; the distributions here are Bernoulli"):
        crd.Beta  # noqa: B018
