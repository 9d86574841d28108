"""``chainrule explain`` and ``chainrule graph``: the chain rule of an expression.

    chainrule explain "(x+y)*z" x=-2 y=5 z=-4
    chainrule graph "sigmoid(w0*x0 + w1*x1 + w2)" w0=2 x0=-1 w1=-3 x1=-2 w2=-3 --out neuron.html

Expressions are parsed by :mod:`chainrule.viz.expr` (never evaluated as Python).
An expression that starts with ``-`` needs ``--`` before it (or a leading space),
as any shell argument that looks like an option.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import CLIError, one_line_errors
from .expr import FUNCTIONS, ExprError, build, parse_assignments

_LANGUAGE = ("numbers, variables, + - * / **, parentheses and the functions "
             + " ".join(FUNCTIONS) + " ("
             + ", ".join(f"{n} takes {k}" for n, k in FUNCTIONS.items() if k != 1)
             + " arguments)")


def add_subcommands(sub) -> None:
    """Register ``explain`` and ``graph`` on the ``chainrule`` parser's subparsers."""
    ex = sub.add_parser(
        "explain", help="explain the gradients of an expression step by step",
        description="Print the forward pass, the backward pass and every path's product "
                    f"for an expression. The language: {_LANGUAGE}.",
        epilog='example: chainrule explain "(x+y)*z" x=-2 y=5 z=-4')
    _common(ex)
    ex.add_argument("--wrt", metavar="NAME", help="list the paths for this variable only")
    ex.add_argument("--format", choices=("text", "markdown", "html"), default="text")
    ex.add_argument("--max-paths", type=_count, default=10, metavar="N",
                    help="paths listed per variable; the rest are counted (default 10)")
    ex.set_defaults(func=_explain)
    one_line_errors(ex)

    gr = sub.add_parser(
        "graph", help="draw an expression's graph (SVG/PNG/PDF/DOT) or write the "
                      "interactive page (HTML)",
        description="Draw the graph of an expression with values, gradients and local "
                    "derivatives. --out FILE.svg, .png or .pdf needs Graphviz's dot; "
                    f".dot writes the DOT text; .html writes the step-by-step page. "
                    f"The language: {_LANGUAGE}.",
        epilog='example: chainrule graph "(x+y)*z" x=-2 y=5 z=-4 --out graph.html')
    _common(gr)
    gr.add_argument("--out", required=True, metavar="FILE",
                    help="FILE.svg | FILE.png | FILE.pdf | FILE.dot | FILE.html")
    gr.set_defaults(func=_graph)
    one_line_errors(gr)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("expr", metavar="EXPR", help='an expression such as "(x+y)*z"')
    p.add_argument("values", nargs="*", default=[], metavar="NAME=VALUE",
                   help="the variables' values")
    p.add_argument("--dtype", default="float64", choices=("float32", "float64"),
                   help="floating type of the computation (default float64)")


def _count(text: str) -> int:
    """An argparse type: a whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _build(args):
    try:
        values = parse_assignments(args.values)
        return build(args.expr, values, dtype=args.dtype)
    except ExprError as e:
        caret = e.caret()
        raise CLIError(str(e) + ("\n" + caret if caret else "")) from None


def _explain(args) -> int:
    from .explain import Explanation

    root, leaves = _build(args)
    wrt = None
    if args.wrt is not None:
        if args.wrt not in leaves:
            raise CLIError(f"--wrt {args.wrt}: not a variable of the expression "
                           f"(variables: {', '.join(leaves) or 'none'})")
        wrt = leaves[args.wrt]
    e = Explanation(root, wrt=wrt, max_paths=args.max_paths)
    if args.format == "markdown":
        print(e.to_markdown(), end="")
    elif args.format == "html":
        print(e.to_html())
    else:
        print(e, end="")
    return 0


def _graph(args) -> int:
    from .dot import GraphvizMissing, draw
    from .page import html

    root, _ = _build(args)
    out = Path(args.out)
    suffix = out.suffix.lower()
    try:
        if suffix in (".html", ".htm"):
            html(root, out, title=f"How backpropagation computes the gradient of {args.expr}")
        elif suffix in (".svg", ".png", ".pdf", ".dot", ".gv"):
            draw(root, out)
        else:
            raise CLIError(f"--out {out}: unknown kind of file {suffix or '(no suffix)'}; "
                           "use .svg, .png, .pdf, .dot or .html")
    except GraphvizMissing as e:
        raise CLIError(str(e)) from None
    except ValueError as e:  # a graph over the drawing limit (graph.check_size)
        raise CLIError(str(e)) from None
    except OSError as e:
        raise CLIError(f"cannot write {out}: {e.strerror or e}") from None
    print(f"wrote {out}")
    return 0
