r"""torch's side of the equivariance checks: the layer on random inputs, transformed, and
which outputs change.

`symconv.equivariance` attaches these as its numeric-level checks, as `functools.partial`s of
plain values (the layer, sizes, the shift, the derived broken set, the weights as numbers and
the solved condition as coefficient tables): no SymPy object travels, and this module imports
only NumPy, the spec layer and `symconv._torchref` (torch when a check runs). So a worker
process that holds torch and not SymPy (the tour's) runs them as they are.

```python
>>> import symconv as sc
>>> spec = sc.Conv(dims=1, kernel_size=3, padding=1, bias=False)
>>> translate_trials(spec, (8,), (1,), (1,), False, None, frozenset({(0,), (7,)})).passed
True

```
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._results import Outcome
from ._torchref import conv_reference, pool_reference
from ._torchref import torch_or_none as _torch
from .spec import Conv, Pool

__all__ = ["Sampler", "symmetry_trials", "torch_changed", "translate_trials"]


def _kind(spec: Conv | Pool) -> str:
    return spec.kind if isinstance(spec, Pool) else "conv"


@dataclass(frozen=True)
class Sampler:
    """A solved linear condition on the weights as coefficient tables: `sample(noise)` maps
    one number per weight (the free ones are read) to weights satisfying it, in floats."""

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    size: int

    def sample(self, noise: np.ndarray) -> np.ndarray:
        out = np.zeros(self.size)
        np.add.at(out, self.rows, self.values * noise[self.cols])
        return out


def _torch_layer(spec: Conv | Pool, x: Any, weight: Any) -> Any:
    """The layer in torch: the reference convolution (no bias) or pooling."""
    return conv_reference(spec, x, weight) if isinstance(spec, Conv) else pool_reference(spec, x)


def _torch_transform(x: Any, transform: str, shift: Sequence[int], cyclic: bool) -> Any:
    """The transformation in torch (roll then zero the wrapped part; rot90; flip)."""
    torch = _torch()
    dims = x.dim() - 2
    if transform == "rot90":
        return torch.rot90(x, 1, dims=(-2, -1))
    if transform == "flip_h":
        return torch.flip(x, dims=(-1,))
    if transform == "flip_v":
        return torch.flip(x, dims=(-2,))
    y = torch.roll(x, shifts=tuple(shift), dims=tuple(range(2, 2 + dims)))
    if not cyclic:
        for a, t in enumerate(shift):
            idx = [slice(None)] * x.dim()
            idx[2 + a] = slice(0, t) if t >= 0 else slice(x.shape[2 + a] + t, None)
            y[tuple(idx)] = 0
    return y


def torch_changed(
    spec: Conv | Pool,
    sizes: tuple[int, ...],
    transform: str,
    shift: Sequence[int],
    u: Sequence[int],
    cyclic: bool,
    weight: Any,
    x: Any,
    invariance: bool = False,
) -> set[tuple[int, ...]]:
    """Positions where layer(g x) differs from g'(layer(x)) (or from layer(x): invariance)."""
    torch = _torch()
    y = _torch_layer(spec, x, weight)
    lhs = _torch_layer(spec, _torch_transform(x, transform, shift, cyclic), weight)
    rhs = y if invariance else _torch_transform(y, transform, u, cyclic)
    diff = (lhs - rhs).abs().amax(dim=(0, 1))
    tol = 1e-9 * (1.0 + float(y.abs().max()))
    return {tuple(int(v) for v in p) for p in torch.nonzero(diff > tol).tolist()}


def _random_input(spec: Conv | Pool, sizes: tuple[int, ...], gen: Any) -> Any:
    torch = _torch()
    channels = spec.in_channels if isinstance(spec, Conv) else 2
    x = torch.randn((2, channels, *sizes), generator=gen, dtype=torch.float64)
    return x.abs() + 0.1 if _kind(spec) == "lp" else x


def _weight_tensor(spec: Conv, weights: np.ndarray | None, gen: Any) -> Any:
    """The given weights as a tensor, or random ones."""
    torch = _torch()
    if weights is None:
        return torch.randn(spec.weight_shape, generator=gen, dtype=torch.float64)
    return torch.tensor(weights, dtype=torch.float64).reshape(spec.weight_shape)


def _trials(
    spec: Conv | Pool,
    sizes: tuple[int, ...],
    weights: np.ndarray | None,
    expected: set[tuple[int, ...]],
    changed: Callable[[Any, Any], set[tuple[int, ...]]],
    extra: Callable[[Any, Any], str] | None = None,
    passed: str = "changed output positions match .broken",
) -> Outcome:
    """Three random trials: the positions torch changes, `changed(w, x)`, are `expected` (for
    max pooling: within it); `extra(x, gen)` may check more per trial ('' when it holds)."""
    torch = _torch()
    if torch is None:  # pragma: no cover
        return Outcome(0, 0.0, True, "torch not installed: skipped")
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):
        x = _random_input(spec, sizes, gen)
        w = _weight_tensor(spec, weights, gen) if isinstance(spec, Conv) else None
        got = changed(w, x)
        ok = got <= expected if _kind(spec) == "max" else got == expected
        if not ok:
            return Outcome(
                3, 1.0, False, f"torch changed {sorted(got)}, derived {sorted(expected)}"
            )
        why = extra(x, gen) if extra else ""
        if why:
            return Outcome(3, 1.0, False, why)
    return Outcome(3, 0.0, True, passed)


def translate_trials(
    spec: Conv | Pool,
    sizes: tuple[int, ...],
    shift: tuple[int, ...],
    u: tuple[int, ...],
    cyclic: bool,
    weights: np.ndarray | None,
    broken: frozenset[tuple[int, ...]],
) -> Outcome:
    """torch's layer on random inputs (and `weights`, or random ones): shifting the input by
    `shift` and the output by `u` changes exactly the outputs `broken`."""

    def changed(w: Any, x: Any) -> set[tuple[int, ...]]:
        return torch_changed(spec, sizes, "translate", shift, u, cyclic, w, x)

    return _trials(spec, sizes, weights, set(broken), changed)


def symmetry_trials(
    spec: Conv | Pool,
    sizes: tuple[int, ...],
    transform: str,
    weights: np.ndarray | None,
    broken: frozenset[tuple[int, ...]],
    sampler: Sampler | None,
) -> Outcome:
    """torch's layer on random inputs: `transform` changes exactly the outputs `broken`, and
    a kernel drawn from `sampler` (the solved condition) changes none."""

    def changed(w: Any, x: Any) -> set[tuple[int, ...]]:
        return torch_changed(spec, sizes, transform, (), (), False, w, x)

    def symmetric_kernel(x: Any, gen: Any) -> str:
        if sampler is None or not isinstance(spec, Conv):
            return ""
        torch = _torch()  # a kernel satisfying the condition
        noise = torch.randn(sampler.size, generator=gen, dtype=torch.float64).numpy()
        w = torch.tensor(sampler.sample(noise), dtype=torch.float64).reshape(spec.weight_shape)
        got = changed(w, x)
        return f"a kernel meeting the condition changed {sorted(got)}" if got else ""

    return _trials(
        spec,
        sizes,
        weights,
        set(broken),
        changed,
        symmetric_kernel,
        "changed positions match .broken; symmetric kernels exact",
    )
