"""The gradient-check table, generated from the op registry.

Every registered building block is checked against central finite differences in
float64, first and second order, on the cases and domain its registry entry gives. A new
op cannot land untested: an op without cases fails ``test_every_op_has_cases``.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import autograd
from chainrule.ops import ARRAYS, GRAPH, REGISTRY
from chainrule.ops.registry import sample

# ops whose check needs hardware or is done elsewhere, with the reason
_NOT_TABLE_CHECKED = {
    "to_device": "moves between devices; needs a GPU (tests/test_gpu.py)",
}


def _domain(op, i):
    d = op.domain
    if isinstance(d, list):
        return d[i] if i < len(d) else d[-1]
    return d


def _materialize(op, c, rng):
    """(args, kwargs, indices of the tensor inputs to check) for one case."""
    if callable(c):
        args, kwargs = c(rng)
    else:
        shapes, kwargs = c
        args = tuple(sample(_domain(op, i), s, rng) for i, s in enumerate(shapes))
    leaves, checked = [], []

    def leaf(a):
        t = cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)
        checked.append(t)
        return t

    for a in args:
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            leaves.append(leaf(a))
        elif isinstance(a, list) and a and all(isinstance(x, np.ndarray) for x in a):
            leaves.append([leaf(x) for x in a])
        else:
            leaves.append(a)
    return leaves, dict(kwargs), checked


def _cases():
    out = []
    for name, op in REGISTRY.items():
        if name in _NOT_TABLE_CHECKED:
            continue
        for k, c in enumerate(op.sample_cases()):
            out.append(pytest.param(name, k, id=f"{name}-{k}"))
    return out


def _call(op, leaves, kwargs, checked, flat):
    """op(*leaves) with the checked leaves replaced by ``flat``."""
    swap = {id(t): f for t, f in zip(checked, flat)}
    args = [([swap.get(id(x), x) for x in a] if isinstance(a, list) else swap.get(id(a), a))
            for a in leaves]
    return op.public(*args, **kwargs)


def test_every_op_has_cases():
    missing = [n for n, op in REGISTRY.items()
               if n not in _NOT_TABLE_CHECKED and not op.sample_cases()]
    assert not missing, f"registered ops without gradient-check cases: {missing}"


def test_every_op_has_a_public_function_and_both_namespaces():
    for name, op in REGISTRY.items():
        assert op.public is not None, name
        assert hasattr(GRAPH, name) and hasattr(ARRAYS, name), name
        assert op.vjp is not None, name


@pytest.mark.parametrize("name,k", _cases())
def test_first_order(name, k):
    op = REGISTRY[name]
    rng = np.random.default_rng(k + 7)
    leaves, kwargs, checked = _materialize(op, op.sample_cases()[k], rng)
    out = _call(op, leaves, kwargs, checked, checked)
    assert out._op is op or out._op == name
    assert cr.gradcheck(lambda *xs: _call(op, leaves, kwargs, checked, xs), *checked)


@pytest.mark.parametrize("name,k", _cases())
def test_second_order(name, k):
    """The rule run on Tensors (create_graph=True) gives the plain rule's numbers, and its
    own derivative passes gradcheck wherever it depends on the inputs."""
    op = REGISTRY[name]
    rng = np.random.default_rng(k + 11)
    leaves, kwargs, checked = _materialize(op, op.sample_cases()[k], rng)
    probe = _call(op, leaves, kwargs, checked, checked)
    v = cr.tensor(rng.standard_normal(probe.shape))
    plain = autograd.grad((probe * v).sum(), checked, allow_unused=True)
    out = _call(op, leaves, kwargs, checked, checked)
    recorded = autograd.grad((out * v).sum(), checked, create_graph=True, allow_unused=True)
    for p, r in zip(plain, recorded):
        assert (p is None) == (r is None)
        if p is not None:
            np.testing.assert_allclose(r.numpy(), p.numpy(), rtol=1e-12, atol=1e-12)
    if not op.second_order or not any(r is not None and r.requires_grad for r in recorded):
        return  # piecewise constant or linear: the second derivative is 0 where defined

    def first_derivatives(*xs):
        out = _call(op, leaves, kwargs, checked, xs)
        grads = autograd.grad((out * v).sum(), xs, create_graph=True, allow_unused=True)
        total = None
        for g in grads:
            if g is not None and g.requires_grad:
                term = (g * cr.tensor(np.cos(np.arange(g.numel()) + 1.0).reshape(g.shape))).sum()
                total = term if total is None else total + term
        return total

    assert cr.gradcheck(first_derivatives, *checked)


def test_a_node_points_at_its_op():
    x = cr.tensor([0.5, -1.0], requires_grad=True)
    y = cr.softplus(x)
    assert y.op is REGISTRY["softplus"]
    assert y.op == "softplus"            # its name, as before
    assert y.grad_fn.name() == "SoftplusBackward0"
    assert y.grad_fn.next_functions[0][0].name() == "torch::autograd::AccumulateGrad"
    z = (x * 2).exp().sum()
    assert z.grad_fn.name() == "SumBackward0"
    assert z.grad_fn.next_functions[0][0].name() == "ExpBackward0"
    assert x.grad_fn is None


def test_display_formula_and_hint_come_from_the_entry():
    assert REGISTRY["sigmoid"].local_text(0, ["x"]) == "σ(x)·(1 - σ(x))"
    assert REGISTRY["mul"].local_text(1, ["a", "b"]) == "a"
    assert "log(0)" in REGISTRY["log"].hint
    assert REGISTRY["linear"].fuses.startswith("matmul + add")


def test_new_elementwise_ops_exist_everywhere():
    for name in ("softplus", "gelu", "silu", "elu", "log1p", "expm1", "sin", "cos", "erf",
                 "floor", "round"):
        assert callable(getattr(cr, name)), name
        assert callable(getattr(cr.Tensor, name)), name
        assert hasattr(GRAPH, name) and hasattr(ARRAYS, name), name


def test_rounding_has_zero_gradient():
    x = cr.tensor([0.4, 1.6, -2.5], requires_grad=True)
    (cr.floor(x) + cr.round(x) + x.ceil() + x.trunc()).sum().backward()
    assert np.all(x.grad.numpy() == 0)


def test_new_ops_against_torch():
    torch = pytest.importorskip("torch")
    x = np.linspace(-3, 3, 13)
    pairs = {
        "softplus": torch.nn.functional.softplus, "gelu": torch.nn.functional.gelu,
        "silu": torch.nn.functional.silu, "elu": torch.nn.functional.elu,
        "log1p": lambda t: torch.log1p(t.abs()), "expm1": torch.expm1, "erf": torch.erf,
        "mish": torch.nn.functional.mish, "softsign": torch.nn.functional.softsign,
        "logsigmoid": torch.nn.functional.logsigmoid, "selu": torch.nn.functional.selu,
        "relu6": torch.nn.functional.relu6, "hardtanh": torch.nn.functional.hardtanh,
    }
    for name, tf in pairs.items():
        a = cr.tensor(x, requires_grad=True)
        t = torch.tensor(x, requires_grad=True)
        fn = getattr(cr, name)
        out = fn(a.abs()) if name == "log1p" else fn(a)
        tout = tf(t)
        out.sum().backward()
        tout.sum().backward()
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-6, atol=1e-9,
                                   err_msg=name)
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-9,
                                   err_msg=name)
    a = cr.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    cr.gelu(a, approximate="tanh").sum().backward()
    torch.nn.functional.gelu(t, approximate="tanh").sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-6)


def test_pow_gradient_for_the_exponent_as_pytorch():
    torch = pytest.importorskip("torch")
    for base, exp in [(-1.0, 3.0), (0.0, 2.0), (2.0, 0.5), (0.0, -1.0)]:
        x = cr.tensor(base, dtype="float64", requires_grad=True)
        y = cr.tensor(exp, dtype="float64", requires_grad=True)
        (x ** y).backward()
        tx = torch.tensor(base, dtype=torch.float64, requires_grad=True)
        ty = torch.tensor(exp, dtype=torch.float64, requires_grad=True)
        (tx ** ty).backward()
        tg = ty.grad.item()
        if np.isfinite(tg):
            assert y.grad.item() == pytest.approx(tg), (base, exp)
        else:  # undefined there: never a silent finite number
            assert not np.isfinite(y.grad.item()), (base, exp)


def test_formulas_of_ops_with_parameters_say_what_was_computed():
    x = cr.tensor(0.5, requires_grad=True, name="x")
    assert cr.softplus(x, beta=2.0).op.local_text(0, ["x"], (2.0, 20.0)) == "σ(2·x)"
    y = cr.selu(x)
    assert y.op.local_text(0, ["x"], y._ctx).startswith("1.0507")
    z = cr.gelu(x, approximate="tanh")
    assert "tanh" in z.op.local_text(0, ["x"], z._ctx)
