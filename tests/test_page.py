"""The interactive page: self-contained, and stepped through in a real headless Chromium."""

import json
import re
import shutil
from pathlib import Path

import pytest

import chainrule as cr
from chainrule.viz.page import page_model

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def neuron():
    w = [cr.tensor(v, requires_grad=True, name=f"w{i}") for i, v in enumerate((2.0, -3.0, -3.0))]
    x = [cr.tensor(v, requires_grad=True, name=f"x{i}") for i, v in enumerate((-1.0, -2.0))]
    return cr.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2]), w + x


def square_plus():
    x = cr.tensor(3.0, requires_grad=True, name="x")
    return x * x + x, [x]


def xyz():
    x, y, z = (cr.tensor(v, requires_grad=True, name=n) for v, n in
               ((-2.0, "x"), (5.0, "y"), (-4.0, "z")))
    return (x + y) * z, [x, y, z]


def test_page_is_self_contained(tmp_path):
    f, _ = xyz()
    page = cr.viz.html(f, tmp_path / "p.html")
    assert (tmp_path / "p.html").read_text(encoding="utf-8") == page
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page)
    assert "<link" not in page and "<script src" not in page and "@import" not in page
    data = json.loads(re.search(r'<script type="application/json" id="chainrule-data">'
                                r"(.*?)</script>", page, re.DOTALL).group(1))
    labels = [b["label"] for b in data["boxes"]]
    assert sorted(labels) == ["add1", "f", "x", "y", "z"]


def test_page_model_steps():
    f, _ = xyz()
    m = page_model(f)
    kinds = [s["kind"] for s in m["steps"]]
    # start, 2 ops forward, 5 nodes backward (root seed first), done
    assert kinds == ["start"] + ["forward"] * 2 + ["backward"] * 5 + ["done"]
    texts = [s["text"] for s in m["steps"]]
    assert "add1 = x + y = (-2) + 5 = 3" in texts
    assert "f = add1 · z = 3 · (-4) = -12" in texts
    assert "∂f/∂add1 = ∂f/∂f · z = 1 · (-4) = -4" in texts
    assert texts[-1] == "Done. The gradients of the inputs: ∂f/∂x = -4, ∂f/∂y = -4, ∂f/∂z = 3"
    # the chain rule on each edge, with the numbers: upstream × local = contribution
    lit = {(m["boxes"][e["src"]]["label"], m["boxes"][e["dst"]]["label"]): e["lit"]
           for e in m["edges"]}
    assert lit[("add1", "f")] == "1 × z(-4) = -4"
    assert lit[("z", "f")] == "1 × add1(3) = 3"
    assert lit[("x", "add1")] == "(-4) × 1 = -4"
    grads = {b["label"]: b["grad"] for b in m["boxes"]}
    assert grads == {"x": "-4", "y": "-4", "add1": "-4", "z": "3", "f": "1"}


def test_seed_step_names_the_root_whatever_its_label():
    x = cr.tensor(2.0, requires_grad=True, name="x")
    root = x * x
    root.name = "fx"                # starts with f: once garbled to ∂fxx/∂fxx
    texts = [s["text"] for s in page_model(root)["steps"] if s["kind"] == "backward"]
    assert texts[0] == "∂fx/∂fx = 1: the seed, ∂fx/∂fx = 1"


def test_page_with_module_boxes():
    cr.manual_seed(0)
    X = cr.randn(4, 3)
    W1, b1 = cr.randn(3, 5, requires_grad=True), cr.tensor([0.0] * 5, requires_grad=True)
    h = X @ W1 + b1
    h._module = "layers.0"          # as nn.Module.__call__ tags its outputs
    a = cr.relu(h)
    a._module = "layers.1"
    out = a @ cr.randn(5, 2, requires_grad=True)
    out._module = "layers.2"
    m = page_model((out * out).mean())
    assert [b["label"] for b in m["boxes"] if b["kind"] == "group"] == \
        ["layers.0", "layers.1", "layers.2"]
    assert any("20 params" in b["sub"] for b in m["boxes"])
    assert [b["sub"] for b in m["boxes"] if b["label"] == "layers.1"] == ["1 op · 0 params"]
    # each parameter's gradient norm in its module's box
    extras = next(b["extras"] for b in m["boxes"] if b["label"] == "layers.0")
    assert len(extras) == 2 and all(x.startswith("‖∂f/∂") for x in extras)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (pip install playwright)")
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except sync_api.Error as e:  # a broken browser install is an environment problem
            pytest.skip(f"chromium could not be launched: {e}")
        yield b
        b.close()


def shown_gradients(page) -> dict:
    """The gradients the page shows on the leaves that have one (hidden until computed)."""
    out = {}
    for el in page.query_selector_all('g.node[data-kind="param"]'):
        grad = el.query_selector(".grad")
        if not grad.is_visible():
            continue                                  # not computed yet
        text = grad.text_content()
        assert text.startswith("grad "), text
        out[el.get_attribute("data-label")] = float(text[len("grad "):])
    return out


@pytest.mark.slow
@pytest.mark.parametrize("make", [xyz, neuron, square_plus])
def test_click_through_every_step_in_chromium(browser, tmp_path, make):
    f, leaves = make()
    path = tmp_path / "page.html"
    cr.viz.html(f, path)
    f.backward()
    engine = {t.name: t.grad.item() for t in leaves}

    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: errors.append("request " + r.url)
            if not r.url.startswith("file://") else None)
    page.goto(Path(path).as_uri())
    n = int(page.text_content("#step-count"))
    assert page.is_disabled("#prev")
    assert shown_gradients(page) == {}                # nothing known before the backward pass
    seen_kinds = []
    for k in range(1, n + 1):
        page.click("#next")
        assert page.get_attribute("body", "data-step") == str(k)
        kind = page.get_attribute("body", "data-phase")
        seen_kinds.append(kind)
        if kind in ("forward", "backward"):
            active = page.query_selector_all("g.node.active")
            assert len(active) == 1                   # the node being computed is highlighted
            # forward: the inputs' values travel in; backward: the gradient travels back
            # along the node's edges to its children (the root has none)
            colour = "active-fwd" if kind == "forward" else "active-bwd"
            if active[0].get_attribute("data-label") != "f" or kind == "forward":
                assert page.query_selector_all(f"g.edge.{colour}")
    assert page.is_disabled("#next")
    assert seen_kinds[0] == "forward" and seen_kinds[-1] == "done" and "backward" in seen_kinds
    assert "Done. The gradients of the inputs" in page.text_content("#step-text")
    shown = shown_gradients(page)
    assert shown.keys() == engine.keys()
    for name, g in engine.items():
        assert shown[name] == pytest.approx(g, rel=1e-6, abs=1e-7), name
    # numbers flowed along the edges: every edge shows the value it carried
    for el in page.query_selector_all("g.elabel"):
        assert el.query_selector(".evalue").text_content() != ""
    # the keyboard steps back, Home restarts
    page.keyboard.press("ArrowLeft")
    assert page.get_attribute("body", "data-step") == str(n - 1)
    page.keyboard.press("Home")
    assert page.get_attribute("body", "data-step") == "0"
    assert shown_gradients(page) == {}
    assert errors == []
    page.close()
