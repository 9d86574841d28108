"""``nn.DataParallel``: PyTorch's single-process wrapper that splits each batch over the
GPUs of one machine. chainrule computes on one device, so the wrapper runs the module
on the whole batch; what programs rely on stays as in PyTorch: ``model.module`` is the
wrapped model and the state_dict keys start with ``module.``. (Training on several
processes is ``nn.parallel.DistributedDataParallel``.)

>>> import chainrule as cr
>>> model = cr.nn.DataParallel(cr.nn.Linear(3, 2))
>>> model(cr.ones(4, 3)).shape, list(model.state_dict())
((4, 2), ['module.weight', 'module.bias'])
"""

from __future__ import annotations

from .module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    """Runs ``module`` on the whole batch (one device); ``device_ids``,
    ``output_device`` and ``dim`` are accepted as PyTorch's and checked."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: expected an nn.Module, got {type(module).__name__}")
        self.module = module
        self.device_ids = [] if device_ids is None else list(device_ids)
        self.output_device = output_device
        self.dim = int(dim)

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
