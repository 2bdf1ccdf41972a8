"""Specs as readable source: `spec_source(spec)` is the constructor call a failure report prints,
and the hints that say how to reproduce a failing case with the user's own arguments."""

from __future__ import annotations

from typing import Any

from ..spec import Conv

__all__ = ["spec_source"]


def _compact(value: Any) -> Any:
    """`(3, 3)` -> `3`: one int when every axis has the same value."""
    if isinstance(value, tuple) and value and len(set(value)) == 1 and isinstance(value[0], int):
        return value[0]
    return value


def spec_source(spec: Conv) -> str:
    """`spec` as the shortest `symconv.Conv(...)` expression that rebuilds it.

    ```python
    >>> import symconv as sc
    >>> spec_source(sc.Conv(dims=2, kernel_size=(3, 3), stride=(2, 1), padding=1))
    'symconv.Conv(dims=2, kernel_size=3, stride=(2, 1), padding=1)'

    ```
    """
    defaults = {
        "in_channels": 1,
        "out_channels": 1,
        "stride": 1,
        "padding": 0,
        "dilation": 1,
        "groups": 1,
        "bias": True,
        "padding_mode": "zeros",
        "flip": False,
    }
    parts = [f"dims={spec.dims}"]
    for name in (
        "in_channels",
        "out_channels",
        "kernel_size",
        "stride",
        "padding",
        "dilation",
        "groups",
        "bias",
        "padding_mode",
        "flip",
    ):
        value = _compact(getattr(spec, name))
        if name == "padding" and isinstance(value, tuple) and isinstance(value[0], tuple):
            value = spec.padding  # (lo, hi) pairs, as given: the expression rebuilds an equal spec
        if name == "kernel_size" or value != defaults.get(name):
            parts.append(f"{name}={value!r}")
    return f"symconv.Conv({', '.join(parts)})"


def _hints(spec: Conv, batch: int, restrict: dict[str, Any], calling: bool) -> list[str]:
    """Narrowings that would avoid the features this spec uses (for convs that lack them)."""
    out = []
    if spec.groups > 1 and restrict.get("groups") != 1:
        out.append("groups=1")
    if any(d > 1 for d in spec.dilation) and restrict.get("dilation") != 1:
        out.append("dilation=1")
    if any(s > 1 for s in spec.stride) and restrict.get("stride") != 1:
        out.append("stride=1")
    if isinstance(spec.padding, str) and spec.padding in ("valid", "same"):
        out.append('padding_styles=("int", "tuple")')
    if (
        spec.dims > 1
        and not restrict.get("square")
        and any(len(set(v)) > 1 for v in (spec.kernel_size, spec.stride, spec.dilation, spec.pads))
    ):
        out.append("square=True")
    if batch == 0 and calling:
        out.append("batch=(1, 2)")
    return out
