"""The one exception type symconv raises for bad input."""

from __future__ import annotations

__all__ = ["SpecError"]


class SpecError(ValueError):
    """Invalid specification or input.

    The message names the operation or parameter, the value and the rule it breaks, e.g.
    `Conv: kernel_size 5 with dilation 2 spans 9 > padded input 7 along axis 0`.
    It subclasses `ValueError`, so code that already catches `ValueError` keeps working.
    """
