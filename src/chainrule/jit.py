"""PyTorch's ``torch.jit`` as a program meets it: chainrule runs Python eagerly, so
``script`` and ``trace`` hand back what they are given, which then runs (with the same
numbers) as the eager model does, and the markers that TorchScript reads
(``@torch.jit.ignore``, ``@torch.jit.unused``, ``is_scripting()``, ``annotate``,
``Final``) do what they do in eager PyTorch. What needs a compiled TorchScript program
fails naming the alternative: ``torch.jit.save``/``load`` (save the ``state_dict`` with
``cr.save``), and ``save``/``code``/``graph`` of a ``ScriptModule`` subclass. Since
``script(model)`` is ``model`` itself, it is no ScriptModule and has no ``save``.

One difference from PyTorch's ``trace``: a traced function keeps its Python control flow
here, where PyTorch's records the branches the example inputs took.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final  # Final: torch.jit.Final, a scripted module's constant

__all__ = [
    "Attribute",
    "Final",
    "TracerWarning",
    "annotate",
    "export",
    "fork",
    "freeze",
    "ignore",
    "is_scripting",
    "is_tracing",
    "load",
    "optimize_for_inference",
    "save",
    "script",
    "script_method",
    "trace",
    "unused",
    "wait",
]


def script(obj: Any = None, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None,
           example_inputs: Any = None) -> Any:
    """``obj`` itself (a function, a Module or a class): chainrule runs it eagerly."""
    return obj


def trace(func: Callable, example_inputs: Any = None, *args, **kwargs) -> Callable:
    """``func`` itself, run eagerly (it keeps its control flow; see the module)."""
    if not callable(func):
        raise TypeError(f"jit.trace: expected a function or Module, got {type(func).__name__}")
    return func


def _marker(fn: Callable | None = None, **_options) -> Any:
    """A decorator used bare (``@torch.jit.ignore``) or with options (``(drop=True)``)."""
    if fn is None:
        return lambda f: f
    return fn


ignore = unused = export = _marker


def is_scripting() -> bool:
    """False: nothing is compiled to TorchScript here."""
    return False


def is_tracing() -> bool:
    return False


def annotate(the_type: Any, the_value: Any) -> Any:
    return the_value


def Attribute(value: Any, type: Any = None) -> Any:
    return value


def freeze(mod: Any, preserved_attrs: Any = None, optimize_numerics: bool = True) -> Any:
    return mod


def optimize_for_inference(mod: Any, other_methods: Any = None) -> Any:
    return mod


class _Future:
    """What ``fork`` returns: the value, computed when forked."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def wait(self) -> Any:
        return self._value


def fork(func: Callable, *args, **kwargs) -> _Future:
    """Runs ``func(*args, **kwargs)`` now (TorchScript would run it on another thread)."""
    return _Future(func(*args, **kwargs))


def wait(future: _Future) -> Any:
    return future.wait()


def script_method(fn: Callable) -> Callable:
    """The older ``ScriptModule`` API's method marker: the method itself."""
    return fn


class ScriptFunction:
    """PyTorch's type of a scripted function: nothing here is one (``script`` hands back
    the function itself)."""


@functools.cache
def _script_module_class():
    from .nn import Module

    def no_program(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}: chainrule has no TorchScript "
                                  "program to save or show; save the weights with "
                                  "cr.save(model.state_dict(), path)")

    return type("ScriptModule", (Module,), {
        "__doc__": "PyTorch's older ScriptModule base: an eager Module here, with "
                   "``script_method`` methods as they are.",
        "__module__": __name__, "save": no_program,
        "code": property(no_program), "graph": property(no_program)})


def __getattr__(name: str):
    # ScriptModule subclasses the eager Module (made late: nn imports much of the library)
    if name in ("ScriptModule", "RecursiveScriptModule"):
        return _script_module_class()
    raise AttributeError(f"module 'chainrule.jit' has no attribute {name!r}: PyTorch's "
                         f"torch.jit.{name} needs TorchScript, which chainrule does not have "
                         "(it runs Python eagerly; see docs/pytorch.md)")


class TracerWarning(Warning):
    """PyTorch's warning class for tracing (programs filter it); never raised here."""


def save(m: Any, f: Any, _extra_files: Any = None) -> None:
    raise NotImplementedError("jit.save: chainrule has no TorchScript programs to save; save "
                              "the weights with cr.save(model.state_dict(), path) and build "
                              "the model in Python to load them")


def load(f: Any, map_location: Any = None, _extra_files: Any = None) -> Any:
    raise NotImplementedError("jit.load: chainrule cannot run TorchScript programs; load a "
                              "state_dict with cr.load(path) into the model built in Python")
