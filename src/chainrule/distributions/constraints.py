"""Constraints on parameters and supports (PyTorch's torch.distributions.constraints):
objects with ``check(value)`` returning a bool tensor, used in ``arg_constraints`` and
``support`` and by ``transform_to`` / ``biject_to``.

>>> import chainrule as cr
>>> from chainrule.distributions import constraints
>>> constraints.positive.check(cr.tensor([1.0, -1.0])).tolist()
[True, False]
>>> constraints.interval(0.0, 2.0)
Interval(lower_bound=0.0, upper_bound=2.0)
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, as_tensor

__all__ = ["Constraint", "boolean", "dependent", "dependent_property", "greater_than",
           "greater_than_eq", "half_open_interval", "independent", "integer_interval",
           "interval", "is_dependent", "less_than", "lower_cholesky", "lower_triangular",
           "nonnegative", "nonnegative_integer", "one_hot", "positive", "positive_definite",
           "positive_integer", "positive_semidefinite", "real", "real_vector", "simplex",
           "unit_interval"]


def _array(value) -> np.ndarray:
    return np.asarray(value.array if isinstance(value, Tensor) else value)


class Constraint:
    """A region: ``check(value)`` is a bool tensor over the batch (the event dims, of which
    there are ``event_dim``, reduced)."""

    is_discrete = False
    event_dim = 0

    def _test(self, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def check(self, value) -> Tensor:
        return as_tensor(np.asarray(self._test(_array(value))))

    def __repr__(self) -> str:
        return f"{type(self).__name__.lstrip('_')}()"


class _Dependent(Constraint):
    """Placeholder for a support that depends on other parameters (it cannot be checked)."""

    def __init__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented) -> None:
        self._is_discrete, self._event_dim = is_discrete, event_dim

    def __call__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented) -> _Dependent:
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, value):
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint) -> bool:
    return isinstance(constraint, _Dependent)


class dependent_property(property):
    """A property whose value is a dependent constraint (``support`` computed from the
    parameters), as PyTorch's ``constraints.dependent_property``."""

    def __init__(self, fn=None, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        super().__init__(fn)
        self._is_discrete, self._event_dim = is_discrete, event_dim

    def __call__(self, fn):
        return dependent_property(fn, is_discrete=self._is_discrete, event_dim=self._event_dim)


class _Real(Constraint):
    def _test(self, a):
        return ~np.isnan(a)  # inf is real, as in PyTorch


class _Boolean(Constraint):
    is_discrete = True

    def _test(self, a):
        return (a == 0) | (a == 1)


class _IntegerInterval(Constraint):
    is_discrete = True

    def __init__(self, lower_bound, upper_bound) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def _test(self, a):
        return (a % 1 == 0) & (self.lower_bound <= a) & (a <= self.upper_bound)

    def __repr__(self) -> str:
        return (f"IntegerInterval(lower_bound={self.lower_bound}, "
                f"upper_bound={self.upper_bound})")


class _IntegerGreaterThan(Constraint):
    is_discrete = True

    def __init__(self, lower_bound) -> None:
        self.lower_bound = lower_bound

    def _test(self, a):
        return (a % 1 == 0) & (a >= self.lower_bound)

    def __repr__(self) -> str:
        return f"IntegerGreaterThan(lower_bound={self.lower_bound})"


class _GreaterThan(Constraint):
    def __init__(self, lower_bound) -> None:
        self.lower_bound = lower_bound

    def _test(self, a):
        return self.lower_bound < a

    def __repr__(self) -> str:
        return f"GreaterThan(lower_bound={self.lower_bound})"


class _GreaterThanEq(_GreaterThan):
    def _test(self, a):
        return self.lower_bound <= a

    def __repr__(self) -> str:
        return f"GreaterThanEq(lower_bound={self.lower_bound})"


class _LessThan(Constraint):
    def __init__(self, upper_bound) -> None:
        self.upper_bound = upper_bound

    def _test(self, a):
        return a < self.upper_bound

    def __repr__(self) -> str:
        return f"LessThan(upper_bound={self.upper_bound})"


class _Interval(Constraint):
    def __init__(self, lower_bound, upper_bound) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def _test(self, a):
        return (self.lower_bound <= a) & (a <= self.upper_bound)

    def __repr__(self) -> str:
        return f"Interval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _HalfOpenInterval(_Interval):
    def _test(self, a):
        return (self.lower_bound <= a) & (a < self.upper_bound)

    def __repr__(self) -> str:
        return f"HalfOpenInterval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _Independent(Constraint):
    """``base`` on every element, reduced over the ``reinterpreted_batch_ndims`` last dims."""

    def __init__(self, base_constraint: Constraint, reinterpreted_batch_ndims: int) -> None:
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    @property
    def is_discrete(self) -> bool:
        return self.base_constraint.is_discrete

    @property
    def event_dim(self) -> int:
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def _test(self, a):
        result = self.base_constraint._test(a)
        n = self.reinterpreted_batch_ndims
        return result.reshape(result.shape[:result.ndim - n] + (-1,)).all(-1) if n else result

    def __repr__(self) -> str:
        return (f"IndependentConstraint({self.base_constraint!r}, "
                f"{self.reinterpreted_batch_ndims})")


class _Simplex(Constraint):
    event_dim = 1

    def _test(self, a):
        return (a >= 0).all(-1) & (np.abs(a.sum(-1) - 1) < 1e-6)


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def _test(self, a):
        return ((a == 0) | (a == 1)).all(-1) & (a.sum(-1) == 1)


class _LowerTriangular(Constraint):
    event_dim = 2

    def _test(self, a):
        return (np.tril(a) == a).reshape(a.shape[:-2] + (-1,)).all(-1)


class _LowerCholesky(Constraint):
    event_dim = 2

    def _test(self, a):
        lower = (np.tril(a) == a).reshape(a.shape[:-2] + (-1,)).all(-1)
        return lower & (np.diagonal(a, axis1=-2, axis2=-1) > 0).all(-1)


class _PositiveDefinite(Constraint):
    event_dim = 2

    def _test(self, a):
        symmetric = np.isclose(a, np.swapaxes(a, -1, -2), atol=1e-6).reshape(
            a.shape[:-2] + (-1,)).all(-1)
        return symmetric & (np.linalg.eigvalsh(a) > 0).all(-1)


class _PositiveSemidefinite(_PositiveDefinite):
    def _test(self, a):
        symmetric = np.isclose(a, np.swapaxes(a, -1, -2), atol=1e-6).reshape(
            a.shape[:-2] + (-1,)).all(-1)
        return symmetric & (np.linalg.eigvalsh(a) >= 0).all(-1)


dependent = _Dependent()
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = _Independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
independent = _Independent
simplex = _Simplex()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
positive_definite = _PositiveDefinite()
positive_semidefinite = _PositiveSemidefinite()
