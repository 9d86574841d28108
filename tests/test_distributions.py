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
    "exponential": (lambda D, p: D.Exponential(p[0]), [SCALE], SCALE * 0.7),
    "laplace": (lambda D, p: D.Laplace(p[0], p[1]), [LOC, SCALE], LOC * 0.5 + 0.1),
    "cauchy": (lambda D, p: D.Cauchy(p[0], p[1]), [LOC, SCALE], LOC * 0.5 + 0.1),
    "student_t": (lambda D, p: D.StudentT(p[0] + 2, p[1], p[2]), [SCALE, LOC, SCALE], LOC),
    "gamma": (lambda D, p: D.Gamma(p[0] + 0.5, p[1]), [SCALE, SCALE[::-1].copy()], SCALE * 0.8),
    "beta": (lambda D, p: D.Beta(p[0], p[1]), [SCALE, SCALE[::-1].copy()], BIN_PROBS),
    "dirichlet": (lambda D, p: D.Dirichlet(p[0]), [SCALE[:, :1] + PROBS], PROBS),
    "poisson": (lambda D, p: D.Poisson(p[0]), [SCALE], np.array([[0.0, 3.0], [1.0, 2.0],
                                                                  [5.0, 0.0]])),
    "binomial": (lambda D, p: D.Binomial(5, logits=p[0]), [LOC], np.array([[0.0, 3.0], [1.0, 5.0],
                                                                         [4.0, 2.0]])),
    "geometric": (lambda D, p: D.Geometric(probs=p[0]), [BIN_PROBS], np.array([[0.0, 3.0],
                                                                             [1.0, 2.0],
                                                                             [4.0, 0.0]])),
    "lognormal": (lambda D, p: D.LogNormal(p[0], p[1]), [LOC, SCALE], SCALE),
    "halfnormal": (lambda D, p: D.HalfNormal(p[0]), [SCALE], SCALE * 0.5),
    "halfcauchy": (lambda D, p: D.HalfCauchy(p[0]), [SCALE], SCALE * 0.5),
    "chi2": (lambda D, p: D.Chi2(p[0] + 1), [SCALE], SCALE * 1.5),
    "weibull": (lambda D, p: D.Weibull(p[0], p[1] + 0.5), [SCALE, SCALE], SCALE * 0.9),
    "gumbel": (lambda D, p: D.Gumbel(p[0], p[1]), [LOC, SCALE], LOC * 0.5 + 0.2),
    "relaxed_one_hot": (lambda D, p: D.RelaxedOneHotCategorical(p[1][0, 0], logits=p[0]),
                        [LOGITS, SCALE], PROBS),
    "relaxed_bernoulli": (lambda D, p: D.RelaxedBernoulli(p[1][0, 0], logits=p[0]),
                          [LOC, SCALE], BIN_PROBS),
    "tanh_normal": (lambda D, p: D.TransformedDistribution(
        D.Independent(D.Normal(p[0], p[1]), 1),
        [D.transforms.TanhTransform(), D.transforms.AffineTransform(0.5, 2.0)]),
        [LOC, SCALE], 0.5 + 1.6 * np.tanh(LOC)),
    "sigmoid_exp": (lambda D, p: D.TransformedDistribution(
        D.Normal(p[0], p[1]), [D.transforms.SigmoidTransform()]), [LOC, SCALE], BIN_PROBS),
    "multinomial_probs": (lambda D, p: D.Multinomial(4, probs=p[0]), [PROBS],
                          np.array([[1.0, 0.0, 3.0, 0.0], [2.0, 2.0, 0.0, 0.0],
                                    [0.0, 1.0, 1.0, 2.0]])),
    "multinomial_logits": (lambda D, p: D.Multinomial(3, logits=p[0]), [LOGITS],
                           np.array([[0.0, 0.0, 3.0, 0.0], [1.0, 1.0, 0.0, 1.0],
                                     [2.0, 0.0, 0.0, 1.0]])),
    "negative_binomial_probs": (lambda D, p: D.NegativeBinomial(p[0] + 1, probs=p[1]),
                                [SCALE, BIN_PROBS], np.array([[0.0, 3.0], [1.0, 2.0],
                                                              [7.0, 0.0]])),
    "negative_binomial_logits": (lambda D, p: D.NegativeBinomial(p[0], logits=p[1]),
                                 [SCALE, LOC], np.array([[2.0, 0.0], [0.0, 5.0], [1.0, 1.0]])),
    "pareto": (lambda D, p: D.Pareto(p[0], p[1] + 2), [SCALE, SCALE], SCALE * 1.7),
    "continuous_bernoulli_probs": (lambda D, p: D.ContinuousBernoulli(probs=p[0]),
                                   [np.array([[0.2, 0.4995], [0.5, 0.9], [0.5008, 0.01]])],
                                   BIN_PROBS),
    "continuous_bernoulli_logits": (lambda D, p: D.ContinuousBernoulli(logits=p[0]), [LOC],
                                    BIN_PROBS[::-1].copy()),
    "lowrank_mvn": (lambda D, p: D.LowRankMultivariateNormal(p[0], p[1], p[2]),
                    [LOC[:, 0], TRIL[:, :2], SCALE[:, 1]], _mvn_value()),
    "lowrank_mvn_batch": (lambda D, p: D.LowRankMultivariateNormal(p[0], p[1], p[2]),
                          [np.stack([LOC[:, 0], LOC[:, 1]]), TRIL[:, 1:], SCALE[:, 0]],
                          np.stack([LOC[:, 1], LOC[:, 0]]) * 0.5),
    "logistic_normal": (lambda D, p: D.LogisticNormal(p[0], p[1]), [LOC, SCALE],
                        np.array([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]])),
    "inverse_gamma": (lambda D, p: D.InverseGamma(p[0] + 2, p[1]), [SCALE, SCALE[::-1].copy()],
                      SCALE * 0.6),
    "kumaraswamy": (lambda D, p: D.Kumaraswamy(p[0], p[1] + 0.5), [SCALE, SCALE[::-1].copy()],
                    BIN_PROBS),
    "one_hot_straight_through": (lambda D, p: D.OneHotCategoricalStraightThrough(logits=p[0]),
                                 [LOGITS], np.eye(4)[[2, 1, 0]]),
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
    if what == "entropy" and name in ("mixture", "tanh_normal", "sigmoid_exp", "relaxed_one_hot",
                                      "relaxed_bernoulli"):
        pytest.skip("no closed-form entropy (PyTorch has none either)")
    try:
        _, theirs_params, theirs = _scored(torch, name, what)
    except NotImplementedError:  # (Poisson's entropy): chainrule says so too
        with pytest.raises(NotImplementedError, match=r"\.entropy"):
            _scored(cr, name, what)
        return
    _, ours_params, ours = _scored(cr, name, what)
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
            # (trigamma, in the entropies' gradients, differs in the 9th digit)
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-7, atol=1e-12)


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
    expanded = ours.expand((4,) + tuple(ours.batch_shape))
    value = CASES[name][2]
    if value.shape != tuple(ours.batch_shape) + tuple(ours.event_shape):
        return  # (a value with sample dims of its own does not broadcast to the new batch)
    value = cr.tensor(value if value.dtype.kind == "f" else value.astype(np.int64))
    np.testing.assert_allclose(expanded.log_prob(value).numpy(),
                               np.broadcast_to(ours.log_prob(value).numpy(),
                                               (4,) + tuple(ours.log_prob(value).shape)))
    assert str(ours.sample().dtype) == str(theirs.sample().dtype).replace("torch.", "")


@pytest.mark.parametrize("name", ["normal", "uniform", "categorical_logits", "bernoulli_logits",
                                  "mvn_cov", "mvn_precision", "mixture", "independent",
                                  "laplace", "student_t", "gamma", "beta", "dirichlet",
                                  "binomial", "tanh_normal", "sigmoid_exp",
                                  "relaxed_one_hot", "relaxed_bernoulli", "weibull",
                                  "gumbel", "multinomial_probs", "multinomial_logits",
                                  "negative_binomial_probs", "negative_binomial_logits",
                                  "pareto", "inverse_gamma", "kumaraswamy",
                                  "logistic_normal", "lowrank_mvn", "lowrank_mvn_batch",
                                  "continuous_bernoulli_probs", "continuous_bernoulli_logits"])
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
        "beta": (D.Beta(t(SCALE), t(SCALE.T[::-1].T.copy())), D.Beta(t(SCALE ** 2), t(SCALE))),
        "dirichlet": (D.Dirichlet(t(PROBS + 0.5)), D.Dirichlet(t(PROBS[::-1].copy() + 1))),
        "exponential": (D.Exponential(t(SCALE)), D.Exponential(t(SCALE ** 2))),
        "gamma": (D.Gamma(t(SCALE), t(SCALE + 1)), D.Gamma(t(SCALE ** 2), t(SCALE))),
        "laplace": (D.Laplace(t(LOC), t(SCALE)), D.Laplace(t(LOC ** 2), t(SCALE + 1))),
        "poisson": (D.Poisson(t(SCALE)), D.Poisson(t(SCALE ** 2))),
        "lognormal": (D.LogNormal(t(LOC), t(SCALE)), D.LogNormal(t(LOC ** 2), t(SCALE + 1))),
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


def test_samples_of_the_numpy_drawn_distributions():
    cr.manual_seed(4)
    cases = [(crd.Gamma(cr.tensor([2.0]), cr.tensor([4.0])), 0.5, 0.125),
             (crd.Beta(cr.tensor([2.0]), cr.tensor([6.0])), 0.25, 0.25 * 0.75 / 9),
             (crd.Poisson(cr.tensor([3.0])), 3.0, 3.0),
             (crd.Exponential(cr.tensor([2.0])), 0.5, 0.25),
             (crd.Laplace(cr.tensor([1.0]), cr.tensor([0.5])), 1.0, 0.5),
             (crd.Binomial(10, probs=cr.tensor([0.3])), 3.0, 2.1),
             (crd.Geometric(probs=cr.tensor([0.25])), 3.0, 12.0),
             (crd.LogNormal(cr.tensor([0.0]), cr.tensor([0.5])), np.exp(0.125),
              (np.exp(0.25) - 1) * np.exp(0.25)),
             # r p / (1 - p) and r p / (1 - p)^2 successes before r failures
             (crd.NegativeBinomial(cr.tensor([3.0]), probs=cr.tensor([0.4])), 2.0, 2.0 / 0.6),
             (crd.Pareto(cr.tensor([2.0]), cr.tensor([5.0])), 2.5, 4.0 * 5 / (16 * 3)),
             (crd.InverseGamma(cr.tensor([6.0]), cr.tensor([5.0])), 1.0, 1.0 / 4),
             (crd.Kumaraswamy(cr.tensor([2.0]), cr.tensor([3.0])), 0.45714286,
              0.04104490)]
    for dist, mean, var in cases:
        draws = dist.sample((40000,)).numpy()
        np.testing.assert_allclose(draws.mean(), mean, rtol=0.03, err_msg=type(dist).__name__)
        np.testing.assert_allclose(draws.var(), var, rtol=0.08, err_msg=type(dist).__name__)
        np.testing.assert_allclose(dist.mean.numpy(), [mean], rtol=1e-6)
    m = crd.Multinomial(6, probs=cr.tensor([0.5, 0.25, 0.25, 0.0])).sample((20000,)).numpy()
    assert (m.sum(-1) == 6).all() and (m[:, 3] == 0).all()
    np.testing.assert_allclose(m.mean(0), [3.0, 1.5, 1.5, 0.0], atol=0.05)
    d = crd.Dirichlet(cr.tensor([1.0, 2.0, 3.0])).sample((20000,)).numpy()
    np.testing.assert_allclose(d.sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(d.mean(0), [1 / 6, 2 / 6, 3 / 6], atol=0.01)


def test_tanh_transform_caches_the_pre_image_as_torch():
    loc = cr.tensor([0.0, 3.0], requires_grad=True)
    base = crd.Normal(loc, cr.tensor([1.0, 0.1]))
    squash = crd.transforms.TanhTransform(cache_size=1)
    dist = crd.TransformedDistribution(base, [squash])
    x = cr.tensor([0.2, 20.0])  # tanh(20) rounds to 1 in float32: atanh would give inf
    y = squash(x)
    assert y[1].item() == 1.0
    lp = dist.log_prob(y)  # the cached x is used, as PyTorch's cache_size=1 does
    assert np.isfinite(lp.detach().numpy()).all()
    tx = torch.tensor([0.2, 20.0])
    tsquash = torch.distributions.transforms.TanhTransform(cache_size=1)
    tdist = torch.distributions.TransformedDistribution(
        torch.distributions.Normal(torch.tensor([0.0, 3.0]), torch.tensor([1.0, 0.1])), [tsquash])
    np.testing.assert_allclose(lp.detach().numpy(), tdist.log_prob(tsquash(tx)).numpy(),
                               rtol=1e-5)
    lp.sum().backward()
    assert loc.grad is not None
    assert squash.inv(y) is x
    affine = crd.transforms.AffineTransform(1.0, cr.tensor([2.0, -3.0]))
    np.testing.assert_allclose(affine.inv(affine(cr.tensor([0.5, 0.5]))).numpy(), [0.5, 0.5])
    np.testing.assert_allclose(affine.log_abs_det_jacobian(cr.zeros(2), None).numpy(),
                               np.log([2.0, 3.0]))


def test_expand_refuses_an_incompatible_shape():
    with pytest.raises(ValueError, match=r"Normal.expand: batch_shape \(3,\) cannot be "
                                         r"expanded to \(2,\)"):
        crd.Normal(cr.zeros(3), 1.0).expand((2,))


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
    with pytest.raises(AttributeError, match=r"torch.distributions.VonMises is not part of "
                                             r"chainrule; the distributions here are Bernoulli"):
        crd.VonMises  # noqa: B018


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_xlogy_derivative_at_x_zero_is_log_y_as_torch(name):
    # (a mask on every x == 0 once zeroed it: Gamma's log_prob at concentration 1 was off)
    xs = np.array([0.0, 0.0, 0.0, 1.5, 0.0])
    ys = np.array([2.0, 0.5, -0.5 if name == "xlogy" else -2.0, 0.5, 3.0])
    grads = []
    for lib in (cr, torch):
        x = lib.tensor(xs, requires_grad=True)
        y = lib.tensor(ys, requires_grad=True)
        fn = lib.xlogy if name == "xlogy" else lib.special.xlog1py
        out = fn(x, y)
        out.sum().backward()
        grads.append((out.detach().numpy(), x.grad.numpy(), y.grad.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    fn = cr.xlogy if name == "xlogy" else cr.special.xlog1py
    assert cr.gradcheck(lambda x: fn(x, cr.tensor([2.0, 0.5])), cr.tensor([0.0, 0.0]))
    gamma = crd.Gamma(cr.tensor([1.0], requires_grad=True), cr.tensor([1.0]))
    gamma.log_prob(cr.tensor([0.5])).backward()
    np.testing.assert_allclose(gamma.concentration.grad.numpy(), [np.log(0.5) + np.euler_gamma])


@pytest.mark.parametrize("name, args", [
    ("real", ()), ("positive", ()), ("nonnegative", ()), ("unit_interval", ()),
    ("simplex", ()), ("boolean", ()), ("nonnegative_integer", ()), ("real_vector", ()),
    ("lower_cholesky", ()), ("positive_definite", ()), ("interval", (-0.5, 1.0)),
    ("greater_than", (0.25,)), ("less_than", (0.5,)), ("integer_interval", (0, 2)),
    ("half_open_interval", (0.0, 1.0)),
])
def test_constraints_check_as_torch(name, args):
    from torch.distributions import constraints as tc

    from chainrule.distributions import constraints as cc

    ours, theirs = getattr(cc, name), getattr(tc, name)
    if args:
        ours, theirs = ours(*args), theirs(*args)
    values = np.array([[[0.5, 0.0], [0.5, 1.0]], [[2.0, 0.0], [-1.0, 1.0]],
                       [[1.0, float("nan")], [0.5, float("inf")]]])
    np.testing.assert_array_equal(ours.check(cr.tensor(values)).numpy(),
                                  theirs.check(torch.tensor(values)).numpy())
    assert repr(ours) == repr(theirs)
    assert ours.event_dim == theirs.event_dim and ours.is_discrete == theirs.is_discrete


def test_a_users_distribution_is_validated_from_its_arg_constraints():
    from chainrule.distributions import constraints

    class Shifted(crd.Distribution):
        arg_constraints = {"rate": constraints.positive}  # noqa: RUF012 - PyTorch's form
        support = constraints.greater_than(1.0)

        def __init__(self, rate, validate_args=None):
            self.rate = rate
            super().__init__(rate.shape, validate_args=validate_args)

        def log_prob(self, value):
            return self.rate.log() - self.rate * (value - 1)

    assert Shifted(cr.tensor([2.0])).log_prob(cr.tensor([1.5])).item() == pytest.approx(
        np.log(2.0) - 1.0)
    with pytest.raises(ValueError, match=r"Shifted: expected parameter rate .*GreaterThan"):
        Shifted(cr.tensor([-2.0]))
    Shifted(cr.tensor([-2.0]), validate_args=False)
    assert crd.Normal(0.0, 1.0).support is constraints.real
    assert crd.Uniform(0.0, 2.0).support.check(cr.tensor([1.0, 3.0])).tolist() == [True, False]
    assert crd.Categorical(logits=cr.zeros(3)).support.upper_bound == 2


def test_transform_to_matches_torch():
    x = np.array([-1.5, 0.2, 2.0])
    results = []
    for lib in (cr, torch):
        D = lib.distributions
        C = D.constraints
        out = []
        for con in [C.real, C.positive, C.nonnegative, C.greater_than(1.0), C.less_than(2.0),
                    C.unit_interval, C.interval(-1.0, 3.0), C.simplex,
                    C.independent(C.positive, 1)]:
            t = D.transform_to(con)
            xt = lib.tensor(x, requires_grad=True)
            y = t(xt)
            ladj = 0 if con is C.simplex else t.log_abs_det_jacobian(xt, y).sum()
            (y.pow(2).sum() + ladj).backward()
            out.append((y.detach().numpy(), t.inv(y).detach().numpy(), xt.grad.numpy()))
        for t in [D.transforms.SoftplusTransform(), D.transforms.PowerTransform(2.0)]:
            xt = lib.tensor(np.abs(x))
            y = t(xt)
            out.append((y.numpy(), t.inv(y).numpy(), t.log_abs_det_jacobian(xt, y).numpy()))
        # the simplex's bijection: stick breaking (K reals to K + 1 entries), with gradients
        stick = D.biject_to(C.simplex)
        assert type(stick).__name__ == "StickBreakingTransform"
        xt = lib.tensor(np.stack([x, -x[::-1]]), requires_grad=True)
        y = stick(xt)
        ladj = stick.log_abs_det_jacobian(xt, y)
        ((y * lib.tensor(np.arange(8.0).reshape(2, 4))).sum() + ladj.sum()).backward()
        out.append((y.detach().numpy(), stick.inv(y).detach().numpy(), ladj.detach().numpy(),
                    xt.grad.numpy(), np.array(stick.forward_shape((2, 3)))))
        results.append(out)
    for ours, theirs in zip(*results):
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    with pytest.raises(NotImplementedError, match="no transform onto"):
        crd.transform_to(crd.constraints.lower_cholesky)


def test_pytorchs_module_paths_import():
    import importlib

    for path, name in [("beta", "Beta"), ("gamma", "Gamma"), ("studentT", "StudentT"),
                       ("log_normal", "LogNormal"), ("constraint_registry", "transform_to"),
                       ("normal", "Normal"), ("categorical", "Categorical"), ("kl", "kl_divergence"),
                       ("transforms", "TanhTransform"), ("utils", "probs_to_logits"),
                       ("multivariate_normal", "MultivariateNormal")]:
        ours = importlib.import_module(f"chainrule.distributions.{path}")
        importlib.import_module(f"torch.distributions.{path}")
        assert getattr(ours, name) is not None


def test_straight_through_one_hot_rsample_passes_the_probabilities_gradient():
    """The sample is one-hot; its gradient is that of probs, as PyTorch's (whatever
    sample each library drew)."""
    weights = np.linspace(-1.0, 2.0, 12).reshape(3, 4)
    grads = []
    for lib, D in ((cr, crd), (torch, td)):
        logits = lib.tensor(LOGITS, requires_grad=True)
        sample = D.OneHotCategoricalStraightThrough(logits=logits).rsample()
        assert ((sample.detach().numpy() == 0) | (np.isclose(sample.detach().numpy(), 1))).all()
        (sample * lib.tensor(weights)).sum().backward()
        grads.append(logits.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10)
    assert crd.OneHotCategoricalStraightThrough(logits=cr.tensor(LOGITS)).has_rsample


def test_transforms_import_from_the_package_as_in_pytorch():
    from chainrule.distributions.multinomial import Multinomial
    from chainrule.distributions.pareto import Pareto

    from chainrule.distributions import AffineTransform, TanhTransform, TransformedDistribution

    assert Multinomial is crd.Multinomial and Pareto is crd.Pareto
    squashed = TransformedDistribution(crd.Normal(cr.zeros(2), cr.ones(2)),
                                       [TanhTransform(cache_size=1), AffineTransform(0.0, 2.0)])
    assert tuple(squashed.sample((3,)).shape) == (3, 2)
    with pytest.raises(NotImplementedError, match="one int"):
        crd.Multinomial(cr.tensor([2, 3]), probs=cr.tensor([0.5, 0.5]))


@pytest.mark.parametrize("alpha", [1e-3, 0.05, 0.7, 1.0, 3.5, 40.0, 2000.0, 2e4, 1e6])
def test_gamma_implicit_gradient_against_the_inverse_cdf(alpha):
    """dx/dα of a Gamma(α) draw held at its quantile: against central differences of the
    exact inverse CDF (SciPy's gammaincinv), and against PyTorch's (an approximation,
    within 1e-2 of it)."""
    special = pytest.importorskip("scipy.special")
    from chainrule.distributions.continuous import standard_gamma_grad

    x = np.maximum(np.random.default_rng(1).standard_gamma(alpha, 400), 1e-300)
    u = special.gammainc(alpha, x)
    inside = (u > 1e-12) & (u < 1 - 1e-12)
    h = alpha * 1e-6
    exact = (special.gammaincinv(alpha + h, u) - special.gammaincinv(alpha - h, u)) / (2 * h)
    ours = standard_gamma_grad(np.full_like(x, alpha), x)
    rtol = 1e-6 if alpha <= 1e4 else 1e-5  # (the Wilson-Hilferty form past 10⁴)
    np.testing.assert_allclose(ours[inside], exact[inside], rtol=rtol)
    theirs = torch._standard_gamma_grad(torch.tensor(np.full_like(x, alpha)),
                                        torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=2e-2)


def test_gamma_beta_dirichlet_rsample_gradients_are_unbiased():
    """The mean of the draws' gradients is the gradient of the mean (Monte Carlo)."""
    cr.manual_seed(0)
    n = 40000
    alpha = cr.tensor([2.5], dtype=cr.float64, requires_grad=True)
    rate = cr.tensor([2.0], dtype=cr.float64, requires_grad=True)
    draws = crd.Gamma(alpha, rate).rsample((n,))
    assert draws.requires_grad and draws.shape == (n, 1)
    (draws.sum() / n).backward()
    np.testing.assert_allclose(alpha.grad.numpy(), [1 / 2.0], rtol=0.02)  # ∂(α/β)/∂α
    np.testing.assert_allclose(rate.grad.numpy(), [-2.5 / 4.0], rtol=0.02)  # ∂(α/β)/∂β
    conc = cr.tensor([1.5, 2.0, 3.5], dtype=cr.float64, requires_grad=True)
    x = crd.Dirichlet(conc).rsample((n,))
    np.testing.assert_allclose(x.detach().numpy().sum(-1), 1.0, rtol=1e-12)
    (x[:, 0].sum() / n).backward()
    a0, total = 1.5, 7.0
    expected = [(total - a0) / total ** 2, -a0 / total ** 2, -a0 / total ** 2]
    np.testing.assert_allclose(conc.grad.numpy(), expected, atol=0.004)
    df = cr.tensor(5.0, dtype=cr.float64, requires_grad=True)
    loc = cr.tensor(1.0, dtype=cr.float64, requires_grad=True)
    scale = cr.tensor(2.0, dtype=cr.float64, requires_grad=True)
    t = crd.StudentT(df, loc, scale).rsample((n,))
    np.testing.assert_allclose(t.detach().numpy().var(), 4.0 * 5 / 3, rtol=0.08)
    ((t - loc.detach()) ** 2).mean().backward()  # E = scale² df / (df − 2)
    np.testing.assert_allclose(df.grad.item(), 4.0 * -2 / 9, rtol=0.1)
    np.testing.assert_allclose(scale.grad.item(), 2 * 2.0 * 5 / 3, rtol=0.05)
    a = cr.tensor(2.0, dtype=cr.float64, requires_grad=True)
    b = cr.tensor(3.0, dtype=cr.float64, requires_grad=True)
    y = crd.Beta(a, b).rsample((n,))
    assert ((y.detach().numpy() > 0) & (y.detach().numpy() < 1)).all()
    (y.sum() / n).backward()
    np.testing.assert_allclose([a.grad.item(), b.grad.item()], [3 / 25, -2 / 25], atol=0.004)


def test_lowrank_multivariate_normal_matrices_match_torch():
    W, d = TRIL[:, :2], SCALE[:, 1]
    ours = crd.LowRankMultivariateNormal(cr.tensor(LOC[:, 0]), cr.tensor(W), cr.tensor(d))
    theirs = td.LowRankMultivariateNormal(torch.tensor(LOC[:, 0]), torch.tensor(W),
                                          torch.tensor(d))
    for name in ("covariance_matrix", "precision_matrix", "scale_tril"):
        np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(theirs, name).numpy(),
                                   rtol=1e-12, atol=1e-14, err_msg=name)
    cr.manual_seed(0)
    draws = ours.sample((40000,)).numpy()
    np.testing.assert_allclose(np.cov(draws.T), W @ W.T + np.diag(d), atol=0.06)
    with pytest.raises(ValueError, match=r"cov_factor must be \(\.\.\., 3, rank\)"):
        crd.LowRankMultivariateNormal(cr.zeros(3), cr.ones(2, 2), cr.ones(3))


def test_continuous_bernoulli_cdf_icdf_and_samples_match_torch():
    probs = np.array([0.05, 0.3, 0.4999, 0.5, 0.7, 0.995])
    ours = crd.ContinuousBernoulli(probs=cr.tensor(probs))
    theirs = td.ContinuousBernoulli(probs=torch.tensor(probs))
    for u in (0.0, 0.25, 0.5, 0.9, 1.0):
        value = np.full_like(probs, u)
        np.testing.assert_allclose(ours.cdf(cr.tensor(value)).numpy(),
                                   theirs.cdf(torch.tensor(value)).numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.icdf(cr.tensor(value)).numpy(),
                                   theirs.icdf(torch.tensor(value)).numpy(), rtol=1e-12,
                                   atol=1e-15)
    cr.manual_seed(1)
    draws = ours.sample((40000,)).numpy()
    assert ((draws >= 0) & (draws <= 1)).all()
    np.testing.assert_allclose(draws.mean(0), theirs.mean.numpy(), atol=0.01)
    lam = cr.tensor(0.3, dtype=cr.float64, requires_grad=True)
    crd.ContinuousBernoulli(probs=lam).rsample((40000,)).mean().backward()
    lam_t = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    td.ContinuousBernoulli(probs=lam_t).mean.backward()  # d(mean)/dλ, exactly
    np.testing.assert_allclose(lam.grad.item(), lam_t.grad.item(), rtol=0.03)



def test_small_concentrations_and_huge_rates_draw_no_ties_or_zeros():
    """(review findings) Gamma draws far below float32's range: Beta/Dirichlet normalize
    them in float64, Gamma divides by the rate before the floor."""
    cr.manual_seed(0)
    beta = crd.Beta(cr.tensor([0.01]), cr.tensor([0.01])).rsample((10000,)).numpy()
    assert beta.dtype == np.float32 and (beta == 0.5).mean() < 0.001
    rows = crd.Dirichlet(cr.tensor([0.01, 0.01, 0.01])).rsample((20000,)).numpy()
    assert np.all(np.isclose(rows, 1 / 3), -1).mean() < 0.001
    gamma = crd.Gamma(cr.tensor([0.01]), cr.tensor([1e10]))
    draws = gamma.rsample((2000,))
    assert (draws.numpy() > 0).all() and np.isfinite(gamma.log_prob(draws).numpy()).all()


def test_expand_carries_a_transformed_distributions_own_parameters():
    t = lambda *v: cr.tensor(list(v))
    assert crd.Pareto(t(1.0), t(3.0)).expand((3,)).mean.shape == (3,)
    assert crd.InverseGamma(t(3.0), t(2.0)).expand((2, 3)).entropy().shape == (2, 3)
    assert crd.Kumaraswamy(t(2.0), t(3.0)).expand((4,)).variance.shape == (4,)
    assert crd.Weibull(t(2.0), t(3.0)).expand((4,)).mean.shape == (4,)


def test_kumaraswamy_log_prob_in_closed_form_near_the_ends():
    ours = crd.Kumaraswamy(cr.tensor(2.0), cr.tensor(3.0))
    exact = np.log(2) + np.log(3) + np.log(1e-4) + 2 * np.log1p(-1e-8)
    np.testing.assert_allclose(ours.log_prob(cr.tensor(1e-4)).item(), exact, rtol=1e-6)
    assert np.isfinite(crd.Kumaraswamy(cr.tensor(2.0), cr.tensor(50.0))
                       .log_prob(cr.tensor(0.99)).item())
    with pytest.raises(ValueError, match="Kumaraswamy.log_prob"):
        ours.log_prob(cr.tensor(1.5))
