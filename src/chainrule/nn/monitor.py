"""Gradient monitoring: watch every layer's gradients while a network trains.

Backpropagation multiplies local derivatives layer by layer, so gradients can shrink
to nothing on the way back to the input (*vanishing*: the first layers stop learning),
grow without bound (*exploding*: training diverges, NaNs appear), and ReLU units whose
input is negative for every example pass no gradient at all (*dead* units); and an
optimizer whose updates move the weights by a large share of their size takes *too
large a step*. :class:`GradientMonitor` measures these per layer, at every step, and
says with each finding what to try:

>>> import chainrule as cr
>>> from chainrule import nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> monitor = nn.GradientMonitor(model)
>>> for _ in range(3):
...     loss = (model(cr.randn(16, 4)) ** 2).mean()
...     loss.backward()
...     new = monitor.step()          # record, and return the findings new at this step
...     for p in model.parameters():
...         p.grad = None
>>> monitor.warnings()
[]
>>> sorted(monitor.history[0])
['dead_fraction', 'grad_norm', 'layer', 'step', 'type', 'update_ratio', 'weight_norm']

``history`` is a flat list of records, one per layer (and per watched activation) per
recorded step, each a dict with the keys above (values that do not apply are None);
``series("grad_norm")`` regroups it per layer. ``warnings()`` lists the findings
(:class:`GradientWarning`), ``summary()`` prints a table and ``plot(path)`` draws the
per-layer gradient norms, update-to-weight ratios and dead fractions over the steps,
with the steps whose gradients held a NaN or Inf marked.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._tensor import is_grad_enabled
from ..backend import to_numpy
from ..files import atomic_write
from .module import Module

__all__ = ["GradientMonitor", "GradientWarning"]

# Activations whose output is clamped at 0 for negative inputs, so a unit whose input is
# negative for every example of the batch passes no gradient (LeakyReLU's units then
# pass only slope x gradient: nearly dead). Only the classes chainrule.nn defines count.
_CLAMPING_ACTIVATIONS = ("ReLU", "ReLU6", "LeakyReLU", "RReLU", "PReLU")


def relu_family() -> tuple[type, ...]:
    """The activation classes of ``chainrule.nn`` whose units can die (the monitor also
    watches their subclasses, yours included): found among the defined ``Module``
    classes, so a name that nn does not define is never listed."""
    found, todo = [], list(Module.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__name__ in _CLAMPING_ACTIVATIONS and cls.__module__.startswith("chainrule.nn"):
            found.append(cls)
    found.sort(key=lambda cls: _CLAMPING_ACTIVATIONS.index(cls.__name__))
    return tuple(found)


def __getattr__(name: str):
    # RELU_FAMILY: the names of relu_family(), read when asked (nn defines its activations
    # in several files, some imported after this one)
    if name == "RELU_FAMILY":
        return tuple(cls.__name__ for cls in relu_family())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


KINDS = ("vanishing", "exploding", "dead", "large-step")
# the statistics of a history row (series() regroups one of them per layer)
_STATISTICS = ("grad_norm", "weight_norm", "update_ratio", "dead_fraction")

# What to try, said with every finding of a kind
ADVICE = {
    "vanishing": "try ReLU-family activations, He (Kaiming) or Xavier initialization, "
                 "normalization layers (BatchNorm/LayerNorm) or residual connections",
    "exploding": "lower the learning rate, clip the gradients (nn.utils.clip_grad_norm_; "
                 "chainrule train --clip-grad), and check that the inputs are scaled "
                 "(standardized)",
    "dead": "check the bias initialization (a small positive bias), lower the learning "
            "rate, or use LeakyReLU",
    "large-step": "lower the learning rate (or clip the gradients); around 1e-3 is the "
                  "usual healthy update/weight ratio",
}

# Adaptive optimizers' first updates move each weight by about lr whatever its size, so
# their update/weight ratios start high by design: the step-size checks begin after
# these calls of step() (single updates) and after WARMUP_STEPS (the running median).
_FIRST_UPDATES_IGNORED = 2
WARMUP_STEPS = 10
#: recorded update ratios whose median is compared with ``update_threshold``
STEP_WINDOW = 10


@dataclass
class GradientWarning:
    """One finding of a :class:`GradientMonitor`.

    ``layer`` is the module path ("0", "layers.2", ...), ``kind`` one of "vanishing",
    "exploding", "dead"; ``step`` is the first step it was seen at, ``last_step`` and
    ``count`` say how often it came back (repeats are folded into one finding).
    """

    layer: str
    kind: str
    step: int
    message: str
    module_type: str = ""
    last_step: int = field(default=0, compare=False)
    count: int = field(default=1, compare=False)

    def __post_init__(self) -> None:
        if not self.last_step:
            self.last_step = self.step

    def __str__(self) -> str:
        what = _named(self.layer, self.module_type)
        seen = f"step {self.step}" if self.count == 1 else \
            f"steps {self.step}-{self.last_step}, seen {self.count}x"
        return f"{self.kind}: {what} at {seen}: {self.message}"


@dataclass
class _Layer:
    path: str
    module: Any
    type: str
    params: list


@dataclass
class _Activation:
    path: str
    module: Any
    type: str
    feeds_from: str | None  # path of the parameterized layer whose output it activates
    last_output: Any = None  # the array of the last training forward, read at step()


def _named(path: str, module_type: str = "") -> str:
    """``layer 0 (Linear)`` for a top-level index, ``layers.2 (Linear)`` for a dotted path."""
    text = path if "." in path or not path.isdigit() else f"layer {path}"
    return text + (f" ({module_type})" if module_type else "")


def _label(path: str) -> str:
    return path if path else "(model)"


def _norm(arrays: Iterable) -> float:
    """Euclidean norm over several arrays, summed in float64 so squares cannot overflow."""
    total = 0.0
    for a in arrays:
        total += float(np.sum(np.square(a, dtype=np.float64)))
    return math.sqrt(total)


def _fmt(v: float | None, spec: str = ".2e") -> str:
    if v is None:
        return "-"
    return format(v, spec) if math.isfinite(v) else str(v)


class GradientMonitor:
    """Record per-layer gradient statistics and flag vanishing, exploding and dead layers.

    Call :meth:`step` once per training iteration, after ``loss.backward()`` (before or
    after ``optimizer.step()``, but always at the same place). Each recorded step stores,
    for every module that owns parameters (a *layer*, e.g. ``Linear``), the gradient
    norm and the weight norm over its parameters and the update-to-weight ratio
    ``||W_now - W_prev|| / ||W_prev||``, where ``W_prev`` are the weights at the
    previous ``step()`` call: one optimizer update apart. (Around 1e-3 is the usual
    healthy value; far above it training is unstable, far below it the layer barely
    learns.) For ReLU-family activation modules a forward hook keeps the last
    training batch's output and records the fraction of dead units: units whose
    output is <= 0 for every example in the batch (after a convolution a unit is a
    channel, dead when <= 0 at every position of every example). Norm layers,
    embeddings and recurrent layers (an LSTM's gradient norm) are watched as any layer
    with parameters.

    Findings (:meth:`warnings`):

    * ``exploding``: a gradient norm above ``explode_threshold`` or NaN/Inf, or one
      update that changed the weights by more than their norm;
    * ``vanishing``: a gradient norm below ``vanish_threshold``, or more than
      ``vanish_ratio`` times smaller than that of a layer closer to the output (layers
      are ordered as registered, which is forward order for Sequential and MLP);
    * ``dead``: more than ``dead_fraction`` of an activation's units dead;
    * ``large-step``: too large a step: the median update/weight ratio of the last
      ``STEP_WINDOW`` recorded steps is at least ``update_threshold`` (checked after the
      first ``WARMUP_STEPS`` steps, whose ratios adaptive optimizers make large by
      design).

    Every finding's message ends with what to try (``ADVICE``).

    Args:
        model: an ``nn.Module``.
        every: record every ``every``-th call of :meth:`step` after the first
            ``dense_steps`` calls, which are all recorded (problems show early).
        update_threshold: the median update/weight ratio that counts as too large a step.
        on_warning: called with each new finding as it is found (e.g. ``print``).

    Use it as a context manager, or call :meth:`remove` to take its hooks off.
    """

    def __init__(self, model, every: int = 1, vanish_threshold: float = 1e-7,
                 explode_threshold: float = 1e3, vanish_ratio: float = 1e3,
                 dead_fraction: float = 0.5, update_threshold: float = 0.1,
                 dense_steps: int = 100,
                 on_warning: Callable[[GradientWarning], Any] | None = None):
        if not hasattr(model, "named_modules"):  # e.g. model.parameters() given
            raise TypeError(f"GradientMonitor: expected the model (an nn.Module), got "
                            f"{type(model).__name__}")
        if every < 1:
            raise ValueError(f"GradientMonitor: every must be >= 1, got {every}")
        if dense_steps < 0:
            raise ValueError(f"GradientMonitor: dense_steps must be >= 0, got {dense_steps}")
        if not 0 < dead_fraction <= 1:
            raise ValueError(f"GradientMonitor: dead_fraction must be in (0, 1], got "
                             f"{dead_fraction}")
        self.model = model
        self.every = int(every)
        self.dense_steps = int(dense_steps)
        self.vanish_threshold = vanish_threshold
        self.explode_threshold = explode_threshold
        self.vanish_ratio = vanish_ratio
        self.dead_fraction = dead_fraction
        self.update_threshold = update_threshold
        self.on_warning = on_warning
        self.history: list[dict] = []
        self.steps = 0  # calls of step() so far
        self.layers: list[_Layer] = []
        self.activations: list[_Activation] = []
        self._handles: list = []
        self._snapshot: dict[str, list] | None = None  # weights at the previous step() call
        self._found: dict[tuple[str, str, str], GradientWarning] = {}
        self._ratios: dict[str, list[float]] = {}  # recent update ratios after the warm-up
        self.nonfinite_steps: list[int] = []  # recorded steps with a NaN/Inf gradient

        last_layer = None
        family = relu_family()
        for path, module in model.named_modules():
            kind = type(module).__name__
            params = list(module.parameters(recurse=False))  # its own, not its children's
            if params:
                self.layers.append(_Layer(path, module, kind, params))
                last_layer = path
            if isinstance(module, family):
                self.activations.append(_Activation(path, module, kind, last_layer))
        if not self.layers:
            raise ValueError(f"GradientMonitor: {type(model).__name__} has no parameters "
                             "to monitor")
        self.attach()

    # -- hooks ----------------------------------------------------------------------
    @staticmethod
    def _make_hook(act: _Activation):
        def hook(module, inputs, output):
            # keep a reference only (no work per forward); evaluation passes under
            # no_grad are not training batches and are ignored
            if is_grad_enabled():
                act.last_output = getattr(output, "array", output)

        return hook

    def attach(self) -> None:
        """Put the forward hooks on the activations (done by the constructor; again
        after :meth:`remove`)."""
        if not self._handles:
            self._handles = [act.module.register_forward_hook(self._make_hook(act))
                             for act in self.activations]

    def remove(self) -> None:
        """Take the forward hooks off the model (safe to call twice)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self):  # -> the monitor itself
        return self

    def __exit__(self, *exc) -> bool:
        self.remove()
        return False

    # -- recording ----------------------------------------------------------------------
    def records(self, step: int) -> bool:
        """Whether call number ``step`` (from 1) of :meth:`step` is recorded."""
        return step <= self.dense_steps or (step - 1) % self.every == 0

    def step(self) -> list[GradientWarning]:
        """Record this step (all of the first ``dense_steps`` calls, then every ``every``
        calls); return the findings new at it."""
        self.steps += 1
        step = self.steps
        new: list[GradientWarning] = []
        if self.records(step):
            new = self._record(step)
        if self.records(step + 1):  # the next call records: keep today's weights for it
            self._snapshot = {layer.path: [p.array.copy() for p in layer.params]
                              for layer in self.layers}
        else:
            self._snapshot = None
        return new

    def _record(self, step: int) -> list[GradientWarning]:
        rows = []
        for layer in self.layers:
            grads = [p.grad.array for p in layer.params if p.grad is not None]
            weights = [p.array for p in layer.params]
            weight_norm = _norm(weights)
            update_ratio = None
            previous = None if self._snapshot is None else self._snapshot.get(layer.path)
            if previous is not None:
                before = _norm(previous)
                change = _norm(w - b for w, b in zip(weights, previous))
                update_ratio = change / before if before > 0 else None
            rows.append({"step": step, "layer": layer.path, "type": layer.type,
                         "grad_norm": _norm(grads) if grads else None,
                         "weight_norm": weight_norm, "update_ratio": update_ratio,
                         "dead_fraction": None})
        for act in self.activations:
            out = act.last_output
            dead = None
            if out is not None and getattr(out, "size", 0):
                out = np.asarray(to_numpy(out))
                if out.ndim >= 3:
                    # (N, C, H, W) or (N, C, L) after a convolution: a unit is a channel
                    # (one kernel), dead when it is <= 0 for every example and position
                    units = np.moveaxis(out, 1, 0).reshape(out.shape[1], -1).T
                else:
                    units = out.reshape(out.shape[0], -1) if out.ndim > 1 else \
                        out.reshape(1, -1)
                # a NaN or Inf output says nothing about dead units: unknown, not 0%
                dead = float(np.mean(np.all(units <= 0, axis=0))) \
                    if np.all(np.isfinite(units)) else math.nan
            act.last_output = None
            rows.append({"step": step, "layer": act.path, "type": act.type, "grad_norm": None,
                         "weight_norm": None, "update_ratio": None, "dead_fraction": dead})
        self.history.extend(rows)
        return self._diagnose(step, rows)

    # -- diagnosis --------------------------------------------------------------------------
    def _diagnose(self, step: int, rows: list[dict]) -> list[GradientWarning]:
        new = []
        layer_rows = rows[:len(self.layers)]
        norms = [r["grad_norm"] for r in layer_rows]
        for i, row in enumerate(layer_rows):
            g = row["grad_norm"]
            if g is None:
                continue
            path, kind = row["layer"], row["type"]
            if not math.isfinite(g):
                if not self.nonfinite_steps or self.nonfinite_steps[-1] != step:
                    self.nonfinite_steps.append(step)
                new += self._flag(path, kind, "exploding", "nonfinite", step,
                                  f"gradient norm is {g}: a NaN or Inf reached the gradients "
                                  "(cr.detect_anomaly() names the op that made it)")
            elif g > self.explode_threshold:
                new += self._flag(path, kind, "exploding", "threshold", step,
                                  f"gradient norm {g:.3g} > {self.explode_threshold:g}")
            elif g == 0:
                new += self._flag(path, kind, "vanishing", "zero", step,
                                  "gradient is exactly 0: no gradient reaches this layer "
                                  "(dead ReLUs after it, or its output is not used)",
                                  advice="if a dead activation follows it, "
                                         + ADVICE["dead"])
            elif g < self.vanish_threshold:
                new += self._flag(path, kind, "vanishing", "threshold", step,
                                  f"gradient norm {g:.3g} < {self.vanish_threshold:g}")
            else:
                # compare with the largest gradient of the layers closer to the output
                later = [(n, j) for j, n in enumerate(norms[i + 1:], i + 1)
                         if n is not None and math.isfinite(n)]
                if later:
                    top, j = max(later)
                    if top > g * self.vanish_ratio:
                        new += self._flag(
                            path, kind, "vanishing", "ratio", step,
                            f"gradient norm {g:.3g} is {top / g:.3g}x smaller than at "
                            f"{_named(_label(layer_rows[j]['layer']))} ({top:.3g}): the "
                            "gradient fades on its way back to the input")
            new += self._check_step_size(path, kind, step, g, row["update_ratio"])
        for act, row in zip(self.activations, rows[len(self.layers):]):
            dead = row["dead_fraction"]
            if dead is not None and dead > self.dead_fraction:
                source = "" if act.feeds_from is None else \
                    f" (the outputs of {_named(_label(act.feeds_from))})"
                new += self._flag(act.path, act.type, "dead", "dead", step,
                                  f"{dead:.0%} of the units{source} are <= 0 for the whole "
                                  "batch and pass no gradient")
        return new

    def _check_step_size(self, path: str, kind: str, step: int, grad_norm: float,
                         ratio: float | None) -> list[GradientWarning]:
        if ratio is None or not math.isfinite(grad_norm) or not math.isfinite(ratio):
            return []
        if step > _FIRST_UPDATES_IGNORED + 1 and ratio > 1.0:
            return self._flag(path, kind, "exploding", "update", step,
                              f"one update changed the weights by {ratio:.3g}x their norm")
        if step <= WARMUP_STEPS:
            return []
        recent = self._ratios.setdefault(path, [])
        recent.append(ratio)
        del recent[:-STEP_WINDOW]
        median = float(np.median(recent))
        if len(recent) == STEP_WINDOW and median >= self.update_threshold:
            return self._flag(path, kind, "large-step", "median", step,
                              f"too large a step: over the last {STEP_WINDOW} recorded "
                              f"steps the updates changed the weights by {median:.1%} of "
                              f"their norm (median; threshold {self.update_threshold:.0%})")
        return []

    def _flag(self, path: str, module_type: str, kind: str, reason: str, step: int,
              message: str, advice: str | None = None) -> list[GradientWarning]:
        # one finding per layer and kind, whatever the test that found it; only NaN/Inf
        # stands apart, so that gradients that grew too large and later turned NaN say so
        key = (path, kind, reason if reason == "nonfinite" else "")
        seen = self._found.get(key)
        if seen is not None:  # a repeat: fold it into the first finding
            if seen.last_step != step:
                seen.count += 1
                seen.last_step = step
            return []
        finding = GradientWarning(_label(path), kind, step,
                                  f"{message}; {advice or ADVICE[kind]}", module_type)
        self._found[key] = finding
        if self.on_warning is not None:
            self.on_warning(finding)
        return [finding]

    # -- reading -------------------------------------------------------------------------
    def warnings(self, kind: str | None = None) -> list[GradientWarning]:
        """The findings so far, in the order they were found (repeats folded in)."""
        if kind is not None and kind not in KINDS:
            raise ValueError(f"warnings: kind must be one of {KINDS}, got {kind!r}")
        return [w for w in self._found.values() if kind is None or w.kind == kind]

    def series(self, key: str = "grad_norm") -> dict[str, tuple[list[int], list[float]]]:
        """``{layer: (steps, values)}`` for one statistic of :attr:`history`."""
        if key not in _STATISTICS:
            raise ValueError(f"series: key must be one of {', '.join(_STATISTICS)}, got "
                             f"{key!r}")
        out: dict[str, tuple[list[int], list[float]]] = {}
        for row in self.history:
            value = row.get(key)
            if value is None:
                continue
            steps, values = out.setdefault(row["layer"], ([], []))
            steps.append(row["step"])
            values.append(value)
        return out

    def summary(self) -> str:
        """A table of the last recorded step, one row per layer and watched activation.

        The columns hold the last step's values; the warnings column names each finding
        with the steps it was seen at, so a flag stands beside the numbers that explain
        it (a dead flag of earlier steps beside today's 0%, or ``nan`` where the outputs
        were NaN and dead units cannot be counted).
        """
        if not self.history:
            return "GradientMonitor: nothing recorded yet (call step() after backward())"
        last_step = self.history[-1]["step"]
        flags: dict[str, list[str]] = {}
        for w in self._found.values():
            seen = f"step {w.step}" if w.step == w.last_step else f"steps {w.step}-{w.last_step}"
            flags.setdefault(w.layer, []).append(f"{w.kind} ({seen})")
        header = ("layer", "type", "grad norm", "weight norm", "update/weight", "dead",
                  "warnings")
        body = []
        for row in self.history:
            if row["step"] != last_step:
                continue
            dead = row["dead_fraction"]
            body.append((_label(row["layer"]), row["type"], _fmt(row["grad_norm"]),
                         _fmt(row["weight_norm"]), _fmt(row["update_ratio"]),
                         "-" if dead is None else f"{dead:.0%}" if math.isfinite(dead)
                         else "nan",
                         ", ".join(flags.get(_label(row["layer"]), [])) or "-"))
        widths = [max(len(r[i]) for r in (header, *body)) for i in range(len(header))]
        n = len(self._found)
        lines = [f"GradientMonitor: step {last_step} ({self.steps} steps, {n} warning"
                 + ("s)" if n != 1 else ")")]
        for r in (header, tuple("-" * w for w in widths), *body):
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"GradientMonitor({len(self.layers)} layers, {len(self.activations)} "
                f"activations, {self.steps} steps, {len(self._found)} warnings)")

    def plot(self, path: str | os.PathLike) -> str:
        """Write a PNG of the per-layer gradient norms, update ratios and dead fractions.

        Layers are coloured from the input (dark) to the output (light); vanishing
        gradients show as a fan of lines orders of magnitude apart. Steps whose gradients
        held a NaN or Inf (which a log axis cannot show) are marked with red lines on
        every panel. The file is written atomically (a temporary file, then a rename).
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator, PercentFormatter

        grads = self.series("grad_norm")
        ratios = self.series("update_ratio")
        dead = self.series("dead_fraction")
        panels = [("grad", grads)] + ([("ratio", ratios)] if ratios else []) + \
            ([("dead", dead)] if dead else [])
        fig = Figure(figsize=(10, 1.0 + 2.75 * len(panels)), dpi=100)
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
        by_kind = dict(zip((kind for kind, _ in panels), axes))
        cmap = _colormap()
        n = max(len(self.layers) - 1, 1)
        for index, layer in enumerate(self.layers):  # forward (registration) order
            colour = cmap(0.85 * index / n)
            name = f"{_label(layer.path)} {layer.type}"
            kinds = sorted({w.kind for w in self._found.values()
                            if w.layer == _label(layer.path)})
            if kinds:
                name += f" [{', '.join(kinds)}]"
            for kind, data in panels[:2]:
                if layer.path in data:
                    steps, values = data[layer.path]
                    if kind == "grad" and not any(values):
                        name += " (all zero)"  # invisible on a log scale: say so
                    # a log axis cannot show 0, NaN or Inf: gaps (NaN steps marked below)
                    values = [v if math.isfinite(v) and v > 0 else float("nan") for v in values]
                    by_kind[kind].plot(steps, values, color=colour, label=name,
                                       marker="." if len(steps) < 30 else None)
        if "dead" in by_kind:
            ax = by_kind["dead"]
            m = max(len(self.activations) - 1, 1)
            for index, act in enumerate(self.activations):
                if act.path in dead:
                    steps, values = dead[act.path]
                    ax.plot(steps, values, color=cmap(0.85 * index / m),
                            label=f"{_label(act.path)} {act.type}",
                            marker="." if len(steps) < 30 else None)
            ax.axhline(self.dead_fraction, color="grey", linestyle=":", linewidth=1)
            ax.set_ylim(-0.02, 1.02)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
            ax.set_title(f"dead units per activation (dotted: the {self.dead_fraction:.0%} "
                         "that is flagged)")
            ax.set_ylabel("dead fraction")
            ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
                      borderaxespad=0.0)
        by_kind["grad"].set_title("gradient norm per layer")
        by_kind["grad"].set_ylabel("||dL/dW||")
        if "ratio" in by_kind:
            by_kind["ratio"].axhline(1e-3, color="grey", linestyle=":", linewidth=1)
            by_kind["ratio"].set_title("update / weight ratio (dotted: the usual 1e-3)")
            by_kind["ratio"].set_ylabel("||dW|| / ||W||")
        for kind, ax in by_kind.items():
            for i, step in enumerate(self.nonfinite_steps):
                ax.axvline(step, color="red", alpha=0.5, linewidth=1,
                           label="NaN/Inf gradient" if i == 0 and kind == "grad" else None)
            if kind != "dead" and ax.has_data():
                ax.set_yscale("log")
            ax.grid(True, which="major", alpha=0.3)
        axes[-1].set_xlabel("step")
        axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(self.layers) <= 24 and self.history:  # beside the plot, hiding no line
            by_kind["grad"].legend(fontsize="small", loc="upper left",
                                   bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
        fig.tight_layout()
        return _save_atomic(fig, path)


def _colormap():
    from matplotlib import colormaps

    return colormaps["viridis"]


def _save_atomic(fig, path: str | os.PathLike) -> str:
    path = os.fspath(path)
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", bbox_inches="tight")
    return path
