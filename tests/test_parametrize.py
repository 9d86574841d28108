"""nn.utils.parametrize, nn.utils.parametrizations (weight_norm, spectral_norm) and the
older hook-based weight_norm/spectral_norm: values, gradients (finite differences),
state_dict round trips and errors. tests/compat/programs/p40 compares them with PyTorch
inside a program."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

parametrize = nn.utils.parametrize
parametrizations = nn.utils.parametrizations
rng = np.random.default_rng(5)


class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor

    def right_inverse(self, x):
        return x / self.factor


def test_weight_norm_gradients_match_finite_differences():
    layer = parametrizations.weight_norm(nn.Linear(3, 2).double())
    x = cr.tensor(rng.standard_normal((4, 3)))
    g, v = layer.parametrizations.weight.original0, layer.parametrizations.weight.original1
    assert np.allclose(layer.weight.numpy(), v.numpy())  # starts at the same weight

    def loss(g_value, v_value):
        with cr.no_grad():
            g.copy_(g_value)
            v.copy_(v_value)
        out = layer(x)
        return (out * out).sum()

    def as_function_of(gv, vv):
        w = vv * (gv / (vv * vv).sum(dim=1, keepdim=True).sqrt())
        out = x @ w.T + layer.bias
        return (out * out).sum()

    assert cr.gradcheck(as_function_of, g.detach().clone().requires_grad_(),
                        v.detach().clone().requires_grad_())
    loss(g.detach() * 1.5, v.detach()).backward()
    gv = g.detach().clone().requires_grad_()
    vv = v.detach().clone().requires_grad_()
    as_function_of(gv, vv).backward()
    np.testing.assert_allclose(g.grad.numpy(), gv.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(v.grad.numpy(), vv.grad.numpy(), rtol=1e-10)


def test_spectral_norm_divides_by_the_largest_singular_value():
    layer = nn.Linear(5, 4)
    with cr.no_grad():
        layer.weight.copy_(cr.tensor(np.diag([3.0, 1.0, 0.5, 0.2]) @ np.eye(4, 5),
                                     dtype=cr.float32))
    parametrizations.spectral_norm(layer)
    assert abs(np.linalg.norm(layer.weight.detach().numpy(), 2) - 1) < 1e-5
    old = nn.utils.spectral_norm(nn.Linear(5, 4))
    with cr.no_grad():
        old.weight_orig.copy_(cr.tensor(np.diag([2.0, 0.5, 0.2, 0.1]) @ np.eye(4, 5),
                                        dtype=cr.float32))
        for _ in range(30):
            old(cr.ones(1, 5))
    assert abs(np.linalg.norm(old.weight.detach().numpy(), 2) - 1) < 1e-5
    nn.utils.remove_spectral_norm(old)
    assert [n for n, _ in old.named_parameters()] == ["bias", "weight"]


def test_chained_parametrizations_assignment_and_removal():
    layer = nn.Linear(2, 2)
    w = layer.weight.detach().clone()
    parametrize.register_parametrization(layer, "weight", Scale(2.0))
    parametrize.register_parametrization(layer, "weight", Scale(3.0))
    # the first right_inverse keeps the weight; the second map is applied on top
    np.testing.assert_allclose(layer.weight.detach().numpy(), w.numpy() * 3, rtol=1e-6)
    layer.weight = cr.ones(2, 2) * 6
    np.testing.assert_allclose(layer.parametrizations.weight.original.numpy(), 1.0)
    with parametrize.cached():
        assert layer.weight is layer.weight
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=True)
    assert type(layer) is nn.Linear and not parametrize.is_parametrized(layer)
    np.testing.assert_allclose(layer.weight.detach().numpy(), 6.0)


def test_state_dict_round_trip_and_deepcopy():
    a = parametrizations.weight_norm(nn.Linear(3, 2))
    b = parametrizations.weight_norm(nn.Linear(3, 2))
    b.load_state_dict(a.state_dict())
    x = cr.randn(4, 3)
    np.testing.assert_allclose(a(x).detach().numpy(), b(x).detach().numpy(), rtol=1e-6)
    c = copy.deepcopy(a)
    np.testing.assert_allclose(c(x).detach().numpy(), a(x).detach().numpy(), rtol=1e-6)
    old = nn.utils.weight_norm(nn.Linear(3, 2))
    w = old(x)
    nn.utils.remove_weight_norm(old)
    np.testing.assert_allclose(old(x).detach().numpy(), w.detach().numpy(), rtol=1e-6)
    assert list(old.state_dict()) == ["bias", "weight"]


@pytest.mark.parametrize("call, error, match", [
    (lambda: parametrize.register_parametrization(nn.Linear(2, 2), "scale", Scale(2.0)),
     ValueError, "has no parameter or buffer 'scale'"),
    (lambda: parametrize.register_parametrization(nn.Linear(2, 2), "weight", lambda w: w),
     TypeError, "must be an nn.Module"),
    (lambda: parametrize.register_parametrization(nn.Linear(3, 2), "weight", nn.Flatten(0)),
     ValueError, r"maps 'weight' of shape \(2, 3\) to \(6,\)"),
    (lambda: parametrize.remove_parametrizations(nn.Linear(2, 2), "weight"), ValueError,
     "no parametrization on 'weight'"),
    (lambda: nn.utils.weight_norm(nn.utils.weight_norm(nn.Linear(2, 2))), ValueError,
     "has no parameter 'weight'"),
    (lambda: nn.utils.remove_weight_norm(nn.Linear(2, 2)), ValueError,
     "weight_norm of 'weight' not found"),
    (lambda: parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0),
     ValueError, "n_power_iterations must be positive"),
    (lambda: parametrizations.weight_norm(nn.Linear(2, 2), dim=3), IndexError,
     "dim 3 is out of range"),
    (lambda: parametrizations.orthogonal(nn.Linear(2, 2)), NotImplementedError,
     "orthogonal is not part of chainrule"),
])
def test_bad_input_is_refused_with_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()
