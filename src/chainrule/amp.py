"""PyTorch's mixed-precision API (``torch.amp``, ``torch.autocast``,
``torch.cuda.amp``) for programs that use it, often behind a flag.

chainrule has no reduced-precision arithmetic (NumPy has no bfloat16), so an autocast
region computes in the dtypes its tensors have. A region that PyTorch would run in
reduced precision (enabled, on an available device) warns once that it stays in
float32 here; a disabled one (``enabled=False``, or ``device_type='cuda'`` without a GPU,
which PyTorch disables with a warning too) changes nothing, as in PyTorch.

``GradScaler`` is PyTorch's dynamic loss scaling: ``scale`` multiplies the loss by a power
of two, ``unscale_`` divides the gradients back and looks for inf/NaN, ``step`` skips the
optimizer's step when it found some, ``update`` halves or grows the scale. Powers of two
scale exactly, so a run gives the numbers of the same run without a scaler (and
PyTorch's); a scaler made with ``enabled=False`` passes everything through.

>>> import chainrule as cr
>>> w = cr.tensor([1.0, 2.0], requires_grad=True)
>>> opt = cr.optim.SGD([w], lr=0.5)
>>> scaler = cr.amp.GradScaler("cpu", init_scale=1024.0)
>>> scaler.scale((w ** 2).sum()).backward()
>>> w.grad.tolist()
[2048.0, 4096.0]
>>> scaler.step(opt); scaler.update()
>>> w.tolist(), scaler.get_scale()
([0.0, 0.0], 1024.0)
"""

from __future__ import annotations

import functools
import math
import threading
import warnings
from typing import Any

import numpy as np

from ._tensor import Tensor, wrap

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd", "get_autocast_dtype",
           "is_autocast_available", "is_autocast_enabled"]

_DEVICES = ("cpu", "cuda")


class _State(threading.local):
    def __init__(self) -> None:
        self.enabled = {d: False for d in _DEVICES}
        self.dtype = {"cpu": "bfloat16", "cuda": "float16"}


_state = _State()
_warned = set()


def _device_type(device: Any, where: str) -> str:
    name = str(getattr(device, "type", device)).split(":")[0]
    if name not in _DEVICES:
        raise ValueError(f"{where}: device_type must be 'cpu' or 'cuda', got {device!r}")
    return name


def _cuda_available() -> bool:
    from . import backend  # (not chainrule.cuda: it imports this module for cuda.amp)

    return backend.gpu_available()


def is_autocast_available(device_type: str) -> bool:
    return str(device_type) in _DEVICES


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether an autocast region is active for ``device_type`` (PyTorch's default when
    none is given: 'cuda')."""
    return _state.enabled[_device_type(device_type or "cuda", "is_autocast_enabled")]


def get_autocast_dtype(device_type: str) -> Any:
    from . import _torch_names

    return getattr(_torch_names, _state.dtype[_device_type(device_type, "get_autocast_dtype")])


def _dtype_name(dtype: Any) -> str:
    name = str(dtype).replace("torch.", "")
    return "bfloat16" if name == "float32" else name  # chainrule's bfloat16 is float32


class autocast:
    """``torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None)`` as a
    context manager or a decorator; see the module's docstring for what it does here."""

    def __init__(self, device_type: Any = "cuda", dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        self.device = _device_type(device_type, "autocast")
        self.fast_dtype = dtype
        self._enabled = bool(enabled)
        if self._enabled and self.device == "cuda" and not _cuda_available():
            warnings.warn("User provided device_type of 'cuda', but CUDA is not available. "
                          "Disabling", UserWarning, stacklevel=2)
            self._enabled = False
        self._saved: list = []

    def __enter__(self):  # -> the autocast itself
        self._saved.append((_state.enabled[self.device], _state.dtype[self.device]))
        _state.enabled[self.device] = self._enabled
        if self.fast_dtype is not None:
            _state.dtype[self.device] = _dtype_name(self.fast_dtype)
        if self._enabled and self.device not in _warned:
            _warned.add(self.device)
            warnings.warn(f"autocast({self.device!r}): chainrule has no "
                          f"{_state.dtype[self.device]} arithmetic; the region computes in its "
                          "tensors' own dtypes (float32), so its numbers are float32's where "
                          "PyTorch rounds matmuls and convolutions to "
                          f"{_state.dtype[self.device]}", UserWarning, stacklevel=2)
        return self

    def __exit__(self, *exc) -> None:
        _state.enabled[self.device], _state.dtype[self.device] = self._saved.pop()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled):
                return fn(*args, **kwargs)

        return wrapped


def custom_fwd(fwd=None, *, device_type: str = "cuda", cast_inputs: Any = None):
    """``torch.amp.custom_fwd``: runs the Function's forward as written (no casting is
    needed where nothing is reduced in precision)."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd=None, *, device_type: str = "cuda"):
    """``torch.amp.custom_bwd``: runs the Function's backward as written."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd


_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


class GradScaler:
    """``torch.amp.GradScaler(device='cuda', init_scale=2.**16, growth_factor=2.0,
    backoff_factor=0.5, growth_interval=2000, enabled=True)``."""

    def __init__(self, device: Any = "cuda", init_scale: float = 2.0 ** 16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = _device_type(device, "GradScaler")
        if enabled and self._device == "cuda" and not _cuda_available():
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", UserWarning, stacklevel=2)
            enabled = False
        self._enabled = bool(enabled)
        if self._enabled:
            if not growth_factor > 1.0:
                raise ValueError(f"GradScaler: growth_factor must be > 1.0, got {growth_factor}")
            if not 0.0 < backoff_factor < 1.0:
                raise ValueError(f"GradScaler: backoff_factor must be in (0, 1), got "
                                 f"{backoff_factor}")
            if not (isinstance(growth_interval, int) and growth_interval > 0):
                raise ValueError(f"GradScaler: growth_interval must be a positive int, got "
                                 f"{growth_interval!r}")
        self._scale = float(np.float32(init_scale))
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._per_optimizer: dict[int, dict] = {}

    def is_enabled(self) -> bool:
        return self._enabled

    def scale(self, outputs):
        """``outputs`` (a tensor, or lists/tuples of them) times the current scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * self._scale
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise TypeError(f"GradScaler.scale: expected a tensor or a list/tuple of tensors, got "
                        f"{type(outputs).__name__}")

    def _state_of(self, optimizer) -> dict:
        return self._per_optimizer.setdefault(id(optimizer), {"stage": _READY, "found_inf": False})

    def unscale_(self, optimizer) -> None:
        """Divide the gradients of ``optimizer``'s parameters by the scale (each ``p.grad``
        replaced by the unscaled copy) and note whether any is inf or NaN."""
        if not self._enabled:
            return
        state = self._state_of(optimizer)
        if state["stage"] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if state["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = float(np.float32(1.0 / self._scale))
        found_inf = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.array
                if not np.isfinite(g).all():
                    found_inf = True
                # a scaled copy: gradient arrays may be shared with other tensors
                p.grad = wrap(g * np.asarray(inv_scale, dtype=g.dtype))
        state["found_inf"] = found_inf
        state["stage"] = _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step()`` unless the (unscaled) gradients hold inf or NaN; returns what
        the step returned, or None when it was skipped."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        state = self._state_of(optimizer)
        if state["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Back off the scale after a step that found inf/NaN, grow it after
        ``growth_interval`` clean steps in a row (or set ``new_scale``)."""
        if not self._enabled:
            return
        if new_scale is not None:
            value = new_scale.item() if isinstance(new_scale, Tensor) else float(new_scale)
            self._scale = float(np.float32(value))
        else:
            if not self._per_optimizer:
                raise RuntimeError("No inf checks were recorded prior to update.")
            if any(s["found_inf"] for s in self._per_optimizer.values()):
                self._scale = float(np.float32(self._scale * self._backoff_factor))
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    grown = np.float32(self._scale * self._growth_factor)
                    if math.isfinite(grown):
                        self._scale = float(grown)
                    self._growth_tracker = 0
        self._per_optimizer = {}

    def get_scale(self) -> float:
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def state_dict(self) -> dict:
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])
