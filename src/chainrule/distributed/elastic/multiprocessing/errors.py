"""``record``, the decorator torchrun scripts put on their ``main``.

Under torchrun it writes the exception of a failed process to the file torchelastic
reads (``TORCHELASTIC_ERROR_FILE``) and raises it again. Under an MPI launcher the
process group's failure handling does that job: an uncaught exception prints its
traceback and a line naming the rank, then stops every rank (docs/distributed.md,
"When a rank fails"). So ``record`` lets exceptions through as they are, and, as
PyTorch's, turns ``SystemExit(0)`` into a normal return.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

__all__ = ["record"]


def record(fn: Callable | None = None, error_handler: Any = None) -> Callable:
    """Decorate ``main`` (with or without parentheses), as PyTorch's ``record``.

    >>> @record
    ... def main(x):
    ...     return x + 1
    >>> main(1)
    2
    >>> @record()
    ... def done():
    ...     raise SystemExit(0)
    >>> done() is None
    True
    """
    def wrap(f: Callable) -> Callable:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return f(*args, **kwargs)
            except SystemExit as leaving:
                if leaving.code == 0:  # (as PyTorch's: sys.exit() is raised on)
                    return None
                raise

        return wrapper

    return wrap(fn) if fn is not None else wrap
