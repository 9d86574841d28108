"""Users' own building blocks: cr.autograd.Function and cr.custom_vjp, with PyTorch's
torch.autograd.Function on the same blocks as the oracle."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def _legendre_p3(lib):
    """P3(x) = ½(5x³ − 3x), d/dx = 1.5(5x² − 1): the block of PyTorch's tutorial, written
    against either library."""

    class LegendreP3(lib.autograd.Function):
        formula = "1.5·(5·{x}² - 1)"

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return 0.5 * (5 * x ** 3 - 3 * x)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * x ** 2 - 1)

    return LegendreP3


def _straight_through(lib):
    class StraightThroughSign(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return lib.sign(x)

        @staticmethod
        def backward(ctx, g):
            return g  # pass the gradient through as if sign were the identity

    return StraightThroughSign


def _clipped_identity(lib):
    class ClipGrad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, bound):
            ctx.bound = bound
            return x.clone() if hasattr(x, "clone") else x * 1

        @staticmethod
        def backward(ctx, g):
            return g.clamp(-ctx.bound, ctx.bound), None

    return ClipGrad


def _run(lib, make, x0, *extra):
    block = make(lib)
    x = lib.tensor(x0, requires_grad=True)
    y = block.apply(x, *extra)
    (y * lib.tensor(np.arange(1.0, x0.size + 1).reshape(x0.shape))).sum().backward()
    return y.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("make,extra", [(_legendre_p3, ()), (_straight_through, ()),
                                        (_clipped_identity, (1.5,))])
def test_blocks_match_torch(make, extra):
    torch = pytest.importorskip("torch")
    x0 = np.linspace(-1.2, 1.3, 6)
    y, gx = _run(cr, make, x0, *extra)
    ty, tgx = _run(torch, make, x0, *extra)
    np.testing.assert_allclose(y, ty, rtol=1e-12)
    np.testing.assert_allclose(gx, tgx, rtol=1e-12)


def test_second_derivative_through_a_backward_written_with_ops():
    torch = pytest.importorskip("torch")
    P3, TP3 = _legendre_p3(cr), _legendre_p3(torch)
    x = cr.tensor(np.array([0.3, -0.7]), requires_grad=True)
    (g,) = cr.autograd.grad(P3.apply(x).sum(), x, create_graph=True)
    g.sum().backward()
    tx = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad(TP3.apply(tx).sum(), tx, create_graph=True)
    tg.sum().backward()
    np.testing.assert_allclose(g.numpy(), tg.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())   # 15 x
    assert cr.gradcheck(lambda x: P3.apply(x), cr.randn(4, dtype="float64"))
    assert float(cr.grad(cr.grad(lambda x: P3.apply(x)))(0.5)) == pytest.approx(15 * 0.5)


def test_several_outputs_non_tensor_arguments_and_needs_input_grad():
    seen = {}

    class SplitScale(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x, factor, y):
            seen["needs"] = ctx.needs_input_grad
            ctx.factor = factor
            ctx.save_for_backward(x, y)
            return x * factor, x * y

        @staticmethod
        def backward(ctx, ga, gb):
            x, y = ctx.saved_tensors
            return ga * ctx.factor + gb * y, None, gb * x

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor([3.0, 4.0])
    a, b = SplitScale.apply(x, 2.0, y)
    assert seen["needs"] == (True, False, False)
    (a.sum() + 10 * b.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 30, 2 + 40])
    # only one output used: the other's gradient arrives as zeros
    x.grad = None
    a, b = SplitScale.apply(x, 2.0, y)
    b.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])


def test_non_differentiable_outputs_stay_leaves():
    class SortWithIndex(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            order = np.argsort(x.numpy())
            ctx.order = order
            idx = cr.tensor(order)
            ctx.mark_non_differentiable(idx)
            return x[order], idx

        @staticmethod
        def backward(ctx, g, _gidx):
            out = np.zeros_like(g.numpy())
            out[ctx.order] = g.numpy()
            return cr.tensor(out)

    x = cr.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, idx = SortWithIndex.apply(x)
    assert not idx.requires_grad and values.requires_grad
    (values * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 1.0, 2.0])


def test_errors_name_the_block_the_index_and_the_shapes():
    class WrongCount(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    class WrongShape(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            return g * cr.ones(3)

    class NotATensor(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return 3.0

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward of WrongCount: returned 1 gradient, but "
                                           r"forward took 2 arguments"):
        WrongCount.apply(x, x).sum().backward()
    with pytest.raises(RuntimeError, match=r"backward of WrongShape: the gradient for input 0 "
                                           r"has shape \(3,\), but that input has shape \(2,\)"):
        WrongShape.apply(x).backward()
    with pytest.raises(TypeError, match=r"NotATensor.forward returned a float"):
        NotATensor.apply(x)


def test_once_differentiable_refuses_a_second_derivative():
    class NumpyCube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return cr.tensor(x.numpy() ** 3)

        @staticmethod
        @cr.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return cr.tensor(g.numpy() * 3 * x.numpy() ** 2)

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    NumpyCube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])
    (g,) = cr.autograd.grad(NumpyCube.apply(x).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="NumpyCube is marked @once_differentiable"):
        g.sum().backward()


def test_in_place_change_of_a_saved_tensor_is_caught():
    P3 = _legendre_p3(cr)
    x = cr.tensor([0.5, 1.0], requires_grad=True)
    h = x * 1
    y = P3.apply(h)
    with cr.no_grad():
        h.array[0] = 7.0
        h._version += 1
    with pytest.raises(RuntimeError, match="backward of LegendreP3: saved tensor 0"):
        y.sum().backward()


def test_user_block_is_a_first_class_node():
    P3 = _legendre_p3(cr)
    x = cr.tensor(0.5, requires_grad=True, name="x")
    y = P3.apply(x)
    assert y.op == "LegendreP3" and y.grad_fn.name() == "LegendreP3Backward"
    assert y.grad_fn.next_functions[0][0].name() == "torch::autograd::AccumulateGrad"
    text = str(cr.explain(y))
    assert "LegendreP3" in text
    assert "1.5·(5·x² - 1)" in text
    assert "LegendreP3" in str(cr.viz.to_dot(y))

    class BadBackward(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x = cr.tensor([1.0], requires_grad=True)
    with cr.detect_anomaly(), pytest.raises(cr.AnomalyError, match="BadBackward"):
        BadBackward.apply(x).sum().backward()


def test_custom_vjp_as_jax():
    @cr.custom_vjp
    def clip_gradient(x, lo, hi):
        return x

    def fwd(x, lo, hi):
        return x, (lo, hi)

    def bwd(res, g):
        lo, hi = res
        return (g.clamp(lo, hi), None, None)

    clip_gradient.defvjp(fwd, bwd)
    g = cr.grad(lambda x: (5 * clip_gradient(x, -1.0, 1.0)).sum())(cr.tensor([1.0, 2.0]))
    np.testing.assert_allclose(g.numpy(), [1.0, 1.0])

    # residuals computed from x keep their graph: second derivatives work (f = sin)
    @cr.custom_vjp
    def f(x):
        return cr.sin(x)

    f.defvjp(lambda x: (cr.sin(x), cr.cos(x)), lambda cos_x, g: (g * cos_x,))
    assert float(cr.grad(f)(0.3)) == pytest.approx(np.cos(0.3))
    assert float(cr.grad(cr.grad(f))(0.3)) == pytest.approx(-np.sin(0.3))


def test_custom_vjp_fwd_may_call_the_function_itself_as_in_jax():
    @cr.custom_vjp
    def f(x):
        return cr.sin(x)

    def f_fwd(x):
        return f(x), (cr.cos(x),)       # JAX's documented pattern: fwd calls f

    def f_bwd(res, g):
        (cos_x,) = res
        return (cos_x * g,)

    f.defvjp(f_fwd, f_bwd)
    assert float(f(cr.tensor(0.5))) == pytest.approx(np.sin(0.5))   # not differentiating
    assert float(cr.grad(f)(cr.tensor(0.5))) == pytest.approx(np.cos(0.5))


def test_gradcheck_takes_pytorchs_tuple_of_inputs():
    x = cr.tensor([0.3, 0.7], dtype="float64", requires_grad=True)
    assert cr.gradcheck(lambda x: (x * x).sum(), (x,))
