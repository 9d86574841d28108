"""``torch.cuda`` probes: chainrule runs on NumPy, or on CuPy with an NVIDIA GPU
(``pip install chainrule[gpu]``); ``is_available()`` says whether that backend works."""

from __future__ import annotations

from . import backend


def is_available() -> bool:
    """True only with CuPy installed and at least one GPU it can use."""
    if not backend.gpu_available():
        return False
    try:
        return backend.cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - a driver error means: no usable GPU
        return False


def device_count() -> int:
    if not is_available():
        return 0
    return int(backend.cupy.cuda.runtime.getDeviceCount())


def current_device() -> int:
    if not is_available():
        raise RuntimeError("cuda.current_device: no GPU backend (CuPy with a GPU) available")
    return int(backend.cupy.cuda.runtime.getDevice())


def is_bf16_supported() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Seeds chainrule's one generator (GPU arrays are drawn from it too)."""
    from .random import manual_seed as seed_all

    seed_all(seed)


manual_seed_all = manual_seed


def synchronize(device=None) -> None:
    if is_available():
        backend.cupy.cuda.runtime.deviceSynchronize()


def empty_cache() -> None:
    if is_available():
        backend.cupy.get_default_memory_pool().free_all_blocks()


def __getattr__(name: str):
    raise AttributeError(f"chainrule.cuda has no {name!r}: chainrule offers only the probes "
                         "is_available, device_count, current_device, manual_seed(_all), "
                         "synchronize and empty_cache")
