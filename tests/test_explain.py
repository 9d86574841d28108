"""cr.explain with the notes' numbers: forward table, backward pass, paths."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.viz.graph import Graph


def leaf(v, name):
    return cr.tensor(v, requires_grad=True, name=name, dtype="float64")


def xyz():
    return leaf(-2.0, "x"), leaf(5.0, "y"), leaf(-4.0, "z")


def test_xyz_gradients_and_text():
    x, y, z = xyz()
    e = cr.explain((x + y) * z)
    assert e.gradients == {"x": -4.0, "y": -4.0, "z": 3.0}
    s = str(e)
    # forward table in topological order with the values
    fwd = s.split("2. Backward")[0]
    assert fwd.index("  add1  add") < fwd.index("  f     mul")
    assert "add1  add    x, y     3" in fwd
    assert "f     mul    add1, z  -12" in fwd
    # backward: upstream x local with the numbers filled in
    assert "∂f/∂f = 1  (seed)" in s
    assert "∂f/∂add1 = ∂f/∂f · z = 1 · (-4) = -4" in s   # the add node receives -4
    assert "∂f/∂z = ∂f/∂f · add1 = 1 · 3 = 3" in s
    assert "∂f/∂x = ∂f/∂add1 · 1 = (-4) · 1 = -4" in s
    assert "∂f/∂y = ∂f/∂add1 · 1 = (-4) · 1 = -4" in s
    # paths: x and y one path each through add1, z one path
    assert "x: 1 path to f" in s and "y: 1 path to f" in s and "z: 1 path to f" in s
    assert "x → add1 → f:  1 · z = 1 · (-4) = -4" in s
    assert "z → f:  add1 = 3" in s
    assert s.count("✓ matches") == 3


def test_explain_does_not_touch_grads_and_agrees_with_backward():
    x, y, z = xyz()
    f = (x + y) * z
    e = cr.explain(f)
    assert x.grad is None and y.grad is None and z.grad is None
    f.backward()
    assert [t.grad.item() for t in (x, y, z)] == [e.gradients[k] for k in "xyz"]


def test_sigmoid_neuron_local_gradient():
    w0, w1, w2 = leaf(2.0, "w0"), leaf(-3.0, "w1"), leaf(-3.0, "w2")
    x0, x1 = leaf(-1.0, "x0"), leaf(-2.0, "x1")
    f = cr.sigmoid(w0 * x0 + w1 * x1 + w2)
    e = cr.explain(f)
    s = str(e)
    # the sigmoid gate's local gradient (1 - s) s at s = 0.73 is about 0.2
    local = e.graph.root.in_edges[0].local
    assert float(local) == pytest.approx(0.19661193, abs=1e-8)
    assert "σ(add2)·(1 - σ(add2))" in s and "1 · 0.196612 = 0.196612" in s
    assert "0.731059" in s
    assert e.gradients["w0"] == pytest.approx(-0.19661193, abs=1e-7)
    assert e.gradients["x0"] == pytest.approx(0.39322387, abs=1e-7)
    assert e.gradients["w1"] == pytest.approx(-0.39322387, abs=1e-7)
    assert e.gradients["x1"] == pytest.approx(-0.5898358, abs=1e-7)
    assert e.gradients["w2"] == pytest.approx(0.19661193, abs=1e-7)
    assert s.count("✓ matches") == 5


def test_squared_residual():
    y, t = leaf(5.0, "y"), leaf(2.0, "t")
    r = y - t
    r.name = "r"
    L = r ** 2
    L.name = "L"
    s = str(cr.explain(L))
    assert "r     sub    y, t    3" in s
    assert "∂L/∂r = ∂L/∂L · 2·r = 1 · 6 = 6" in s       # ∂L/∂r = 2·3 = 6
    assert "∂L/∂t = ∂L/∂r · (-1) = 6 · (-1) = -6" in s


def test_a_to_the_fourth_is_one_path():
    a = leaf(1.5, "a")
    e = cr.explain((a ** 2) ** 2)
    s = str(e)
    assert "a: 1 path to f" in s
    # the product along the path is 2a · 2a² = 3 · 4.5 = 4a³
    assert "a → pow1 → f:  2·a · 2·pow1 = 3 · 4.5 = 13.5" in s
    assert e.gradients["a"] == 4 * 1.5 ** 3


def test_several_paths_sum_to_the_gradient():
    x = leaf(3.0, "x")
    e = cr.explain(x * x + x)           # d/dx = 2x + 1 = 7 over three paths
    s = str(e)
    assert "x: 3 paths to f" in s
    assert "x →₁ mul1 → f:  x · 1 = 3 · 1 = 3" in s
    assert "x →₂ mul1 → f:  x · 1 = 3 · 1 = 3" in s
    assert "x → f:  1 = 1" in s
    assert "sum over paths = 7 ✓ matches the backward pass: ∂f/∂x = 7" in s

    a = leaf(1.5, "a")
    b = a + a
    c = b * b                          # c = 4a², dc/da = 8a = 12 over four paths
    s = str(cr.explain(c))
    assert "a: 4 paths to f" in s
    assert s.count("1 · add1 = 1 · 3 = 3") == 4
    assert "sum over paths = 12 ✓ matches the backward pass: ∂f/∂a = 12" in s


def test_many_paths_are_counted_not_listed():
    a = leaf(1.0, "a")
    t = a
    for _ in range(40):                 # 2^40 paths: only dynamic programming can count them
        t = t + t
    e = cr.explain(t, max_paths=5)
    sec = e.paths[0]
    assert sec.total == 2 ** 40 and len(sec.rows) == 5 and sec.omitted == 2 ** 40 - 5
    s = str(e)
    assert f"{2 ** 40 - 5} more paths not listed" in s
    assert e.gradients["a"] == 2.0 ** 40


def test_wrt_by_name_and_tensor():
    x, y, z = xyz()
    f = (x + y) * z
    assert [p.leaf for p in cr.explain(f, wrt="y").paths] == ["y"]
    assert [p.leaf for p in cr.explain(f, wrt=z).paths] == ["z"]
    with pytest.raises(ValueError, match="no node named 'q'"):
        cr.explain(f, wrt="q")


def test_tensors_are_summarized_and_paths_still_sum():
    cr.manual_seed(0)
    X = cr.randn(4, 3).double()
    W = cr.randn(3, 2, requires_grad=True).double().detach().requires_grad_()
    W.name = "W"
    b = cr.tensor([0.0, 0.0], dtype="float64", requires_grad=True, name="b")
    h = cr.tanh(X @ W + b)
    loss = (h * h).sum() + h.sum()      # h feeds two children
    e = cr.explain(loss)
    s = str(e)
    assert "(4, 2) min" in s and "mean" in s
    assert s.count("✓ matches") == 2
    loss.backward()
    np.testing.assert_allclose(e.gradients["W"], W.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(e.gradients["b"], b.grad.numpy(), rtol=1e-10)


def test_after_plain_backward_shows_leaf_grads_and_says_why():
    x, y, z = xyz()
    f = (x + y) * z
    f.backward()
    e = cr.explain(f)
    assert e.graph.released
    assert "released" in str(e)
    assert e.gradients == {"x": -4.0, "y": -4.0, "z": 3.0}


def test_after_retained_backward_all_adjoints():
    x, y, z = xyz()
    f = (x + y) * z
    f.backward(retain_graph=True)
    g = Graph(f)
    assert not g.released
    assert {n.label: float(n.adjoint) for n in g.nodes} == \
        {"x": -4, "y": -4, "z": 3, "add1": -4, "f": 1}
    assert x.grad.item() == -4.0        # untouched


def test_no_grad_root():
    s = str(cr.explain(cr.tensor(2.0) * 3))
    assert "does not require grad" in s


def test_markdown_and_html():
    x, y, z = xyz()
    e = cr.explain((x + y) * z)
    md = e.to_markdown()
    assert "| `add1` | add | x, y | 3 |" in md
    assert "∂f/∂add1 = ∂f/∂f · z = 1 · (-4) = **-4**" in md
    h = e._repr_html_()
    assert h == e.to_html()
    assert '<tr data-node="add1">' in h and "<b>-4</b>" in h
    assert "✓ matches" in h


@pytest.mark.parametrize("fn, x, y, sign", [(cr.maximum, 2.0, 2.0, ">"),
                                            (cr.minimum, 2.0, 2.0, "<"),
                                            (cr.maximum, 3.0, 2.0, ">")])
def test_max_min_label_states_the_tie_rule(fn, x, y, sign):
    # at a tie the engine splits the gradient evenly: the label must say so
    s = str(cr.explain(fn(leaf(x, "x"), leaf(y, "y"))))
    local = 0.5 if x == y else 1
    assert f"∂f/∂x = ∂f/∂f · ([x {sign} y] + ½[x = y]) = 1 · {local} = {local}" in s
    assert f"y → f:  ([y {sign} x] + ½[y = x]) = {1 - local if x != y else local}" in s


def test_vector_backward_line_names_the_local_derivative():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True, name="x", dtype="float64")
    s = str(cr.explain((x * 2).sum()))
    # tensors: what each op sends back, as the notes write it
    assert "∂f/∂mul1 = ∂f/∂f broadcast to (3,) = [1, 1, 1]\n" in s
    assert "∂f/∂x = ∂f/∂mul1 ⊙ 2 = [2, 2, 2]\n" in s
    assert "[[" not in s
    assert "x → mul1 → f:  ∂mul1/∂x · ∂(sum)/∂mul1 = [2, 2, 2]" in s
    # several children: what each one sends back, then the sum
    h = x * x
    h.name = "h"
    s = str(cr.explain((h * 3).sum() + h.sum()))
    assert ("∂f/∂h = ∂f/∂mul1 ⊙ 3 + ∂f/∂sum2 broadcast to (3,) = [3, 3, 3] + [1, 1, 1] = "
            "[4, 4, 4]") in s


def test_non_finite_result_is_not_checked():
    x, y = leaf(float("nan"), "x"), leaf(1.0, "y")
    e = cr.explain(x * y)
    s = str(e)
    assert "sum over paths = 1 ✓ matches the backward pass: ∂f/∂x = 1" in s
    assert "sum over paths = nan, backward pass: ∂f/∂y = nan: ✗ not finite, cannot check" in s
    assert s.count("✓") == 1
    assert [(p.leaf, p.finite, p.matches) for p in e.paths] == \
        [("x", True, True), ("y", False, None)]
    s = str(cr.explain(leaf(float("inf"), "x") * leaf(1.0, "y")))
    assert "∂f/∂y = inf: ✗ not finite, cannot check" in s
