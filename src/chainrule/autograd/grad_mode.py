"""``torch.autograd.grad_mode``: the grad-mode context managers under PyTorch's module
path (``from torch.autograd.grad_mode import no_grad``)."""

from . import enable_grad, inference_mode, is_inference_mode_enabled, no_grad, set_grad_enabled

__all__ = ["enable_grad", "inference_mode", "is_inference_mode_enabled", "no_grad",
           "set_grad_enabled"]
