"""The array-namespace seam: NumPy on the CPU, CuPy on the GPU.

Building blocks call NumPy functions; CuPy arrays implement NumPy's dispatch
protocols (``__array_ufunc__`` / ``__array_function__``), so the same rule runs on
both. What cannot dispatch (creating new arrays, moving data) goes through here.
"""

from __future__ import annotations

import numpy as np

try:  # CuPy is an optional extra (chainrule[gpu])
    import cupy as _cupy  # type: ignore

    try:
        _cupy.cuda.runtime.getDeviceCount()
        cupy = _cupy
    except Exception:  # noqa: BLE001 - installed but no usable GPU (CUDA errors vary)
        cupy = None
except Exception:  # noqa: BLE001 - a broken CuPy install must not break import
    cupy = None


def gpu_available() -> bool:
    return cupy is not None


def is_device_array(x) -> bool:
    return cupy is not None and isinstance(x, cupy.ndarray)


def namespace(x):
    """The array module (numpy or cupy) that owns ``x``."""
    return cupy if is_device_array(x) else np


def device_of(x) -> str:
    return "cuda" if is_device_array(x) else "cpu"


def to_numpy(x):
    return cupy.asnumpy(x) if is_device_array(x) else x


def to_device(x, device: str):
    kind = device.split(":")[0]
    if kind == "cpu":
        return to_numpy(x)
    if kind == "cuda":
        if cupy is None:
            raise RuntimeError(
                "to('cuda'): no GPU backend; install the extra `pip install chainrule[gpu]` "
                "(CuPy) on a machine with an NVIDIA GPU"
            )
        return cupy.asarray(x)
    raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")


def _keep_freed_memory() -> None:
    """Ask glibc to keep freed memory for reuse instead of handing it back at once.

    Training allocates and frees the same large temporaries every step. By default glibc
    returns big freed blocks to the system, so every step pays page faults to get them
    back (measured: the 10^6-element benchmark in bench/bench_ops.py ran 2x slower).
    Raising the mmap and trim thresholds keeps up to 256 MiB of freed heap for reuse.
    Set CHAINRULE_MALLOC_TUNING=0 to leave the allocator alone.
    """
    import ctypes
    import os
    import sys

    if os.environ.get("CHAINRULE_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 32 * 1024 * 1024)  # the largest value glibc accepts
        libc.mallopt(m_trim_threshold, 256 * 1024 * 1024)
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        pass


_keep_freed_memory()


def set_num_threads(n: int | None) -> None:
    """Limit the BLAS thread pool that NumPy's matrix products use (None: leave it alone).

    Measured on this project's 2-core machines: with both cores idle, 2 threads beat 1
    by 1.2-1.4x on the 784-256-128-10 MLP (bench/bench_mlp.py); with another busy
    process, 2-thread BLAS waits on a descheduled partner thread and the digits demo
    ran 2-10x slower than with 1 thread. So the library leaves the BLAS default (one
    thread per core) and ``chainrule train`` uses 1 unless ``--threads`` says otherwise.
    Needs threadpoolctl (``pip install 'chainrule[train]'``).
    """
    if n is None:
        return
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive thread count, got {n}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise ImportError("set_num_threads needs threadpoolctl: pip install threadpoolctl") \
            from None
    threadpool_limits(limits=n)  # applies to every BLAS/OpenMP pool loaded in the process


def get_num_threads() -> int:
    """Threads of the BLAS pool NumPy uses (the largest when several are loaded)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return 1
    return max((pool["num_threads"] for pool in threadpool_info()
                if pool.get("user_api") == "blas"), default=1)
