"""``torch.utils.data.dataset``: the dataset classes under PyTorch's module path (the
names of ``chainrule.data.datasets``)."""

from ...data.datasets import *
from ...data.datasets import __all__  # noqa: F401
