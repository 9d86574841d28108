"""Gradient monitoring (``chainrule.monitor``): :class:`GradientMonitor` watches every
layer's gradients while a network trains; it lives in :mod:`chainrule.nn.monitor` (also
``cr.nn.GradientMonitor``). Its training callback is ``chainrule.train.MonitorCallback``.
"""

from .nn.monitor import KINDS, RELU_FAMILY, GradientMonitor, GradientWarning

__all__ = ["KINDS", "RELU_FAMILY", "GradientMonitor", "GradientWarning"]
