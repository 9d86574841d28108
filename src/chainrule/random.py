"""The seedable random generator behind rand/randn, initializers and Dropout."""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator (as torch.manual_seed); returns it."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def _rng() -> np.random.Generator:
    return _generator


def get_rng_state() -> dict:
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    _generator.bit_generator.state = state
