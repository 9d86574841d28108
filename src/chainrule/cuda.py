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


def memory_allocated(device=None) -> int:
    """Bytes of GPU memory held by arrays (CuPy's memory pool in use); 0 without a GPU
    backend, as PyTorch's without CUDA."""
    if not is_available():
        return 0
    return int(backend.cupy.get_default_memory_pool().used_bytes())


def memory_reserved(device=None) -> int:
    """Bytes of GPU memory the allocator holds (CuPy's pool, used or cached); 0 without
    a GPU backend."""
    if not is_available():
        return 0
    return int(backend.cupy.get_default_memory_pool().total_bytes())


def _peak(name: str) -> int:
    if not is_available():
        return 0
    raise NotImplementedError(f"cuda.{name}: CuPy's memory pool keeps no peak; use "
                              "cuda.memory_allocated() or memory_reserved() (the current "
                              "figures)")


def max_memory_allocated(device=None) -> int:
    """0 without a GPU backend (as PyTorch's without CUDA); CuPy keeps no peak."""
    return _peak("max_memory_allocated")


def max_memory_reserved(device=None) -> int:
    return _peak("max_memory_reserved")


def reset_peak_memory_stats(device=None) -> None:
    _peak("reset_peak_memory_stats")


def _amp_module():
    """``torch.cuda.amp``: autocast and GradScaler for device 'cuda' (chainrule.amp's),
    importable as ``from torch.cuda.amp import GradScaler, autocast``."""
    import functools
    import sys
    import types

    from . import amp

    module = types.ModuleType(f"{__name__}.amp", _amp_module.__doc__)

    class autocast(amp.autocast):
        def __init__(self, enabled: bool = True, dtype=None, cache_enabled=None) -> None:
            super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)

    module.autocast = autocast
    module.GradScaler = functools.partial(amp.GradScaler, "cuda")
    module.custom_fwd = functools.partial(amp.custom_fwd, device_type="cuda")
    module.custom_bwd = functools.partial(amp.custom_bwd, device_type="cuda")
    sys.modules[module.__name__] = module
    return module


amp = _amp_module()


def __getattr__(name: str):
    raise AttributeError(f"chainrule.cuda has no {name!r}: chainrule offers only the probes "
                         "is_available, device_count, current_device, manual_seed(_all), "
                         "synchronize, empty_cache, memory_allocated/reserved (and their "
                         "max_ and reset_peak_memory_stats without a GPU), and amp "
                         "(autocast, GradScaler)")
