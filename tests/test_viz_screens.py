"""Screenshots of the page in a real headless Chromium, desktop and phone, at the start,
mid-forward, mid-backward and the end of three graphs (a scalar neuron, a 40-node graph,
a small MLP): boxes fit their text, edge labels overlap no box and no other label, the
active node is on screen, the phone header stays small, and the numbers are right."""

import re
import shutil
from pathlib import Path

import pytest

import chainrule as cr
from chainrule.viz.page import page_model

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def neuron():
    w = [cr.tensor(v, requires_grad=True, name=f"w{i}") for i, v in enumerate((2.0, -3.0, -3.0))]
    x = [cr.tensor(v, requires_grad=True, name=f"x{i}") for i, v in enumerate((-1.0, -2.0))]
    return cr.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])


def forty_nodes():
    """A scalar two-layer network with a squared error, as micrograd builds it: 40 nodes."""
    cr.manual_seed(1)
    xs = [cr.tensor(v, name=f"x{i}") for i, v in enumerate((0.5, -1.5))]
    hidden = []
    for j in range(3):
        ws = [cr.tensor(float(cr.randn(()).item()), requires_grad=True, name=f"w{j}{i}")
              for i in range(2)]
        b = cr.tensor(0.1 * j, requires_grad=True, name=f"b{j}")
        hidden.append(cr.tanh(ws[0] * xs[0] + ws[1] * xs[1] + b))
    vs = [cr.tensor(float(cr.randn(()).item()), requires_grad=True, name=f"v{j}")
          for j in range(3)]
    c = cr.tensor(-0.2, requires_grad=True, name="c")
    out = cr.tanh(vs[0] * hidden[0] + vs[1] * hidden[1] + vs[2] * hidden[2] + c)
    return (out - 1.0) ** 2


def small_mlp():
    cr.manual_seed(0)
    net = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3))
    X = cr.randn(6, 4)
    y = cr.tensor([0, 1, 2, 0, 1, 2])
    return cr.nn.functional.cross_entropy(net(X), y)


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


# Bounding boxes, in page coordinates, of what must not collide.
MEASURE = """() => {
  const r = el => { const b = el.getBoundingClientRect();
                    return [b.left, b.top, b.right, b.bottom]; };
  const shown = el => el.getBoundingClientRect().width > 0 &&
                      getComputedStyle(el).display !== "none" && el.textContent.trim() !== "";
  const nodes = [...document.querySelectorAll("g.node")].map(n => ({
    label: n.dataset.label, box: r(n.querySelector(".box")),
    texts: [...n.querySelectorAll("text")].filter(shown).map(t => [t.textContent, r(t)])}));
  const labels = [...document.querySelectorAll("g.elabel text")].filter(shown)
    .map(t => [t.textContent, r(t), t.parentNode.dataset.edge]);
  const header = document.querySelector("header").getBoundingClientRect();
  const active = document.querySelector("g.node.active .box");
  return {nodes, labels, header: [header.top, header.bottom],
          active: active ? r(active) : null};
}"""


def overlap(a, b, slack=0.5):
    return (min(a[2], b[2]) - max(a[0], b[0]) > slack and
            min(a[3], b[3]) - max(a[1], b[1]) > slack)


def inside(inner, outer, slack=1.0):
    return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack and
            inner[2] <= outer[2] + slack and inner[3] <= outer[3] + slack)


def check_layout(m: dict, where: str) -> None:
    for n in m["nodes"]:
        for text, box in n["texts"]:
            assert inside(box, n["box"]), f"{where}: {text!r} sticks out of box {n['label']}"
    for i, a in enumerate(m["nodes"]):
        for b in m["nodes"][i + 1:]:
            assert not overlap(a["box"], b["box"]), f"{where}: boxes {a['label']}, {b['label']}"
    for text, box, _ in m["labels"]:
        for n in m["nodes"]:
            assert not overlap(box, n["box"]), f"{where}: edge label {text!r} on {n['label']}"
    for i, (ta, a, _) in enumerate(m["labels"]):
        for tb, b, _ in m["labels"][i + 1:]:
            assert not overlap(a, b), f"{where}: edge labels {ta!r} and {tb!r} collide"


def number(s: str) -> float:
    return float(s.strip("()"))


@pytest.mark.parametrize("view", VIEWPORTS)
@pytest.mark.parametrize("make", [neuron, forty_nodes, small_mlp])
def test_screens(browser, tmp_path, make, view):
    f = make()
    path = tmp_path / "page.html"
    cr.viz.html(f, path)
    model = page_model(f)
    if make is forty_nodes:
        assert len(model["boxes"]) == 40
    f.backward()

    page = browser.new_page(viewport=VIEWPORTS[view])
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(Path(path).as_uri())
    steps = model["steps"]
    kinds = [s["kind"] for s in steps]
    mid_fwd = kinds.index("forward") + kinds.count("forward") // 2
    mid_bwd = kinds.index("backward") + kinds.count("backward") // 2
    for name, k in (("start", 0), ("mid-forward", mid_fwd), ("mid-backward", mid_bwd),
                    ("end", len(steps) - 1)):
        page.evaluate(f"() => {{ for (let i = 0; i < {k}; i++) "
                      "document.getElementById('next').click(); }")
        assert page.get_attribute("body", "data-step") == str(k)
        where = f"{make.__name__}/{view}/{name}"
        shot = page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
        assert shot[:8] == b"\x89PNG\r\n\x1a\n"
        m = page.evaluate(MEASURE)
        check_layout(m, where)
        if view == "phone":
            assert m["header"][1] - m["header"][0] <= 0.3 * VIEWPORTS["phone"]["height"], where
        if m["active"] is not None:                      # the node being computed is on screen
            x = (m["active"][0] + m["active"][2]) / 2
            y = (m["active"][1] + m["active"][3]) / 2
            assert 0 <= x <= VIEWPORTS[view]["width"], where
            assert m["header"][1] <= y <= VIEWPORTS[view]["height"], where
        if name == "mid-backward":
            # each lit edge: upstream × local = contribution, and the numbers agree
            lit = [t for t, _, _ in m["labels"] if "×" in t]
            for text in lit:
                up, rest = text.split(" × ")
                local, contrib = rest.split(" = ")
                local = re.sub(r"^[^(]*\((.*)\)$", r"\1", local)
                assert number(up) * number(local) == pytest.approx(number(contrib), rel=2e-3,
                                                                   abs=2e-4), text
        page.evaluate("() => document.getElementById('reset').click()")
    assert errors == []
    page.close()


@pytest.mark.parametrize("view", VIEWPORTS)
def test_end_shows_the_engines_gradients(browser, tmp_path, view):
    f = neuron()
    leaves = {t.name: t for t in f._parents[0]._parents[0]._parents[0]._parents} | {}
    path = tmp_path / "page.html"
    cr.viz.html(f, path)
    f.backward()
    page = browser.new_page(viewport=VIEWPORTS[view])
    page.goto(Path(path).as_uri())
    page.click("#end")
    shown = {}
    for el in page.query_selector_all('g.node[data-kind="param"]'):
        shown[el.get_attribute("data-label")] = float(
            el.query_selector(".grad").text_content().removeprefix("grad "))
    assert set(shown) == {"w0", "x0", "w1", "x1", "w2"}
    assert shown["w0"] == pytest.approx(-0.19661193, abs=1e-6)
    assert shown["x1"] == pytest.approx(-0.58983576, abs=1e-6)
    del leaves
    # the local derivative without a mouse: Tab to an edge
    page.focus("#edge-0")
    assert page.text_content("#edge-info").startswith("∂mul1/∂w0 = x0 = -1")
    # zoom and fit change the drawing's size
    width = float(page.get_attribute("#chainrule-graph", "width"))
    page.click("#zoom-in")
    assert float(page.get_attribute("#chainrule-graph", "width")) > width
    page.click("#fit")
    fitted = float(page.get_attribute("#chainrule-graph", "width"))
    assert fitted <= page.evaluate("() => document.getElementById('canvas').clientWidth")
    page.close()
