"""Tensor: an array on the computation graph.

A Tensor *is* a graph node (as in micrograd): besides its value it remembers the
op that made it, its parents and the vector-Jacobian product (VJP) rule that sends
an adjoint back to them. Keeping node and value in one lean ``__slots__`` object
is what keeps the per-op cost low. The building blocks themselves live in
``chainrule.ops``; this file only knows how to *record* one.
"""

from __future__ import annotations

import contextlib
import numbers
import threading
import weakref

import numpy as np

from . import backend

# ---------------------------------------------------------------------------
# dtypes
# ---------------------------------------------------------------------------
float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

_default_dtype = float32

_TYPE_NAMES = {float32: "torch.FloatTensor", float64: "torch.DoubleTensor",
               float16: "torch.HalfTensor", int64: "torch.LongTensor", int32: "torch.IntTensor",
               int16: "torch.ShortTensor", int8: "torch.CharTensor", uint8: "torch.ByteTensor",
               bool_: "torch.BoolTensor"}
_TYPE_NAMES_INVERSE = {v: k for k, v in _TYPE_NAMES.items()}


class device(str):
    """PyTorch's ``torch.device``: ``device("cpu")``, ``device("cuda", 0)``,
    ``device("cuda:0")``. A ``str`` subclass, so it compares equal to ``"cpu"``."""

    def __new__(cls, type: str, index: int | None = None):
        if isinstance(type, device):
            return type
        text = str(type)
        kind, _, idx = text.partition(":")
        if kind not in ("cpu", "cuda", "mps", "meta", "xpu"):
            raise RuntimeError(f"device: expected one of cpu, cuda, mps, xpu, meta device "
                               f"type at start of device string: {text!r}")
        if index is not None:
            idx = str(index)
        self = str.__new__(cls, f"{kind}:{idx}" if idx else kind)
        self._kind, self._index = kind, (int(idx) if idx else None)
        return self

    @property
    def type(self) -> str:
        return self._kind

    @property
    def index(self) -> int | None:
        return self._index

    def __repr__(self) -> str:
        extra = "" if self._index is None else f", index={self._index}"
        return f"device(type={self._kind!r}{extra})"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = str(other)
            return str.__eq__(self, other) or (self._index is None and other == self._kind) \
                or (self._kind == "cpu" and other in ("cpu", "cpu:0"))
        return NotImplemented

    __hash__ = str.__hash__


def set_default_dtype(dtype) -> None:
    """Set the floating dtype used for Python numbers and lists (float32 or float64)."""
    global _default_dtype
    dt = as_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dt}")
    _default_dtype = dt


def get_default_dtype() -> np.dtype:
    return _default_dtype


def as_dtype(dtype) -> np.dtype:
    """Accept 'float64', np.float64, cr.float64 or a NumPy dtype."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}") from None
    if dt.kind == "c":
        raise TypeError(complex_refusal(f"dtype {dt}"))
    return dt


def complex_refusal(what: str) -> str:
    """The one message for complex numbers entering chainrule (which has none)."""
    return (f"{what}: complex tensors are not part of chainrule (no complex dtypes, "
            "torch.complex, view_as_real, fft or complex autograd; see docs/pytorch.md); "
            "keep real and imaginary parts as two real tensors")


# ---------------------------------------------------------------------------
# grad mode and hooks: per thread, as PyTorch's (one thread's no_grad never stops another
# thread's recording). Read on every op: one attribute of a threading.local.
# ---------------------------------------------------------------------------
class _Mode(threading.local):
    grad = True             # are ops recorded?
    forward_check = None    # set by detect_anomaly and the profiler: called with each
                            # freshly recorded Tensor and the op's inputs
    plain = True            # grad and no forward_check: record()'s fast path (kept in step
                            # by set_grad_mode and _set_forward_check)


_mode = _Mode()

# The global in-place mutation counter (see Tensor._version), and the stamp of the last
# in-place change of each memory buffer, by id of the array that owns the memory. An
# entry lives exactly as long as its buffer (a weak reference removes it), so the check
# never forgets a change and the table never outgrows the live arrays.
_mutation_stamp = 0
_last_rebase = 0  # stamp of the last in-place op recorded on the graph (Tensor._rebase)
_buffer_stamps: dict[int, tuple] = {}
_stamp_lock = threading.Lock()


def _root_buffer(array):
    """The array that owns the memory ``array`` looks at (itself unless it is a view)."""
    base = getattr(array, "base", None)
    while base is not None:
        array, base = base, getattr(base, "base", None)
    return array


def _stamp_buffer(array, stamp: int) -> None:
    root = _root_buffer(array)
    key = id(root)
    entry = _buffer_stamps.get(key)
    if entry is not None and entry[1]() is root:  # known buffer (an optimizer's parameter)
        entry[0] = stamp
        return
    try:
        ref = weakref.ref(root, lambda _r, key=key: _buffer_stamps.pop(key, None))
    except TypeError:  # a NumPy scalar: no other tensor can look at its memory
        return
    _buffer_stamps[key] = [stamp, ref]


def _buffer_stamp(array) -> int:
    entry = _buffer_stamps.get(id(_root_buffer(array)))
    return 0 if entry is None else entry[0]


def is_grad_enabled() -> bool:
    return _mode.grad


def set_grad_mode(mode: bool) -> bool:
    """Set this thread's grad mode; returns the previous one. The package's plain-function
    form of ``cr.set_grad_enabled`` (which is a context manager), for try/finally blocks."""
    previous = _mode.grad
    _mode.grad = bool(mode)
    _mode.plain = _mode.grad and _mode.forward_check is None
    return previous


def _set_forward_check(fn):
    previous = _mode.forward_check
    _mode.forward_check = fn
    _mode.plain = _mode.grad and fn is None
    return previous


@contextlib.contextmanager
def no_grad_scope():
    """Ops inside are not recorded (this thread only); the internal form of cr.no_grad."""
    previous = set_grad_mode(False)
    try:
        yield
    finally:
        set_grad_mode(previous)


class Size(tuple):
    """A tensor's shape, as PyTorch's ``torch.Size``: a tuple of ints with ``numel()``."""

    __slots__ = ()

    def numel(self) -> int:
        n = 1
        for d in self:
            n *= d
        return n

    def __repr__(self) -> str:
        return f"Size({list(self)})"

    def __getitem__(self, index):
        out = tuple.__getitem__(self, index)
        return Size(out) if isinstance(index, slice) else out

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))


class _SizeMethod:
    """``x.size``: callable as PyTorch's method; any use as the NumPy-style element count
    (``x.size == 1``, ``x.size > n``, ``range(x.size)``) raises a TypeError that says so."""

    __slots__ = ("_tensor",)

    def __init__(self, tensor):
        self._tensor = tensor

    def __call__(self, dim: int | None = None):
        shape = self._tensor.array.shape
        if dim is None:
            return Size(shape)
        try:
            return shape[dim]
        except (IndexError, TypeError):
            raise IndexError(f"size: dimension {dim!r} is out of range for a tensor of shape "
                             f"{tuple(shape)} ({len(shape)} dims)") from None

    def _misuse(self, *_args):
        raise TypeError("Tensor.size is a method, as in PyTorch: x.size() is the shape, "
                        "x.size(dim) one dimension and x.numel() the element count")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _misuse
    __int__ = __index__ = __float__ = __bool__ = _misuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _misuse
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = _misuse
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<method size of tensor of shape {tuple(self._tensor.array.shape)}>"


def _released_vjp(*_args):
    raise RuntimeError(
        "backward: trying to backward through the graph a second time (or to read "
        "saved values after they were freed). Pass retain_graph=True to the first "
        "backward() call if you need to backward through the graph again."
    )


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    >>> import chainrule as cr
    >>> x = cr.tensor(3.0, requires_grad=True)
    >>> y = x * x + 2 * x
    >>> y.backward()
    >>> x.grad.item()
    8.0
    """

    __slots__ = (  # noqa: RUF023 - in reading order, not alphabetical
        "array",  # the value: a NumPy (or CuPy) array or scalar (PyTorch's .data is a Tensor)
        "grad",  # adjoint accumulated by backward(): a Tensor or None
        "requires_grad",
        "name",  # optional label shown in graphs and explanations
        "_op",  # the building block (registry Op) that produced this value ("" for leaves)
        "_parents",  # tuple of input Tensors (empty for leaves)
        "_vjp",  # rule (F, g, ans, ctx, *inputs) -> tuple of input adjoints; None for leaves
        "_ctx",  # extra values the rule needs (axis, index, mask, ...)
        "_ver",  # mutation stamp of the last in-place change (0: never changed); see _version
        "_saved_version",  # the global mutation stamp when this node was recorded
        "_adj",  # adjoint under construction during a backward pass
        "_retain",  # keep .grad on this non-leaf after backward
        "_rebased",  # (optional) ((stamp, former self), ...) of in-place ops recorded on the graph
        # Set only by the code that needs them, never on the hot path; read them with
        # getattr(t, "_module", None):
        "_view_of",  # the tensor a view by indexing was taken from, when not recorded
        "_module",  # path of the nn.Module whose forward() returned this tensor
        "_trace",  # (module path, source line) recorded under detect_anomaly
        "__weakref__",
    )

    # NumPy hands mixed expressions (np.float64(2) * t, array + t, np.exp(t)) to us: a
    # ufunc with a Tensor operand runs as the chainrule op of that name (on the graph).
    __array_priority__ = 1000

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from .ops.registry import EXPOSED

        name = _UFUNC_OPS.get(ufunc.__name__, ufunc.__name__)
        fn = EXPOSED.get(name)
        if method != "__call__" or kwargs or fn is None:
            raise TypeError(
                f"NumPy's {ufunc.__name__}{'' if method == '__call__' else '.' + method} on a "
                f"chainrule Tensor{' with ' + ', '.join(kwargs) if kwargs else ''}: use "
                f"cr.{name}(x) where chainrule has it, or x.numpy() for a plain array")
        return fn(*inputs)

    def __init__(self, data, dtype=None, requires_grad: bool = False, name: str | None = None):
        if isinstance(dtype, numbers.Integral) and not isinstance(dtype, bool) \
                and isinstance(data, numbers.Integral):
            # PyTorch's legacy Tensor(2, 3[, 4[, 5]]): a zero-filled float tensor of that shape
            dims = [data, dtype] + [v for v in (requires_grad, name) if isinstance(
                v, numbers.Integral) and not isinstance(v, bool)]
            _init_leaf(self, np.zeros(tuple(int(d) for d in dims), _default_dtype))
            return
        if dtype is None and (isinstance(data, (list, tuple)) or (
                isinstance(data, numbers.Number) and not isinstance(data, (bool, np.generic)))):
            dtype = _default_dtype  # PyTorch's legacy Tensor([1, 2]) is a float tensor
            # (NumPy arrays and scalars keep their dtype: the package builds tensors so)
        _init_leaf(self, _to_array(data, dtype))
        self.name = name
        if requires_grad:
            self.requires_grad_(True)

    # -- basic properties ---------------------------------------------------
    @property
    def data(self) -> Tensor:
        """PyTorch's ``.data``: a detached Tensor sharing this tensor's storage, so that
        ``p.data -= lr * p.grad`` or ``p.data.normal_(0, 0.02)`` changes ``p`` itself.
        The raw NumPy (or CuPy) array is ``.array``. Unlike PyTorch, a change made
        through ``.data`` is still seen by the version counter (backward refuses to use a
        saved value changed behind its back instead of silently returning wrong gradients).
        """
        array = self.array
        if isinstance(array, np.generic) or (
                isinstance(array, np.ndarray) and not array.flags.writeable):
            array = self._buffer()  # a writeable buffer both tensors share from now on
        return wrap(array)

    @data.setter
    def data(self, value) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(
                f"Tensor.data: assigned value must be a Tensor, got {type(value).__name__} "
                "(wrap it with cr.tensor(...), or set the raw array with .array)"
            )
        self.array = value.array

    @property
    def shape(self) -> tuple:
        return self.array.shape

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    @property
    def size(self):
        """PyTorch's ``x.size()`` (the shape, a ``Size``) and ``x.size(dim)``. The element
        count is ``x.numel()``; using ``x.size`` as a number raises instead of comparing a
        method with an int."""
        return _SizeMethod(self)

    @property
    def device(self) -> device:
        return device(backend.device_of(self.array))

    @property
    def is_leaf(self) -> bool:
        return self._vjp is None

    @property
    def op(self):
        """The building block that produced this tensor: its registry entry
        (``chainrule.ops.registry.Op``, which compares equal to its name), or '' for a leaf."""
        return self._op

    @property
    def grad_fn(self):
        """PyTorch's view of this node's backward function (None for a leaf): ``name()``
        gives e.g. ``MulBackward0``, ``next_functions`` the parents' ones."""
        if self._vjp is None:
            return None
        from .autograd import BackwardNode

        return BackwardNode(self)

    @property
    def parents(self) -> tuple:
        return self._parents

    def numel(self) -> int:
        return int(self.array.size)

    def dim(self) -> int:
        return self.array.ndim

    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def item(self):
        if self.array.size != 1:
            raise ValueError(
                f"item: only a tensor with one element can be converted to a Python "
                f"scalar, got shape {self.shape}"
            )
        return self.array.item()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as a NumPy array (sharing memory on the CPU). PyTorch refuses a tensor
        that requires grad unless ``force``; chainrule hands out the values either way."""
        # np.asarray: a 0-d op result holds a NumPy scalar; hand out an ndarray (as torch)
        return np.asarray(backend.to_numpy(self.array))

    def tolist(self):
        return backend.to_numpy(self.array).tolist()

    def __array__(self, dtype=None, copy=None):
        arr = np.asarray(backend.to_numpy(self.array))
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors can be used as an index, got {self.dtype}")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.array.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.array)

    __hash__ = object.__hash__

    def __iter__(self):
        if self.array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.array.shape[0]))

    # -- version counter ---------------------------------------------------------
    # Every in-place change stamps the tensor with a new value of one global counter.
    # A node remembers the counter at record time, so backward needs to look at its
    # inputs only when *some* in-place change happened since: one integer compare
    # per node on the common path, and no work at all in the forward pass.
    @property
    def _version(self) -> int:
        """Increases with every in-place change (as PyTorch's ``_version``), also one made
        through another tensor sharing the memory (a view, ``detach()``, ``.data``)."""
        return builtins_max(self._ver, _buffer_stamp(self.array))

    @_version.setter
    def _version(self, _value) -> None:
        global _mutation_stamp
        with _stamp_lock:
            _mutation_stamp += 1
            stamp = _mutation_stamp
        self._ver = stamp
        # Views (reshape, slices, .T) share their base's buffer but are other Tensors:
        # stamp the buffer too, so a change through one is seen by all (see changed_since).
        _stamp_buffer(self.array, stamp)

    def changed_since(self, stamp: int) -> bool:
        """Was this tensor, or any view sharing its buffer, changed in place after ``stamp``?"""
        return self._ver > stamp or _buffer_stamp(self.array) > stamp

    # -- graph plumbing -----------------------------------------------------
    def requires_grad_(self, flag: bool = True) -> Tensor:
        if flag and self.array.dtype.kind not in "fc":
            raise TypeError(
                f"requires_grad: only floating-point tensors can require gradients, "
                f"got dtype {self.array.dtype} (integer tensors hold class labels or indices)"
            )
        if not flag and self._vjp is not None:
            raise RuntimeError(
                "requires_grad_(False): this tensor was computed by an op on the graph; "
                "use .detach() instead"
            )
        self.requires_grad = bool(flag)
        return self

    def detach(self) -> Tensor:
        """A new leaf sharing this value (and memory: an in-place change of either shows in
        both, as PyTorch's), cut off from the graph."""
        array = self.array
        if isinstance(array, np.generic):  # an immutable NumPy scalar: a 0-d buffer to share
            array = self._buffer()
        t = wrap(array)
        t.name = self.name
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor off the graph in place: it becomes a leaf that does not require
        grad (as PyTorch's ``detach_``)."""
        self._op, self._parents, self._vjp, self._ctx = "", (), None, None
        self.requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep this non-leaf's adjoint in ``.grad`` after backward (as PyTorch)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: the tensor does not require grad")
        self._retain = True

    def backward(self, grad=None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs=None, *, gradient=None) -> None:
        """Backpropagate from this tensor: see ``chainrule.autograd.backward``
        (``gradient=`` is PyTorch's name for ``grad``)."""
        from .autograd import backward

        if gradient is not None:
            if grad is not None:
                raise TypeError("backward: give grad or gradient (the same thing), not both")
            grad = gradient
        backward(self, grad, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    def zero_grad_(self) -> None:
        self.grad = None

    def register_hook(self, hook):
        """Call ``hook(grad)`` when backward computes this tensor's gradient; a returned
        Tensor replaces the gradient. Returns a handle with ``remove()``."""
        from .autograd import register_hook

        return register_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` after each backward pass has added into ``self.grad`` (a
        leaf that requires grad); returns a handle with ``remove()``."""
        from .autograd import register_post_accumulate_grad_hook

        return register_post_accumulate_grad_hook(self, hook)

    # -- in-place changes (bump the version counter) -------------------------
    def _check_inplace(self, opname: str) -> None:
        if self.requires_grad and _mode.grad and self._vjp is None:
            raise RuntimeError(
                f"{opname}: a leaf tensor that requires grad cannot be changed in place "
                "(its .grad would not match its value); wrap it in `with cr.no_grad():` "
                "(as an optimizer step does) or use the out-of-place op"
            )

    def _on_graph(self, other=None) -> bool:
        """Must this in-place change be recorded (PyTorch: on a tensor that requires grad,
        or with an operand that does)?"""
        return _mode.grad and (self.requires_grad or (
            isinstance(other, Tensor) and other.requires_grad))

    def _rebase(self, opname: str, out_of_place, *args) -> Tensor:
        """``self <- out_of_place(self, *args)`` recorded on the graph, as PyTorch records
        an in-place op on a non-leaf: this object becomes the new node; its former self
        lives on as that node's input. Ops recorded earlier that used this tensor are
        refused at backward (the version counter), never given a wrong gradient."""
        self._check_inplace(opname)
        buffer = self._buffer() if not backend.is_device_array(self.array) else self.array
        base = None
        if getattr(buffer, "base", None) is not None:
            base = self._indexed_base(buffer)
            if base is None:
                # a view (x.view(...), x.t()) shares its memory with another tensor whose
                # node would not know of the change: its gradient would silently be wrong
                raise RuntimeError(
                    f"{opname}: in-place change, recorded for autograd, of a tensor that is "
                    f"a view of another tensor's memory (shape {self.shape}); chainrule "
                    "rewrites the base's graph for views made by indexing (h[0].relu_()), "
                    "not for this one. Use the out-of-place op (y = y.relu()), or assign "
                    "into the base tensor (h[0] = h[0].relu())")
            if base._vjp is None and base.requires_grad:
                raise RuntimeError(
                    f"{opname}: in-place change of a view of a leaf tensor that requires "
                    f"grad (shape {base.shape}); change the leaf under `with cr.no_grad():` "
                    "or use the out-of-place op")
        old = self._former_self()
        old.array = buffer.copy()  # the value before the change, for the rules that read it
        self._version += 1  # stamps the buffer: ops that saved it (or a view of it) will see
        new = out_of_place(old, *args)
        if new.array.shape != self.array.shape:
            raise RuntimeError(f"{opname}: the result has shape {new.shape} but the tensor "
                               f"changed in place has shape {self.shape} (an in-place op "
                               "cannot change the shape)")
        if new.array.dtype != buffer.dtype and new.array.dtype.kind == "f" \
                and buffer.dtype.kind in "biu":
            raise RuntimeError(f"{opname}: result type {new.dtype} can't be cast to the "
                               f"desired output type {old.dtype}")
        if base is None:
            buffer[...] = new.array  # views of this tensor see the new value, as in PyTorch
        else:
            # a view by indexing: write through the base, recorded there (base[i] = new),
            # and become base[i] again, read from the base's new node (PyTorch's
            # CopySlices); the memory is shared, so this tensor sees the new value
            index = self._ctx[1]
            base[index] = new
            new = base[index]
        self.requires_grad = new.requires_grad
        self._become(new, old)
        return self

    def _former_self(self) -> Tensor:
        """A copy of this node (same array, graph and name, no gradient): what ops recorded
        before an in-place change keep using."""
        old = _new(Tensor)
        for slot in _NODE_SLOTS:
            setattr(old, slot, getattr(self, slot))
        old.grad, old._adj, old._retain = None, None, False
        return old

    def _become(self, new: Tensor, old: Tensor) -> None:
        """Take ``new``'s place on the graph; ops recorded earlier keep using ``old``."""
        self._op, self._parents, self._vjp, self._ctx = new._op, new._parents, new._vjp, \
            new._ctx
        self._saved_version = new._saved_version
        self._remember(old)

    def _remember(self, old: Tensor) -> None:
        """Ops recorded before the change now stamped keep using ``old``: the engine
        resolves them to it through ``_rebased``."""
        global _last_rebase
        self._rebased = getattr(self, "_rebased", ()) + ((self._ver, old),)
        _last_rebase = builtins_max(_last_rebase, self._ver)

    def _indexed_base(self, buffer) -> Tensor | None:
        """The tensor this one was indexed from (``self = base[i]``, a view into base's
        memory), or None when ``self`` is another kind of view."""
        if self._op != "getitem":
            return None
        if len(self._parents) == 1:
            base = self._parents[0]
        else:  # indexed from a tensor off the graph (x = zeros(...); x[:, 0].copy_(w))
            base = getattr(self, "_view_of", None)
            if base is None:
                return None
        if isinstance(base.array, np.ndarray) and np.may_share_memory(buffer, base.array):
            return base
        return None

    def _reshape_inplace(self, opname: str, out_of_place) -> Tensor:
        """``self <- out_of_place(self)`` for an op that changes only the shape (``t_``,
        ``unsqueeze_``, ...): this object takes the new shape, a view of the same memory;
        on the graph it becomes the op's node and ops recorded earlier keep using its
        former self (as ``_rebase``)."""
        self._check_inplace(opname)
        old = self._former_self()
        self._version += 1
        new = out_of_place(old)
        self.array = new.array
        if new.requires_grad:
            self.requires_grad = True
            self._become(new, old)
        else:
            self._remember(old)
        return self

    def t_(self) -> Tensor:
        from .ops import tensor_api

        return self._reshape_inplace("t_", tensor_api.t)

    def transpose_(self, dim0: int, dim1: int) -> Tensor:
        from .ops import composite

        return self._reshape_inplace("transpose_",
                                     lambda x: composite.swapaxes(x, dim0, dim1))

    swapaxes_ = swapdims_ = transpose_

    def unsqueeze_(self, dim: int) -> Tensor:
        return self._reshape_inplace("unsqueeze_", lambda x: x.unsqueeze(dim))

    def squeeze_(self, dim=None) -> Tensor:
        return self._reshape_inplace("squeeze_",
                                     lambda x: x.squeeze() if dim is None else x.squeeze(dim))

    def _buffer(self):
        """``self.array`` as a writeable array: a 0-d value is an immutable NumPy scalar and
        a broadcast result a read-only view, so those are copied into a buffer first."""
        data = self.array
        if isinstance(data, np.generic) or not data.flags.writeable:
            data = self.array = np.array(data)
        return data

    def _assign(self, opname: str, value) -> Tensor:
        """Write `value` into this tensor's array in place and bump the version."""
        if self._on_graph(value):
            from .ops import primitives as P

            return self._rebase(opname, lambda old: P.add(P.mul(old, 0), value))
        self._check_inplace(opname)
        buffer = self._buffer()
        buffer[...] = value.array if isinstance(value, Tensor) else _fit_int(value, buffer.dtype)
        self._version += 1
        return self

    def zero_(self) -> Tensor:
        return self._assign("zero_", 0)

    def fill_(self, value) -> Tensor:
        return self._assign("fill_", value)

    def copy_(self, src, non_blocking: bool = False) -> Tensor:
        shape = src.shape if isinstance(src, Tensor) else np.shape(src)
        if tuple(shape) != self.shape:
            try:
                fits = np.broadcast_shapes(tuple(shape), self.shape) == self.shape
            except ValueError:
                fits = False
            if not fits:
                raise ValueError(f"copy_: cannot copy shape {tuple(shape)} into {self.shape}")
        if isinstance(src, Tensor) and not self._on_graph(src):
            src = src.array
        return self._assign("copy_", src)

    def _update(self, opname: str, ufunc, other, out_of_place=None) -> Tensor:
        """``self <- ufunc(self, other)`` in the same buffer (no allocation), version bumped;
        recorded on the graph instead where PyTorch would record it."""
        if out_of_place is not None and self._on_graph(other):
            return self._rebase(opname, out_of_place, other)
        self._check_inplace(opname)
        buffer = self._buffer()
        other = other.array if isinstance(other, Tensor) else _fit_int(other, buffer.dtype)
        try:
            ufunc(buffer, other, out=buffer)
        except (ValueError, TypeError) as e:
            raise type(e)(f"{opname}: cannot update a tensor of shape {self.shape} and dtype "
                          f"{self.dtype} in place with shape {np.shape(other)}: {e}") from None
        self._version += 1
        return self

    def add_(self, other, alpha=1.0) -> Tensor:
        return self._update("add_", np.add, other if alpha == 1 else _scaled(other, alpha),
                            _P().add)

    def sub_(self, other, alpha=1.0) -> Tensor:
        return self._update("sub_", np.subtract, other if alpha == 1 else _scaled(other, alpha),
                            _P().sub)

    def mul_(self, other) -> Tensor:
        return self._update("mul_", np.multiply, other, _P().mul)

    def div_(self, other, *, rounding_mode=None) -> Tensor:
        if rounding_mode is not None:
            return self._inplace("div_", "div", other, rounding_mode=rounding_mode)
        return self._update("div_", np.true_divide, other, _P().div)

    # ``w -= lr * w.grad`` under no_grad updates w itself; on a tensor on the graph,
    # ``out += residual`` is recorded in place as PyTorch does (see _rebase).
    def __iadd__(self, other):
        return self._update("+=", np.add, other, _P().add)

    def __isub__(self, other):
        return self._update("-=", np.subtract, other, _P().sub)

    def __imul__(self, other):
        return self._update("*=", np.multiply, other, _P().mul)

    def __itruediv__(self, other):
        return self._update("/=", np.true_divide, other, _P().div)

    def __ipow__(self, other):
        return self._inplace("**=", "pow", other)

    def __imod__(self, other):
        return self._inplace("%=", "remainder", other)

    def __ifloordiv__(self, other):
        return self._inplace("//=", "floor_divide", other)

    def __iand__(self, other):
        return self._inplace("&=", "bitwise_and", other)

    def __ior__(self, other):
        return self._inplace("|=", "bitwise_or", other)

    def __ixor__(self, other):
        return self._inplace("^=", "bitwise_xor", other)

    def __ilshift__(self, other):
        return self._inplace("<<=", "bitwise_left_shift", other)

    def __irshift__(self, other):
        return self._inplace(">>=", "bitwise_right_shift", other)

    def __imatmul__(self, other):
        return self._inplace("@=", "matmul", other)

    def _inplace(self, opname: str, function: str, *args, **kwargs) -> Tensor:
        """``self <- cr.<function>(self, *args)`` in place: recorded on the graph when
        PyTorch would record it, else written into this tensor's buffer."""
        from .ops.registry import EXPOSED

        fn = function if callable(function) else EXPOSED[function]
        if self._on_graph(args[0] if args else None) or builtins_any(
                isinstance(a, Tensor) and a.requires_grad and _mode.grad for a in args):
            return self._rebase(opname, lambda old: fn(old, *args, **kwargs))
        self._check_inplace(opname)
        with no_grad_scope():
            out = fn(self, *args, **kwargs)
        if out.shape != self.shape:
            raise RuntimeError(f"{opname}: the result has shape {out.shape} but the tensor "
                               f"changed in place has shape {self.shape}")
        if out.dtype != self.dtype and out.dtype.kind == "f" and self.dtype.kind in "biu":
            raise RuntimeError(f"{opname}: result type {out.dtype} can't be cast to the "
                               f"desired output type {self.dtype}")
        self._buffer()[...] = out.array
        self._version += 1
        return self

    def clamp_(self, min=None, max=None) -> Tensor:
        return self._inplace("clamp_", "clip", min, max)

    clip_ = clamp_

    def exponential_(self, lambd=1.0, generator=None) -> Tensor:
        from .random import numpy_generator

        return self._assign("exponential_", numpy_generator(generator).exponential(1.0 / lambd,
                                                                        self.shape))

    def cauchy_(self, median=0.0, sigma=1.0, generator=None) -> Tensor:
        """Values from the Cauchy distribution, median + sigma·tan(π(u − 1/2))."""
        from .random import numpy_generator

        if self.array.dtype.kind != "f":
            raise TypeError(f"cauchy_: expects a floating point tensor, got {self.array.dtype}")
        if not sigma > 0:
            raise ValueError(f"cauchy_: expects sigma > 0, got {sigma!r}")

        return self._assign("cauchy_", median + sigma * numpy_generator(generator)
                            .standard_cauchy(self.shape))

    def geometric_(self, p, generator=None) -> Tensor:
        """Trials until the first success (1, 2, ...) with success probability ``p``."""
        from .random import numpy_generator

        if not 0 < p <= 1:
            raise ValueError(f"geometric_: expected 0 < p <= 1, got {p!r}")
        return self._assign("geometric_", numpy_generator(generator).geometric(p, self.shape))

    def log_normal_(self, mean=1.0, std=2.0, generator=None) -> Tensor:
        from .random import numpy_generator

        return self._assign("log_normal_", numpy_generator(generator).lognormal(mean, std, self.shape))

    def random_(self, low=0, high=None, generator=None) -> Tensor:
        """Integers drawn uniformly from [low, high) (``random_(high)`` = [0, high))."""
        from .random import numpy_generator

        if high is None:
            if low == 0:
                raise ValueError("random_: give an upper bound, random_(high) or "
                                 "random_(low, high)")
            low, high = 0, low
        return self._assign("random_", numpy_generator(generator).integers(low, high, self.shape))

    def bernoulli_(self, p=0.5, generator=None) -> Tensor:
        from .random import numpy_generator

        probs = p.array if isinstance(p, Tensor) else p
        return self._assign("bernoulli_", numpy_generator(generator).random(self.shape) < probs)

    def uniform_(self, low=0.0, high=1.0, generator=None) -> Tensor:
        from .random import numpy_generator

        rng = numpy_generator(generator)
        return self._assign("uniform_", rng.uniform(low, high, self.shape))

    def normal_(self, mean=0.0, std=1.0, generator=None) -> Tensor:
        from .random import numpy_generator

        rng = numpy_generator(generator)
        return self._assign("normal_", rng.normal(mean, std, self.shape))

    def __setitem__(self, index, value) -> None:
        if self._on_graph(value):
            from .ops.tensor_api import index_put

            self._rebase("__setitem__", index_put, index, value)
            return
        self._check_inplace("__setitem__")
        index = _unwrap_index(index)
        buffer = self._buffer()
        buffer[index] = value.array if isinstance(value, Tensor) else _fit_int(value, buffer.dtype)
        self._version += 1

    # -- conversions ----------------------------------------------------------
    def astype(self, dtype) -> Tensor:
        from .ops import cast

        return cast(self, dtype)

    def to(self, *args, dtype=None, device=None, non_blocking: bool = False,
           copy: bool = False, memory_format=None) -> Tensor:
        """PyTorch's forms: ``t.to(dtype)``, ``t.to(device)``, ``t.to(device, dtype)``,
        ``t.to(other_tensor)``, ``t.to(dtype=..., device=...)``; also ``t.to("float64")``."""
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, str) and a.split(":")[0] in ("cpu", "cuda", "mps", "meta",
                                                            "xpu"):
                device = a
            elif a is not None:
                dtype = a
        if dtype is not None:
            try:
                as_dtype(dtype)
            except TypeError as e:
                if "complex" in str(e):
                    raise TypeError(f"to: {e}") from None
                raise TypeError(f"to: {dtype!r} is neither a dtype (cr.float32, cr.int64, ...) "
                                "nor a device chainrule has ('cpu', 'cuda')") from None
        out = self
        if device is not None:
            kind = str(device).split(":")[0]
            if kind not in ("cpu", "cuda"):
                raise RuntimeError(f"to: device {str(device)!r} is not available in chainrule "
                                   "(NumPy on the CPU, CuPy for 'cuda'); use 'cpu'")
            if kind != self.device.type:
                from .ops import to_device

                out = to_device(out, str(device))
        if dtype is not None and as_dtype(dtype) != out.dtype:
            out = out.astype(dtype)
        if copy and out is self:
            out = self.clone()
        return out

    def type(self, dtype=None):
        """``t.type()`` names the type (``'torch.FloatTensor'``); ``t.type(dtype)`` converts."""
        if dtype is None:
            return _TYPE_NAMES.get(self.dtype, f"torch.{self.dtype}Tensor")
        dtype = getattr(dtype, "dtype", dtype)  # cr.FloatTensor & co carry their dtype
        if isinstance(dtype, str) and dtype in _TYPE_NAMES_INVERSE:
            dtype = _TYPE_NAMES_INVERSE[dtype]
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def is_floating_point(self) -> bool:
        return self.array.dtype.kind == "f"

    def element_size(self) -> int:
        return self.array.dtype.itemsize

    def nelement(self) -> int:
        return int(self.array.size)

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def half(self) -> Tensor:
        return self.to(float16)

    def bfloat16(self) -> Tensor:
        return self.to(float32)  # NumPy has no bfloat16: stored as float32 (docs/pytorch.md)

    def long(self) -> Tensor:
        return self.to(int64)

    def int(self) -> Tensor:
        return self.to(int32)

    def short(self) -> Tensor:
        return self.to(int16)

    def byte(self) -> Tensor:
        return self.to(uint8)

    def char(self) -> Tensor:
        return self.to(int8)

    def bool(self) -> Tensor:
        return self.to(bool_)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device=None, non_blocking: bool = False) -> Tensor:
        return self.to("cuda" if device is None else device)

    # -- display ----------------------------------------------------------------
    def __repr__(self) -> str:
        opts = _print_options
        body = np.array2string(
            backend.to_numpy(self.array), separator=", ", precision=opts["precision"],
            threshold=opts["threshold"], edgeitems=opts["edgeitems"],
            max_line_width=opts["linewidth"], prefix="tensor(",
            suppress_small=opts["sci_mode"] is False,
        )
        extras = []
        if self.array.dtype != _default_dtype:
            extras.append(f"dtype={self.array.dtype}")
        if self.name:
            extras.append(f"name={self.name!r}")
        if self._vjp is not None:
            extras.append(f"op={self._op}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.device != "cpu":
            extras.append(f"device={self.device!r}")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __str__(self) -> str:
        return self.__repr__()

    def __format__(self, spec: str) -> str:
        if spec and self.array.size == 1:
            return format(self.item(), spec)
        return str(self)


# ---------------------------------------------------------------------------
# Recording a node: the one function every building block calls
# ---------------------------------------------------------------------------
_new = Tensor.__new__


# NumPy ufunc names whose chainrule op has another name
_UFUNC_OPS = {"subtract": "sub", "multiply": "mul", "true_divide": "div", "divide": "div",
              "power": "pow", "negative": "neg", "absolute": "abs", "arctan": "atan",
              "arcsin": "asin", "arccos": "acos", "arcsinh": "asinh", "arctanh": "atanh",
              "equal": "eq", "not_equal": "ne", "less": "lt", "less_equal": "le",
              "greater": "gt", "greater_equal": "ge", "invert": "bitwise_not",
              "left_shift": "bitwise_left_shift", "right_shift": "bitwise_right_shift",
              "floor_divide": "floor_divide", "remainder": "remainder", "mod": "remainder",
              "rint": "round"}

_print_options = {"precision": 4, "threshold": 20, "edgeitems": 3, "linewidth": 80,
                  "sci_mode": None}


def set_printoptions(precision: int | None = None, threshold: int | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """How tensors print, as torch.set_printoptions (``profile``: 'default', 'short',
    'full')."""
    if profile is not None:
        presets = {"default": (4, 20, 3, 80), "short": (2, 1000, 2, 80),
                   "full": (4, 2 ** 31 - 1, 3, 80)}
        if profile not in presets:
            raise ValueError(f"set_printoptions: unknown profile {profile!r} (expected "
                             "'default', 'short' or 'full')")
        p = presets[profile]
        _print_options.update(precision=p[0], threshold=p[1], edgeitems=p[2], linewidth=p[3])
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            _print_options[key] = int(value)
    if sci_mode is not None:
        _print_options["sci_mode"] = bool(sci_mode)


_NODE_SLOTS = ("array", "grad", "requires_grad", "name", "_op", "_parents", "_vjp", "_ctx",
               "_ver", "_saved_version", "_adj", "_retain")
builtins_any = any
builtins_max = max


_primitives = None


def _P():
    """chainrule.ops.primitives (imported on first use: ops imports this module)."""
    global _primitives
    if _primitives is None:
        from .ops import primitives

        _primitives = primitives
    return _primitives


def _init_leaf(t: Tensor, data) -> None:
    t.array = data
    t.grad = None
    t.requires_grad = False
    t.name = None
    t._op = ""
    t._parents = ()
    t._vjp = None
    t._ctx = None
    t._ver = 0
    t._saved_version = 0
    t._adj = None
    t._retain = False


def wrap(data) -> Tensor:
    """A leaf Tensor around ``data`` as it is (no copy, no conversion): the package's way
    to hand out an array it made (``cr.tensor`` copies and converts user data)."""
    t = _new(Tensor)
    _init_leaf(t, data)
    return t


def record(data, op, parents: tuple, ctx=None) -> Tensor:
    """Wrap an op's output value and, when any input requires grad, link it into the graph.

    ``op`` is the building block's registry entry (``chainrule.ops.registry.Op``); its VJP
    rule is what backward will call. ``ctx`` holds the extra values the rule needs.
    """
    t = _new(Tensor)
    t.array = data
    t.grad = None
    t.name = None
    t._op = op
    t._ctx = ctx
    t._ver = 0
    t._adj = None
    t._retain = False
    t._saved_version = _mutation_stamp
    if _mode.plain:  # recording, nothing watching: the common case, one flag read
        for p in parents:
            if p.requires_grad:
                t.requires_grad = True
                t._parents = parents
                t._vjp = op.vjp
                return t
        t.requires_grad = False
        t._parents = ()
        t._vjp = None
        return t
    return _record_slow(t, op, parents)


def _record_slow(t: Tensor, op, parents: tuple) -> Tensor:
    """``record`` under no_grad or with a forward check installed (detect_anomaly)."""
    t.requires_grad = False
    t._parents = ()
    t._vjp = None
    if _mode.grad:
        for p in parents:
            if p.requires_grad:
                t.requires_grad = True
                t._parents = parents
                t._vjp = op.vjp
                break
    if _mode.forward_check is not None:
        _mode.forward_check(t, parents)
    return t


# ---------------------------------------------------------------------------
# Conversions
# ---------------------------------------------------------------------------
def _to_array(data, dtype=None):
    """Turn user data into an array of the right dtype (float32 by default)."""
    if isinstance(data, Tensor):
        data = data.array
    dt = None if dtype is None else as_dtype(dtype)
    if backend.is_device_array(data):
        return data if dt is None else data.astype(dt)
    if isinstance(data, (np.ndarray, np.generic)):
        arr = np.array(data, dtype=dt, copy=True)
    else:
        if isinstance(data, (str, bytes)) or data is None:
            raise TypeError(f"tensor: expected numbers, lists or arrays, got {type(data).__name__}")
        try:
            arr = np.array(data, dtype=dt)
        except (ValueError, TypeError) as e:
            raise TypeError(f"tensor: cannot convert {type(data).__name__} to a numeric array: {e}") \
                from None
        if dt is None and arr.dtype.kind == "f":
            arr = arr.astype(_default_dtype, copy=False)
    if arr.dtype.kind == "c":
        raise TypeError(complex_refusal(f"tensor: data of dtype {arr.dtype} "
                                        f"(from {type(data).__name__})"))
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"tensor: expected numeric data, got dtype {arr.dtype} "
            f"(from {type(data).__name__})"
        )
    # A 0-d value is held as a NumPy scalar, as op results are: arithmetic on scalars
    # costs ~60 ns, on 0-d arrays ~260 ns. In-place ops turn it back into a buffer.
    return arr[()] if arr.ndim == 0 else arr


def tensor(data, dtype=None, requires_grad: bool = False, name: str | None = None, *,
           device=None, pin_memory: bool = False) -> Tensor:
    """Create a leaf tensor from numbers, nested lists or NumPy arrays (the data is copied).

    Python floats become the default dtype (float32); NumPy float64 arrays stay float64.

    >>> import chainrule as cr
    >>> cr.tensor([[1, 2], [3, 4.5]]).dtype
    dtype('float32')
    """
    t = _new(Tensor)
    _init_leaf(t, _to_array(data, dtype))
    t.name = name
    if device is not None and str(device).split(":")[0] != "cpu":
        t.array = backend.to_device(t.array, str(device))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _wrapped_int(value: int, dtype: np.dtype):
    """A Python int outside an integer dtype's range, taken modulo 2**bits as PyTorch
    does (uint8 250 + 10 is 4); beyond int64 it is an error, as in PyTorch."""
    if not -2**63 <= value < 2**64:
        raise OverflowError(f"the Python int {value} does not fit in 64 bits (a tensor of "
                            f"dtype {dtype} meets it)")
    bits = dtype.itemsize * 8
    low = value % (1 << bits)
    if dtype.kind == "i" and low >= 1 << (bits - 1):
        low -= 1 << bits
    return dtype.type(low)


def _fit_int(value, dtype: np.dtype):
    """``value`` unchanged, except a Python int outside an integer dtype's range, which
    wraps (PyTorch's uint8 ``fill_(-1)`` is 255; NumPy would raise)."""
    if type(value) is int and dtype.kind in "iu":
        try:
            return dtype.type(value)
        except OverflowError:
            return _wrapped_int(value, dtype)
    return value


def as_tensor(value, like: Tensor | None = None) -> Tensor:
    """Wrap an operand that is not a Tensor as a constant leaf.

    Floating constants take the dtype of the tensor they meet (``like``), so that a
    float32 network stays float32 when multiplied by ``np.float64(0.5)``.
    """
    if isinstance(value, Tensor):
        return value
    if like is not None:
        ldt = like.array.dtype
        if isinstance(value, numbers.Number) and not isinstance(value, np.generic):
            if ldt.kind == "f" or isinstance(value, bool) or (
                    isinstance(value, int) and ldt.kind in "iu"):
                try:
                    data = ldt.type(value)
                except OverflowError:  # outside the integer dtype: wraps, as PyTorch's
                    data = _wrapped_int(value, ldt)
            else:
                data = _default_dtype.type(value) if isinstance(value, float) else \
                    np.asarray(value)[()]
        else:
            data = _to_array(value) if not isinstance(value, (np.ndarray, np.generic)) \
                else value
            if backend.is_device_array(like.array) and not backend.is_device_array(data):
                data = backend.to_device(np.asarray(data), like.device)
            if ldt.kind == "f" and data.dtype.kind in "biuf" and data.dtype != ldt:
                data = data.astype(ldt)
            elif isinstance(data, np.floating) and ldt.kind in "biu":
                data = _default_dtype.type(data)  # a NumPy float meets ints as a Python float
    else:
        data = _to_array(value)
    return wrap(data)


def _scaled(other, alpha):
    if isinstance(other, Tensor):
        return other * alpha if other.requires_grad and _mode.grad else other.array * alpha
    return other * alpha


def _unwrap_index(index):
    """Turn Tensors inside an index expression into arrays."""
    if isinstance(index, Tensor):
        return index.array
    if isinstance(index, tuple):
        return tuple(i.array if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        # PyTorch (and NumPy's old rule): a short list holding sequences, tensors, slices,
        # Ellipsis or None is a tuple of indices: x[[0, 1], [1, 2]] as x[[[0, 1], [1, 2]]]
        if len(index) < 32 and any(isinstance(i, (list, tuple, Tensor, np.ndarray, slice))
                                   or i is None or i is Ellipsis for i in index):
            return _unwrap_index(tuple(index))
        if not index:
            return np.zeros(0, dtype=np.int64)
        return np.asarray([i.array if isinstance(i, Tensor) else i for i in index])
    return index


# the generators' states (random.get_rng_state) are uint8 tensors, as PyTorch's
from . import random as _random  # (random sits below this module)

_random.state_tensor = Tensor
