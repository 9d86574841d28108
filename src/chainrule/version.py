"""``torch.version``: chainrule's version, and ``cuda``/``hip`` as None (chainrule is not
built against CUDA; its GPU path is CuPy's)."""

from __future__ import annotations

from . import __version__  # the one definition, in chainrule/__init__.py

cuda = None
hip = None
git_version = "unknown"
debug = False

__all__ = ["__version__", "cuda", "debug", "git_version", "hip"]
