"""Probability distributions with PyTorch's API (``torch.distributions``): densities,
entropies, KL divergences and samples, differentiable in the parameters.

Samples are drawn from chainrule's global generator (``cr.manual_seed`` repeats them); the
stream is NumPy's, so the values differ from PyTorch's for the same seed, while
``log_prob``, ``entropy``, ``kl_divergence`` and ``rsample`` given the same noise agree.

>>> import chainrule as cr
>>> from chainrule.distributions import Categorical, Normal, kl_divergence
>>> pi = Categorical(logits=cr.tensor([1.0, 2.0, 0.5], requires_grad=True))
>>> round(pi.log_prob(cr.tensor(1)).item(), 4)
-0.4644
>>> round(kl_divergence(Normal(0.0, 1.0), Normal(1.0, 2.0)).item(), 4)
0.4431
"""

from . import constraints, transforms
from .bernoulli import Bernoulli, ContinuousBernoulli
from .categorical import Categorical
from .continuous import Beta, Cauchy, Chi2, Dirichlet, Exponential, Gamma, Laplace, StudentT
from .counts import Multinomial, NegativeBinomial, Pareto
from .discrete import Binomial, Geometric, Poisson
from .distribution import Distribution
from .independent import Independent
from .kl import kl_divergence, register_kl
from .mixture_same_family import MixtureSameFamily
from .multivariate_normal import LowRankMultivariateNormal, MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .relaxed import (
    ExpRelaxedCategorical,
    LogitRelaxedBernoulli,
    RelaxedBernoulli,
    RelaxedOneHotCategorical,
)
from .transformed_distribution import (
    Gumbel,
    HalfCauchy,
    HalfNormal,
    InverseGamma,
    Kumaraswamy,
    LogisticNormal,
    LogNormal,
    TransformedDistribution,
    Weibull,
)
from .transforms import (
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    PowerTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    biject_to,
    identity_transform,
    transform_to,
)
from .uniform import Uniform

__all__ = [
    "AffineTransform",
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "Cauchy",
    "Chi2",
    "ComposeTransform",
    "Dirichlet",
    "Distribution",
    "ExpRelaxedCategorical",
    "ExpTransform",
    "Exponential",
    "Gamma",
    "Geometric",
    "Gumbel",
    "HalfCauchy",
    "HalfNormal",
    "Independent",
    "Laplace",
    "LogNormal",
    "LogitRelaxedBernoulli",
    "MixtureSameFamily",
    "Multinomial",
    "MultivariateNormal",
    "NegativeBinomial",
    "Normal",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "Pareto",
    "Poisson",
    "PowerTransform",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "SigmoidTransform",
    "SoftmaxTransform",
    "SoftplusTransform",
    "StudentT",
    "TanhTransform",
    "Transform",
    "TransformedDistribution",
    "Uniform",
    "Weibull",
    "biject_to",
    "constraints",
    "identity_transform",
    "kl_divergence",
    "register_kl",
    "transform_to",
    "transforms",
]


def _alias_modules() -> None:
    """PyTorch's one-file-per-distribution module paths (``torch.distributions.beta.Beta``,
    ``...constraint_registry.transform_to``) for the classes defined in shared files here."""
    import sys
    import types

    paths = {"beta": ["Beta"], "gamma": ["Gamma"], "dirichlet": ["Dirichlet"],
             "exponential": ["Exponential"], "laplace": ["Laplace"], "cauchy": ["Cauchy"],
             "studentT": ["StudentT"], "chi2": ["Chi2"], "poisson": ["Poisson"],
             "binomial": ["Binomial"], "geometric": ["Geometric"], "log_normal": ["LogNormal"],
             "half_normal": ["HalfNormal"], "half_cauchy": ["HalfCauchy"],
             "weibull": ["Weibull"], "gumbel": ["Gumbel"], "multinomial": ["Multinomial"],
             "negative_binomial": ["NegativeBinomial"], "pareto": ["Pareto"],
             "inverse_gamma": ["InverseGamma"], "kumaraswamy": ["Kumaraswamy"],
             "lowrank_multivariate_normal": ["LowRankMultivariateNormal"],
             "continuous_bernoulli": ["ContinuousBernoulli"],
             "constraint_registry": ["biject_to", "transform_to"],
             "relaxed_categorical": ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"],
             "relaxed_bernoulli": ["LogitRelaxedBernoulli", "RelaxedBernoulli"]}
    for module_name, names in paths.items():
        module = types.ModuleType(f"{__name__}.{module_name}",
                                  f"torch.distributions.{module_name}'s names")
        for name in names:
            setattr(module, name, globals()[name])
        module.__all__ = names
        sys.modules[module.__name__] = module
        globals()[module_name] = module


_alias_modules()


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(f"module 'chainrule.distributions' has no attribute {name!r}")
    here = [n for n in __all__ if n[0].isupper() and not n.endswith("Transform")
            and n not in ("Distribution", "Transform")]
    raise AttributeError(f"chainrule.distributions has no {name!r}: PyTorch's "
                         f"torch.distributions.{name} is not part of chainrule; the "
                         f"distributions here are {', '.join(here)} (see docs/pytorch.md)")
