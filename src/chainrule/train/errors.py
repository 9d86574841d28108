"""The errors a training run raises for what it was given (settings, data, checkpoints,
output folders) or for a run that cannot go on: all :class:`~chainrule.errors.CLIError`,
so ``chainrule train`` prints them as one line. Defined here, below every module of
``chainrule.train`` that raises them, so none of those imports another for its errors."""

from __future__ import annotations

from ..errors import CLIError

__all__ = ["ConfigError", "RunError", "TrainingStopped"]


class ConfigError(CLIError, ValueError):
    """A setting of a training run is out of range (the message names its flag)."""


class RunError(CLIError):
    """A run cannot start or go on because of what it was given: the settings, the data,
    a checkpoint or the output folder (the message names which)."""


class TrainingStopped(RunError):
    """Training stopped on a numerical failure (a non-finite loss, or an anomaly under
    ``detect_anomaly``); the last finished epoch's checkpoint is kept. Exit status 1."""

    exit_status = 1
