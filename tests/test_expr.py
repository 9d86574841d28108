"""The expression language of `chainrule explain/graph`: accepted, and hostile input refused."""

import ast

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.viz.expr import FUNCTIONS, ExprError, build, parse, parse_assignments


@pytest.mark.parametrize("text, values, expected", [
    ("(x+y)*z", {"x": -2, "y": 5, "z": -4}, -12.0),
    ("-x ** 2", {"x": 3}, -9.0),
    ("x / y - 1", {"x": 1, "y": 4}, -0.75),
    ("max(x, y) + min(x, y)", {"x": 1, "y": 2}, 3.0),
    ("relu(x) + abs(x) + sqrt(y)", {"x": -1, "y": 4}, 3.0),
    ("exp(log(x)) + tanh(0 * x) + sigmoid(0 * x)", {"x": 2}, 2.5),
    ("2e-1 * x + .5", {"x": 1}, 0.7),
    (" -x*y", {"x": 1, "y": 2}, -2.0),   # leading space: how a shell user passes "-..."
])
def test_accepted(text, values, expected):
    f, leaves = build(text, values)
    assert float(f.array) == pytest.approx(expected)
    assert all(t.requires_grad for t in leaves.values())


def test_one_leaf_per_variable_and_gradients():
    f, leaves = build("x*x + x", {"x": 3})
    f.backward()
    assert leaves["x"].grad.item() == 7.0
    assert f.name == "f"


@pytest.mark.parametrize("text, column, token", [
    ("x + __import__('os')", 5, "__import__"),
    ("__import__('os').system('id')", 1, "__import__"),
    ("x.__class__", 2, ".__class__"),
    ("x.__class__.__bases__[0].__subclasses__()", 2, ".__class__"),
    ("open('/etc/passwd')", 1, "open"),
    ("eval('1')", 1, "eval"),
    ("x[0]", 2, "[0]"),
    ("lambda: x", 1, "lambda"),
    ("'abc' * x", 1, "'abc'"),
    ("b'abc'", 1, "b'abc'"),
    ("x < y", 3, "<"),
    ("x if y else x", 3, "if"),
    ("x and y", 3, "and"),
    ("not x", 1, "not"),
    ("x // y", 3, "//"),
    ("x % y", 3, "%"),
    ("x @ y", 3, "@"),
    ("~x", 1, "~"),
    ("[x for x in y]", 1, "[x for x in y]"),
    ("(x := 1)", 2, "x := 1"),
    ("exp(x, y)", 1, "exp"),
    ("exp(x=1)", 5, "x=1"),
    ("max", 1, "max"),
    ("x * q", 5, "q"),
    ("True * x", 1, "True"),
    ("1j * x", 1, "1j"),
    ("f'{x}'", 1, "f'{x}'"),
    ("x; import os", 2, ";"),
])
def test_rejected_with_column(text, column, token):
    with pytest.raises(ExprError) as info:
        build(text, {"x": 1.0, "y": 2.0})
    e = info.value
    assert e.column == column and e.token == token
    assert f"column {column}" in str(e) and "\n" not in str(e)
    caret_line = e.caret().splitlines()[1]
    assert caret_line.index("^") == e.caret().splitlines()[0].index(text) + column - 1


def test_never_evaluated(monkeypatch):
    import builtins

    def boom(*a, **k):
        raise AssertionError("eval/compile/exec must not be called")

    with monkeypatch.context() as m:
        real_compile = builtins.compile

        def parse_only(source, filename, mode, flags=0, *a, **k):
            # ast.parse compiles to a tree only; anything that would make code is refused
            if not flags & ast.PyCF_ONLY_AST:
                boom()
            return real_compile(source, filename, mode, flags, *a, **k)

        for name in ("eval", "exec"):
            m.setattr(builtins, name, boom)
        m.setattr(builtins, "compile", parse_only)
        f, _ = build("sigmoid(x) * 2", {"x": 0.0})
        try:
            build("__import__('os').system('echo hacked')", {})
            rejected = False
        except ExprError:
            rejected = True
    assert float(f.array) == 1.0 and rejected


def test_limits():
    with pytest.raises(ExprError, match="too long"):
        parse("x+" * 2000 + "x")
    with pytest.raises(ExprError, match="nested too deeply|cannot parse"):
        parse("-" * 300 + "x")
    with pytest.raises(ExprError, match="one line"):
        parse("x\n+ y")
    with pytest.raises(ExprError, match="ends too early"):
        parse("x +")
    with pytest.raises(ExprError, match="empty"):
        parse("  ")
    with pytest.raises(ExprError, match="no variables"):
        build("1 + 2", {})


def test_assignments():
    assert parse_assignments(["x=-2", "y = 5", "w0=1e-3"]) == {"x": -2.0, "y": 5.0, "w0": 0.001}
    for bad, msg in [("x", "NAME=VALUE"), ("=3", "NAME=VALUE"), ("x=abc", "not a number"),
                     ("exp=1", "cannot be a variable"), ("1x=2", "cannot be a variable")]:
        with pytest.raises(ExprError, match=msg):
            parse_assignments([bad])
    with pytest.raises(ExprError, match="twice"):
        parse_assignments(["x=1", "x=2"])


def test_cli_error_is_one_line_with_caret(capsys):
    assert main(["explain", "x + __import__('os')", "x=1"]) == 2
    err = capsys.readouterr().err.splitlines()
    allowed = " ".join(FUNCTIONS)             # the registry's ops marked for the language
    assert err[0] == ("chainrule explain: error: unsupported syntax at column 5: '__import__' "
                      f"(functions: {allowed})")
    assert err[1].strip() == "x + __import__('os')"
    assert err[2].index("^") == err[1].index("__import__")


def test_cli_explain_prints_the_numbers(capsys):
    assert main(["explain", "(x+y)*z", "x=-2", "y=5", "z=-4"]) == 0
    out = capsys.readouterr().out
    assert "∂f/∂add1 = ∂f/∂f · z = 1 · (-4) = -4" in out
    assert "∂f/∂x = ∂f/∂add1 · 1 = (-4) · 1 = -4" in out
    assert "∂f/∂z = ∂f/∂f · add1 = 1 · 3 = 3" in out
    assert main(["explain", "(x+y)*z", "x=-2", "y=5", "z=-4", "--wrt", "y",
                 "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "- y: 1 path to f" in out and "- x:" not in out
    assert main(["explain", "x*y", "x=1", "y=2", "--wrt", "q"]) == 2
    assert "not a variable" in capsys.readouterr().err


def test_cli_squared_residual_and_sigmoid(capsys):
    assert main(["explain", "(y - t)**2", "y=5", "t=2"]) == 0
    assert "= 1 · 6 = 6" in capsys.readouterr().out      # ∂L/∂r = 2·3 = 6
    assert main(["explain", "sigmoid(w0*x0 + w1*x1 + w2)", "w0=2", "x0=-1", "w1=-3",
                 "x1=-2", "w2=-3"]) == 0
    out = capsys.readouterr().out
    assert "1 · 0.196612 = 0.196612" in out
    assert cr.explain is not None


def test_values_that_overflow_are_refused(capsys):
    # a finite literal that becomes inf is a typo, not a request for infinity
    for bad in ("x=1e400", "x=-1e400"):
        with pytest.raises(ExprError, match="overflows to inf"):
            parse_assignments([bad])
    assert parse_assignments(["x=inf", "y=-Infinity"]) == {"x": np.inf, "y": -np.inf}
    assert np.isnan(parse_assignments(["x=nan"])["x"])
    with pytest.raises(ExprError, match="overflows to inf in float32"):
        build("x*y", {"x": 1e39, "y": 1.0}, dtype="float32")
    assert main(["explain", "x*y", "x=1e400", "y=1"]) == 2
    err = capsys.readouterr().err
    assert err == ("chainrule explain: error: the value of x overflows to inf: '1e400' "
                   "(write inf for an infinite value)\n")
    assert main(["explain", "x*y", "x=nan", "y=1"]) == 0
    assert "✗ not finite, cannot check" in capsys.readouterr().out


def test_the_language_knows_every_op_the_registry_marks_for_it():
    from chainrule.ops.registry import REGISTRY

    marked = {name for name, op in REGISTRY.items() if op.expr}
    assert marked <= set(FUNCTIONS) and {"softplus", "log1p", "max", "min"} <= set(FUNCTIONS)
    f, _ = build("softplus(x) + log1p(y) + max(x, y)", {"x": 0.0, "y": 1.0})
    assert float(f.array) == pytest.approx(np.log(2) + np.log(2) + 1)
