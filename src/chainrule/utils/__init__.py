"""``torch.utils`` as chainrule has it: ``chainrule.utils.data`` (the data loading API),
``chainrule.utils.checkpoint`` and ``chainrule.utils.tensorboard`` (``SummaryWriter``)."""

from . import checkpoint, data

__all__ = ["checkpoint", "data"]


def __getattr__(name: str):
    if name == "tensorboard":  # loaded on use: it needs tensorboardX only when used
        import importlib

        return importlib.import_module(".tensorboard", __name__)
    raise AttributeError(
        f"chainrule.utils has no {name!r}: PyTorch's torch.utils.{name} is not part of "
        "chainrule (torch.utils.data is, as chainrule.utils.data = chainrule.data, "
        "torch.utils.checkpoint, and torch.utils.tensorboard)")
