"""The optimizer base class: parameter groups, per-parameter state, checkpoints.

An optimizer walks the parameters after ``loss.backward()`` and moves each one
against its gradient, θ ← θ − η ∂J/∂θ, possibly with state carried from step to
step (momentum, running averages). Subclasses implement ``_update(group)``; this
class owns everything else:

* ``param_groups``: a list of dicts, each with ``"params"`` (a list of Tensors) and
  that group's hyper-parameters (``lr``, ``momentum``, ...). A hyper-parameter set
  in a group overrides the optimizer's default for that group only.
* ``state``: per-parameter buffers, keyed by the parameter's *identity*
  (Tensors overload ``==`` elementwise, so they can never be compared as keys).
  ``opt.state[p]`` works as in PyTorch.
* ``state_dict()`` / ``load_state_dict()`` in PyTorch's layout (see
  :meth:`Optimizer.state_dict`).

Updates happen in place on ``p.array`` (the array the model and any later forward
pass share), under no grad, bumping ``p._version`` once per step so that a graph
recorded before the step and backpropagated after it is reported as stale. They
use ``out=`` ufuncs on preallocated state buffers and on a few scratch arrays
shared by all parameters of a dtype, so a training step allocates nothing here.
Gradient arrays are only read: they may be shared between tensors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

import numpy as np

from .. import backend
from .._tensor import Tensor, set_grad_mode, wrap

__all__ = ["Optimizer", "ParamState"]


class ParamState(MutableMapping):
    """``{parameter: {buffer name: value}}`` keyed by the parameter's identity.

    A plain dict keyed by Tensors would fall back on ``Tensor.__eq__`` (elementwise)
    on a hash collision; this mapping keys by ``id(p)`` and keeps ``p`` alive next to
    its state so the id stays valid. Iterating yields the parameters. As PyTorch's
    ``defaultdict(dict)``, reading the state of a new parameter gives (and stores) ``{}``.

    The optimizers keep their buffers as arrays (``raw(p)``, what the update loops read);
    ``state[p]`` shows them as Tensors sharing that memory, as PyTorch's state holds
    Tensors, so ``opt.state[p]["exp_avg"].norm()`` or ``...["momentum_buffer"].zero_()``
    work on the optimizer's own buffers.

    >>> import chainrule as cr
    >>> p = cr.zeros(2, requires_grad=True)
    >>> s = ParamState()
    >>> s[p] = {"step": 1, "buf": cr.ones(2)}
    >>> p in s, len(s), s[p]["step"], type(s[p]["buf"]).__name__, type(s.raw(p)["buf"])
    (True, 1, 1, 'Tensor', <class 'numpy.ndarray'>)
    """

    __slots__ = ("_d",)

    def __init__(self) -> None:
        self._d: dict[int, tuple[Tensor, dict]] = {}

    def raw(self, p: Tensor) -> dict:
        """The state of ``p`` with its buffers as arrays (created empty if absent)."""
        # as PyTorch's defaultdict(dict): a parameter without state gets an empty dict
        entry = self._d.get(id(p))
        if entry is None:
            entry = self._d[id(p)] = (p, {})
        return entry[1]

    def __getitem__(self, p: Tensor) -> _TensorView:
        return _TensorView(self.raw(p))

    def __setitem__(self, p: Tensor, value: dict) -> None:
        self._d[id(p)] = (p, {k: _unwrap(v) for k, v in dict(value).items()})

    def __delitem__(self, p: Tensor) -> None:
        del self._d[id(p)]

    def __contains__(self, p: object) -> bool:
        return id(p) in self._d

    def __iter__(self) -> Iterator[Tensor]:
        return (p for p, _ in list(self._d.values()))

    def __len__(self) -> int:
        return len(self._d)

    def clear(self) -> None:
        self._d.clear()

    def __repr__(self) -> str:
        return f"ParamState({len(self._d)} parameters)"


def _is_array(value) -> bool:
    return isinstance(value, np.ndarray) or backend.is_device_array(value)


def _unwrap(value):
    """What the state stores: the array of a Tensor (shared), lists element-wise."""
    if isinstance(value, Tensor):
        return value.array
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


class _TensorView(MutableMapping):
    """One parameter's state with its arrays shown as Tensors that share their memory
    (reads) and Tensors stored as their arrays (writes); other values pass through."""

    __slots__ = ("_raw",)

    def __init__(self, raw: dict) -> None:
        self._raw = raw

    def __getitem__(self, key):
        value = self._raw[key]
        if _is_array(value):
            return wrap(value)
        if isinstance(value, list) and value and all(_is_array(v) for v in value):
            return [wrap(v) for v in value]
        return value

    def __setitem__(self, key, value) -> None:
        self._raw[key] = _unwrap(value)

    def __delitem__(self, key) -> None:
        del self._raw[key]

    def __iter__(self):
        return iter(list(self._raw))

    def __len__(self) -> int:
        return len(self._raw)

    def __repr__(self) -> str:
        return repr(dict(self.items()))


def _as_array(value):
    """A NumPy (or CuPy) array from a Tensor, an array or a number."""
    return value.array if isinstance(value, Tensor) else value


class Optimizer:
    """Base class of all optimizers.

    ``params`` is an iterable of Tensors, or of dicts (parameter groups) that each
    hold ``"params"`` and any hyper-parameters that differ from ``defaults``:

    >>> import chainrule as cr
    >>> w, b = cr.randn(3, 2, requires_grad=True), cr.zeros(3, requires_grad=True)
    >>> opt = cr.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
    >>> [g["lr"] for g in opt.param_groups]
    [0.1, 0.5]

    Subclasses define ``_update(group)``, which updates every parameter of the group
    whose ``.grad`` is not None; ``step`` calls it for each group under no grad.
    """

    #: PyTorch's options that choose among its kernels (loop, multi-tensor, fused, CUDA
    #: graphs): NumPy has one kernel, so they are accepted and change nothing
    _KERNEL_OPTIONS = ("foreach", "fused", "capturable")

    @classmethod
    def _kernel_options(cls, options: dict[str, Any]) -> None:
        """Check the PyTorch-only keyword arguments a constructor received in ``**``."""
        for key, value in options.items():
            if key == "differentiable":
                if value:
                    raise NotImplementedError(
                        f"{cls.__name__}: differentiable=True (backpropagating through the "
                        "optimizer step) is not supported; the step runs under no_grad")
            elif key not in cls._KERNEL_OPTIONS:
                raise TypeError(f"{cls.__name__}.__init__() got an unexpected keyword "
                                f"argument '{key}'")

    #: names of the per-parameter buffers that have the parameter's shape (checked
    #: and cast to the parameter's dtype on load); subclasses list theirs
    _buffers: tuple[str, ...] = ()

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        if isinstance(params, (Tensor, dict)):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or of dicts "
                f"(parameter groups), got a single {type(params).__name__}; wrap it in a list"
            )
        self.defaults = dict(defaults)
        self.state = ParamState()
        self._step_pre_hooks: dict = {}
        self._step_post_hooks: dict = {}
        self.param_groups: list[dict[str, Any]] = []
        # Scratch arrays for intermediate results, one flat buffer per (slot, dtype,
        # array type), sized for the largest parameter and sliced per parameter.
        self._scratch: dict[tuple, Any] = {}
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- groups ---------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyper-parameters (e.g. when unfreezing
        layers during fine-tuning). Missing hyper-parameters take the optimizer's defaults.

        >>> import chainrule as cr
        >>> a, b = cr.zeros(2, requires_grad=True), cr.zeros(2, requires_grad=True)
        >>> opt = cr.optim.SGD([a], lr=0.1, momentum=0.9)
        >>> opt.add_param_group({"params": [b], "lr": 0.01})
        >>> opt.param_groups[1]["lr"], opt.param_groups[1]["momentum"]
        (0.01, 0.9)
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"add_param_group: expected a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        if "params" not in group:
            raise ValueError("add_param_group: the group has no 'params' entry")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        if params and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str)
                          for p in params):
            # model.named_parameters(), as PyTorch accepts: names are kept beside the group
            group["param_names"] = [name for name, _ in params]
            params = [p for _, p in params]
        where = f"param group {len(self.param_groups)}"
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{type(self).__name__}: {where}, parameter {i}: expected a Tensor, "
                    f"got {type(p).__name__}"
                )
            if p._vjp is not None:
                raise ValueError(
                    f"{type(self).__name__}: {where}, parameter {i} (shape {p.shape}) is not "
                    f"a leaf (it was computed by '{p._op}'); optimize the leaf it comes from"
                )
            if p.array.dtype.kind not in "fc":
                raise TypeError(
                    f"{type(self).__name__}: {where}, parameter {i} has dtype {p.dtype}; only "
                    "floating-point tensors can be optimized"
                )
        seen: set[int] = set()
        for g in self.param_groups:
            seen.update(id(p) for p in g["params"])
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{type(self).__name__}: {where} lists a parameter twice")
        dup = [i for i, p in enumerate(params) if id(p) in seen]
        if dup:
            raise ValueError(
                f"{type(self).__name__}: {where}, parameter {dup[0]} already belongs to "
                "another parameter group"
            )
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        group["params"] = params
        self._check_group(group, where)
        self.param_groups.append(group)

    # hyper-parameters that must not be negative; subclasses name theirs
    _nonnegative: tuple[str, ...] = ()

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        """Validate a group's hyper-parameters: a ValueError names the optimizer, the
        group and the value. Subclasses with further rules extend this."""
        for key in self._nonnegative:
            if group[key] < 0:
                raise ValueError(f"{type(self).__name__}: {where}: invalid {key} {group[key]} "
                                 "(must be >= 0)")

    # -- the training-loop API -------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of every parameter (``p.grad = None``).

        With ``set_to_none=False`` each gradient becomes a fresh zero array instead:
        gradient arrays may be shared, so they are never zeroed in place.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad = wrap(backend.namespace(p.array).zeros_like(p.array))

    def register_step_pre_hook(self, hook: Callable):
        """Call ``hook(optimizer, args, kwargs)`` before every ``step``; it may return new
        ``(args, kwargs)``. Returns a handle with ``remove()``."""
        return self._add_step_hook("_step_pre_hooks", hook)

    def register_step_post_hook(self, hook: Callable):
        """Call ``hook(optimizer, args, kwargs)`` after every ``step``. Returns a handle
        with ``remove()``."""
        return self._add_step_hook("_step_post_hooks", hook)

    def _add_step_hook(self, registry: str, hook: Callable):
        from ..nn.module import RemovableHandle

        hooks = self.__dict__.setdefault(registry, {})
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    # (pre, post) hooks of every optimizer's step, set while a profiler records
    _global_step_hooks: tuple | None = None

    def __init_subclass__(cls, **kwargs) -> None:
        # a subclass's own step() (a user's optimizer, LBFGS) runs between the step hooks
        # too, as every optimizer's step does in PyTorch
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("step")
        if own is not None and not getattr(own, "_between_hooks", False):
            cls.step = _between_step_hooks(own)

    def _run_step(self, closure, body: Callable):
        """``body(closure)`` between the step hooks (PyTorch's pre- and post-step hooks)."""
        if self.__dict__.get("_stepping"):  # inside a subclass's step: the hooks have run
            return body(closure)
        return self._between_hooks(body, (self,) if closure is None else (self, closure), {})

    def _between_hooks(self, body: Callable, args: tuple, kwargs: dict):
        """``body(*args[1:], **kwargs)`` between the step hooks; as PyTorch, the hooks see
        step's arguments with the optimizer first, and a pre-hook may replace them."""
        pre = self.__dict__.get("_step_pre_hooks")
        post = self.__dict__.get("_step_post_hooks")
        watching = Optimizer._global_step_hooks
        if not pre and not post and watching is None:
            return body(*args[1:], **kwargs)
        if watching is not None:
            pre = {"profiler": watching[0], **(pre or {})}
            post = {**(post or {}), "profiler": watching[1]}
        for hook in tuple((pre or {}).values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{type(self).__name__}: a step pre-hook must return "
                                       f"None or (args, kwargs), got {result!r}")
                args, kwargs = result
        out = body(*args[1:], **kwargs)
        for hook in tuple((post or {}).values()):
            hook(self, args, kwargs)
        return out

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; returns ``closure()``'s value.

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs
        with gradients enabled before the update.
        """
        return self._run_step(closure, self._step)

    def _step(self, closure: Callable[[], Any] | None = None):
        loss = None
        if closure is not None:
            previous = set_grad_mode(True)
            try:
                loss = closure()
            finally:
                set_grad_mode(previous)
        previous = set_grad_mode(False)
        try:
            for group in self.param_groups:
                self._update(group)
                # the arrays changed in place: a graph recorded before this step and
                # backpropagated after it must see a new version (see Tensor._version)
                for p in group["params"]:
                    if p.grad is not None:
                        p._version += 1
        finally:
            set_grad_mode(previous)
        return loss

    def _update(self, group: dict[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- helpers for subclasses --------------------------------------------------
    def _params_with_grad(self, group: dict[str, Any]):
        """``(index, parameter, its array, its state)`` for each parameter of ``group``
        that has a gradient; the others are skipped, as PyTorch does."""
        for i, p in enumerate(group["params"]):
            if p.grad is not None:
                yield i, p, self._param_array(p), self.state.raw(p)

    def _tmp(self, slot: int, like):
        """A scratch array shaped like ``like``: a view into a buffer reused by every
        parameter of that dtype, so intermediate results cost no allocation per step.
        Distinct ``slot`` numbers give non-overlapping arrays."""
        key = (slot, like.dtype, type(like))
        buf = self._scratch.get(key)
        n = like.size
        if buf is None or buf.size < n:
            biggest = n
            for group in self.param_groups:
                for p in group["params"]:
                    if p.array.dtype == like.dtype and p.array.size > biggest:
                        biggest = p.array.size
            buf = backend.namespace(like).empty(biggest, like.dtype)
            self._scratch[key] = buf
        if like.ndim > 1 and not like.flags.c_contiguous and like.flags.f_contiguous:
            # same memory order as a Fortran-ordered parameter (e.g. a weight stored as
            # the transpose of an (in, out) array): elementwise passes stay sequential
            return buf[:n].reshape(like.shape[::-1]).T
        return buf[:n].reshape(like.shape)

    @staticmethod
    def _param_array(p: Tensor):
        """``p.array`` as a writeable array (a 0-d value is an immutable NumPy scalar)."""
        return p._buffer()

    def _grad_array(self, p: Tensor, index: int):
        g = p.grad.array
        if g.shape != p.array.shape:
            raise RuntimeError(
                f"{type(self).__name__}.step: parameter {index} has shape {p.shape} but its "
                f"gradient has shape {g.shape}"
            )
        return g

    def _decayed_grad(self, param, grad, lr: float, weight_decay: float, decoupled: bool,
                      maximize: bool):
        """The gradient an update uses, weight decay applied one way or the other: decoupled
        (AdamW's θ ← θ (1 − ηλ), before and apart from the gradient) or coupled
        (g ← g + λθ, folded into the gradient)."""
        if decoupled:
            if weight_decay != 0:
                np.multiply(param, 1 - lr * weight_decay, out=param)
            return self._effective_grad(param, grad, 0.0, maximize)
        return self._effective_grad(param, grad, weight_decay, maximize)

    def _effective_grad(self, param, grad, weight_decay: float, maximize: bool, slot: int = 0):
        """``±grad + weight_decay * param`` (L2 regularization folded into the gradient,
        as PyTorch's coupled weight decay). Returns ``grad`` itself, unchanged, when there is
        nothing to add; otherwise a scratch array (the gradient array is never written)."""
        if weight_decay == 0:
            if not maximize:
                return grad
            out = self._tmp(slot, param)
            np.negative(grad, out=out)
            return out
        out = self._tmp(slot, param)
        np.multiply(param, weight_decay, out=out)
        if maximize:
            np.subtract(out, grad, out=out)  # -g + wd*p
        else:
            np.add(grad, out, out=out)  # g + wd*p, in torch's order
        return out

    # -- checkpoints ---------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout, ready for a checkpoint.

        ::

            {"state": {0: {"momentum_buffer": ndarray, ...},   # by parameter index
                       1: {...}, ...},                          # (only parameters with state)
             "param_groups": [{"lr": 0.1, "momentum": 0.9, ..., "params": [0, 1]},
                              {"lr": 0.01, ..., "params": [2]}]}

        Parameters are numbered 0, 1, 2, ... in the order of ``param_groups`` and their
        ``"params"`` lists; a group's ``"params"`` holds those numbers, not Tensors. Every
        state value is a NumPy array (a copy): buffers have the parameter's shape and
        dtype; ``"step"`` is a 0-d int64 array. Group values are plain Python numbers,
        booleans and tuples (``betas``). A checkpoint writer can store
        ``state[i][name]`` as tensor ``"state.{i}.{name}"`` and the groups as JSON.

        >>> import chainrule as cr
        >>> p = cr.ones(2, requires_grad=True)
        >>> opt = cr.optim.SGD([p], lr=0.1, momentum=0.9)
        >>> p.grad = cr.ones(2); opt.step()
        >>> sd = opt.state_dict()
        >>> sd["state"][0]["momentum_buffer"], sd["param_groups"][0]["params"]
        (array([1., 1.], dtype=float32), [0])
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for pid, (_p, s) in self.state._d.items():
            if pid in index and s:
                state[index[pid]] = {k: _export(v) for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (or the same layout with string
        indices, lists for tuples, and Tensors for arrays, as checkpoint formats give).

        The optimizer must have been built over parameters of the same shapes in the
        same groups; their hyper-parameters are taken from the checkpoint. Buffers are
        copied and cast to each parameter's dtype (and device).
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             "'param_groups' (what state_dict() returns)")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the checkpoint has {len(saved_groups)} parameter "
                f"groups, this optimizer has {len(self.param_groups)}"
            )
        by_index: dict[int, Tensor] = {}
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            ids = list(saved["params"])
            if len(ids) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {gi} has {len(ids)} parameters "
                    f"in the checkpoint and {len(group['params'])} here"
                )
            for i, p in zip(ids, group["params"]):
                by_index[int(i)] = p
        new_state: dict[int, tuple[Tensor, dict]] = {}
        for key, values in dict(state_dict.get("state", {})).items():
            i = int(key)
            if i not in by_index:
                raise ValueError(f"{name}.load_state_dict: state for parameter {i}, which no "
                                 f"parameter group lists")
            p = by_index[i]
            s = {}
            for k, v in values.items():
                v = _as_array(v)
                if k == "step":
                    s[k] = int(np.asarray(backend.to_numpy(v)))
                    continue
                if k in self._buffers and np.shape(v) != p.shape:
                    raise ValueError(
                        f"{name}.load_state_dict: state[{i}][{k!r}] has shape {np.shape(v)}, "
                        f"but parameter {i} has shape {p.shape}"
                    )
                s[k] = [_import(x, p) for x in v] if isinstance(v, list) else _import(v, p)
            new_state[id(p)] = (p, s)
        for group, saved in zip(self.param_groups, saved_groups):
            for k, v in saved.items():
                if k == "params":
                    continue
                if isinstance(self.defaults.get(k), tuple) and isinstance(v, list):
                    v = tuple(v)
                group[k] = v
        self.state._d = new_state

    def __getstate__(self) -> dict:  # pickling: scratch buffers are not state
        d = dict(self.__dict__)
        d["_scratch"] = {}
        return d

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        lines.append(")")
        return "\n".join(lines)


def _lerp(start, end, weight: float, tmp) -> None:
    """``start += weight * (end − start)`` in place, in the two forms torch's CPU kernel
    uses (the second is exact at weight 1)."""
    np.subtract(end, start, out=tmp)
    if weight < 0.5:
        np.multiply(tmp, weight, out=tmp)
        np.add(start, tmp, out=start)
    else:
        np.multiply(tmp, weight - 1, out=tmp)  # end − (end − start)(1 − weight)
        np.add(end, tmp, out=start)


def _decay_square(avg, g, beta: float, tmp) -> None:
    """``avg ← β avg + ((1 − β) g) g`` in place, in torch's order (RMSprop's and Adam's
    running average of the squared gradient)."""
    np.multiply(g, 1 - beta, out=tmp)
    np.multiply(tmp, g, out=tmp)
    np.multiply(avg, beta, out=avg)
    np.add(avg, tmp, out=avg)


def _add_ratio(param, num, lr: float, denom, tmp) -> None:
    """``θ += (−η num) / denom`` in place, in torch's order (``addcdiv_``)."""
    np.multiply(num, -lr, out=tmp)
    np.divide(tmp, denom, out=tmp)
    np.add(param, tmp, out=param)


def _import(value, p: Tensor):
    """A checkpoint's state value for parameter ``p``: an array is copied and cast to
    ``p``'s dtype and device; other values are kept."""
    value = _as_array(value)
    if not hasattr(value, "shape"):
        return value
    value = backend.to_device(np.asarray(backend.to_numpy(value)), p.device)
    return value.astype(p.dtype, copy=True) if value.dtype.kind in "fc" else value.copy()


def _export(value):
    """A state value for a checkpoint: a NumPy array copy (``step`` as 0-d int64); lists
    (L-BFGS's history) element by element; None and Python floats as they are."""
    if value is None or isinstance(value, (bool, float)):
        return value
    if isinstance(value, list):
        return [_export(v) for v in value]
    if isinstance(value, (int, np.integer)):
        return np.array(value, dtype=np.int64)
    value = _as_array(value)
    if hasattr(value, "shape"):
        return np.array(backend.to_numpy(value), copy=True)
    return np.asarray(value)


def _between_step_hooks(step: Callable) -> Callable:
    """A subclass's ``step`` wrapped so that the step hooks run around it once, also when
    it calls ``super().step()`` (the base's step then runs bare)."""
    import functools

    @functools.wraps(step)
    def stepped(self, *args, **kwargs):
        if self.__dict__.get("_stepping"):
            return step(self, *args, **kwargs)
        self.__dict__["_stepping"] = True
        try:
            return self._between_hooks(step.__get__(self), (self, *args), kwargs)
        finally:
            self.__dict__["_stepping"] = False

    stepped._between_hooks = True
    return stepped
