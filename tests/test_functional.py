"""The JAX-style functional API: cr.grad and cr.value_and_grad."""

import numpy as np
import pytest

import chainrule as cr


def cube(x):
    return x ** 3


def test_grad_of_scalar_function():
    assert cr.grad(cube)(2.0).item() == pytest.approx(12.0)
    g = cr.grad(lambda x: (x * x).sum())(np.array([1.0, 2.0, 3.0]))
    assert isinstance(g, cr.Tensor)
    np.testing.assert_array_equal(g.numpy(), [2, 4, 6])


@pytest.mark.parametrize("arg", [2.0, np.float64(2.0), np.array(2.0), [2.0],
                                 cr.tensor(2.0), cr.tensor(2.0, dtype="float64"),
                                 cr.tensor(2.0, requires_grad=True)],
                         ids=["float", "np_scalar", "np_0d", "list", "tensor32", "tensor64",
                              "tensor_rg"])
def test_grad_accepts_several_argument_kinds(arg):
    g = cr.grad(lambda x: (x ** 3).sum())(arg)
    np.testing.assert_allclose(np.asarray(g.numpy()).reshape(-1), [12.0], rtol=1e-6)


def test_grad_keeps_tensor_dtype():
    x = cr.tensor([1.0, 2.0])  # float32
    assert cr.grad(lambda x: (x * x).sum())(x).dtype == np.float32


def test_grad_does_not_touch_input_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    g = cr.grad(lambda x: (x * x).sum())(x)
    np.testing.assert_array_equal(g.numpy(), [2, 4])
    assert x.grad is None
    y = cr.tensor([1.0, 2.0])
    cr.grad(lambda x: (x * x).sum())(y)
    assert not y.requires_grad and y.grad is None


def test_argnums_int_and_tuple():
    def f(x, y, z):
        return (x * y * y + z).sum()

    x, y, z = 2.0, 3.0, 5.0
    assert cr.grad(f)(x, y, z).item() == 9.0
    assert cr.grad(f, argnums=1)(x, y, z).item() == 12.0
    gx, gz = cr.grad(f, argnums=(0, 2))(x, y, z)
    assert gx.item() == 9.0 and gz.item() == 1.0
    (gy,) = cr.grad(f, argnums=(1,))(x, y, z)
    assert gy.item() == 12.0


def test_argnums_out_of_range():
    with pytest.raises(ValueError, match="argnums 2"):
        cr.grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)


def test_kwargs_are_passed_through_not_differentiated():
    def f(x, scale=1.0):
        return (x * scale).sum()

    assert cr.grad(f)(np.ones(2), scale=3.0).numpy().tolist() == [3.0, 3.0]


def test_value_and_grad():
    value, g = cr.value_and_grad(lambda x: (x ** 2).sum())(np.array([1.0, 2.0]))
    assert isinstance(value, cr.Tensor) and value.item() == 5.0
    np.testing.assert_array_equal(g.numpy(), [2, 4])
    value, (gx, gy) = cr.value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    assert value.item() == 12.0 and gx.item() == 4.0 and gy.item() == 3.0


def test_has_aux():
    def f(x):
        loss = (x ** 2).sum()
        return loss, {"norm": x.sum().item()}

    g, aux = cr.grad(f, has_aux=True)(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(g.numpy(), [2, 4])
    assert aux == {"norm": 3.0}
    (value, aux), g = cr.value_and_grad(f, has_aux=True)(np.array([1.0, 2.0]))
    assert value.item() == 5.0 and aux["norm"] == 3.0
    np.testing.assert_array_equal(g.numpy(), [2, 4])


def test_nested_second_and_third_derivatives():
    d2 = cr.grad(cr.grad(cube))
    d3 = cr.grad(cr.grad(cr.grad(cube)))
    for v in (-1.0, 0.5, 2.0):
        assert d2(v).item() == pytest.approx(6 * v)
        assert d3(v).item() == pytest.approx(6.0)
    d4 = cr.grad(cr.grad(cr.grad(cr.grad(lambda x: cr.sin(x)))))
    assert d4(0.3).item() == pytest.approx(np.sin(0.3))


def test_nested_grad_of_transcendentals():
    f = cr.grad(cr.grad(lambda x: cr.exp(x) * cr.tanh(x)))
    v = 0.4
    t = np.tanh(v)
    expected = np.exp(v) * (t + 2 * (1 - t * t) - 2 * t * (1 - t * t))
    assert f(v).item() == pytest.approx(expected, rel=1e-10)


def test_nested_grad_mixed_arguments():
    # d/dy of (d/dx x^2 y^3) = d/dy 2 x y^3 = 6 x y^2
    def f(x, y):
        return x ** 2 * y ** 3

    dfdx = cr.grad(f, argnums=0)
    d2 = cr.grad(lambda x, y: dfdx(x, y), argnums=1)
    assert d2(2.0, 3.0).item() == pytest.approx(6 * 2 * 9)


def test_grad_of_function_returning_vector_sum_of_grad():
    # the Laplacian-like trace of a Hessian through nesting
    def f(x):
        return (x ** 3).sum()

    def trace_like(x):
        return cr.grad(f)(x).sum()

    g = cr.grad(trace_like)(np.array([1.0, 2.0]))
    np.testing.assert_allclose(g.numpy(), [6, 12])


def test_function_not_depending_on_input_gives_zeros():
    g = cr.grad(lambda x, y: (y * 2).sum(), argnums=(0, 1))(np.ones(3), np.ones(2))
    np.testing.assert_array_equal(g[0].numpy(), np.zeros(3))
    np.testing.assert_array_equal(g[1].numpy(), [2, 2])
    g = cr.grad(lambda x: cr.tensor(3.0))(np.ones(2))
    np.testing.assert_array_equal(g.numpy(), [0, 0])


def test_function_must_return_scalar_tensor():
    with pytest.raises(TypeError, match=r"scalar, got shape \(2,\)"):
        cr.grad(lambda x: x * 2)(np.ones(2))
    with pytest.raises(TypeError, match="must return a Tensor, got float"):
        cr.grad(lambda x: 1.0)(np.ones(2))


def test_grad_mode_restored_after_error():
    def bad(x):
        raise KeyError("boom")

    with pytest.raises(KeyError):
        cr.grad(bad)(1.0)
    assert cr.is_grad_enabled()
    assert cr.grad(cr.grad(cube))(1.0).item() == pytest.approx(6.0)  # depth count restored
    assert not cr.grad(cube)(1.0).requires_grad


def test_grad_result_not_on_graph_at_top_level():
    g = cr.grad(cube)(cr.tensor(2.0, requires_grad=True))
    assert not g.requires_grad


def test_grad_inside_no_grad_context():
    """As torch.func.grad: an outer no_grad does not silently zero the gradient."""
    with cr.no_grad():
        assert cr.grad(cube)(2.0).item() == 12.0
        value, g = cr.value_and_grad(lambda x: (x * x).sum())(cr.tensor([1.0, 3.0]))
        assert g.tolist() == [2.0, 6.0] and value.item() == 10.0
        assert not cr.is_grad_enabled()
        assert cr.grad(cr.grad(cube))(1.0).item() == 6.0
    assert cr.is_grad_enabled()


def test_no_grad_inside_the_function_is_respected():
    def f(x):
        with cr.no_grad():
            c = x * 10  # a constant as far as the gradient goes
        return (x * c).sum()

    g = cr.grad(f)(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(g.numpy(), [10, 20])
