"""Backward semantics: seeding, accumulation, graph release, higher order, grad mode,
version counters, aliasing of .grad, retain_grad and cr.autograd.grad."""

import numpy as np
import pytest

import chainrule as cr


def leaf(value, dtype="float64"):
    return cr.tensor(value, dtype=dtype, requires_grad=True)


# ---------------------------------------------------------------------------
# the root and its seed
# ---------------------------------------------------------------------------
def test_scalar_root_needs_no_seed():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 4, 6])


def test_one_element_root_of_any_rank():
    x = leaf([[2.0]])
    (x * 3).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[3.0]])


def test_non_scalar_root_without_grad_is_a_clear_error():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"scalar outputs.*shape \(2,\)"):
        (x * 2).backward()


def test_explicit_grad_for_non_scalar_root():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    y.backward(np.array([1.0, 0.5, -1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, -6])
    x.grad = None
    (x * x).backward(grad=cr.tensor([1.0, 1.0, 1.0], dtype="float64"))
    np.testing.assert_array_equal(x.grad.numpy(), [2, 4, 6])


def test_explicit_grad_of_wrong_shape():
    x = leaf([1.0, 2.0])
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(np.ones(3))


def test_backward_on_tensor_without_graph():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.tensor(1.0).backward()
    x = leaf(1.0)
    with cr.no_grad():
        y = x * 2
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()


def test_backward_on_a_leaf():
    x = leaf(3.0)
    x.backward()
    assert x.grad.item() == 1.0


# ---------------------------------------------------------------------------
# the graph walk
# ---------------------------------------------------------------------------
def test_long_chain_no_recursion_error():
    x = leaf(1.0)
    y = x
    for _ in range(100_000):
        y = y + 0.0  # 100,000 nodes
    y.backward()
    assert x.grad.item() == 1.0


def test_long_chain_of_products():
    x = leaf(1.0)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0001 ** 20_000, rtol=1e-9)


def test_node_used_several_times_accumulates():
    a = leaf(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0


def test_diamond_graph():
    x = leaf(2.0)
    h = x * x          # used by two branches
    y = h.exp() + h * 3 + h
    y.backward()
    assert x.grad.item() == pytest.approx((np.exp(4.0) + 4) * 4)


def test_scalar_0d_accumulation():
    # 0-d values are NumPy scalars: adjoints from several uses must still add up
    x = leaf(3.0)
    (x * x).backward()
    assert x.grad.item() == 6.0
    x = leaf(3.0)
    (x * x * x + x).backward()
    assert x.grad.item() == 28.0
    x = leaf(0.5)
    (x.tanh() * x.exp() * x).backward()
    v = 0.5
    assert x.grad.item() == pytest.approx(
        (1 - np.tanh(v) ** 2) * np.exp(v) * v + np.tanh(v) * np.exp(v) * v
        + np.tanh(v) * np.exp(v))


def test_unused_leaf_keeps_grad_none():
    a, b = leaf(1.0), leaf(2.0)
    (a * 2).backward()
    assert b.grad is None


def test_branch_that_does_not_require_grad():
    x = leaf([1.0, 2.0])
    c = cr.tensor([3.0, 4.0])
    y = (x * c + c.exp()).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 4])
    assert c.grad is None


def test_grad_accumulates_across_calls_until_zeroed():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6, 6])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3])
    x.zero_grad_()
    assert x.grad is None


def test_grad_is_a_leaf_tensor_of_input_shape_and_dtype():
    x = cr.randn(2, 3, requires_grad=True)
    (x * 2).sum().backward()
    assert isinstance(x.grad, cr.Tensor)
    assert x.grad.shape == (2, 3) and x.grad.dtype == np.float32
    assert not x.grad.requires_grad and x.grad.is_leaf


def test_grad_of_broadcast_input_has_input_shape():
    b = leaf([[1.0], [2.0]])
    x = cr.ones(2, 3, dtype="float64")
    (x * b).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [[3], [3]])
    s = leaf(2.0)
    (cr.ones(4, 5) * s).sum().backward()
    assert s.grad.shape == () and s.grad.item() == 20


# ---------------------------------------------------------------------------
# graph release and retain_graph
# ---------------------------------------------------------------------------
def test_second_backward_through_released_graph_raises():
    x = leaf(2.0)
    y = x.exp() * x
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = leaf(2.0)
    y = x.exp() * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 3 * np.exp(2.0))


def test_partial_release_then_new_branch():
    x = leaf(2.0)
    h = x * x
    (h * 2).backward()  # releases the h node
    with pytest.raises(RuntimeError, match="second time"):
        (h * 3).backward()


# ---------------------------------------------------------------------------
# higher derivatives
# ---------------------------------------------------------------------------
def test_create_graph_second_derivative_of_cube():
    for v in (-1.5, 0.0, 2.0):
        x = leaf(v)
        y = x ** 3
        (g,) = cr.autograd.grad(y, x, create_graph=True)
        assert g.requires_grad
        (g2,) = cr.autograd.grad(g, x)
        assert g2.item() == pytest.approx(6 * v)
        assert g.item() == pytest.approx(3 * v * v)


def test_create_graph_via_backward():
    x = leaf(2.0)
    y = x * x * x
    y.backward(create_graph=True, retain_graph=True)
    g = x.grad
    assert g.requires_grad and g.item() == 12.0
    x.grad = None
    g.backward()
    assert x.grad.item() == 12.0  # 6x


def test_create_graph_implies_retain_graph_in_backward():
    x = leaf(1.5)
    y = x.exp()
    y.backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.backward()
    assert x.grad.item() == pytest.approx(np.exp(1.5))


def test_create_graph_gradient_not_recorded_without_it():
    x = leaf(2.0)
    (x ** 3).backward()
    assert not x.grad.requires_grad


def test_nested_grad_functional():
    f = cr.grad(cr.grad(lambda x: x ** 3))
    assert f(2.0).item() == pytest.approx(12.0)


# ---------------------------------------------------------------------------
# grad mode and detach
# ---------------------------------------------------------------------------
def test_no_grad_context_manager():
    x = leaf([1.0, 2.0])
    with cr.no_grad():
        y = x * 2
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf and y.parents == ()
    np.testing.assert_array_equal(y.numpy(), [2, 4])


def test_no_grad_decorator():
    @cr.no_grad()
    def step(t):
        assert not cr.is_grad_enabled()
        return t * 2

    x = leaf(1.0)
    assert not step(x).requires_grad
    assert cr.is_grad_enabled()
    assert step.__name__ == "step"


def test_no_grad_restored_after_exception():
    with pytest.raises(ZeroDivisionError), cr.no_grad():
        raise ZeroDivisionError
    assert cr.is_grad_enabled()


def test_nested_grad_modes():
    x = leaf(1.0)
    with cr.no_grad():
        with cr.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad
    with cr.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert cr.is_grad_enabled()


def test_detach():
    x = leaf([1.0, 2.0])
    y = x * 3
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.parents == ()
    np.testing.assert_array_equal(d.numpy(), y.numpy())
    z = (d * x).sum()
    z.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 6])  # no gradient through d


def test_requires_grad_false_on_non_leaf_refused():
    y = leaf(1.0) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


# ---------------------------------------------------------------------------
# in-place changes
# ---------------------------------------------------------------------------
def test_inplace_change_of_saved_input_detected():
    x = cr.tensor([1.0, 2.0])
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    y = (w * x).sum()
    x[0] = 5.0
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


@pytest.mark.parametrize("mutate", [
    lambda t: t.add_(1.0), lambda t: t.mul_(2.0), lambda t: t.zero_(), lambda t: t.fill_(3.0),
    lambda t: t.copy_(np.ones(2)), lambda t: t.sub_(1.0), lambda t: t.div_(2.0),
    lambda t: t.clamp_(0, 1), lambda t: t.__setitem__(slice(None), 0.0)],
    ids=["add_", "mul_", "zero_", "fill_", "copy_", "sub_", "div_", "clamp_", "setitem"])
def test_every_inplace_method_is_detected(mutate):
    x = cr.tensor([1.0, 2.0])
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    y = (w * x).sum()
    mutate(x)
    with pytest.raises(RuntimeError, match="in place"):
        y.backward()


def test_inplace_change_of_saved_output_detected():
    x = leaf([1.0, 2.0])
    y = x.exp()  # exp's rule reads its output
    z = y.sum()
    with cr.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match="in place"):
        z.backward()


def test_inplace_change_after_backward_is_fine():
    x = cr.tensor([1.0, 2.0])
    w = leaf([3.0, 4.0])
    (w * x).sum().backward()
    x[0] = 5.0
    (w * x).sum().backward()  # a fresh graph sees the new value
    np.testing.assert_array_equal(w.grad.numpy(), [6, 4])


def test_inplace_on_leaf_requiring_grad_raises_outside_no_grad():
    w = leaf([1.0, 2.0])
    for mutate in (lambda: w.add_(1.0), lambda: w.__setitem__(0, 3.0), lambda: w.zero_(),
                   lambda: w.mul_(2.0), lambda: w.copy_([0.0, 0.0])):
        with pytest.raises(RuntimeError, match="no_grad"):
            mutate()
    np.testing.assert_array_equal(w.numpy(), [1, 2])
    with cr.no_grad():
        w.sub_(0.5 * np.ones(2))  # an optimizer step
    np.testing.assert_array_equal(w.numpy(), [0.5, 1.5])


def test_inplace_bumps_version():
    x = cr.tensor([1.0, 2.0])
    v0 = x._version
    x.add_(1.0)
    x[1] = 0.0
    assert x._version > v0


def test_inplace_change_through_a_view_detected():
    x = cr.tensor([1.0, 2.0])
    w = leaf([3.0, 4.0])
    xv = x.reshape(2)  # a view of x's buffer
    y = (w * xv).sum()
    x[0] = 5.0
    with pytest.raises(RuntimeError, match="in place"):
        y.backward()


# ---------------------------------------------------------------------------
# .grad ownership
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("build", [
    lambda a, b: (a + b).sum(),
    lambda a, b: (a - b).sum(),
    lambda a, b: (a.reshape(2, 2) + b.reshape(2, 2)).sum(),
    lambda a, b: cr.concatenate([a, b]).sum(),
    lambda a, b: (cr.stack([a, b]) * 1.0).sum(),
    lambda a, b: (a + b).sum() + (a + b).sum(),
], ids=["add", "sub", "reshape", "concat", "stack", "twice"])
def test_leaf_grads_are_not_aliased(build):
    a, b = leaf([1.0, 2.0, 3.0, 4.0]), leaf([5.0, 6.0, 7.0, 8.0])
    build(a, b).backward()
    before = b.grad.numpy().copy()
    a.grad.array[...] += 100.0  # mutate one leaf's grad in place
    np.testing.assert_array_equal(b.grad.numpy(), before)


def test_leaf_grad_not_aliased_with_explicit_seed():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    seed = np.array([1.0, 1.0])
    (a + b).backward(seed)
    a.grad.array[...] = 7.0
    np.testing.assert_array_equal(b.grad.numpy(), [1, 1])
    np.testing.assert_array_equal(seed, [1, 1])


def test_grad_is_writable():
    a = leaf([1.0, 2.0])
    a.sum().backward()  # the adjoint of sum is a broadcast (read-only) view
    a.grad.array[0] = 5.0
    assert a.grad.array[0] == 5.0


def test_grad_accumulation_does_not_mutate_previous_grad_object():
    a = leaf([1.0, 2.0])
    (a * 2).sum().backward()
    first = a.grad
    kept = first.numpy().copy()
    (a * 2).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), 2 * kept)


# ---------------------------------------------------------------------------
# retain_grad
# ---------------------------------------------------------------------------
def test_retain_grad_on_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    y = (h * h).sum()
    y.backward()
    np.testing.assert_array_equal(h.grad.numpy(), 2 * h.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), 6 * h.numpy())


def test_non_leaf_without_retain_grad_has_no_grad():
    x = leaf([1.0, 2.0])
    h = x * 3
    (h * h).sum().backward()
    assert h.grad is None


def test_retain_grad_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.tensor([1.0]).retain_grad()


# ---------------------------------------------------------------------------
# cr.autograd.grad, PyTorch style
# ---------------------------------------------------------------------------
def test_autograd_grad_returns_tuple_and_leaves_grad_alone():
    x, y = leaf([1.0, 2.0]), leaf(3.0)
    out = (x * y).sum()
    res = cr.autograd.grad(out, [x, y])
    assert isinstance(res, tuple) and len(res) == 2
    np.testing.assert_array_equal(res[0].numpy(), [3, 3])
    assert res[1].item() == 3.0
    assert x.grad is None and y.grad is None


def test_autograd_grad_keeps_existing_grad():
    x = leaf([1.0, 2.0])
    (x * 2).sum().backward()
    (gx,) = cr.autograd.grad((x * 5).sum(), x)
    np.testing.assert_array_equal(gx.numpy(), [5, 5])
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2])


def test_autograd_grad_single_tensor_input():
    x = leaf(2.0)
    res = cr.autograd.grad(x * x, x)
    assert isinstance(res, tuple) and res[0].item() == 4.0


def test_autograd_grad_grad_outputs():
    x = leaf([1.0, 2.0, 3.0])
    (g,) = cr.autograd.grad(x * x, [x], grad_outputs=[cr.tensor([1.0, 0.0, 2.0])])
    np.testing.assert_array_equal(g.numpy(), [2, 0, 12])
    (g,) = cr.autograd.grad(x * x, [x], grad_outputs=np.ones(3))
    np.testing.assert_array_equal(g.numpy(), [2, 4, 6])


def test_autograd_grad_non_scalar_without_grad_outputs():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="scalar"):
        cr.autograd.grad(x * x, x)


def test_autograd_grad_unused_input():
    x, z = leaf(1.0), leaf(2.0)
    with pytest.raises(RuntimeError, match="allow_unused"):
        cr.autograd.grad(x * 2, [x, z])
    gx, gz = cr.autograd.grad(x * 2, [x, z], allow_unused=True)
    assert gx.item() == 2.0 and gz is None


def test_autograd_grad_input_without_grad():
    x = leaf(1.0)
    with pytest.raises(RuntimeError, match="input 1"):
        cr.autograd.grad(x * 2, [x, cr.tensor(1.0)])


def test_autograd_grad_retain_graph():
    x = leaf(2.0)
    y = x.exp()
    cr.autograd.grad(y, x, retain_graph=True)
    (g,) = cr.autograd.grad(y, x)  # retained: works again
    assert g.item() == pytest.approx(np.exp(2.0))
    with pytest.raises(RuntimeError, match="second time"):
        cr.autograd.grad(y, x)  # released by the call before


def test_autograd_grad_create_graph():
    x = leaf(2.0)
    (g,) = cr.autograd.grad(x ** 3, x, create_graph=True)
    assert g.requires_grad
    (g2,) = cr.autograd.grad(g, x)
    assert g2.item() == 12.0


def test_autograd_grad_non_leaf_input():
    x = leaf([1.0, 2.0])
    h = x * 3
    y = (h * h).sum()
    (gh,) = cr.autograd.grad(y, h)
    np.testing.assert_array_equal(gh.numpy(), 2 * h.numpy())
    assert x.grad is None and h.grad is None


def test_autograd_grad_several_independent_outputs():
    x = leaf([1.0, 2.0])
    (g,) = cr.autograd.grad([(x * 2).sum(), (x * x).sum()], [x])
    np.testing.assert_array_equal(g.numpy(), [4, 6])


def test_autograd_grad_outputs_sharing_a_graph():
    x = leaf([1.0, 2.0])
    h = x.exp()
    (g,) = cr.autograd.grad([h.sum(), (h * 2).sum()], [x])
    np.testing.assert_allclose(g.numpy(), 3 * np.exp([1.0, 2.0]))


def test_autograd_grad_leaves_retained_grads_alone():
    x = leaf([1.0, 2.0])
    h = x * 2
    h.retain_grad()
    cr.autograd.grad((h * h).sum(), [x])
    assert h.grad is None


def test_retained_non_leaf_grads_are_private_and_writable():
    a = leaf([1.0, 2.0])
    b = a * 2
    b.retain_grad()
    c = b + 1
    c.retain_grad()
    c.sum().backward()
    c.grad.array[0] = 100.0  # must be writable and must not leak into b.grad
    np.testing.assert_array_equal(b.grad.numpy(), [1, 1])
    np.testing.assert_array_equal(a.grad.numpy(), [2, 2])


def test_leaf_grad_has_leaf_dtype_in_mixed_precision():
    a = cr.tensor([1.0, 2.0], requires_grad=True)  # float32
    b = cr.tensor(np.array([3.0, 4.0]), requires_grad=True)  # float64
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.numpy(), [3, 4])
    (a * b).sum().backward()  # accumulation keeps it
    assert a.grad.dtype == np.float32
    ga, gb = cr.autograd.grad((a * b).sum(), [a, b])
    assert ga.dtype == np.float32 and gb.dtype == np.float64
    h = a * 1.0
    h.retain_grad()
    (h * b).sum().backward()
    assert h.grad.dtype == np.float32
    (g,) = cr.autograd.grad((a * b).sum(), a, create_graph=True)
    assert g.dtype == np.float32 and g.requires_grad


def test_backward_inputs_limits_accumulation():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a * b).sum().backward(inputs=[a])
    np.testing.assert_array_equal(a.grad.numpy(), [3, 4])
    assert b.grad is None


# ---------------------------------------------------------------------------
# the in-place check looks only at what a rule reads (as PyTorch's saved tensors)
# ---------------------------------------------------------------------------
def test_inplace_change_to_a_value_no_rule_reads_is_allowed():
    a = leaf([1.0, 2.0])
    b = a * 2
    c = b.sum()  # sum's rule needs no values
    with cr.no_grad():
        b.mul_(3)
    c.backward()
    np.testing.assert_array_equal(a.grad.array, [2.0, 2.0])


def test_inplace_change_to_a_saved_output_names_the_op_that_reads_it():
    a = leaf([1.0, 2.0])
    b = (a * 2).exp()  # exp's rule reads its output
    c = b.sum()
    with cr.no_grad():
        b.mul_(3)
    with pytest.raises(RuntimeError, match="needed by 'exp'"):
        c.backward()


def test_no_grad_and_enable_grad_as_bare_decorators():
    @cr.no_grad
    def off(x):
        return x * 2

    @cr.enable_grad
    def on(x):
        return x * 2

    x = leaf([1.0])
    assert not off(x).requires_grad
    with cr.no_grad():
        assert on(x).requires_grad


def test_a_product_reads_an_input_only_for_the_other_inputs_gradient():
    """As PyTorch: y = x * 2 saves only the 2, so changing x afterwards is harmless;
    y = x * w with w requiring grad saves x, and changing x is caught."""
    x = cr.tensor([1.0, -2.0], requires_grad=True)
    h = x * 1
    y = h * 2
    h.detach().abs_()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    h = x * 1
    y = h * w
    h.detach().abs_()
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()


def test_hooks_of_leaves_left_out_of_inputs_are_not_called_as_torch():
    torch = pytest.importorskip("torch")
    seen = {}
    for lib in (cr, torch):
        a = lib.ones(2, requires_grad=True)
        b = lib.ones(2, requires_grad=True)
        calls = seen[lib] = []
        a.register_hook(lambda g, calls=calls: calls.append("a"))
        b.register_hook(lambda g, calls=calls: calls.append("b"))
        (a * b).sum().backward(inputs=[a])
        assert b.grad is None
    assert seen[cr] == seen[torch] == ["a"]
