"""``torch.utils.data.sampler``: the samplers under PyTorch's module path (the names of
``chainrule.data.samplers``)."""

from ...data.samplers import *
from ...data.samplers import __all__  # noqa: F401
