"""``torch.accelerator``: the GPU backend (CuPy) when one works, else nothing."""

from __future__ import annotations


def is_available() -> bool:
    from . import cuda

    return cuda.is_available()


def current_accelerator(check_available: bool = False):
    """``device('cuda')`` with a working GPU backend, else None (as PyTorch without one)."""
    from ._tensor import device

    return device("cuda") if is_available() else None


def device_count() -> int:
    from . import cuda

    return cuda.device_count()
