"""Where the time of a program goes, op by op: PyTorch's ``torch.profiler`` names.

    from chainrule.profiler import profile, record_function, ProfilerActivity

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("train_step"):
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))
    prof.export_chrome_trace("trace.json")      # chrome://tracing or ui.perfetto.dev

What is recorded, on the thread that started the profiler:

- every forward op (a node the op registry records: ``linear``, ``relu``, ``mul``, ...);
- every backward rule the engine runs (``LinearBackward0``, ...: ``grad_fn``'s names;
  ``AccumulateGrad`` for a leaf's gradient), watched as ``autograd.observe`` watches;
- each optimizer step (``Optimizer.step#SGD.step``) and each ``record_function`` span.

How an op is timed: chainrule sees an op when its result is recorded, so an op's event
runs from the end of the previous event on the thread to that moment. It covers the op's
own work and its Python (argument checks, broadcasting), and also any code of the
program's own run since the previous event: wrap such code (data preparation, logging)
in ``record_function`` to keep it apart. Backward rules are timed the same way between
the engine's calls. Spans (``record_function``, optimizer steps) are timed exactly, and
an event's self time is its time less that of the events inside it.

``profile_memory=True`` counts the bytes of each op's result as the memory it
allocated (what an op makes and frees inside is not seen); ``with_flops=True`` counts
2·(output size)·(inner size) for the products (linear, matmul), as PyTorch does. Profiles
may nest: each records what runs while it is on. GPU kernels are not timed:
with CuPy arrays the CPU times include launching them (``ProfilerActivity.CUDA`` is
accepted and adds nothing).
"""

from __future__ import annotations

import enum
import gzip
import json
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Self

from . import _tensor as _t
from . import autograd as _autograd
from .files import atomic_write

__all__ = [
    "EventList",
    "FunctionEvent",
    "FunctionEventAvg",
    "ProfilerAction",
    "ProfilerActivity",
    "profile",
    "record_function",
    "schedule",
    "supported_activities",
    "tensorboard_trace_handler",
]


class ProfilerActivity(enum.Enum):
    CPU = "CPU"
    CUDA = "CUDA"
    XPU = "XPU"
    MTIA = "MTIA"


def supported_activities() -> set:
    """What chainrule's profiler times: the CPU (see the module's note on GPUs)."""
    return {ProfilerActivity.CPU}


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0,
             skip_first: int = 0) -> Callable[[int], ProfilerAction]:
    """PyTorch's profiling schedule: after ``skip_first`` steps, cycles of ``wait`` steps
    unrecorded, ``warmup`` steps unrecorded (PyTorch's tracing warms up), ``active``
    steps recorded, the last of which hands the cycle to ``on_trace_ready``; ``repeat``
    cycles (0: for as long as the program steps). ``prof.step()`` counts the steps."""
    for name, value in (("wait", wait), ("warmup", warmup), ("active", active),
                        ("repeat", repeat), ("skip_first", skip_first)):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"profiler.schedule: {name} must be an int >= 0, got {value!r}")
    if active < 1:
        raise ValueError("profiler.schedule: active must be at least 1 (the recorded steps)")

    def action(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        cycle = wait + warmup + active
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        at = step % cycle
        if at < wait:
            return ProfilerAction.NONE
        if at < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if at < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action


# ---------------------------------------------------------------------------
# events
# ---------------------------------------------------------------------------
def _format_time(us: float) -> str:
    """PyTorch's way: 12.345us, 1.234ms, 1.234s."""
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_memory(nbytes: float) -> str:
    for unit, size in (("Gb", 1024 ** 3), ("Mb", 1024 ** 2), ("Kb", 1024)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{int(nbytes)} b"


class FunctionEvent:
    """One recorded event: times in microseconds since the profiler started."""

    __slots__ = ("cpu_children", "cpu_memory_usage", "cpu_parent", "end_us", "flops", "id",
                 "input_shapes", "is_user_annotation", "name", "start_us", "thread")

    def __init__(self, name: str, start_us: float, end_us: float, thread: int,
                 input_shapes: list | None = None, memory: int = 0,
                 user_annotation: bool = False, flops: int = 0) -> None:
        self.name = name
        self.flops = flops
        self.start_us = start_us
        self.end_us = end_us
        self.thread = thread
        self.input_shapes = input_shapes or []
        self.cpu_memory_usage = memory
        self.is_user_annotation = user_annotation
        self.cpu_children: list[FunctionEvent] = []
        self.cpu_parent: FunctionEvent | None = None
        self.id = 0

    key = property(lambda self: self.name)
    count = property(lambda self: 1)
    cpu_time_total = property(lambda self: self.end_us - self.start_us)
    cpu_time = cpu_time_total
    self_cpu_time_total = property(
        lambda self: self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children))
    self_cpu_memory_usage = property(
        lambda self: self.cpu_memory_usage - sum(c.cpu_memory_usage for c in self.cpu_children))
    # no device is timed (see the module's note)
    device_time_total = cuda_time_total = self_device_time_total = \
        self_cuda_time_total = property(lambda self: 0.0)

    def __repr__(self) -> str:
        return (f"<FunctionEvent {self.name} cpu_time={_format_time(self.cpu_time_total)} "
                f"self={_format_time(self.self_cpu_time_total)}>")


class FunctionEventAvg:
    """Events of one name (and input shapes, when grouped by them) added up."""

    def __init__(self, key: str, input_shapes: list | None = None) -> None:
        self.key = key
        self.input_shapes = input_shapes or []
        self.count = 0
        self.flops = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.is_user_annotation = False
        self.device_time_total = self.cuda_time_total = 0.0
        self.self_device_time_total = self.self_cuda_time_total = 0.0

    def add(self, event) -> FunctionEventAvg:
        self.count += event.count
        self.flops += event.flops
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        self.cpu_memory_usage += event.cpu_memory_usage
        self.self_cpu_memory_usage += event.self_cpu_memory_usage
        self.is_user_annotation = self.is_user_annotation or event.is_user_annotation
        return self

    @property
    def cpu_time(self) -> float:
        """Mean time per call (µs)."""
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} count={self.count} "
                f"cpu_time_total={_format_time(self.cpu_time_total)}>")


_SORT_KEYS = ("cpu_time", "cuda_time", "device_time", "cpu_time_total", "cuda_time_total",
              "device_time_total", "self_cpu_time_total", "self_cuda_time_total",
              "self_device_time_total", "cpu_memory_usage", "cuda_memory_usage",
              "self_cpu_memory_usage", "self_cuda_memory_usage", "count", "flops")


class EventList(list):
    """A list of events (FunctionEvent, or FunctionEventAvg from ``key_averages``)."""

    def __init__(self, events=(), profile_memory: bool = False, shapes: bool = False,
                 flops: bool = False) -> None:
        super().__init__(events)
        self._profile_memory = profile_memory
        self._shapes = shapes
        self._flops = flops

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        groups: dict = {}
        for event in self:
            shapes = event.input_shapes if group_by_input_shape else None
            key = (event.key, str(shapes) if group_by_input_shape else None)
            if key not in groups:
                groups[key] = FunctionEventAvg(event.key, shapes)
            groups[key].add(event)
        return EventList(groups.values(), self._profile_memory, group_by_input_shape,
                         self._flops)

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total")
        for event in self:
            total.add(event)
        return total

    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_src_column_width: int = 75, max_name_column_width: int = 55,
              max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        """PyTorch's table: Name, Self CPU %, Self CPU, CPU total %, CPU total, CPU time
        avg (and CPU Mem, Self CPU Mem with ``profile_memory``; Input Shapes when grouped
        by them), # of Calls; the rows sorted by ``sort_by`` (largest first)."""
        rows = list(self)
        if top_level_events_only:
            rows = [e for e in rows if getattr(e, "cpu_parent", None) is None]
        if sort_by is not None:
            if sort_by not in _SORT_KEYS:
                raise ValueError(f"EventList.table: sort_by={sort_by!r} is not one of "
                                 f"{', '.join(_SORT_KEYS)}")
            attribute = sort_by.replace("cuda", "device")
            if attribute not in ("device_memory_usage", "self_device_memory_usage"):
                # (no device memory is profiled: those keys keep the order as it is)
                rows.sort(key=lambda e: getattr(e, attribute), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        total_self = sum(e.self_cpu_time_total for e in self) or 1.0
        name_width = max([len("Name")] + [min(len(e.key), max_name_column_width)
                                          for e in rows]) + 2
        columns = [("Self CPU %", lambda e: f"{100 * e.self_cpu_time_total / total_self:.2f}%"),
                   ("Self CPU", lambda e: _format_time(e.self_cpu_time_total)),
                   ("CPU total %", lambda e: f"{100 * e.cpu_time_total / total_self:.2f}%"),
                   ("CPU total", lambda e: _format_time(e.cpu_time_total)),
                   ("CPU time avg", lambda e: _format_time(e.cpu_time_total / max(e.count, 1)))]
        if self._profile_memory:
            columns += [("CPU Mem", lambda e: _format_memory(e.cpu_memory_usage)),
                        ("Self CPU Mem", lambda e: _format_memory(e.self_cpu_memory_usage))]
        if self._flops:
            columns.append(("Total FLOPs", lambda e: f"{e.flops:,}" if e.flops else "--"))
        columns.append(("# of Calls", lambda e: str(e.count)))
        if self._shapes:
            columns.append(("Input Shapes",
                            lambda e: str(e.input_shapes)[:max_shapes_column_width]))
        widths = [max(len(title), 12) + 2 for title, _ in columns]
        rule = "-" * name_width + "  " + "  ".join("-" * w for w in widths)

        def line(name: str, cells: list) -> str:
            return f"{name:>{name_width}}  " + "  ".join(
                f"{c:>{w}}" for c, w in zip(cells, widths))

        out = [header] if header else []
        out += [rule, line("Name", [t for t, _ in columns]), rule]
        for e in rows:
            name = e.key if len(e.key) <= max_name_column_width else \
                e.key[:max_name_column_width - 3] + "..."
            out.append(line(name, [fmt(e) for _, fmt in columns]))
        out += [rule, f"Self CPU time total: {_format_time(sum(e.self_cpu_time_total for e in self))}"]
        return "\n".join(out) + "\n"

    def __str__(self) -> str:
        return self.table()

    def export_chrome_trace(self, path: str | os.PathLike) -> None:
        _write_trace(path, [e for e in self if isinstance(e, FunctionEvent)])


def _trace_json(events: list) -> str:
    pid = os.getpid()
    trace = [{"name": e.name, "ph": "X", "ts": e.start_us, "dur": e.cpu_time_total,
              "pid": pid, "tid": e.thread,
              "cat": "user_annotation" if e.is_user_annotation else "cpu_op",
              "args": {"Input Dims": e.input_shapes} if e.input_shapes else {}}
             for e in events]
    return json.dumps({"traceEvents": trace, "displayTimeUnit": "ms"})


def _write_trace(path, events: list) -> None:
    """The Chrome trace-event JSON of ``events``, written atomically (gzip for .gz)."""
    text = _trace_json(events).encode()
    if str(path).endswith(".gz"):
        text = gzip.compress(text)
    with atomic_write(path, "wb") as f:
        f.write(text)


def tensorboard_trace_handler(dir_name: str | os.PathLike, worker_name: str | None = None,
                              use_gzip: bool = False) -> Callable:
    """An ``on_trace_ready`` that writes each finished cycle's trace into ``dir_name`` as
    ``<worker>.<time in ns>.pt.trace.json[.gz]`` (TensorBoard's profiler plugin and
    Perfetto read them)."""
    worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"

    def handler(prof: profile) -> None:
        os.makedirs(dir_name, exist_ok=True)
        name = f"{worker}.{time.time_ns()}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, name))

    return handler


# ---------------------------------------------------------------------------
# recording
# ---------------------------------------------------------------------------
class _Recorder:
    """Collects events of one profiler; ``last`` is where the next op's time starts."""

    def __init__(self, origin: float, shapes: bool, memory: bool, flops: bool = False) -> None:
        self.origin = origin
        self.shapes = shapes
        self.memory = memory
        self.flops = flops
        self.events: list[FunctionEvent] = []
        self.last = time.perf_counter()
        self.thread = threading.get_ident()

    def now_us(self, t: float) -> float:
        return (t - self.origin) * 1e6

    def mark(self) -> float:
        """A boundary: the next op's time starts here."""
        self.last = t = time.perf_counter()
        return t

    def add(self, name: str, start: float, end: float, shapes=None, memory: int = 0,
            user: bool = False, flops: int = 0) -> FunctionEvent:
        event = FunctionEvent(name, self.now_us(start), self.now_us(end), self.thread,
                              shapes if self.shapes else None,
                              memory if self.memory else 0, user, flops if self.flops else 0)
        self.events.append(event)
        return event

    def forward(self, t, parents) -> None:
        if _autograd._watchers.end_of_backward is not None:
            return  # an op a backward rule runs: part of the rule's time
        start, end = self.last, time.perf_counter()
        self.last = end
        shapes = [list(getattr(p, "shape", ())) for p in parents] \
            if self.shapes or self.flops else None
        name = t._op.name
        flops = _matmul_flops(name, shapes, t) if self.flops else 0
        self.add(name, start, end, shapes, getattr(t.array, "nbytes", 0), flops=flops)

    def backward(self, node, g, grads) -> None:
        start, end = self.last, time.perf_counter()
        self.last = end
        if not grads and node._vjp is None:
            self.add("AccumulateGrad", start, end)
            return
        op = node._op
        name = getattr(op, "grad_name", None) or f"{op}Backward0"  # as grad_fn.name()
        self.add(name, start, end, [list(getattr(g, "shape", ()))] if self.shapes else None)


def _matmul_flops(name: str, shapes: list, out) -> int:
    """2·(output elements)·(inner size) for the products (linear, matmul and their fused
    forms), as PyTorch's ``with_flops`` counts them; 0 for other ops (not estimated)."""
    if name not in ("linear", "linear_relu", "matmul", "mm", "bmm", "addmm") or not shapes:
        return 0
    first = [s for s in shapes if s]
    if not first:
        return 0
    inner = first[0][-1]
    return 2 * int(getattr(out.array, "size", 0)) * int(inner)


# the recorders now recording, innermost last (profiles may nest: each records)
_active: list = []


def _span_begin() -> list | None:
    """The recorders of this thread that see the span open, each with its start."""
    if not _active:
        return None
    me = threading.get_ident()
    return [(recorder, recorder.mark()) for recorder in _active if recorder.thread == me]


def _span_end(name: str, opened: list | None, user: bool = True) -> None:
    for recorder, start in opened or ():
        if recorder in _active:
            recorder.add(name, start, recorder.mark(), user=user)


class record_function:
    """A named span in the profile (PyTorch's ``record_function``): a context manager or
    a decorator. Outside a profiler it costs one test."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self.args = args
        self._start: list | None = None

    def __enter__(self) -> Self:
        self._start = _span_begin()
        return self

    def __exit__(self, *exc) -> bool:
        _span_end(self.name, self._start)
        self._start = None
        return False

    def __call__(self, fn: Callable) -> Callable:
        import functools

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)
        return wrapped


_open_steps: dict = {}  # id(optimizer) -> its step's span, while the step runs


def _optimizer_pre(optimizer, args, kwargs) -> None:
    _open_steps[id(optimizer)] = _span_begin()


def _optimizer_post(optimizer, args, kwargs) -> None:
    name = type(optimizer).__name__
    _span_end(f"Optimizer.step#{name}.step", _open_steps.pop(id(optimizer), None), user=False)


class profile:
    """Record what the program does between ``start()`` and ``stop()`` (a ``with``
    block); see the module for what is recorded and how ops are timed.

    Args (PyTorch's): ``activities`` (CPU; CUDA is accepted, see the module),
    ``schedule`` (``profiler.schedule``; with it only the active steps are recorded and
    ``prof.step()`` moves on), ``on_trace_ready`` (called with the profiler when a cycle,
    or the whole run without a schedule, is finished), ``record_shapes`` (input shapes
    of each op), ``profile_memory`` (bytes of each op's result), ``with_flops`` (of the
    products). ``with_stack``, ``with_modules``, ``experimental_config``,
    ``execution_trace_observer``, ``acc_events`` and ``use_cuda`` are accepted and add
    nothing."""

    def __init__(self, *, activities=None, schedule: Callable | None = None,
                 on_trace_ready: Callable | None = None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False,
                 with_flops: bool = False, with_modules: bool = False,
                 experimental_config: Any = None, execution_trace_observer: Any = None,
                 acc_events: bool = False, use_cuda: bool | None = None,
                 enabled: bool = True) -> None:
        for activity in activities or ():
            if not isinstance(activity, ProfilerActivity):
                raise TypeError(f"profile: activities must be ProfilerActivity values, got "
                                f"{activity!r}")
        if schedule is not None and not callable(schedule):
            raise TypeError(f"profile: schedule must be callable (profiler.schedule(...)), "
                            f"got {type(schedule).__name__}")
        if on_trace_ready is not None and not callable(on_trace_ready):
            raise TypeError(f"profile: on_trace_ready must be callable, got "
                            f"{type(on_trace_ready).__name__}")
        self.activities = set(activities or supported_activities())
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.record_shapes = bool(record_shapes)
        self.profile_memory = bool(profile_memory)
        self.with_flops = bool(with_flops)
        self.enabled = bool(enabled)
        self.step_num = 0
        self.current_action = ProfilerAction.RECORD
        self._recorder: _Recorder | None = None
        self._finished: list[FunctionEvent] = []
        self._running = False
        self._saved: tuple | None = None
        self._origin = 0.0

    # -- start and stop -----------------------------------------------------------
    def start(self) -> None:
        if not self.enabled:
            return
        if self._running:
            raise RuntimeError("profile.start: the profiler is already running")
        from .optim import optimizer as _loaded  # noqa: F401 - loaded before the clock starts

        self._running = True
        self._origin = time.perf_counter()
        self.step_num = 0
        self.current_action = self.schedule(0) if self.schedule else ProfilerAction.RECORD
        if self._recording(self.current_action):
            self._begin_recording()

    def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        if self._recorder is not None:
            self._end_recording()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc) -> bool:
        self.stop()
        return False

    def step(self) -> None:
        """One training step done: with a schedule, record or not the next one (and hand
        a finished cycle to ``on_trace_ready``)."""
        if not self._running:
            return
        self.step_num += 1
        if self.schedule is None:
            if self._recorder is not None:
                self._recorder.mark()
            return
        previous, self.current_action = self.current_action, self.schedule(self.step_num)
        if previous == ProfilerAction.RECORD_AND_SAVE:
            self._end_recording()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
        if self._recording(self.current_action) and self._recorder is None:
            self._begin_recording()
        elif not self._recording(self.current_action) and self._recorder is not None:
            self._end_recording()  # a schedule that stops recording without saving
        elif self._recorder is not None:
            self._recorder.mark()

    @staticmethod
    def _recording(action: ProfilerAction) -> bool:
        return action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)

    def _begin_recording(self) -> None:
        from .optim.optimizer import Optimizer

        recorder = _Recorder(self._origin, self.record_shapes, self.profile_memory,
                             self.with_flops)
        previous_check = _t._mode.forward_check

        def check(t, parents) -> None:
            recorder.forward(t, parents)
            if previous_check is not None:
                previous_check(t, parents)

        self._saved = (_t._set_forward_check(check), recorder.backward)
        _autograd._watchers.fns = _autograd._watchers.fns + (recorder.backward,)
        Optimizer._global_step_hooks = (_optimizer_pre, _optimizer_post)
        self._recorder = recorder
        _active.append(recorder)

    def _end_recording(self) -> None:
        from .optim.optimizer import Optimizer

        previous_check, watcher = self._saved
        _t._set_forward_check(previous_check)
        _autograd._watchers.fns = tuple(fn for fn in _autograd._watchers.fns if fn != watcher)
        _active.remove(self._recorder)
        if not _active:
            Optimizer._global_step_hooks = None
        self._finished = _nest(self._recorder.events)
        self._recorder = None

    # -- results ------------------------------------------------------------------
    def events(self) -> EventList:
        """The events of the last recorded run or cycle, in the order they ended."""
        return EventList(self._finished, self.profile_memory, False, self.with_flops)

    def key_averages(self, group_by_input_shape: bool = False,
                     group_by_stack_n: int = 0) -> EventList:
        """The events added up by name (and input shapes): what ``table`` prints."""
        # (without record_shapes every event has no shapes: one row per name, as PyTorch)
        return self.events().key_averages(group_by_input_shape)

    def table(self, *args, **kwargs) -> str:
        return self.key_averages().table(*args, **kwargs)

    def export_chrome_trace(self, path: str | os.PathLike) -> None:
        """The events as a Chrome trace-event JSON file (chrome://tracing, Perfetto),
        written atomically."""
        _write_trace(path, self._finished)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        raise NotImplementedError("profile.export_stacks: chainrule's profiler records no "
                                  "Python stacks; use export_chrome_trace")

    def __str__(self) -> str:
        return self.table()


def _nest(events: list[FunctionEvent]) -> list[FunctionEvent]:
    """Link each event to the innermost span that contains it (for self times)."""
    ordered = sorted(events, key=lambda e: (e.start_us, -e.end_us))
    stack: list[FunctionEvent] = []
    for number, event in enumerate(ordered):
        event.id = number
        while stack and stack[-1].end_us <= event.start_us:
            stack.pop()
        while stack and event.end_us > stack[-1].end_us:  # not inside: an op that began
            stack.pop()                                  # before the span (see the note)
        if stack:
            event.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(event)
        stack.append(event)
    for event in reversed(ordered):  # a span's memory is what the ops inside it made
        if event.cpu_parent is not None:
            event.cpu_parent.cpu_memory_usage += event.cpu_memory_usage
    return ordered
