"""Shared fixtures. Kept small: every test module of the project loads this file."""

import numpy as np
import pytest

import chainrule as cr
from chainrule._tensor import set_grad_mode

# tests/compat/programs/*.py and compat/distributed/*.py are run by their tests (with torch
# and with chainrule), never imported by pytest itself (`make test` collects with
# --doctest-modules)
collect_ignore_glob = ["compat/programs/*", "compat/distributed/*"]


@pytest.fixture(autouse=True)
def _restore_global_state():
    """A test that changes the default dtype or grad mode cannot leak it into the next."""
    dtype, grad_mode = cr.get_default_dtype(), cr.is_grad_enabled()
    yield
    cr.set_default_dtype(dtype)
    set_grad_mode(grad_mode)


@pytest.fixture
def rng():
    """A seeded NumPy generator: random test inputs are the same on every run."""
    return np.random.default_rng(1234)
