"""torch.func on chainrule: transforms, nesting, pytrees, and refusals (the compat program
p57 compares the numbers with PyTorch's)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.func import functional_call, grad, jacrev, jvp, vjp, vmap


def test_grad_of_a_tensor_that_requires_grad_stays_on_the_graph():
    x = cr.tensor([0.5, -1.0, 2.0], dtype=cr.float64, requires_grad=True)
    g = grad(lambda t: (t ** 3).sum())(x)
    assert g.requires_grad  # 3x², differentiable further
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.detach().numpy())
    plain = grad(lambda t: (t ** 3).sum())(x.detach())
    assert not plain.requires_grad


def test_pytrees_come_back_in_their_structure():
    params = {"w": cr.ones(2, 2), "b": [cr.zeros(2), cr.ones(1)]}
    g = grad(lambda p: (p["w"].sum() * 2 + p["b"][0].pow(2).sum() + p["b"][1].sum()))(params)
    assert set(g) == {"w", "b"} and isinstance(g["b"], list)
    np.testing.assert_allclose(g["w"].numpy(), 2.0)
    np.testing.assert_allclose(g["b"][1].numpy(), 1.0)


def test_jvp_and_vjp_agree_with_the_jacobian():
    x = cr.tensor(np.linspace(-1, 1, 4), dtype=cr.float64)
    fn = lambda t: (t.sin() * t).cumsum(0)
    jac = jacrev(fn)(x).numpy()
    u = np.arange(4.0)
    _, jv = jvp(fn, (x,), (cr.tensor(u, dtype=cr.float64),))
    _, back = vjp(fn, x)
    np.testing.assert_allclose(jv.numpy(), jac @ u, rtol=1e-12)
    np.testing.assert_allclose(back(cr.tensor(u, dtype=cr.float64))[0].numpy(), u @ jac,
                               rtol=1e-12)


def test_functional_call_restores_the_module():
    layer = nn.Linear(2, 1)
    before = layer.weight
    zero = {"weight": cr.zeros(1, 2), "bias": cr.ones(1)}
    out = functional_call(layer, zero, (cr.ones(3, 2),))
    np.testing.assert_allclose(out.detach().numpy(), 1.0)
    assert layer.weight is before and layer._parameters["weight"] is before


def test_refusals_name_the_problem():
    with pytest.raises(RuntimeError, match="single-element Tensor"):
        grad(lambda t: t * 2)(cr.ones(3))
    with pytest.raises(TypeError, match=r"has_aux=True .* pair"):
        grad(lambda t: t.sum(), has_aux=True)(cr.ones(3))
    with pytest.raises(ValueError, match="argnums 2 out of range"):
        grad(lambda t: t.sum(), argnums=2)(cr.ones(3))
    with pytest.raises(TypeError, match="floating-point"):
        grad(lambda t: t.sum())(cr.tensor([1, 2]))
    with pytest.raises(ValueError, match="different sizes"):
        vmap(lambda a, b: a + b)(cr.ones(3), cr.ones(4))
    with pytest.raises(ValueError, match="no parameter or buffer named 'weigth'"):
        functional_call(nn.Linear(2, 1), {"weigth": cr.ones(1, 2)}, (cr.ones(1, 2),))
    assert cr.vmap is vmap


def test_forward_ad_tangents_and_refusals():
    import chainrule.autograd.forward_ad as fwAD

    x = cr.tensor([0.5, -1.0, 2.0], dtype=cr.float64)
    t = cr.tensor([1.0, 0.0, -2.0], dtype=cr.float64)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        y = (d * d).sum() + d.exp()[0]
        tangent = fwAD.unpack_dual(y).tangent
        assert fwAD.unpack_dual(x * 2).tangent is None
        with pytest.raises(ValueError, match="tangent has shape"):
            fwAD.make_dual(x, cr.ones(2, dtype=cr.float64))
    expected = (2 * x.numpy() * t.numpy()).sum() + np.exp(0.5) * 1.0
    np.testing.assert_allclose(tangent.item(), expected)
    with pytest.raises(RuntimeError, match="dual_level"):
        fwAD.make_dual(x, t)


def test_inference_mode_is_visible_and_grad_mode_has_its_module_path():
    from chainrule.autograd.grad_mode import no_grad

    assert no_grad is cr.no_grad
    assert not cr.is_inference_mode_enabled()
    with cr.inference_mode():
        assert cr.is_inference_mode_enabled()
        with cr.inference_mode(False):  # as PyTorch: the inner block turns it off
            assert not cr.is_inference_mode_enabled()
        assert cr.is_inference_mode_enabled()
    assert not cr.is_inference_mode_enabled()

    @cr.inference_mode()
    def inside():
        return cr.is_inference_mode_enabled()

    assert inside() and not cr.is_inference_mode_enabled()
