"""Seedable random generators: the global one behind rand/randn, initializers and Dropout,
and ``Generator`` objects to pass as ``generator=`` (as ``torch.Generator``).

Seeds follow ``torch.manual_seed``: any integer in [-2**63, 2**64); a negative seed wraps
into 64 bits (``-1`` is the seed ``2**64 - 1``), as PyTorch does. The streams are NumPy's
(PCG64), so the numbers differ from PyTorch's for the same seed; what carries over is
that the same seed gives the same numbers.

>>> import chainrule as cr
>>> g = cr.Generator().manual_seed(7)
>>> a = cr.randn(3, generator=g)
>>> b = cr.randn(3, generator=cr.Generator().manual_seed(7))
>>> bool((a == b).all())
True
"""

from __future__ import annotations

import contextlib
import numbers
import secrets
from typing import Any

import numpy as np

__all__ = ["Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed",
           "manual_seed", "numpy_generator", "seed", "set_rng_state"]

_SEED_RANGE = (-(1 << 63), 1 << 64)  # what torch.manual_seed accepts


def _check_seed(seed: Any, where: str) -> int:
    """``seed`` as an unsigned 64-bit integer; a clear error for anything else."""
    if isinstance(seed, (float, np.floating)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{where}: the seed must be an integer, got {type(seed).__name__} "
                        f"{seed!r}")
    value = int(seed)
    lo, hi = _SEED_RANGE
    if not lo <= value < hi:
        raise ValueError(f"{where}: seed {value} is out of range; seeds are integers in "
                         f"[-2**63, 2**64) (negative ones wrap into 64 bits, as in PyTorch)")
    return value % (1 << 64)


class Generator:
    """A seeded random stream to pass as ``generator=``, as ``torch.Generator``.

    Accepted by ``cr.rand``/``randn``/``randint``/``randperm``, ``Tensor.normal_``/
    ``uniform_``, ``nn.init`` and ``F.dropout``, the DataLoader and ``random_split``.
    ``manual_seed`` returns the generator itself, so ``cr.Generator().manual_seed(42)``
    reads as in PyTorch. Samplers that need NumPy's interface get it from
    ``numpy_generator(g)``; a Generator also answers NumPy ``Generator``'s sampling
    methods (``g.normal``, ``g.integers``, ...) directly, drawing from the same stream.

    A fresh ``Generator()`` is seeded with ``67280421310721`` (PyTorch's default seed)
    so that it is deterministic until seeded, as PyTorch's is. ``get_state`` returns a
    uint8 tensor, as PyTorch's does (its bytes are chainrule's own: the seed and the PCG64
    position, not PyTorch's Mersenne-Twister state); ``set_state`` takes it back.
    """

    _DEFAULT_SEED = 67280421310721

    def __init__(self, device: Any = "cpu") -> None:
        if str(device) not in ("cpu", "cpu:0"):
            raise ValueError(f"Generator: device {device!r} is not available; chainrule's "
                             "generators live on the CPU (device='cpu')")
        self.device = "cpu"
        self._seed = self._DEFAULT_SEED
        self._numpy = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed`` (an integer in [-2**63, 2**64)); returns self."""
        self._seed = _check_seed(seed, "Generator.manual_seed")
        self._numpy = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy; returns the seed chosen."""
        self._seed = secrets.randbits(64)
        self._numpy = np.random.default_rng(self._seed)
        return self._seed

    def initial_seed(self) -> int:
        """The seed the stream was last started from."""
        return self._seed

    def get_state(self) -> Any:
        """The stream's position as a uint8 tensor (``cr.save``-able); see ``set_state``."""
        return _pack_state(self._seed, self._numpy.bit_generator.state)

    def set_state(self, state: Any) -> Generator:
        """Continue from a position saved by ``get_state``; returns self."""
        self._seed, self._numpy.bit_generator.state = _unpack_state(
            state, "Generator.set_state", self._seed)
        return self

    def numpy(self) -> np.random.Generator:
        """The NumPy generator this one draws from (shared, not a copy)."""
        return self._numpy

    def __getattr__(self, name: str) -> Any:
        # NumPy's sampling methods (normal, integers, permutation, ...) draw from our stream;
        # private names are never forwarded (copy/pickle probe them before __init__ ran)
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return getattr(self._numpy, name)
        except AttributeError:
            raise AttributeError(f"'Generator' object has no attribute {name!r}") from None

    def __repr__(self) -> str:
        return f"<chainrule.Generator device='cpu' initial_seed={self._seed}>"


default_generator = Generator().manual_seed(0)


def numpy_generator(generator: Any = None) -> np.random.Generator:
    """The NumPy generator to draw from for a ``generator=`` argument.

    ``None`` is the global generator (``cr.manual_seed``); a ``cr.Generator`` its own
    stream; a NumPy ``Generator`` itself. Anything else is a TypeError naming it.
    """
    if generator is None:
        return default_generator._numpy
    if isinstance(generator, Generator):
        return generator._numpy
    if isinstance(generator, np.random.Generator):
        return generator
    if type(generator).__module__.startswith("torch"):
        raise TypeError("generator: a torch.Generator cannot drive chainrule's random "
                        "numbers; pass chainrule.Generator().manual_seed(seed)")
    raise TypeError(f"generator must be a chainrule.Generator (or a NumPy Generator), got "
                    f"{type(generator).__name__} {generator!r}")


def manual_seed(seed: int) -> Generator:
    """Reseed the global generator (as ``torch.manual_seed``); returns it.

    ``seed``: an integer in [-2**63, 2**64); negative seeds wrap into 64 bits as in
    PyTorch. Strings, floats and None are a TypeError, out-of-range integers a ValueError.
    """
    default_generator._seed = _check_seed(seed, "manual_seed")
    default_generator._numpy = np.random.default_rng(default_generator._seed)
    return default_generator


def seed() -> int:
    """Seed the global generator from the operating system's entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the global generator was last started from."""
    return default_generator.initial_seed()


# A generator's state as bytes, so that it is a uint8 tensor as PyTorch's is (programs
# compare it with torch.equal, clone it, move it with .cpu(), save it among weights):
# a tag, the seed, then PCG64's 128-bit state and increment and its buffered 32-bit draw.
_STATE_TAG = b"CRPCG64\x01"
_STATE_LAYOUT = ((8, "seed"), (16, "state"), (16, "inc"), (1, "has_uint32"), (4, "uinteger"))
_STATE_BYTES = len(_STATE_TAG) + sum(n for n, _ in _STATE_LAYOUT)


# What a state is returned as: chainrule's Tensor, which the tensor module registers here
# when it loads (this module sits below it, so it does not import it: no import cycle).
state_tensor: Any = np.asarray


def _pack_state(seed: int, bit_state: dict) -> Any:
    values = {"seed": seed, **bit_state["state"], "has_uint32": bit_state["has_uint32"],
              "uinteger": bit_state["uinteger"]}
    raw = _STATE_TAG + b"".join(int(values[name]).to_bytes(n, "little")
                                for n, name in _STATE_LAYOUT)
    return state_tensor(np.frombuffer(raw, dtype=np.uint8).copy())


def _unpack_state(state: Any, where: str, seed: int) -> tuple[int, dict]:
    """(seed, NumPy bit-generator state) from ``get_state``'s tensor; the dicts that
    chainrule returned before (still in older ``chainrule train`` checkpoints) pass too."""
    if isinstance(state, dict) and state.get("bit_generator") == "PCG64":
        return seed, state
    if isinstance(state, dict) and "bit_generator" in state:
        return int(state.get("seed", seed)), state["bit_generator"]
    array = getattr(state, "array", state)
    if not isinstance(array, np.ndarray) or array.dtype != np.uint8:
        raise TypeError(f"{where}: expected the uint8 tensor returned by get_rng_state() / "
                        f"Generator.get_state(), got {type(state).__name__}"
                        f"{' of dtype ' + str(array.dtype) if hasattr(array, 'dtype') else ''}")
    raw = np.ascontiguousarray(array).tobytes()
    if len(raw) != _STATE_BYTES or not raw.startswith(_STATE_TAG):
        why = (f"{len(raw)} bytes, expected {_STATE_BYTES}" if len(raw) != _STATE_BYTES
               else "it does not start with chainrule's tag")
        hint = " (a state saved by PyTorch cannot drive chainrule's generator)" \
            if len(raw) == 5056 else ""
        raise ValueError(f"{where}: not a chainrule generator state: {why}{hint}")
    values, at = {}, len(_STATE_TAG)
    for n, name in _STATE_LAYOUT:
        values[name] = int.from_bytes(raw[at:at + n], "little")
        at += n
    return values["seed"], {"bit_generator": "PCG64",
                            "state": {"state": values["state"], "inc": values["inc"]},
                            "has_uint32": values["has_uint32"], "uinteger": values["uinteger"]}


def get_rng_state() -> Any:
    """The global generator's state as a uint8 tensor (as ``torch.get_rng_state``).

    >>> import chainrule as cr
    >>> state = cr.get_rng_state()
    >>> a = cr.rand(2)
    >>> cr.set_rng_state(state)
    >>> bool((cr.rand(2) == a).all()), str(state.dtype)
    (True, 'uint8')
    """
    return default_generator.get_state()


def set_rng_state(state: Any) -> None:
    """Put the global generator back where ``get_rng_state`` found it."""
    default_generator.set_state(state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str = "cuda"):
    """``torch.random.fork_rng``: the global generator's state is put back on leaving the
    block, so draws inside do not change the stream outside.

    >>> import chainrule as cr
    >>> _ = cr.manual_seed(0)
    >>> with cr.random.fork_rng():
    ...     inside = cr.rand(1)
    >>> bool((cr.rand(1) == inside).all())
    True
    """
    if not enabled:
        yield
        return
    saved = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(saved)
