r"""The one registry of derivations: what `symconv derive`, `symconv verify` and the docs read.

Each `Entry` is one named derivation or identity: its name, a one-line statement, the factory
that builds it for a layer (`symconv derive NAME`), the layer it takes by default and its
options, whether `symconv verify` runs it (and if not, why), and the docs pages that show it
in a `{{ symconv derivation op=NAME }}` directive. The consumers read the table, none keeps a
list of its own:

- `symconv.derive.derive(name, ...)` and `DERIVATIONS` (the entries with a `derive` factory);
- `symconv.verify.REGISTRY` (the entries `verify` runs, in this order; an identity that checks
  more than the default derivation keeps its factory in `symconv.verify`, bound by `register`);
- the CLI's `derive OP` help and which flags an op reads (`layer`);
- the docs hook's `derivation` directive (`derive(op, layer, input, ...)`).

numeric's checks (its cost model, its kernels against the Toeplitz matrix, its Winograd layer)
are not named here: they live with numeric and register themselves through its hook
(`numeric.checks`); `ENTRIES` adds each `registered()` check after the entry its `after`
names, its factories given the derivation-layer functions it `needs` (`INJECTED`).

```python
>>> from symconv.registry import ENTRIES, INJECTED, entry, derive_ops
>>> e = entry("p4")
>>> e.layer, e.default_layer().dims, e.verify, e.pages
('layer', 2, 'default', ('theorems.md',))
>>> entry("toeplitz").verify, "verify" in entry("toeplitz").why_not
('no', True)
>>> "toeplitz-torch" in derive_ops(), entry("toeplitz-torch").derive is None
(False, True)
>>> entry("numeric-kernels").own.keywords["toeplitz_numeric"] is INJECTED["toeplitz_numeric"]
True

```
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from numeric.checks import NumericCheck, registered

from . import case_studies
from ._errors import SpecError
from .arith import lecture_formula_derivation
from .backprop import activation_step, backprop, exact_grid
from .derivation import Derivation
from .equivariance import equivariance, pooling_example, symbolic_weights_cost
from .fourier import commutativity_derivation, fft_padding_derivation, fourier_derivation
from .groupconv import p4_derivation
from .limits import factor_tables_cost, symbolic_cost
from .local_params import local_backprop, local_params
from .matrices import matrix_derivation, transpose_derivation
from .separable import separable_derivation
from .spec import Conv
from .toeplitz import toeplitz_numeric
from .winograd import winograd, winograd_derivation, winograd_residual
from .winograd._checks import _coefficient_mismatches_2d

__all__ = [
    "DEFAULT_LAYER",
    "ENTRIES",
    "INJECTED",
    "Entry",
    "Layer",
    "Verified",
    "derive_ops",
    "entry",
    "identities",
    "identity",
    "injected",
]

Layer = Literal["layer", "optional", "none", "tile"]
"""What a derive op reads: `layer` the layer (its own `default`, or `DEFAULT_LAYER`) and the
input size; `optional` nothing (a general derivation), a layer or an input size add their
numbers; `none` neither (general; the CLI refuses layer flags and `--input`); `tile` the
kernel size r and a tile length (Winograd; not capped by `symconv.limits`)."""

Verified = Literal["default", "own", "no"]
"""How `symconv verify` runs an entry: `default` its derivation with the default layer;
`own` a factory of its own in `symconv.verify` (a harder layer, several layers, a grid); `no`
not at all (`Entry.why_not` says why)."""

DeriveFactory = Callable[..., Derivation]
"""`factory(spec, input_size, **options)`: the derivation for a layer at an input size."""

DEFAULT_LAYER = Conv(dims=1, kernel_size=3)
"""The layer of an op that reads one when none is given and it has no `default` of its own."""


@dataclass(frozen=True)
class Entry:
    r"""One registered derivation or identity.

    - `name`: the CLI name (`symconv derive NAME`; `symconv verify --only NAME` unless
      `identity` renames it there);
    - `statement`: what it establishes, one line (`symconv verify --list`);
    - `derive`: the factory `(spec, input_size, **options) -> Derivation`; `None` for an
      identity `symconv derive` does not offer (a grid, several layers at once);
    - `layer`, `default`: what the factory reads (see `Layer`) and the op's own default layer
      (`None`: `DEFAULT_LAYER`);
    - `options`: the keyword options the factory takes besides the layer and the size;
    - `verify`, `identity`, `why_not`: whether and how `symconv verify` runs it, under which
      name, and, when it does not, why;
    - `pages`: the docs pages whose `derivation` directives show it;
    - `cost`: what `derive` charges against the `nonzeros` limit of `symconv.limits`, from
      integer arithmetic before anything is built: `cost(spec, size)`, the nonzeros (or
      entries) of the largest thing the factory builds; `None`: the layer's matrix
      ($C_\text{out} \prod o \cdot (C_\text{in}/g) \prod k$, `symbolic_cost`);
    - `own`: a verify-only identity's factory when the entry brings it (numeric's checks,
      `numeric.checks`); `None`: `symconv.verify` registers the factory of an `own` identity;
    - `travels`: its numeric-level (torch) checks are module-level functions of plain values
      (`functools.partial`s), so `symconv derive` runs them in a worker process that imports
      torch while this one derives (`Derivation.verify(executor=...)`).
    """

    name: str
    statement: str
    derive: DeriveFactory | None = None
    layer: Layer = "layer"
    default: Any = None
    options: tuple[str, ...] = ()
    verify: Verified = "default"
    identity: str = ""
    why_not: str = ""
    pages: tuple[str, ...] = ()
    cost: Callable[[Any, tuple[int, ...]], int] | None = None
    own: Callable[[], Derivation] | None = None
    travels: bool = False

    @property
    def identity_name(self) -> str:
        """The name `symconv verify` lists it under."""
        return self.identity or self.name

    def default_layer(self) -> Any:
        """The layer `derive(name)` builds when none is given (`None` for a general op whose
        layer is optional)."""
        if self.layer == "optional":
            return None
        return DEFAULT_LAYER if self.default is None else self.default


# -- the factories: each reads (spec, size) in the way its `layer` says ---------------------
def _output_size(spec: Any, size: Any) -> Derivation:
    """The general formula; with a layer, also at its sizes (and at `size`, if given)."""
    return lecture_formula_derivation(spec, size)


def _matrix(spec: Any, size: Any) -> Derivation:
    return matrix_derivation(spec, (5,) * spec.dims if size is None else size)


def _transpose(spec: Any, size: Any) -> Derivation:
    return transpose_derivation(spec, size)


def _backprop(spec: Any, size: Any) -> Derivation:
    return backprop(spec, size)


def _activation(spec: Any, size: Any) -> Derivation:
    return activation_step()


def _equivariance(
    spec: Any, size: Any, shift: Any = None, transform: str = "translate"
) -> Derivation:
    return equivariance(spec, size, shift=shift, transform=transform)


def _general(factory: Callable[[], Derivation]) -> DeriveFactory:
    """A derivation that reads no layer or input size."""

    def general(spec: Any, size: Any) -> Derivation:
        return factory()

    general.__doc__ = factory.__doc__
    return general


def _winograd(spec: Any, size: Any) -> Derivation:
    """F(m, r): r from the spec's kernel size (default 3); the input size, if given, is the
    tile length m + r - 1 (default m = 2)."""
    r = spec.kernel_size[0] if isinstance(spec, Conv) else 3
    if size is None:
        return winograd_derivation(2, r)
    tile = size if isinstance(size, int) else size[0]
    if tile < r:
        raise SpecError(f"derive winograd: tile length {tile} must be at least r = {r}")
    return winograd_derivation(tile - r + 1, r)


def _no_matrix(spec: Any, size: tuple[int, ...]) -> int:
    """Nothing of the layer's size: sizes from formulas (the input's and the output's positions
    are still capped)."""
    return 0


def _equivariance_cost(spec: Any, size: tuple[int, ...]) -> int:
    """A `Conv` (symbolic weights: derive gives none) is checked on structure
    (`symbolic_weights_cost`); pooling builds its rows, the layer's matrix."""
    if isinstance(spec, Conv):
        return symbolic_weights_cost(spec, size)
    return int(symbolic_cost(spec, size)["nonzeros"])


def _unfold_cost(spec: Any, size: tuple[int, ...]) -> int:
    r"""unfold's matrix $\mathcal U$ (and fold's, its transpose): one one per row
    $(c, \vec a, \vec o)$ at most, $C_\text{in} \prod k \prod o$: no $C_\text{out}$."""
    return int(spec.in_channels * math.prod(spec.kernel_size) * math.prod(spec.output_size(size)))


def _matvec_cost(spec: Any, size: tuple[int, ...]) -> int:
    r"""`derive toeplitz`: a plain `Conv` is checked on integer factor tables and by $T x$ in
    blocks (`factored_matvec`), gathering $C_\text{in} \prod k$ values per output position;
    $T$ itself is built (symbolically) only when shown. Any other layer builds $T$."""
    if type(spec) is Conv:
        return int(
            spec.in_channels * math.prod(spec.kernel_size) * math.prod(spec.output_size(size))
        )
    return symbolic_cost(spec, size)["nonzeros"]


def _factors_cost(spec: Any, size: tuple[int, ...]) -> int:
    r"""`derive transpose`: sizes from formulas and $T^\top$ compared factor by factor
    (`verify_adjoint`, the transposed layer reading `size`): at most $C_\text{in} \prod k$
    entries per position of the transposed output, $\prod (s\,n + d(k-1) + 1)$ at most."""
    axes = zip(size, spec.stride, spec.dilation, spec.kernel_size, strict=True)
    positions = math.prod(s * n + d * (k - 1) + 1 for n, s, d, k in axes)
    return int(spec.in_channels * math.prod(spec.kernel_size) * positions)


def _gradient_cost(spec: Any, size: tuple[int, ...]) -> int:
    r"""`derive backprop`: a plain `Conv`'s gradients are checked on factor tables (the
    layer's and its two gradient convolutions': channel pairs, one tap table per axis,
    `factor_tables_cost`), at the layer's size; its other checks run on fixed small layers.
    A `Pool` gathers its taps: the layer's matrix."""
    if type(spec) is Conv:
        return factor_tables_cost(spec, size)
    return symbolic_cost(spec, size)["nonzeros"]


def _unfold_fold(spec: Any, size: Any) -> Derivation:
    from .family import unfold_fold_derivation  # imports scipy: derive runs without it

    return unfold_fold_derivation(spec, size)


def _adaptive_pool() -> Derivation:
    from .family import adaptive_window_derivation  # imports scipy: derive runs without it

    return adaptive_window_derivation()


def _case_study(name: str) -> Callable[[], Derivation]:
    """A general derivation of `symconv.case_studies` (reads no layer or input size)."""

    def factory() -> Derivation:
        built: Derivation = getattr(case_studies, name)()
        return built

    return factory


# -- the registry ---------------------------------------------------------------------------
# In `symconv verify`'s order (the derive ops follow the same order); `ENTRIES` adds
# numeric's checks (below).
_ENTRIES: tuple[Entry, ...] = (
    Entry(
        "output-size",
        "o = floor((i + 2p - d(k-1) - 1)/s) + 1, the lectures' (N - F + 2P)/S + 1",
        _output_size,
        layer="optional",
        pages=("arithmetic.md",),
        cost=_no_matrix,
    ),
    Entry(
        "toeplitz",
        "vec(y) = T vec(x), T = V Pad, for one layer at one input size",
        _matrix,
        verify="no",
        why_not="one layer at a time: verify checks T = V Pad on its grid (toeplitz-"
        "factorization) and T x against torch (toeplitz-torch)",
        pages=("channels.md", "convolution.md", "matrix.md", "padding.md"),
        cost=_matvec_cost,
    ),
    Entry(
        "transpose",
        "ConvTranspose's output size; output_padding = a recovers the input size; T^T",
        _transpose,
        verify="no",
        why_not="one layer at a time: verify checks T^T on its grid (transpose-adjoint); the "
        "size rule is checked by this derivation's own general and exact checks",
        pages=("transpose.md",),
        cost=_factors_cost,
    ),
    Entry(
        "activation",
        "delta_j = h'(a_j) sum_k delta_k w_kj through an activation",
        _activation,
        layer="none",
        identity="activation-step",
        pages=("backprop.md",),
    ),
    Entry(
        "backprop",
        "dL/dx = Pad^T (flipped kernel * dilated delta), dL/dw = X^T delta, dL/db",
        _backprop,
        verify="own",
        pages=("backprop.md",),
        cost=_gradient_cost,
    ),
    Entry(
        "pool-gradients",
        "max routes delta to the first maximum; avg divides by N_o; lp",
        verify="own",
    ),
    Entry(
        "equivariance",
        "T S = S T on the outputs the index form predicts; rot90/flip symmetry",
        _equivariance,
        cost=_equivariance_cost,
        options=("shift", "transform"),
        travels=True,
        verify="own",
        pages=("equivariance.md",),
    ),
    Entry(
        "fourier",
        "the DFT diagonalises every circulant T; eigenvalues = DFT of the kernel",
        fourier_derivation,
        pages=("theorems.md",),
    ),
    Entry(
        "fft-padding",
        "circular = linear convolution once N >= max(K, n + max(p_lo, p_hi))",
        fft_padding_derivation,
        layer="none",
        pages=("theorems.md",),
    ),
    Entry(
        "commutativity",
        "f * g = g * f; correlation does not commute; multichannel in general not",
        commutativity_derivation,
        layer="none",
        pages=("theorems.md",),
    ),
    Entry(
        "separable",
        "T(u v^T) = T(u) (x) T(v): a rank-1 kernel is two 1-d passes",
        separable_derivation,
        layer="optional",
        pages=("theorems.md",),
        cost=_no_matrix,  # a layer adds counts from Conv.num_parameters/macs; matrices are 5x5
    ),
    Entry(
        "winograd",
        "A^T[(G g) . (B^T d)] = valid correlation of d with g (Cook-Toom points)",
        _winograd,
        layer="tile",
        pages=("theorems.md",),
    ),
    Entry(
        "p4",
        "rotating the input rotates the p4 feature maps and shifts their orientation",
        p4_derivation,
        default=Conv(dims=2, kernel_size=3, padding=1),  # 2-d only
        pages=("theorems.md",),
    ),
    Entry(
        "local-params",
        "parameter counts: conv, tiled, locally connected, dense",
        local_params,
        default=Conv(dims=2, kernel_size=3),  # 2-d only
        pages=("local.md",),
        cost=_no_matrix,  # counts from formulas; its matrices are small layers
    ),
    Entry(
        "local-backprop",
        "unshared and tiled weights: dL/dw = X^T delta, dL/dx = T^T delta",
        local_backprop,
        pages=("local.md",),
        cost=factor_tables_cost,  # T's factor tables against the formula's; SymPy only if small
    ),
    Entry(
        "residual",
        "dL/dx = dL/dy (I + dF/dx) through y = x + F(x); gradient norm per depth",
        _general(_case_study("residual_derivation")),
        layer="none",
        pages=("architectures.md",),
    ),
    Entry(
        "bottleneck",
        "1x1 reduce, 3x3, 1x1 restore: 2Cb + 9b^2 weights against 18C^2",
        _general(_case_study("bottleneck_derivation")),
        layer="none",
        pages=("architectures.md",),
    ),
    Entry(
        "depthwise-separable",
        "depthwise k x k then pointwise 1x1 costs 1/C_out + 1/k^2",
        _general(_case_study("depthwise_separable_derivation")),
        layer="none",
        pages=("architectures.md",),
    ),
    Entry(
        "grouped-conv",
        "g groups: k^2 C_in C_out / g + C_out parameters, block-diagonal kernel",
        _general(_case_study("grouped_conv_derivation")),
        layer="none",
        pages=("architectures.md",),
    ),
    Entry(
        "unfold-fold",
        "unfold is the patch matrix, fold its adjoint: F = U^T",
        _unfold_fold,
        default=Conv(dims=2, in_channels=2, kernel_size=2, padding=1),  # 2-d only
        verify="no",
        why_not="one layer at a time; the docs build and tests/kernels/test_numeric_family.py "
        "run it",
        pages=("matrix.md",),
        cost=_unfold_cost,
        travels=True,
    ),
    Entry(
        "adaptive-pool",
        "adaptive pooling's window o is [floor(oI/O), ceil((o+1)I/O)); the windows tile the axis",
        _general(_adaptive_pool),
        layer="none",
        verify="no",
        why_not="a statement about window bounds, checked by its own general checks in the "
        "docs build and tests/kernels/test_numeric_family.py",
        pages=("pooling.md",),
    ),
    Entry(
        "pooling-example",
        "max pooling over a detector row shifted by one: every detector value changes, half "
        "the pooled ones (Goodfellow et al., fig. 9.8)",
        _general(pooling_example),
        layer="none",
        verify="no",
        why_not="a worked example (tests/derivations/test_equivariance.py, the docs build); "
        "verify's equivariance identity checks max pooling in general",
        pages=("pooling.md",),
    ),
    Entry(
        "toeplitz-factorization",
        "T = V Pad: the valid convolution of the padded input",
        verify="own",
    ),
    Entry(
        "toeplitz-torch",
        "vec(y) = T vec(x) agrees with torch's convolution (float64)",
        verify="own",
    ),
    Entry(
        "transpose-adjoint",
        "ConvTranspose is T^T of its adjoint convolution, same weights",
        verify="own",
    ),
    Entry(
        "backprop-grid",
        "T^T delta = dL/dx and X^T delta = dL/dw on the whole grid",
        verify="own",
    ),
)


# -- numeric's checks, read from its hook ---------------------------------------------------
INJECTED: dict[str, Any] = {
    "toeplitz_numeric": toeplitz_numeric,
    "exact_grid": exact_grid,
    "winograd": winograd,
    "winograd_residual": winograd_residual,
    "winograd_mismatches_2d": _coefficient_mismatches_2d,
}
"""What the application layer passes numeric's checks: the derivation-layer functions that
numeric may not import, by the names a `NumericCheck` lists in `needs` (`toeplitz_numeric`: the
Toeplitz matrix $T$; `exact_grid`: the verification grid of `symconv.backprop`; Winograd's exact
transforms `winograd`, their residual and their 2-d coefficient count)."""


def injected(needs: Iterable[str]) -> dict[str, Any]:
    """The keyword arguments a check that `needs` these names takes (`INJECTED`'s functions);
    a `SpecError` names one that is unknown."""
    unknown = [n for n in needs if n not in INJECTED]
    if unknown:
        raise SpecError(
            f"registry: a numeric check needs {', '.join(map(repr, unknown))}; the application "
            f"layer provides {', '.join(INJECTED)}"
        )
    return {n: INJECTED[n] for n in needs}


def _numeric_entry(check: NumericCheck) -> Entry:
    """A registered numeric check as an entry: its factories with `injected(check.needs)`."""
    deps = injected(check.needs)
    return Entry(
        check.name,
        check.statement,
        None if check.derive is None else partial(check.derive, **deps),
        layer=check.layer,
        verify=check.verify,
        why_not=check.why_not,
        pages=check.pages,
        own=None if check.own is None else partial(check.own, **deps),
    )


def _with_numeric_checks(
    entries: Iterable[Entry], checks: Iterable[NumericCheck]
) -> tuple[Entry, ...]:
    """`entries` with each check placed right after the entry its `after` names (checks after
    the same entry in registration order; `after=""`: at the end)."""
    ours = list(entries)
    after: dict[str, list[Entry]] = {}
    for check in checks:
        after.setdefault(check.after, []).append(_numeric_entry(check))
    taken = {e.name for e in ours} & {e.name for group in after.values() for e in group}
    if taken:
        raise RuntimeError(f"symconv.registry: numeric checks take registered names: {taken}")
    placed: list[Entry] = []

    def place(e: Entry) -> None:
        placed.append(e)
        for follower in after.pop(e.name, ()):
            place(follower)

    for e in [*ours, *after.pop("", ())]:
        place(e)
    if after:
        raise RuntimeError(f"symconv.registry: numeric checks after no entry: {sorted(after)}")
    return tuple(placed)


ENTRIES: tuple[Entry, ...] = _with_numeric_checks(_ENTRIES, registered())
"""Every entry, in `symconv verify`'s order: the table above with numeric's checks placed."""

_BY_NAME = {e.name: e for e in ENTRIES}
_BY_IDENTITY = {e.identity_name: e for e in ENTRIES if e.verify != "no"}


def entry(name: str) -> Entry:
    """The entry named `name`; a `SpecError` lists the known names."""
    if name not in _BY_NAME:
        raise SpecError(f"registry: unknown name {name!r}; known: {', '.join(_BY_NAME)}")
    return _BY_NAME[name]


def identity(name: str) -> Entry:
    """The entry `symconv verify` lists as `name` (`activation-step` is `activation`)."""
    if name not in _BY_IDENTITY:
        raise SpecError(f"registry: unknown identity {name!r}; known: {', '.join(_BY_IDENTITY)}")
    return _BY_IDENTITY[name]


def derive_ops() -> tuple[str, ...]:
    """The names `symconv derive` takes, in registry order."""
    return tuple(e.name for e in ENTRIES if e.derive is not None)


def identities() -> tuple[Entry, ...]:
    """The entries `symconv verify` runs, in its order."""
    return tuple(e for e in ENTRIES if e.verify != "no")
