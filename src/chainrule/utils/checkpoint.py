"""``torch.utils.checkpoint``: activation checkpointing, as calls with the same results.

PyTorch's checkpoint drops a segment's activations in forward and recomputes them in
backward, trading compute for memory. chainrule keeps the activations (the graph is built
as usual), so the values and gradients are those of the plain call and no memory is saved
(docs/pytorch.md). The arguments PyTorch takes are accepted and checked.
"""

from __future__ import annotations

__all__ = ["checkpoint", "checkpoint_sequential"]


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug: bool = False, preserve_rng_state: bool = True, **kwargs):
    """``function(*args, **kwargs)``, as PyTorch's checkpoint computes it (same values and
    gradients; the activations are kept)."""
    if not callable(function):
        raise TypeError(f"checkpoint: the first argument must be callable, got "
                        f"{type(function).__name__}")
    if use_reentrant and kwargs:
        raise ValueError("checkpoint: keyword arguments to the function need "
                         "use_reentrant=False (as PyTorch)")
    return function(*args, **kwargs)


def checkpoint_sequential(functions, segments: int, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (a list or an nn.Sequential) one after another on ``input``."""
    if segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be at least 1, got {segments}")
    modules = list(functions.children()) if hasattr(functions, "children") else list(functions)
    out = input
    for fn in modules:
        out = fn(out)
    return out
