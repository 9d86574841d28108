"""What the learner sees (issue 11 §3): node identity, parameter names, one notation,
the chain rule with its numbers, tensors as tensors, the size limit, the colours."""

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.viz._template import TEMPLATE
from chainrule.viz.dot import to_dot
from chainrule.viz.page import page_model


def leaf(v, name):
    return cr.tensor(v, requires_grad=True, name=name, dtype="float64")


def unrolled(steps=2):
    """h_{t+1} = tanh(w · h_t): every state is called h, as in a loop."""
    w, h = leaf(0.5, "w"), leaf(1.0, "h")
    for _ in range(steps):
        h = cr.tanh(w * h)
        h.name = "h"
    return h, w


def mlp(batch=5):
    cr.manual_seed(0)
    net = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.ReLU(), cr.nn.Linear(4, 2))
    X = cr.randn(batch, 3)
    y = cr.tensor([0, 1, 0, 1, 1][:batch])
    return cr.nn.functional.cross_entropy(net(X), y), net


# -- node identity -------------------------------------------------------------------
def test_same_named_nodes_are_told_apart():
    h, w = unrolled()
    e = cr.explain(h)
    assert [r.node for r in e.forward] == ["w", "h", "mul1", "h′", "mul2", "h″"]
    s = str(e)
    # each adjoint is written once, on its own node
    for label in ("h", "h′", "mul1", "mul2", "w"):
        assert s.count(f"  ∂h″/∂{label} = ") == 1, label
    h.backward(retain_graph=True)
    assert e.gradients["h"] == pytest.approx(0.1864778, abs=1e-6)
    assert e.gradients["w"] == pytest.approx(w.grad.item())


def test_page_steps_follow_the_node_not_its_name():
    h, _ = unrolled()
    m = page_model(h)
    by_box = {s["box"]: s["text"] for s in m["steps"] if s["kind"] == "backward"}
    for b in m["boxes"]:
        if b["bwd"] is not None:
            # the step of a box ends with that box's own gradient
            assert by_box[b["id"]].split(";")[0].endswith(f"= {b['grad']}"), b["label"]


def test_two_leaves_with_one_name_keep_both_gradients():
    a, b = leaf(2.0, "w"), leaf(3.0, "w")
    e = cr.explain(a * a * b)
    assert e.gradients == {"w": 12.0, "w′": 4.0}
    page = page_model(a * a * b)
    assert sorted(x["label"] for x in page["boxes"] if x["kind"] == "param") == ["w", "w′"]


def test_many_same_named_nodes_are_numbered():
    t = leaf(1.0, "x")
    for _ in range(5):
        t = t * 1.5
        t.name = "x"
    labels = [r.node for r in cr.explain(t).forward if r.node.startswith("x")]
    assert labels == ["x@1", "x@2", "x@3", "x@4", "x@5", "x@6"]


# -- parameters have names ---------------------------------------------------------------
def test_parameters_named_by_module_path_and_data_is_an_input():
    loss, net = mlp()
    e = cr.explain(loss)
    roles = {r.node: r.op for r in e.forward if r.op in ("parameter", "input", "constant")}
    assert roles == {"0.weight": "parameter", "0.bias": "parameter", "2.weight": "parameter",
                     "2.bias": "parameter", "input1": "input"}
    loss.backward(retain_graph=True)
    for name, p in net.named_parameters():
        np.testing.assert_allclose(e.gradients[name], p.grad.numpy(), rtol=1e-6)


def test_parameter_names_outlive_the_model():
    def loss_of_a_model_that_is_gone():
        net = cr.nn.Sequential(cr.nn.Linear(2, 2), cr.nn.ReLU(), cr.nn.Linear(2, 1))
        return net(cr.ones(1, 2)).sum()

    labels = [r.node for r in cr.explain(loss_of_a_model_that_is_gone()).forward]
    assert labels[1:3] == ["0.weight", "0.bias"]


def test_parameter_path_follows_the_parent_module():
    class Net(cr.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = cr.nn.Sequential(cr.nn.Linear(2, 2))

        def forward(self, x):
            return self.layers(x)

    net = Net()
    loss = net(cr.ones(1, 2)).sum()
    labels = {r.node for r in cr.explain(loss).forward}
    assert {"layers.0.weight", "layers.0.bias"} <= labels


# -- one notation ----------------------------------------------------------------------
def test_edges_into_the_output_use_the_local_derivative_notation():
    x = leaf(3.0, "x")
    f = x * x + x
    src = to_dot(f)
    assert "∂(add)/∂x = 1" in src and "∂f/∂x =" not in src
    infos = [e["info"] for e in page_model(x * x + x)["edges"]]
    assert "∂(add)/∂x = 1" in infos and not any(i.startswith("∂f/") for i in infos)


def test_pow_shows_its_exponent_and_negative_bases_in_parentheses():
    b = leaf(-1.0, "b")
    m = page_model(b ** 2)
    assert "f = b ** 2 = (-1) ** 2 = 1" in [s["text"] for s in m["steps"]]
    assert [x["sub"] for x in m["boxes"] if x["label"] == "f"] == ["**2"]
    assert "f     **2" in str(cr.explain(b ** 2))
    assert "**2" in to_dot(b ** 2)


def test_compound_rules_get_their_values_filled_in():
    w0, w1, w2 = leaf(2.0, "w0"), leaf(-3.0, "w1"), leaf(-3.0, "w2")
    x0, x1 = leaf(-1.0, "x0"), leaf(-2.0, "x1")
    m = page_model(cr.sigmoid(w0 * x0 + w1 * x1 + w2))
    texts = " ".join(s["text"] for s in m["steps"])
    assert "σ(1)·(1 - σ(1)) = 0.731·0.269 = 0.196612" in texts
    # reachable without hover: every edge carries its local derivative for focus and tap
    info = [e["info"] for e in m["edges"] if e["info"].startswith("∂(sigmoid)")]
    assert info == [("∂(sigmoid)/∂add2 = σ(add2)·(1 - σ(add2)) = σ(1)·(1 - σ(1)) = "
                     "0.731·0.269 = 0.196612")]
    assert 'tabindex="0"' in cr.viz.html(cr.sigmoid(w0 * x0))


def test_node_shows_the_sum_over_its_children():
    x = leaf(3.0, "x")
    m = page_model(x * x + x)
    assert [b["sum"] for b in m["boxes"] if b["label"] == "x"] == ["grad 3 + 3 + 1 = 7"]


# -- tensors ---------------------------------------------------------------------------
def test_matrix_rules_as_the_notes_write_them():
    cr.manual_seed(0)
    X = cr.randn(4, 3).double()
    X.name = "X"
    W = leaf(np.ones((3, 2)), "W")
    h = X @ W
    h.name = "h"
    s = str(cr.explain((h * h).sum()))
    assert "∂f/∂W = Xᵀ · ∂f/∂h = (3, 2)" in s
    loss, _ = mlp()
    s = str(cr.explain(loss))
    assert "∂f/∂linear1 = ∂f/∂f · ((softmax(linear1) − onehot(y))/N) = (5, 2)" in s
    assert "∂f/∂2.weight = (∂f/∂linear1)ᵀ · linear_relu1 = (2, 4)" in s
    assert "∂f/∂2.bias = Σ_batch ∂f/∂linear1 = [" in s
    assert "∂f/∂linear_relu1 = ∂f/∂linear1 · 2.weight = (5, 4)" in s
    assert "∂f/∂0.weight = (∂f/∂linear_relu1 ⊙ [linear_relu1 > 0])ᵀ · input1" in s


def test_small_tensors_in_full_large_ones_as_heat_maps():
    W = leaf(np.arange(6.0).reshape(2, 3), "W")
    big = leaf(np.linspace(-1, 2, 100).reshape(10, 10), "B")
    m = page_model((W * W).sum() + (big * 2).sum())
    blocks = {b["label"]: b for b in m["boxes"]}
    page = cr.viz.html((W * W).sum() + (big * 2).sum())
    assert "0       1       2" in page and "3       4       5" in page   # W in full
    assert 'class="heat"' in page and "min -1 max 2" in page           # B as a heat map
    start = m["steps"][0]["text"]
    assert "W = (2, 3)" in start and "B = (10, 10)" in start           # tensor inputs listed
    assert blocks["W"]["role"] == "input"


def test_default_relu_mlp_shows_a_box_per_layer_module():
    loss, _ = mlp()
    src = to_dot(loss)
    for k in range(3):
        assert f"<B>{k}</B>" in src, k
    assert "fused into 0's linear + relu node" in src and "fuses linear + relu" in src
    expanded = to_dot(loss, expand=True)   # every op: the fused ones say what they fuse
    assert "fuses linear + relu" in expanded and "fuses log_softmax + nll_loss" in expanded
    assert "fuses linear + relu" in cr.viz.html(loss, expand=True)
    m = page_model(loss)
    groups = [b for b in m["boxes"] if b["kind"] == "group"]
    assert [b["label"] for b in groups] == ["0", "1", "2"]
    assert groups[0]["sub"] == "1 op · 16 params · fuses linear + relu"
    assert groups[1]["sub"] == "fused into 0's linear + relu node"
    assert any("‖∂f/∂weight‖" in x for x in groups[0]["extras"])
    done = m["steps"][-1]["text"]
    assert done.startswith("Done. The gradients of the parameters: ∂f/∂0.weight = (4, 3)")
    assert "∂f/∂2.bias" in done


def test_html_refuses_graphs_over_the_limit_as_draw_does():
    t = leaf(1.0, "a")
    for _ in range(40):
        t = t * 1.01
    with pytest.raises(ValueError) as drawn:
        to_dot(t, max_nodes=20)
    with pytest.raises(ValueError) as paged:
        cr.viz.html(t, max_nodes=20)
    assert str(paged.value) == str(drawn.value).replace("draw:", "html:", 1)
    assert "more than max_nodes=20" in str(paged.value)


def test_cli_rejects_values_the_expression_does_not_use(capsys):
    assert main(["explain", "x*y", "x=1", "y=2", "w=3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "w=3: not used by the expression (its variables: x, y)" in err
    assert main(["graph", "x*y", "x=1", "y=2", "z=0", "--out", "never.html"]) == 2


# -- colour ------------------------------------------------------------------------------
def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_text_colours_meet_wcag_aa():
    css = dict(re.findall(r"--([a-z]+):\s*(#[0-9a-f]{6})", TEMPLATE))
    for name in ("fwd", "bwd", "ink", "muted", "note"):
        # text sits on white boxes, the light page, and the tinted boxes
        for background in ("#ffffff", "#fafafa", "#f1f8e9", "#e3f2fd", "#fff8e1", "#f5f5f5"):
            assert contrast(css[name], background) >= 4.5, (name, background)
    assert contrast("#ffffff", "#1565c0") >= 4.5                       # the Next button


# -- one backward engine -------------------------------------------------------------------
def test_explanations_watch_the_engines_own_backward():
    from chainrule import autograd

    x, y, z = leaf(-2.0, "x"), leaf(5.0, "y"), leaf(-4.0, "z")
    f = (x + y) * z
    seen = []
    with autograd.observe(lambda node, g, grads: seen.append((node.name or "", float(g)))):
        e = cr.explain(f)
    # the engine ran the backward pass the explanation shows: every node, once
    assert sorted(seen) == sorted([("", 1.0), ("z", 3.0), ("", -4.0), ("x", -4.0),
                                   ("y", -4.0)])
    assert e.gradients == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert x.grad is None                     # and it touched no .grad


def test_a_value_changed_in_place_shows_no_gradients():
    x = cr.tensor([1.0, 2.0], dtype="float64", name="x")
    w = leaf([3.0, 4.0], "w")
    y = (w * x).sum()
    x[0] = 5.0                                # backward would refuse: mul read x
    with pytest.raises(RuntimeError, match="in place"):
        y.backward(retain_graph=True)
    e = cr.explain(y)
    assert "backward() would refuse this graph" in str(e)
    assert e.gradients == {}


def test_viz_modules_import_no_cycle():
    """dot writes pages (it imports page on use); page must not import dot back."""
    import ast
    from pathlib import Path

    import chainrule.viz

    folder = Path(chainrule.viz.__file__).parent
    imports = {}
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports[path.stem] = {n.module.split(".")[0] for n in ast.walk(tree)
                              if isinstance(n, ast.ImportFrom) and n.level == 1 and n.module}
    for a, targets in imports.items():
        for b in targets:
            assert a not in imports.get(b, set()), f"viz.{a} and viz.{b} import each other"


def test_a_users_block_shows_its_name_and_formula():
    class Cube(cr.autograd.Function):
        formula = "3·{x}²"

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    x = leaf(2.0, "x")
    f = Cube.apply(x) + x
    s = str(cr.explain(f))
    assert "Cube1  Cube   x" in s and "∂f/∂x = ∂f/∂Cube1 · 3·x² + ∂f/∂f · 1 = 1 · 12 + 1 · 1 = 13" in s
    assert "∂Cube1/∂x = 3·x² = 12" in to_dot(f)
    texts = " ".join(s["text"] for s in page_model(f)["steps"])
    assert "∂Cube1/∂x = 3·2² = 3·4 = 12" in texts


@pytest.mark.parametrize("suffix", ["dot", "svg", "html"])
def test_cli_graph_over_the_limit_is_one_line(tmp_path, capsys, suffix):
    def balanced(n):   # 400 additions, nested only 9 deep
        return "x" if n == 1 else f"({balanced(n // 2)}+{balanced(n - n // 2)})"

    out = tmp_path / f"g.{suffix}"
    assert main(["graph", balanced(400), "x=1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "more than max_nodes=300" in err
    assert not out.exists()


def test_page_of_a_fractional_power_of_a_negative_number_is_written(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "neg.html"
    r = subprocess.run([sys.executable, "-m", "chainrule", "graph", "x**0.5", "x=-0.7",
                        "--out", str(out)], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    assert out.exists()
