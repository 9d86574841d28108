"""cr.viz.draw / to_dot and `chainrule graph`: labels carry values, gradients, local derivatives."""

import html
import re
import shutil

import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.viz.dot import GraphvizMissing, to_dot

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")


def xyz_graph():
    x, y, z = (cr.tensor(v, requires_grad=True, name=n, dtype="float64")
               for v, n in ((-2.0, "x"), (5.0, "y"), (-4.0, "z")))
    return (x + y) * z, (x, y, z)


def test_dot_source_labels():
    f, _ = xyz_graph()
    src = to_dot(f)
    assert src.startswith("digraph chainrule {")
    # nodes: name, op, value, gradient
    assert re.search(r"<B>add1</B>.*add.*value 3.*grad -4", src)
    assert re.search(r"<B>x</B>.*value -2.*grad -4", src)
    assert re.search(r"<B>z</B>.*value -4.*grad 3", src)
    assert re.search(r"<B>f</B>.*mul.*value -12.*grad 1", src)
    # edges: the local derivatives
    for label in ("∂add1/∂x = 1", "∂add1/∂y = 1", "∂(mul)/∂add1 = z = -4", "∂(mul)/∂z = add1 = 3"):
        assert label in src


def test_tensor_nodes_are_summarized():
    w = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True, name="W")
    src = to_dot((w * w).sum())
    assert "shape (2, 3)" in src
    assert "value (2, 3) min 1 mean 3.5 max 6" in src
    assert "grad (2, 3) min 2 mean 7 max 12" in src       # 2W
    # what the edge sends back, as the notes write it (w feeds the product twice)
    assert "sends ∂f/∂mul1 ⊙ W\\n= (2, 3) min 1 mean 3.5 max 6" in src


def test_released_graph_shows_leaf_grads():
    f, _ = xyz_graph()
    f.backward()
    src = to_dot(f)
    assert "grad -4 (.grad)" in src and "released" in src


@needs_dot
def test_draw_svg(tmp_path):
    f, _ = xyz_graph()
    out = tmp_path / "g.svg"
    result = cr.viz.draw(f, out)
    svg = html.unescape(out.read_text())      # dot writes "-" as &#45;
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg
    for text in ("add1", "value 3", "grad -4", "value -12", "grad 3", "∂(mul)/∂add1 = z = -4"):
        assert text in svg, text
    assert "digraph" in getattr(result, "source", result)


@needs_dot
def test_draw_png_by_suffix(tmp_path):
    f, _ = xyz_graph()
    cr.viz.draw(f, tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_draw_without_dot_writes_dot_text_and_says_how_to_install(tmp_path, monkeypatch):
    import chainrule.viz.dot as dotmod

    monkeypatch.setattr(dotmod.shutil, "which", lambda name: None)
    f, _ = xyz_graph()
    with pytest.raises(GraphvizMissing, match="apt-get install graphviz") as info:
        cr.viz.draw(f, tmp_path / "g.svg")
    assert info.value.dot_path == tmp_path / "g.dot"
    assert "∂(mul)/∂add1 = z = -4" in (tmp_path / "g.dot").read_text()
    assert not (tmp_path / "g.svg").exists()


def test_draw_dot_suffix_needs_no_graphviz(tmp_path, monkeypatch):
    import chainrule.viz.dot as dotmod

    monkeypatch.setattr(dotmod.shutil, "which", lambda name: None)
    f, _ = xyz_graph()
    cr.viz.draw(f, tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


def tagged_mlp():
    """A two-layer network whose layer outputs carry nn.Module tags, as Module.__call__ sets."""
    cr.manual_seed(0)
    X = cr.randn(4, 3)
    W1, b1 = cr.randn(3, 5, requires_grad=True), cr.tensor([0.0] * 5, requires_grad=True)
    h = X @ W1 + b1
    h._module = "layers.0"
    a = cr.relu(h)
    a._module = "layers.1"
    W2 = cr.randn(5, 2, requires_grad=True)
    out = a @ W2
    out._module = "layers.2"
    return (out * out).mean()


def test_modules_collapse_to_boxes_with_parameter_counts():
    loss = tagged_mlp()
    src = to_dot(loss)
    assert "<B>layers.0</B>" in src and "20 parameters" in src   # 3*5 + 5
    assert "<B>layers.1</B>" in src and "1 op, 0 parameters" in src   # relu alone
    assert "<B>layers.2</B>" in src and "10 parameters" in src
    assert "<B>matmul1</B>" not in src                            # inside a box
    expanded = to_dot(loss, expand=True)
    assert "<B>matmul1</B>" in expanded and "layers.0" not in expanded


def test_cli_graph_dot_svg_html(tmp_path, capsys):
    assert main(["graph", "(x+y)*z", "x=-2", "y=5", "z=-4", "--out",
                 str(tmp_path / "g.dot")]) == 0
    assert "∂(mul)/∂add1 = z = -4" in (tmp_path / "g.dot").read_text()
    assert main(["graph", "(x+y)*z", "x=-2", "y=5", "z=-4", "--out",
                 str(tmp_path / "g.html")]) == 0
    assert "chainrule-data" in (tmp_path / "g.html").read_text()
    assert main(["graph", "x*y", "x=1", "y=2", "--out", str(tmp_path / "g.txt")]) == 2
    assert "unknown kind of file" in capsys.readouterr().err
    if shutil.which("dot"):
        assert main(["graph", "x*y", "x=1", "y=2", "--out", str(tmp_path / "g.svg")]) == 0
        assert "grad 2" in html.unescape((tmp_path / "g.svg").read_text())


def test_draw_html_writes_the_interactive_page(tmp_path):
    f, _ = xyz_graph()
    cr.viz.draw(f, tmp_path / "g.html")
    assert (tmp_path / "g.html").read_text() == cr.viz.html(f)


def test_draw_format_and_suffix(tmp_path, monkeypatch):
    import chainrule.viz.dot as dotmod

    f, _ = xyz_graph()
    with pytest.raises(ValueError, match="format='png' contradicts the suffix of .*g.svg"):
        cr.viz.draw(f, tmp_path / "g.svg", format="png")
    assert not (tmp_path / "g.svg").exists()
    cr.viz.draw(f, tmp_path / "g.gv", format="dot")          # the same kind: fine
    cr.viz.draw(f, tmp_path / "h", format="dot")             # no suffix: format decides
    assert (tmp_path / "h.dot").read_text().startswith("digraph")
    # without Graphviz the hint names the file draw would have written
    monkeypatch.setattr(dotmod.shutil, "which", lambda name: None)
    with pytest.raises(GraphvizMissing) as info:
        cr.viz.draw(f, tmp_path / "g")
    assert f"-o {tmp_path / 'g.svg'}`" in str(info.value)
    assert f"dot -Tsvg {tmp_path / 'g.dot'} " in str(info.value)


@pytest.mark.parametrize("show", [
    lambda v: cr.explain(v), lambda v: cr.viz.draw(v), lambda v: cr.viz.to_dot(v),
    lambda v: cr.viz.html(v)])
def test_showing_something_else_than_a_tensor_names_the_function(show):
    with pytest.raises(TypeError, match=r"^(explain|draw|to_dot|html): expected a Tensor "
                                        r"\(the output whose graph to show, such as the "
                                        r"loss\), got float$"):
        show(1.5)
