"""Anomaly detection: find the first op whose value or gradient stops being finite.

Inside ``with cr.detect_anomaly():`` every op's output is checked for NaN and Inf as
it is recorded (forward), and every adjoint a derivative rule hands back to its inputs
is checked as the backward pass computes it. The first non-finite value raises
:class:`AnomalyError`, whose message names the op, the ``nn.Module`` path it ran in,
the shapes and value ranges of its inputs and the line of *your* code that created it:

>>> import chainrule as cr
>>> x = cr.tensor([0.0, 1.0], requires_grad=True)
>>> with cr.detect_anomaly():
...     y = cr.log(x)                               # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
chainrule.anomaly.AnomalyError: detect_anomaly: forward 'log' produced 1 non-finite value ...

Outside the context nothing is checked and nothing is recorded: ``tensor.record()``
and ``autograd.backward()`` each read one hook that is ``None`` (the forward hook once
per op, the backward hook once per ``backward()`` call), so the hot path stays as fast
as before.

How it works
------------
* forward: ``tensor._set_forward_check(fn)`` installs (for this thread) a function that
  ``record()`` calls with each new node. It tests the output and, for nodes on the graph, stores
  ``node._trace = (module path, "file:line: source")`` so the backward pass can say
  where a node was made (frames inside the chainrule package are skipped, so the line
  is the user's).
* backward: the check watches the one backward engine as ``observe`` does: it is called
  as ``check(node, g, grads)`` after each derivative rule, with the adjoints the rule
  produced for the node's inputs. The likely cause printed for a forward anomaly is the
  op's ``hint`` in the op registry.
* module paths: while active, this thread's ``chainrule.nn.module._mode.track_path`` is switched on
  (``set_track_path``) so ``nn.Module.__call__`` keeps a stack of module paths, read at
  record time with ``current_module_path()``; the module's type is read from the
  innermost ``Module._call_slow`` frame.
"""

from __future__ import annotations

import functools
import importlib
import linecache
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from . import _tensor
from . import autograd as _autograd
from ._tensor import Tensor

__all__ = ["AnomalyError", "detect_anomaly", "is_anomaly_enabled"]

_F = TypeVar("_F", bound=Callable[..., Any])

# Frames from files under this folder are library code: the "created at" line skips them.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class AnomalyError(RuntimeError):
    """A NaN or Inf appeared in the forward or backward pass under ``detect_anomaly``.

    Attributes: ``op`` (the op's name), ``phase`` ("forward" or "backward"),
    ``module`` (nn.Module path or None), ``created_at`` ("file:line: source" or None).
    """

    def __init__(self, message: str, op: str = "", phase: str = "", module: str | None = None,
                 created_at: str | None = None):
        super().__init__(message)
        self.op = op
        self.phase = phase
        self.module = module
        self.created_at = created_at


# ---------------------------------------------------------------------------
# where an op was created: module path and the user's source line
# ---------------------------------------------------------------------------
_inside_package: dict[str, bool] = {}  # filename -> is it chainrule's own code?
_site_text: dict[tuple[str, int], str] = {}  # (filename, line) -> "file:line: source"
_nn_module: Any = None  # chainrule.nn.module once anomaly mode has imported it


def _user_site() -> str | None:
    """``"file:line: source"`` of the innermost frame outside the chainrule package."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        inside = _inside_package.get(filename)
        if inside is None:  # chainrule's own files and Python's frozen start-up modules
            inside = _inside_package[filename] = filename.startswith("<frozen") or \
                os.path.abspath(filename).startswith(_PACKAGE_DIR)
        if not inside:
            key = (filename, frame.f_lineno)
            text = _site_text.get(key)
            if text is None:
                text = _site_text[key] = _format_site(filename, frame.f_lineno)
            return text
        frame = frame.f_back
    return None


def _format_site(filename: str, lineno: int) -> str:
    try:
        shown = os.path.relpath(filename)
        if shown.startswith(".." + os.sep):  # outside the working folder: keep it absolute
            shown = filename
    except ValueError:  # another drive on Windows
        shown = filename
    source = linecache.getline(filename, lineno).strip()
    return f"{shown}:{lineno}: {source}" if source else f"{shown}:{lineno}"


def _module_path() -> str | None:
    """``"1 (Linear)"``: path and type of the innermost nn.Module whose forward is running.

    The path comes from ``nn.module.current_module_path()``; the type from the ``self``
    of the innermost ``Module._call_slow`` frame (the call path nn takes while tracking
    is on). None outside any module.
    """
    if _nn_module is None:
        return None
    path = _nn_module.current_module_path()
    if path is None:
        return None
    shown = path if path else "(model)"
    code = _nn_module.Module._call_slow.__code__
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is code:
            module = frame.f_locals.get("self")
            return f"{shown} ({type(module).__name__})" if module is not None else shown
        frame = frame.f_back
    return shown


def _trace_here() -> tuple[str | None, str | None]:
    return _module_path(), _user_site()


# ---------------------------------------------------------------------------
# the two checks
# ---------------------------------------------------------------------------
def _nonfinite(arr) -> bool:
    """True when a floating array holds a NaN or an Inf (integer arrays never do)."""
    return arr.dtype.kind in "fc" and not bool(np.isfinite(arr).all())


def _check_forward(node: Tensor, parents: tuple = ()) -> None:
    """Installed as ``tensor._forward_check``: runs on every freshly recorded node."""
    trace = None
    if node.requires_grad:  # the backward pass may need to say where this node came from
        node._trace = trace = _trace_here()
    if _nonfinite(node.array):
        raise _forward_error(node, trace or _trace_here())


def _check_backward(node: Tensor, g, grads: tuple) -> None:
    """Installed as ``autograd._backward_check``: runs after each derivative rule."""
    parents = node._parents
    for i, pg in enumerate(grads):
        if pg is None or not parents[i].requires_grad:
            continue  # the engine drops these adjoints; they cannot spread a NaN
        if _nonfinite(_array(pg)):
            raise _backward_error(node, g, i, pg)


# ---------------------------------------------------------------------------
# messages
# ---------------------------------------------------------------------------
def _array(value):
    return value.array if isinstance(value, Tensor) else value


def _num(v: float) -> str:
    return f"{v:.4g}"


def _counts(arr) -> tuple[int, int]:
    """(number of NaNs, number of Infs) in an array."""
    arr = np.asarray(_host(arr))
    return int(np.isnan(arr).sum()), int(np.isinf(arr).sum())


def _host(arr):
    from .backend import to_numpy

    return to_numpy(arr)


def _first_bad_index(arr) -> tuple:
    arr = np.asarray(_host(arr))
    if arr.ndim == 0:
        return ()
    flat = int(np.flatnonzero(~np.isfinite(arr))[0])
    return tuple(int(i) for i in np.unravel_index(flat, arr.shape))


def _summary(value) -> str:
    """``shape (4,), min 0, max 2.5, non-finite 0`` for an array or Tensor."""
    arr = np.asarray(_host(_array(value)))
    if arr.dtype.kind not in "fciub":
        return f"shape {arr.shape}, dtype {arr.dtype}"
    if arr.dtype.kind == "b":
        return f"shape {arr.shape}, bool, {int(arr.sum())} true of {arr.size}"
    finite = arr[np.isfinite(arr)] if arr.dtype.kind in "fc" else arr.ravel()
    bad = arr.size - finite.size
    if finite.size:
        if finite.dtype.kind == "c":
            finite = np.abs(finite)
        span = f"min {_num(finite.min())}, max {_num(finite.max())}"
    else:
        span = "no finite values"
    return f"shape {arr.shape}, {span}, non-finite {bad}"


def _where_lines(trace) -> tuple[list[str], str | None, str | None]:
    module, site = trace if trace else (None, None)
    lines = []
    if module is not None:
        lines.append(f"  in module: {module}")
    if site:
        lines.append(f"  created at: {site}")
    elif trace:
        lines.append("  created at: inside chainrule (no frame of your code on the stack)")
    else:
        lines.append("  created at: unknown (the op was recorded before detect_anomaly was "
                     "entered)")
    return lines, module, site


def _node_in_backward() -> Tensor | None:
    """The node whose rule is running when a backward pass records ops (create_graph)."""
    # the engine's reverse loop keeps the node in a local called ``node``; matching the
    # file rather than one function survives refactorings of the engine
    engine = _autograd.__file__
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == engine:
            node = frame.f_locals.get("node")
            if isinstance(node, Tensor):
                return node
        frame = frame.f_back
    return None


def _inputs_being_recorded() -> tuple:
    """The inputs of the op being recorded, from ``record()``'s frame.

    A node made without grad keeps no parents; on this error path only, read them
    from the ``record`` call that is running the check.
    """
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is _tensor.record.__code__:
            parents = frame.f_locals.get("parents")
            return tuple(p for p in parents if isinstance(p, Tensor)) if parents else ()
        frame = frame.f_back
    return ()


def _forward_error(node: Tensor, trace) -> AnomalyError:
    data = node.array
    nan, inf = _counts(data)
    n = nan + inf
    # with create_graph=True the rules run as recorded ops: blame the rule's owner
    owner = _node_in_backward()
    during = "" if owner is None else f"backward of '{owner._op}' (create_graph=True): "
    lines = [
        f"detect_anomaly: {during}forward '{node._op}' produced {n} non-finite "
        f"value{'s' if n != 1 else ''} (nan: {nan}, inf: {inf}) in output of shape "
        f"{node.shape}" + (f", first at index {_first_bad_index(data)}" if node.ndim else "")
    ]
    if owner is not None:
        trace = getattr(owner, "_trace", None)
    parents = node._parents or _inputs_being_recorded()
    for i, p in enumerate(parents):
        lines.append(f"  input {i}: {_summary(p)}")
    where, module, site = _where_lines(trace)
    lines += where
    if any(_nonfinite(p.array) for p in parents):
        lines.append("  note: an input was already non-finite; it was made outside the checked "
                     "ops (a leaf, data, or code run before detect_anomaly was entered)")
    elif owner is not None:
        lines.append(f"  likely cause: the local derivative of '{owner._op}' is not finite at "
                     "these input values")
    elif getattr(node._op, "hint", None):  # the op's registry entry says what usually does it
        lines.append(f"  likely cause: {node._op.hint}")
    return AnomalyError("\n".join(lines), op=node._op if owner is None else owner._op,
                        phase="forward" if owner is None else "backward", module=module,
                        created_at=site)


def _backward_error(node: Tensor, g, index: int, adjoint) -> AnomalyError:
    arr = _array(adjoint)
    nan, inf = _counts(arr)
    parent = node._parents[index]
    name = f" ({parent.name!r})" if parent.name else ""
    lines = [
        f"detect_anomaly: backward adjoint of input {index}{name} of '{node._op}' is non-finite: "
        f"{nan + inf} of {arr.size} values (nan: {nan}, inf: {inf}) in shape "
        f"{tuple(arr.shape)}" + (f", first at index {_first_bad_index(arr)}" if arr.ndim else ""),
        f"  adjoint of the output: {_summary(g)}",
        f"  output: {_summary(node)}",
    ]
    for i, p in enumerate(node._parents):
        lines.append(f"  input {i}: {_summary(p)}")
    where, module, site = _where_lines(getattr(node, "_trace", None))
    lines += where
    if _nonfinite(_array(g)):
        lines.append("  note: the adjoint arriving at this op was already non-finite: the "
                     "gradient passed to backward() holds NaN or Inf")
    else:
        lines.append(
            f"  likely cause: the local derivative of '{node._op}' is not finite at these input "
            "values (e.g. sqrt or log at 0, a division by 0). Masking the output afterwards "
            "(cr.where) does not help, since 0 * inf = nan: keep the input away from the "
            "singular point instead (clamp it, or add an epsilon)")
    return AnomalyError("\n".join(lines), op=node._op, phase="backward", module=module,
                        created_at=site)


# ---------------------------------------------------------------------------
# the public context manager
# ---------------------------------------------------------------------------
def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``."""
    check = _tensor._mode.forward_check
    return check is _check_forward or isinstance(check, _CheckAndWatch)


class _CheckAndWatch:
    """The anomaly check and another watcher of recorded nodes (the profiler's), both
    called: entering detect_anomaly inside a profile must not blind the profile."""

    def __init__(self, other) -> None:
        self.other = other

    def __call__(self, node, parents: tuple = ()) -> None:
        self.other(node, parents)
        _check_forward(node, parents)


def _set_mode(on: bool) -> tuple:
    """Install (or remove) both checks; return what was installed before."""
    global _nn_module
    if on and _nn_module is None:  # imported on first use: nn imports the ops
        _nn_module = importlib.import_module(".nn.module", __package__)
    # make Module.__call__ keep its path stack (nothing to switch before nn was loaded)
    track = None if _nn_module is None else _nn_module.set_track_path(on)
    current = _tensor._mode.forward_check
    other = current.other if isinstance(current, _CheckAndWatch) else (
        None if current is _check_forward else current)
    check = (_check_forward if other is None else _CheckAndWatch(other)) if on else other
    previous_forward = _tensor._set_forward_check(check)
    previous_backward = _autograd._watchers.fns
    others = tuple(fn for fn in previous_backward if fn is not _check_backward)
    _autograd._watchers.fns = others + ((_check_backward,) if on else ())
    return previous_forward, previous_backward, track


def _restore(state: tuple) -> None:
    previous_forward, previous_backward, track = state
    _tensor._set_forward_check(previous_forward)
    _autograd._watchers.fns = previous_backward
    if track is not None:
        _nn_module.set_track_path(track)


class detect_anomaly:
    """Raise :class:`AnomalyError` at the first NaN or Inf in the forward or backward pass.

    A context manager and a decorator; nesting works, and leaving restores whatever
    was active before. ``detect_anomaly(False)`` switches the checks off inside.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0, 4.0], requires_grad=True)
    >>> with cr.detect_anomaly():
    ...     y = cr.where(x > 0, cr.sqrt(x), 0.0).sum()  # finite forward ...
    ...     y.backward()                                 # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    chainrule.anomaly.AnomalyError: detect_anomaly: backward adjoint of input 0 of 'sqrt' ...

    As a decorator::

        @cr.detect_anomaly()
        def train_step(batch): ...

    The checks make every op slower (each output is scanned and the creating source
    line is looked up): use it to debug, not for every run.
    """

    def __init__(self, enabled: bool = True):
        self.enabled = bool(enabled)
        self._saved: list[tuple] = []  # a stack, so one instance may be re-entered

    def __enter__(self):  # -> detect_anomaly (the instance)
        self._saved.append(_set_mode(self.enabled))
        return self

    def __exit__(self, *exc) -> bool:
        _restore(self._saved.pop())
        return False

    def __call__(self, fn: _F) -> _F:
        enabled = self.enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(enabled):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
