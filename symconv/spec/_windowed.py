"""Arithmetic shared by every sliding-window layer (Conv, Pool)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .. import _sizes
from .._errors import SpecError
from .._validate import as_int
from ._fit import Fit
from ._padding import Pads


class _Windowed:
    """Arithmetic shared by every sliding-window layer."""

    dims: int
    _op: str

    def _axis(self, axis: int) -> tuple[int, int, int, int, int]:  # k, s, d, lo, hi
        raise NotImplementedError

    def _check_input(self, input_size: Any) -> tuple[int, ...]:
        raise NotImplementedError

    @property
    def _op_name(self) -> str:
        return self._op

    def fits(self, input_size: int | Sequence[int]) -> Fit:
        """Whether the stride tiles the padded input exactly, and which positions are read.

        See `Fit`: `unused` counts the trailing padded positions no window reaches, `unread`
        lists the input positions no window reads (torch's gradient is zero exactly there).
        """
        outs = self.output_size(input_size)
        sizes = self._check_input(input_size)
        mode = getattr(self, "padding_mode", "zeros")
        axes = tuple((i, *self._axis(a), outs[a], mode) for a, i in enumerate(sizes))
        return Fit(tuple(_sizes.unused(*axis[:7]) for axis in axes), axes)

    def receptive_field(self) -> tuple[int, ...]:
        """Span of one window on the input, per axis: $d(k - 1) + 1$."""
        return tuple(
            _sizes.dilated_extent(self._axis(a)[0], self._axis(a)[2]) for a in range(self.dims)
        )

    def _channels_out(self) -> int:
        raise NotImplementedError

    def output_size(self, input_size: int | Sequence[int]) -> tuple[int, ...]:
        raise NotImplementedError

    def activations(self, input_size: int | Sequence[int]) -> int:
        """Number of output values per sample: channels times the output's spatial size."""
        return self._channels_out() * math.prod(self.output_size(input_size))

    def activation_memory(self, input_size: int | Sequence[int], bytes_per_element: int = 4) -> int:
        """Bytes of the output per sample (float32 by default)."""
        nbytes = as_int(self._op_name, "bytes_per_element", bytes_per_element, 1)
        return self.activations(input_size) * nbytes

    def _check_window(self, sizes: tuple[int, ...], pads: Pads) -> None:
        for a, i in enumerate(sizes):
            k, _, d, lo, hi = self._axis(a)
            span, padded = _sizes.dilated_extent(k, d), _sizes.padded_length(i, lo, hi)
            if span > padded:
                what = f"kernel_size {k}" + (f" with dilation {d} spans {span}" if d > 1 else "")
                raise SpecError(
                    f"{self._op}: {what} > padded input {padded} along axis {a} "
                    f"(input {i}, padding {(lo, hi)})"
                )
