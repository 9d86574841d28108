"""``torch.utils.tensorboard``: PyTorch's ``SummaryWriter``, writing TensorBoard event
files through tensorboardX (the ``tensorboard`` extra: ``pip install
'chainrule[tensorboard]'``), so a program that logs its training keeps doing so.

Every ``add_*`` method takes what PyTorch's does; chainrule tensors (also inside lists,
tuples and the dict of ``add_scalars``) are handed over as NumPy arrays, or numbers for
one element. ``add_graph`` is the exception: PyTorch traces the model with TorchScript;
chainrule draws its own graphs (``chainrule.viz.draw``, ``chainrule graph``), with values,
gradients and local derivatives.

>>> import tempfile, chainrule as cr
>>> from chainrule.utils.tensorboard import SummaryWriter
>>> with SummaryWriter(tempfile.mkdtemp()) as writer:
...     writer.add_scalar("loss", cr.tensor(0.25), global_step=1)
...     writer.add_histogram("weights", cr.randn(100), global_step=1)
"""

from __future__ import annotations

import os
from typing import Any, Self

from ..._tensor import Tensor

__all__ = ["SummaryWriter"]


def _plain(value: Any) -> Any:
    """chainrule tensors in ``value`` as NumPy arrays (a Python number for one element)."""
    if isinstance(value, Tensor):
        array = value.detach().numpy()
        return array.item() if array.ndim == 0 else array
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


class SummaryWriter:
    """PyTorch's ``SummaryWriter(log_dir=None, comment='', purge_step=None, max_queue=10,
    flush_secs=120, filename_suffix='')``: event files under ``log_dir`` (default
    ``runs/<date>_<host><comment>``, as PyTorch) for TensorBoard."""

    def __init__(self, log_dir: str | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = "") -> None:
        try:
            import tensorboardX
        except ImportError:
            raise ImportError(
                "SummaryWriter writes TensorBoard files through tensorboardX, which is not "
                "installed: pip install 'chainrule[tensorboard]' (or pip install "
                "tensorboardX)") from None
        self._settings = {"max_queue": max_queue, "flush_secs": flush_secs,
                          "filename_suffix": filename_suffix}
        self._writer = tensorboardX.SummaryWriter(
            logdir=None if log_dir is None else str(log_dir), comment=comment,
            purge_step=purge_step, **self._settings)
        self.log_dir = self._writer.logdir
        self._runs: dict = {}  # add_scalars' writers, one per run directory

    def get_logdir(self) -> str:
        return self.log_dir

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        method = getattr(self._writer, name)  # AttributeError names tensorboardX's writer
        if not (name.startswith("add_") and callable(method)):
            return method

        def add(*args, **kwargs):
            return method(*_plain(args), **_plain(kwargs))

        add.__name__ = name
        return add

    def add_graph(self, model, input_to_model=None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        raise NotImplementedError(
            "SummaryWriter.add_graph traces a model with PyTorch's TorchScript, which "
            "chainrule does not have; chainrule draws its own graphs, with values, gradients "
            "and local derivatives: chainrule.viz.draw(loss) or chainrule.viz.html(loss) "
            "(docs/visualize.md)")

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None,
                    walltime=None) -> None:
        """Each ``tag`` of the dict as scalar ``main_tag`` in a run of its own,
        ``<log_dir>/<main_tag>_<tag>``, as PyTorch (TensorBoard draws the runs together)."""
        import tensorboardX

        for tag, value in tag_scalar_dict.items():
            run = os.path.join(self.log_dir, main_tag.replace("/", "_") + "_" + tag)
            writer = self._runs.get(run)
            if writer is None:
                writer = self._runs[run] = tensorboardX.SummaryWriter(logdir=run,
                                                                      **self._settings)
            writer.add_scalar(main_tag, _plain(value), _plain(global_step), walltime)

    def flush(self) -> None:
        self._writer.flush()
        for writer in self._runs.values():
            writer.flush()

    def close(self) -> None:
        self._writer.close()
        for writer in self._runs.values():
            writer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
