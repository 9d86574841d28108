"""Errors shared by the command-line layers (``chainrule.cli``, ``chainrule.train``,
``chainrule.viz.cli``): defined here, below all of them, so none imports another's CLI."""

from __future__ import annotations

import argparse
import types
from collections.abc import Callable

__all__ = ["CLIError", "one_line_errors"]


class CLIError(Exception):
    """An expected failure caused by what the user gave (a bad value, a missing or malformed
    file, an unusable output folder).

    A command prints it as one line, ``chainrule COMMAND: error: MESSAGE``, and exits with
    ``exit_status`` (2 for bad input; a subclass may choose another status).
    """

    exit_status: int = 2


def one_line_errors(parser: argparse.ArgumentParser,
                    after_parse: Callable[[argparse.ArgumentParser, list[str] | None,
                                           argparse.Namespace], None] | None = None,
                    ) -> argparse.ArgumentParser:
    """Make argparse report a bad flag or value as one line naming ``parser``'s command
    (no usage block), exit status 2; ``after_parse(parser, args, namespace)``, when given,
    runs after each successful parse."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def parse_known_args(self, args=None, namespace=None):
        # unknown flags would otherwise travel up to the top-level parser, which
        # prints its usage block; report them here, naming this (sub)command
        ns, extras = type(self).parse_known_args(self, args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        if after_parse is not None:
            after_parse(self, args, ns)
        return ns, extras

    parser.error = types.MethodType(error, parser)
    parser.parse_known_args = types.MethodType(parse_known_args, parser)
    return parser
