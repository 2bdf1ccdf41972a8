r"""FFT sizing: the circular transform lengths and crops that make a convolution an FFT one.

Integer arithmetic on a spec (no SymPy), so that `numeric`'s FFT kernels size their transforms
without importing the derivations; `symconv.fourier` re-exports these names and proves the
sizes alias-free (`fft_padding_derivation`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._errors import SpecError
from ._validate import as_int
from .spec import Conv

__all__ = ["FFTPlan", "fft_plan", "fft_size"]


def fft_size(n: int, k: int, lo: int = 0, hi: int = 0, dilation: int = 1) -> int:
    r"""The smallest circular length $N$ whose circular convolution gives the linear one here.

    Output = the zero-padded correlation of an input of length $n$ with a kernel of extent
    $K = d(k-1) + 1$, padding $(p_\mathrm{lo}, p_\mathrm{hi})$: the crop
    $[K - 1 - p_\mathrm{lo},\ n + p_\mathrm{hi} - 1]$ of the full linear convolution (support
    $[0, n + K - 2]$). Circular convolution of length $N$ aliases index $q$ onto $q \pm N$;
    the crop is alias-free iff

    $$N \ge \max\big(K,\ n + \max(p_\mathrm{lo}, p_\mathrm{hi})\big)$$

    (the shift $q + N$ of the first needed index must pass the support's end $n + K - 2$, the
    shift $q - N$ of the last one must fall below 0; $N \ge K$ to hold the kernel).

    'full': $n + K - 1$; 'valid': $n$; torch 'same': $n + \lceil (K-1)/2 \rceil$.

    `n`, `k` and `dilation` are integers >= 1; `lo` and `hi` integers, a negative one crops
    (the bound stays alias-free, though then not always the smallest).

    ```python
    >>> fft_size(8, 3, 2, 2), fft_size(8, 3), fft_size(8, 3, 1, 1)
    (10, 8, 9)

    ```
    """
    op = "fft_size"
    n, k = as_int(op, "n", n, 1), as_int(op, "k", k, 1)
    dilation = as_int(op, "dilation", dilation, 1)
    lo, hi = as_int(op, "lo", lo, None), as_int(op, "hi", hi, None)
    K = dilation * (k - 1) + 1
    return max(K, n + max(lo, hi))


@dataclass(frozen=True)
class FFTPlan:
    r"""What an FFT kernel needs, per spatial axis.

    - `pre_pad`: padding to apply first with the layer's padding mode (non-zero modes only);
    - `sizes`: the transform length $N$ per axis (circular convolution of this length);
    - `start`, `step`: the output is `full_circular[start + step * o]` (stride = step);
    - `output_size`; `reflect`: the kernel is reflected (cross-correlation), i.e. multiply by
      $\overline{\hat w}$ for a real kernel, not $\hat w$;
    - `kernel_extent`: $K = d(k - 1) + 1$ (dilation: the kernel with zeros inserted).
    """

    pre_pad: tuple[tuple[int, int], ...]
    sizes: tuple[int, ...]
    start: tuple[int, ...]
    step: tuple[int, ...]
    output_size: tuple[int, ...]
    reflect: bool
    kernel_extent: tuple[int, ...]


def fft_plan(spec: Conv, input_size: int | Sequence[int]) -> FFTPlan:
    """The FFT sizes and crops that make `spec` an FFT convolution (see `FFTPlan`).

    Zero padding is folded into the transform length (`fft_size`); circular padding with a
    full-size output at stride 1 needs no padding at all ($N = n$, $T$ circulant); other modes
    pad first and then take the valid convolution.

    ```python
    >>> fft_plan(Conv(dims=2, kernel_size=3, padding=1), (8, 8)).sizes
    (9, 9)
    >>> circular = Conv(dims=2, kernel_size=3, padding="same", padding_mode="circular")
    >>> fft_plan(circular, (8, 8)).sizes
    (8, 8)

    ```
    """
    if not isinstance(spec, Conv) or type(spec) is not Conv:
        raise SpecError(f"fft_plan: expected a symconv.Conv, got {type(spec).__name__}")
    sizes = spec._check_input(input_size)
    out = spec.output_size(sizes)
    ext = tuple(spec.dilation[a] * (spec.kernel_size[a] - 1) + 1 for a in range(spec.dims))
    circ = spec.padding_mode == "circular" and all(s == 1 for s in spec.stride) and out == sizes
    if circ:
        start = tuple((ext[a] - 1 - spec.pads[a][0]) % sizes[a] for a in range(spec.dims))
        return FFTPlan(
            ((0, 0),) * spec.dims, sizes, start, (1,) * spec.dims, out, not spec.flip, ext
        )
    if spec.padding_mode == "zeros":
        pre = ((0, 0),) * spec.dims
        n, pads = sizes, spec.pads
    else:
        pre = spec.pads
        n = tuple(i + lo + hi for i, (lo, hi) in zip(sizes, spec.pads, strict=True))
        pads = ((0, 0),) * spec.dims
    N = tuple(
        fft_size(n[a], spec.kernel_size[a], *pads[a], spec.dilation[a]) for a in range(spec.dims)
    )
    start = tuple((ext[a] - 1 - pads[a][0]) % N[a] for a in range(spec.dims))
    return FFTPlan(pre, N, start, spec.stride, out, not spec.flip, ext)
