"""``torch.utils`` as chainrule has it: ``chainrule.utils.data`` (the data loading API)."""

from . import data

__all__ = ["data"]


def __getattr__(name: str):
    raise AttributeError(
        f"chainrule.utils has no {name!r}: PyTorch's torch.utils.{name} is not part of "
        "chainrule (only torch.utils.data is, as chainrule.utils.data = chainrule.data)")
