"""The ``chainrule`` command line.

Each area registers its own subcommands (``train``/``evaluate``/``predict`` in
``chainrule.train.cli``, ``graph``/``explain`` in ``chainrule.viz.cli``); this file
only assembles them and turns expected failures into a one-line error.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from .errors import CLIError, one_line_errors

__all__ = ["CLIError", "build_parser", "main"]


def _worked_examples(args) -> int:
    """Run the notes' worked examples and print their gradients."""
    import chainrule as cr

    x, y, z = (cr.tensor(v, requires_grad=True, name=n)
               for v, n in ((-2.0, "x"), (5.0, "y"), (-4.0, "z")))
    f = (x + y) * z
    f.backward()
    print(f"f(x, y, z) = (x + y) * z at (-2, 5, -4): f = {f.item():g}")
    print(f"  df/dx = {x.grad.item():g}, df/dy = {y.grad.item():g}, df/dz = {z.grad.item():g}")

    w = [cr.tensor(v, requires_grad=True) for v in (2.0, -3.0, -3.0)]
    xs = [cr.tensor(v, requires_grad=True) for v in (-1.0, -2.0)]
    out = cr.sigmoid(w[0] * xs[0] + w[1] * xs[1] + w[2])
    out.backward()
    print(f"sigmoid neuron at w = (2, -3, -3), x = (-1, -2): output = {out.item():.4f}, "
          f"local gradient (1 - s) s = {(1 - out.item()) * out.item():.4f}")
    print("  df/dw = (" + ", ".join(f"{t.grad.item():.4f}" for t in w) + "), df/dx = ("
          + ", ".join(f"{t.grad.item():.4f}" for t in xs) + ")")

    a = cr.tensor(1.5, requires_grad=True)
    ((a ** 2) ** 2).backward()
    print(f"a^4 = (a^2)^2 at a = 1.5: d/da = {a.grad.item():g} (4 a^3 = {4 * 1.5 ** 3:g})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``chainrule`` parser with every area's subcommands."""
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="Backpropagation you can see and trust: train, explain and draw.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    ex = sub.add_parser("examples", help="run the notes' worked examples and print gradients")
    ex.set_defaults(func=_worked_examples)
    from .train.cli import add_subcommands as add_train_commands
    from .viz.cli import add_subcommands as add_viz_commands

    add_train_commands(sub)
    add_viz_commands(sub)
    one_line_errors(parser)  # `chainrule bogus`: one line, not the usage block
    one_line_errors(ex)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = _parse(parser, argv)
    command = getattr(args, "command", None) or "examples"  # none given: the examples
    try:
        status = int(getattr(args, "func", _worked_examples)(args) or 0)
        sys.stdout.flush()  # a reader that went away shows here, not as a message at exit
        return status
    except CLIError as e:
        return _report_error(command, e)
    except KeyboardInterrupt:
        print(f"chainrule {command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _stdout_closed()


def _stdout_closed() -> int:
    """The reader of stdout left (``chainrule train | head -3``): stop quietly with the
    status of a command ended by SIGPIPE, instead of a traceback. Python ignores SIGPIPE,
    so the closed pipe arrives as BrokenPipeError at the next write."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # the flush at exit must not fail again
    os.close(devnull)
    return 128 + 13  # 13 = SIGPIPE (not in the signal module on Windows)


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line. Under ``mpiexec -n K`` every process parses the same flags:
    rank 0 alone prints a bad flag's error (or --help); the others exit with the same
    status, silently."""
    from .distributed.process_group import launched_rank, launched_world_size

    if launched_world_size() == 1 or launched_rank() == 0:
        return parser.parse_args(argv)
    with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet), \
            contextlib.redirect_stdout(quiet):
        return parser.parse_args(argv)


# how long a failing rank waits for the others to fail alike before it aborts the job;
# errors in the settings or the data are found by every rank within a moment of each other
_AGREE_SECONDS = 5.0


def _report_error(command: str, error: CLIError) -> int:
    """Print ``error`` as one line and return its exit status. Under ``mpiexec -n K``,
    when every rank fails (bad settings and data are found by all before training) rank 0
    alone prints, and every rank leaves with the status; when only some ranks fail, each
    of them prints a line naming itself and the job is aborted (the others would wait for
    it in their next collective)."""
    line = f"chainrule {command}: error: {error}"
    distributed = sys.modules.get("chainrule.distributed")
    if distributed is None or not distributed.is_initialized() or \
            distributed.get_world_size() == 1:
        print(line, file=sys.stderr)
        return error.exit_status
    from .distributed.process_group import all_ranks_failed

    messages = all_ranks_failed(str(error), _AGREE_SECONDS)
    if messages is None:  # some rank goes on: stop the job, naming this rank
        distributed.abort(line, error.exit_status)
    if distributed.get_rank() == 0:
        size = len(messages)
        print(line, file=sys.stderr)
        for rank, message in enumerate(messages[1:], start=1):
            if message != messages[0]:  # a different failure elsewhere is told too
                print(f"chainrule {command}: error: rank {rank} of {size}: {message}",
                      file=sys.stderr)
    return error.exit_status


if __name__ == "__main__":
    sys.exit(main())
