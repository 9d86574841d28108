"""``chainrule.nn.utils.rnn``: helpers for batches of variable-length sequences."""

from __future__ import annotations

from .layers_rnn import pad_sequence

__all__ = ["pad_sequence"]
