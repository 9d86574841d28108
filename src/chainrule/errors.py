"""Errors shared by the command-line layers (``chainrule.cli``, ``chainrule.train``,
``chainrule.viz.cli``): defined here, below all of them, so none imports another's CLI."""

from __future__ import annotations

__all__ = ["CLIError"]


class CLIError(Exception):
    """An expected failure caused by what the user gave (a bad value, a missing or malformed
    file, an unusable output folder).

    A command prints it as one line, ``chainrule COMMAND: error: MESSAGE``, and exits with
    ``exit_status`` (2 for bad input; a subclass may choose another status).
    """

    exit_status: int = 2
