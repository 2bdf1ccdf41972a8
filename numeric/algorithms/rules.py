"""Which algorithm runs which layer (`supported`), the names of the algorithms and ops, the ones
that do not spread inf and NaN (`NON_SPREADING`), and the rank-1 test of the separable
algorithm (`rank_one_factors`). No SymPy: the rules are plain Python.

```python
>>> import symconv as sc
>>> from numeric.algorithms.rules import supported
>>> supported(sc.Conv(dims=1, kernel_size=3), "winograd")
'needs a 2-d convolution, got dims 1'

```
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symconv._errors import SpecError
from symconv._tolerances import RANK_TOL as _RANK_TOL
from symconv._validate import as_int
from symconv.spec import Conv

from .._generated.numpy_shifted import shift_add_layer
from .._generated.numpy_winograd import FORWARD as _WINOGRAD_FORWARD
from .._generated.rules import RULES

ALGORITHMS = ("auto", "direct", "winograd", "shifted", "fft", "separable")
_CANDIDATES = ("direct", "winograd", "shifted", "fft", "separable")  # ties go to the earlier
WINOGRAD_M = 4  # F(4x4, 3x3); F(2x2, 3x3) through conv2d(winograd_m=2)
WINOGRAD_TILES = tuple(sorted(_WINOGRAD_FORWARD))  # the tiles the printed kernels carry
OPS = ("forward", "grad_input", "grad_weight")
# per op, the algorithms that sum each output over its own window only: inf and NaN reach
# exactly the outputs torch's do. Winograd's tiles and the FFT's spectra mix neighbours;
# separable's two passes can turn inf * 0 into inf - inf; the shifted gradients multiply the
# flattened rows' wrap-around columns by zeros (an inf there becomes NaN in a valid output).
NON_SPREADING: dict[str, tuple[str, ...]] = {
    "forward": ("direct", "shifted"),
    "grad_input": ("direct",),
    "grad_weight": ("direct",),
}
RANK_TOL = _RANK_TOL  # sigma_2 / sigma_1 still counted as zero, by float type


def _check_query(name: str, spec: Any, op: str, batch: Any = 0) -> None:
    """The arguments the cost queries share: a `symconv.Conv` (not a transposed one), an op of
    `OPS`, a batch that is an int >= 0."""
    if type(spec) is not Conv:
        raise SpecError(f"{name}: spec must be a symconv.Conv, got {type(spec).__name__}")
    if op not in OPS:
        raise SpecError(f"{name}: op must be one of {list(OPS)}, got {op!r}")
    as_int(name, "batch", batch, 0)


def _positive(v: Any) -> bool | np.bool_:
    return not isinstance(v, bool) and isinstance(v, int | float | np.number) and v > 0


def _is_tile(m: Any) -> bool:
    return not isinstance(m, bool) and isinstance(m, int | np.integer) and m in WINOGRAD_TILES


def supported(
    spec: Conv, algorithm: str, op: str = "forward", *, m: int = WINOGRAD_M
) -> str | None:
    """Why `algorithm` cannot run `op` of `spec` (None when it can).

    ```python
    >>> import symconv as sc
    >>> from numeric.algorithms import supported
    >>> supported(sc.Conv(dims=2, kernel_size=3, stride=2), "winograd")
    'needs a 3x3 kernel and stride 1, got kernel_size (3, 3), stride (2, 2)'
    >>> supported(sc.Conv(dims=3, kernel_size=5, dilation=2), "shifted") is None
    True

    ```

    Raises:
        SpecError: `spec` is not a `symconv.Conv`.
    """
    if type(spec) is not Conv:
        raise SpecError(f"supported: spec must be a symconv.Conv, got {type(spec).__name__}")
    if algorithm not in _CANDIDATES:
        return f"algorithm must be one of {list(ALGORITHMS)}, got {algorithm!r}"
    if op not in OPS:
        return f"op must be one of {list(OPS)}, got {op!r}"
    on_dims, on_ops = RULES[algorithm]  # the dims and ops it runs: printed from the API table
    if on_dims is not None and spec.dims not in on_dims:
        wanted = " or ".join(f"{d}-d" for d in on_dims)
        return f"needs a {wanted} convolution, got dims {spec.dims}"
    if algorithm == "shifted" and any(s != 1 for s in spec.stride):
        return f"needs stride 1, got stride {spec.stride}"
    if algorithm == "winograd":
        if spec.kernel_size != (3, 3) or spec.stride != (1, 1):
            return (
                f"needs a 3x3 kernel and stride 1, got kernel_size {spec.kernel_size}, "
                f"stride {spec.stride}"
            )
        if not _is_tile(m):
            return f"winograd_m must be one of {list(WINOGRAD_TILES)}, got {m!r}"
    if on_ops is not None and op not in on_ops:
        only = " and ".join(on_ops)
        why = " (its gradients are not rank-1 layers)" if algorithm == "separable" else ""
        return f"runs the {only} pass only{why}"
    return None


def rank_one_factors(weight: Any, tol: float | None = None) -> tuple[Any, Any] | None:
    """`(u, v)` with `weight[k, c] == outer(u[k, c], v[k, c])`, or None when some slice has rank
    > 1: $\\sigma_2 >$ `tol` $\\sigma_1$ (the rule of `symconv.separable`; default `tol`
    `RANK_TOL` by dtype), or when it holds inf or NaN (no factors: `symconv.separable` refuses
    non-finite kernels too). NumPy arrays or torch tensors (returned on the weight's device).

    ```python
    >>> import numpy as np
    >>> from numeric.algorithms import rank_one_factors
    >>> u, v = rank_one_factors(np.outer([1.0, 2, 1], [1.0, 0, -1])[None, None])
    >>> np.allclose(np.einsum("kca,kcb->kcab", u, v), np.outer([1, 2, 1], [1, 0, -1]))
    True

    ```
    """
    torch_like = not isinstance(weight, np.ndarray) and hasattr(weight, "detach")
    w = weight.detach().cpu().numpy() if torch_like else np.asarray(weight)
    if w.ndim != 4 or w.dtype.kind not in "fiu":
        raise SpecError(
            "rank_one_factors: weight must be a real 4-d array (C_out, C_in/groups, kh, kw), "
            f"got shape {w.shape}, dtype {w.dtype}"
        )
    if tol is not None and not (
        not isinstance(tol, bool) and isinstance(tol, int | float | np.floating) and tol >= 0
    ):
        raise SpecError(f"rank_one_factors: tol must be a real number >= 0, got {tol!r}")
    tol = RANK_TOL.get(str(w.dtype), RANK_TOL["float64"]) if tol is None else tol
    K, Cg, kh, kw = w.shape
    if K * Cg == 0 or not np.isfinite(w).all():  # inf or NaN: no factors (symconv refuses it)
        return None
    U, s, Vt = np.linalg.svd(w.astype(np.float64).reshape(K * Cg, kh, kw), full_matrices=False)
    if s.shape[1] > 1 and np.any(s[:, 1] > tol * s[:, 0]):
        return None
    root = np.sqrt(s[:, 0])
    u = (U[:, :, 0] * root[:, None]).reshape(K, Cg, kh).astype(w.dtype)
    v = (Vt[:, 0, :] * root[:, None]).reshape(K, Cg, kw).astype(w.dtype)
    if torch_like:
        import torch

        return torch.from_numpy(u).to(weight.device), torch.from_numpy(v).to(weight.device)
    return u, v


def _shift_adds(spec: Conv, op: str) -> bool:
    """Whether the shifted kernels run `op` of `spec` as shift-adds (the printed rule; dL/dx
    is a layer with the channel counts exchanged)."""
    c_g, k_g = spec.in_channels // spec.groups, spec.out_channels // spec.groups
    return shift_add_layer(k_g, c_g) if op == "grad_input" else shift_add_layer(c_g, k_g)
