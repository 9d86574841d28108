"""JAX-style function transformations: ``grad(f)`` and ``value_and_grad(f)``."""

from __future__ import annotations

import functools

import numpy as np

from . import autograd
from ._tensor import Tensor, set_grad_mode, tensor


def _as_input(value) -> Tensor:
    """A differentiable copy of one argument: Tensors keep their graph, the rest become leaves."""
    if isinstance(value, Tensor):
        if value.requires_grad:
            return value
        return value.detach().requires_grad_(True)
    arr = np.asarray(value)
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    return tensor(arr, requires_grad=True)


# How many grad transformations are running: an inner one must record its backward
# pass (create_graph) so that the one outside it can differentiate the result.
_depth = 0


def value_and_grad(f, argnums=0, has_aux: bool = False):
    """``value_and_grad(f)(*args) -> (f(*args), df/dargs[argnums])``.

    ``f`` must return a scalar Tensor (or ``(scalar, aux)`` with ``has_aux=True``).
    Nest for higher derivatives: ``cr.grad(cr.grad(f))(x)``.

    >>> import chainrule as cr
    >>> cr.grad(lambda x: x ** 3)(2.0).item()
    12.0
    """
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        global _depth
        for n in nums:
            if n >= len(args):
                raise ValueError(f"grad: argnums {n} but the function got {len(args)} arguments")
        args = list(args)
        for n in nums:
            args[n] = _as_input(args[n])
        inputs = [args[n] for n in nums]
        _depth += 1
        # as torch.func.grad: an outer no_grad() must not turn the gradient into zeros
        previous = set_grad_mode(True)
        try:
            out = f(*args, **kwargs)
            value, aux = out if has_aux else (out, None)
            if not isinstance(value, Tensor):
                raise TypeError(f"grad: the function must return a Tensor, got "
                                f"{type(value).__name__}")
            if value.numel() != 1:
                raise TypeError(f"grad: the function must return a scalar, got shape "
                                f"{value.shape}; use cr.autograd.grad with grad_outputs")
            if value.requires_grad:
                grads = autograd.grad(value, inputs, create_graph=_depth > 1, allow_unused=True)
            else:  # f does not depend on its inputs
                grads = (None,) * len(inputs)
        finally:
            set_grad_mode(previous)
            _depth -= 1
        if _depth == 0:  # the outermost transformation: hand out a plain value, as JAX
            value = value.detach()
        grads = tuple(Tensor(np.zeros_like(t.array)) if g is None else g
                      for g, t in zip(grads, inputs))
        g = grads[0] if single else grads
        return ((value, aux), g) if has_aux else (value, g)

    return wrapped


def grad(f, argnums=0, has_aux: bool = False):
    """``grad(f)(*args)``: the gradient of scalar ``f`` with respect to ``args[argnums]``.

    With ``has_aux=True`` returns ``(gradient, aux)``.
    """
    value_and_grad_f = value_and_grad(f, argnums, has_aux)

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        out, g = value_and_grad_f(*args, **kwargs)
        return (g, out[1]) if has_aux else g

    return wrapped
