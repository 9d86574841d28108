"""The base class of every distribution (PyTorch's torch.distributions.Distribution).

Draws come from chainrule's global generator (``cr.manual_seed``), whose stream is NumPy's:
the same seed repeats the same samples, but they differ from PyTorch's. Densities,
entropies, KL terms and reparameterized samples given the same noise agree with PyTorch.
"""

from __future__ import annotations

import copy
from typing import ClassVar

import numpy as np

from .._tensor import Size, Tensor, as_tensor
from ..random import numpy_generator
from . import constraints

__all__ = ["Distribution"]

_VALIDATE_DEFAULT = True


class Distribution:
    """Batch and event shapes, sampling, and the validation PyTorch does by default
    (parameters checked in the constructor, values in ``log_prob``)."""

    has_rsample = False
    has_enumerate_support = False

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        global _VALIDATE_DEFAULT
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected True or False, got {value!r}")
        _VALIDATE_DEFAULT = value

    arg_constraints: ClassVar[dict] = {}

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None) -> None:
        self._batch_shape = Size(tuple(batch_shape))
        self._event_shape = Size(tuple(event_shape))
        self._validate_args = _VALIDATE_DEFAULT if validate_args is None else validate_args
        if self._validate_args:  # the parameters set before this call, as PyTorch checks them
            for name, constraint in self.arg_constraints.items():
                value = self.__dict__.get(name)
                if value is None or not isinstance(constraint, constraints.Constraint) \
                        or constraints.is_dependent(constraint):
                    continue
                self._check_parameter(name, constraint.check(value).array, repr(constraint),
                                      value)

    @property
    def support(self):
        raise NotImplementedError(f"{type(self).__name__} does not say its support")

    @property
    def batch_shape(self) -> Size:
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        return self._event_shape

    def _extended_shape(self, sample_shape=()) -> Size:
        if isinstance(sample_shape, int):
            sample_shape = (sample_shape,)
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    # ---- what subclasses provide ------------------------------------------------------
    def rsample(self, sample_shape=()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no reparameterized sampler "
                                  "(rsample); use sample(), which is not differentiable")

    def sample(self, sample_shape=()) -> Tensor:
        from ..autograd import no_grad

        with no_grad():
            return self.rsample(sample_shape).detach()

    def sample_n(self, n: int) -> Tensor:
        return self.sample((n,))

    def log_prob(self, value) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.log_prob is not implemented")

    def entropy(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.entropy is not implemented")

    def cdf(self, value) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.cdf is not implemented")

    def icdf(self, value) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.icdf is not implemented")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no finite support to enumerate")

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.mean is not implemented")

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.mode is not implemented")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.variance is not implemented")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def perplexity(self) -> Tensor:
        return self.entropy().exp()

    def expand(self, batch_shape, _instance=None) -> Distribution:
        """The same distribution over a larger batch: each parameter broadcast (as views)
        to ``batch_shape`` plus its own trailing dims."""
        batch_shape = Size(tuple(batch_shape))
        old = tuple(self._batch_shape)
        try:
            ok = np.broadcast_shapes(old, tuple(batch_shape)) == tuple(batch_shape)
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"{type(self).__name__}.expand: batch_shape {tuple(old)} cannot "
                             f"be expanded to {tuple(batch_shape)}")
        new = copy.copy(self)
        new.__dict__ = dict(self.__dict__)
        for name in self._expand_names():
            t = self.__dict__.get(name)
            if isinstance(t, Tensor):
                new.__dict__[name] = t.expand(tuple(batch_shape) + tuple(t.shape[len(old):]))
        param = self.__dict__.get("_param")
        if param is not None:  # Categorical/Bernoulli/Binomial: the tensor given, expanded
            new._param = next(new.__dict__[n] for n in ("probs", "logits")
                              if self.__dict__.get(n) is param)
        new._batch_shape = batch_shape
        return new

    def _expand_names(self) -> tuple:
        return tuple(getattr(self, "arg_constraints", ()))

    # ---- helpers -----------------------------------------------------------------------
    def _rng(self) -> np.random.Generator:
        return numpy_generator(None)

    def _check_parameter(self, name: str, ok: np.ndarray, constraint: str, value) -> None:
        if self._validate_args and not bool(np.all(ok)):
            raise ValueError(f"{type(self).__name__}: expected parameter {name} (shape "
                             f"{tuple(as_tensor(value).shape)}) to satisfy {constraint}, "
                             f"got {as_tensor(value).detach().numpy()!r}")

    def _check_value(self, value, ok: np.ndarray, support: str) -> None:
        if self._validate_args and not bool(np.all(ok)):
            raise ValueError(f"{type(self).__name__}.log_prob: the value (shape "
                             f"{tuple(as_tensor(value).shape)}) must lie in the support "
                             f"({support}); got {as_tensor(value).detach().numpy()!r}")

    def __repr__(self) -> str:
        names = [n for n in getattr(self, "arg_constraints", {}) if n in self.__dict__]
        args = ", ".join(f"{n}: {v if v.numel() == 1 else v.size()}"
                         for n, v in ((n, self.__dict__[n]) for n in names))
        return f"{type(self).__name__}({args})"


class ParametersOf(Distribution):
    """A distribution whose ``probs``/``logits`` are those of another one it holds (a
    Categorical or a Bernoulli, in the attribute ``_inner`` names): ``probs``, ``logits``,
    ``param_shape`` and ``expand`` come from it."""

    _inner: ClassVar[str] = "_categorical"

    def expand(self, batch_shape, _instance=None):
        new = object.__new__(type(self))
        new.__dict__ = dict(self.__dict__)
        inner = getattr(self, self._inner).expand(batch_shape)
        new.__dict__[self._inner] = inner
        new._batch_shape = inner.batch_shape
        return new

    @property
    def probs(self) -> Tensor:
        return getattr(self, self._inner).probs

    @property
    def logits(self) -> Tensor:
        return getattr(self, self._inner).logits

    @property
    def param_shape(self) -> Size:
        return getattr(self, self._inner).param_shape
