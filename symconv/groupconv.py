r"""p4 group convolution: equivariance to rotations by 90 degrees, built in.

Plain convolution commutes with translations but not with rotations (unless the kernel is
rot90-symmetric: `symconv.equivariance(spec, transform="rot90")`). The group $p4$ of
translations and rotations by multiples of 90 degrees fixes that (Cohen & Welling, 2016):

- **lifting** ($\mathbb{Z}^2 \to p4$): output channel $k$ gets an orientation axis
  $r \in \{0, 1, 2, 3\}$, correlating with the kernel rotated by $r$,
  $y[k, r] = \sum_c x[c] \star R^r w[k, c]$;
- **group convolution** ($p4 \to p4$): the filter has an orientation axis too; output
  orientation $r$ rotates it spatially by $r$ and shifts its orientation axis cyclically by $r$,
  $y[k, r] = \sum_{c, s} x[c, s] \star R^r w[k, c, (s - r) \bmod 4]$.

With $R$ = `numpy.rot90` (counter-clockwise, $(R x)_{i,j} = x_{j,\, n-1-i}$), rotating the input
rotates every output map and shifts the orientation axis by one:

$$\mathrm{lift}(R x) = \mathrm{roll}_1\big(R\,\mathrm{lift}(x)\big), \qquad
  \mathrm{gconv}(\mathcal{R} x) = \mathcal{R}\,\mathrm{gconv}(x),\quad
  (\mathcal{R} x)[s] = R\, x[s - 1],$$

for square inputs and the same padding on every side (zeros, circular, reflect or replicate:
each mode commutes with $R$). The kernels here are NumPy,
vectorised: a sliding-window view and one `einsum`.

```python
>>> import numpy as np
>>> from symconv.groupconv import lift, rotate_p4
>>> rng = np.random.default_rng(0)
>>> x, w = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3))
>>> y = lift(x, w, padding=1)
>>> y.shape
(1, 3, 4, 6, 6)
>>> np.allclose(lift(np.rot90(x, 1, axes=(-2, -1)), w, padding=1), rotate_p4(y))
True

```
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from ._errors import SpecError
from ._tables import Table, same, table
from ._validate import p4_padding
from .derivation import Derivation, Outcome, discrepancy
from .equivariance import equivariance
from .indexform import index_form
from .limits import DEFAULTS, check_symbolic, get_limits
from .spec import NUMPY_PAD_MODES, Conv

__all__ = ["MAX_NONZEROS", "correlate2d", "group_conv", "lift", "p4_derivation", "rotate_p4"]

_OP = "p4"
MAX_NONZEROS = DEFAULTS["nonzeros"]
r"""No separate cap any more, kept for compatibility (the default of `symconv.limits`'
`nonzeros`, $2^{26}$): `p4_derivation` states its cost, the group-convolution matrix's
$16\,o^2 k^2$ taps (4 x 4 orientation blocks of an $o \times o$ output, $k \times k$ taps
each), and refuses it above the `nonzeros` limit in force. Its exact checks compare integer
coefficient tables, linear in the taps (a 64 x 64 input: 590 k taps, well under a second)."""


def _array(a: Any, what: str, ndim: int, layout: str) -> np.ndarray:
    """`a` as a numeric NumPy array with `ndim` axes (`layout` names them), or a `SpecError`."""
    try:
        arr = np.asarray(a)
    except (ValueError, TypeError) as err:  # ragged nested sequences
        raise SpecError(
            f"{_OP}: {what} must be a numeric array {layout}, got a ragged {type(a).__name__}"
        ) from err
    if not (arr.dtype == bool or np.issubdtype(arr.dtype, np.number)):
        raise SpecError(
            f"{_OP}: {what} must be a numeric array {layout}, got a {type(a).__name__} of dtype "
            f"{arr.dtype}"
        )
    if arr.ndim != ndim:
        raise SpecError(f"{_OP}: {what} must have shape {layout}, got shape {arr.shape}")
    return arr


def correlate2d(
    x: np.ndarray, w: np.ndarray, padding: int | str = 0, padding_mode: str = "zeros"
) -> np.ndarray:
    r"""Cross-correlation, stride 1: `x` $(N, C_\mathrm{in}, H, W)$, `w` $(C_\mathrm{out},
    C_\mathrm{in}, k, k)$ $\to (N, C_\mathrm{out}, H', W')$, torch's `conv2d` convention."""
    x = _array(x, "x", 4, "(N, C_in, H, W)")
    w = _array(w, "w", 4, "(C_out, C_in, k, k)")
    if x.shape[1] != w.shape[1]:
        raise SpecError(
            f"{_OP}: expected x (N, C_in, H, W) and w (C_out, C_in, k, k) with matching C_in, "
            f"got {x.shape} and {w.shape}"
        )
    if padding_mode not in NUMPY_PAD_MODES:
        raise SpecError(
            f"{_OP}: padding_mode must be one of {', '.join(map(repr, NUMPY_PAD_MODES))}, "
            f"got {padding_mode!r}"
        )
    p = p4_padding(_OP, padding, w.shape[-1])
    if p and padding_mode != "zeros" and 0 in x.shape[-2:]:
        raise SpecError(f"{_OP}: {padding_mode} padding needs a non-empty input, got {x.shape}")
    if padding_mode == "reflect" and p >= min(x.shape[-2:]):
        raise SpecError(
            f"{_OP}: reflect padding {p} must be smaller than the input size {min(x.shape[-2:])}"
        )
    # pad both spatial axes alike (torch's modes: reflect without repeating the edge)
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode=NUMPY_PAD_MODES[padding_mode])
    if xp.shape[-2] < w.shape[-2] or xp.shape[-1] < w.shape[-1]:
        raise SpecError(
            f"{_OP}: kernel {w.shape[-2:]} larger than the padded input {xp.shape[-2:]}"
        )
    windows = np.lib.stride_tricks.sliding_window_view(xp, w.shape[-2:], axis=(2, 3))
    return np.einsum("nchwab,kcab->nkhw", windows, w, optimize=True)  # one window per output


def _square(x: np.ndarray, what: str) -> None:
    if x.shape[-1] != x.shape[-2]:
        raise SpecError(f"{_OP}: {what} must be square for rotations, got {x.shape[-2:]}")


def lift(
    x: np.ndarray, w: np.ndarray, padding: int | str = 0, padding_mode: str = "zeros"
) -> np.ndarray:
    r"""Lifting convolution $\mathbb{Z}^2 \to p4$: `x` $(N, C_\mathrm{in}, H, W)$, `w`
    $(C_\mathrm{out}, C_\mathrm{in}, k, k)$ $\to (N, C_\mathrm{out}, 4, H', W')$."""
    x = _array(x, "lift: x", 4, "(N, C_in, H, W)")
    w = _array(w, "lift: w", 4, "(C_out, C_in, k, k)")
    _square(w, "the kernel")
    # four copies of the kernel, rotated by r = 0..3 (counter-clockwise), as extra channels
    ws = np.stack([np.rot90(w, r, axes=(-2, -1)) for r in range(4)], axis=1)
    c_out, _, c_in, k, _ = ws.shape
    y = correlate2d(x, ws.reshape(c_out * 4, c_in, k, k), padding, padding_mode)
    return y.reshape(y.shape[0], c_out, 4, *y.shape[-2:])


def group_conv(
    x: np.ndarray, w: np.ndarray, padding: int | str = 0, padding_mode: str = "zeros"
) -> np.ndarray:
    r"""Group convolution $p4 \to p4$: `x` $(N, C_\mathrm{in}, 4, H, W)$, `w`
    $(C_\mathrm{out}, C_\mathrm{in}, 4, k, k)$ $\to (N, C_\mathrm{out}, 4, H', W')$."""
    x = _array(x, "group_conv: x", 5, "(N, C_in, 4, H, W)")
    w = _array(w, "group_conv: w", 5, "(C_out, C_in, 4, k, k)")
    if x.shape[2] != 4 or w.shape[2] != 4:
        raise SpecError(
            f"{_OP}: group_conv expects x (N, C_in, 4, H, W) and w (C_out, C_in, 4, k, k), "
            f"got {x.shape} and {w.shape}"
        )
    _square(w, "the kernel")
    # output orientation r: shift the filter's orientation axis by r, then rotate it by r
    ws = np.stack(
        [np.rot90(np.roll(w, r, axis=2), r, axes=(-2, -1)) for r in range(4)], axis=1
    )  # (C_out, 4, C_in, 4, k, k)
    c_out, _, c_in, _, k, _ = ws.shape
    y = correlate2d(
        x.reshape(x.shape[0], c_in * 4, *x.shape[-2:]),
        ws.reshape(c_out * 4, c_in * 4, k, k),
        padding,
        padding_mode,
    )
    return y.reshape(y.shape[0], c_out, 4, *y.shape[-2:])


def rotate_p4(y: np.ndarray) -> np.ndarray:
    """The p4 action on a feature map `(..., 4, H, W)`: rotate every map, shift orientations."""
    return np.roll(np.rot90(y, 1, axes=(-2, -1)), 1, axis=-3)


# -- the exact derivation --------------------------------------------------------------------
# Each matrix identity T P = Q T is checked on integer coefficient tables (`symconv._tables`):
# one row (output, input, weight index) per tap of T, the weight index of the rotated kernel
# psi[s, R^r (a, b)] computed from numpy's rot90 of the kernel's index grid. Equal tables (as
# multisets) are equal matrices with symbolic weights, entry by entry; no SymPy matrix is built.
_CROSS_CHECK = 16  # inputs up to this side also checked by symconv.equivariance (SymPy rows)


def _rot_source(k: int, r: int) -> np.ndarray:
    """Flat kernel index read at each position of the kernel rotated by r (numpy's rot90)."""
    return np.rot90(np.arange(k * k).reshape(k, k), r).ravel()


def _taps(spec: Conv, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """T of the single-channel layer on n x n as taps: (rows, cols, flat kernel index
    a * k + b), and T's row and column counts (`IndexForm.gather`, what `toeplitz` assembles)."""
    g = index_form(spec, (n, n)).gather()
    return g.rows, g.cols, g.weights, g.shape[0], g.shape[1]


def _lift_matrix(spec: Conv, n: int, orientations: int = 4) -> Table:
    """T of the lifting layer as a table (row (r, o), column, kernel index of psi = R^r w)."""
    rows, cols, a, n_rows, _ = _taps(spec, n)
    k = spec.kernel_size[0]
    parts = [table(r * n_rows + rows, cols, _rot_source(k, r)[a]) for r in range(orientations)]
    return np.concatenate(parts)


def _gconv_matrix(spec: Conv, n: int) -> Table:
    """T of the p4 group convolution as a table: block (r, s) = T(R^r psi[(s - r) mod 4])."""
    rows, cols, a, n_rows, n_cols = _taps(spec, n)
    k = spec.kernel_size[0]
    parts = []
    for r in range(4):
        src = _rot_source(k, r)[a]
        for s in range(4):
            w = ((s - r) % 4) * k * k + src
            parts.append(table(r * n_rows + rows, s * n_cols + cols, w))
    return np.concatenate(parts)


def _rot_perm(n: int, layers: int) -> np.ndarray:
    """sigma with (P x)[p] = x[sigma[p]] for P = (shift orientations by 1) (x) rot90, flattened."""
    s, i, j = np.indices((layers, n, n))
    src_s = (s - 1) % layers if layers > 1 else s
    return np.ravel_multi_index((src_s, j, n - 1 - i), (layers, n, n)).ravel()


def _equivariant(t: Table, n_in: int, l_in: int, n_out: int, l_out: int) -> bool:
    """T P_in == P_out T entry by entry, on T's table (columns: row, column, weight):
    (T P)[row, sigma(c)] = T[row, c] and (Q T)[p, c] = T[tau(p), c]."""
    sig_in, tau = _rot_perm(n_in, l_in), _rot_perm(n_out, l_out)
    inv_tau = np.argsort(tau)
    lhs = table(t[:, 0], sig_in[t[:, 1]], t[:, 2])
    rhs = table(inv_tau[t[:, 0]], t[:, 1], t[:, 2])
    return same(lhs, rhs)


# -- the same identities on the block structure ------------------------------------------------
# The lifting and group-convolution matrices are 4 or 16 blocks, each T (the single-channel
# layer's taps) with the kernel read rotated by rho: block (r, s) of T_g is T(R^r psi[(s - r)
# mod 4]). A block is (block row, block column, weight offset, rho) and its taps T_rho; the
# whole table is the union of the blocks' taps with block-offset keys. When both permutations
# are (orientation shift) x (spatial map), as `_rot_perm`'s are, T P_in = P_out T holds iff
# the two sides hold the same block keys and, block by block, the same taps: their rows,
# columns and weights stay inside one block's ranges, so the union splits uniquely by block.
# Each pair (rho, rho') of tap tables is compared once: 4 tables of T's size, not 16.
Block = tuple[int, int, int, int]  # (block row, block column, weight offset, rotation rho)


def _lift_blocks() -> list[Block]:
    """The lifting matrix's blocks: orientation r reads the kernel rotated by r."""
    return [(r, 0, 0, r) for r in range(4)]


def _gconv_blocks() -> list[Block]:
    """The group convolution's blocks: (r, s) reads filter orientation (s - r) mod 4, rotated
    by r."""
    return [(r, s, (s - r) % 4, r) for r in range(4) for s in range(4)]


def _split_perm(perm: np.ndarray, n: int, layers: int) -> tuple[np.ndarray, np.ndarray] | None:
    """`perm` (over `layers` maps of n x n) as (a permutation of the maps, one spatial
    permutation shared by all of them), or None when it is not of that form."""
    per = n * n
    p = np.asarray(perm).reshape(layers, per)
    lead, inner = p // per, p % per
    if not (lead == lead[:, :1]).all() or not (inner == inner[:1]).all():
        return None
    return lead[:, 0], inner[0]


def _blocks_table(blocks: list[Block], taps: tuple, k: int) -> Table:
    """The whole matrix as one table (row, column, weight), as `_lift_matrix` and
    `_gconv_matrix` assemble it: the fallback when the permutations do not split."""
    rows, cols, a, n_rows, n_cols = taps
    parts = [
        table(br * n_rows + rows, bc * n_cols + cols, off * k * k + _rot_source(k, rho)[a])
        for br, bc, off, rho in blocks
    ]
    return np.concatenate(parts)


def _equivariant_blocks(
    blocks: list[Block],
    taps: tuple,
    k: int,
    n_in: int,
    l_in: int,
    n_out: int,
    l_out: int,
    cache: dict | None = None,
) -> bool:
    """`_equivariant` of the matrix made of `blocks` of T (`taps`, `_taps`), checked block
    by block: block keys permuted by the orientation shifts, each pair of tap tables (T read
    at rho with its columns mapped, T read at rho' with its rows mapped) compared once
    (`cache`, shared by the checks of one derivation, keyed by both maps)."""
    rows, cols, a, _, _ = taps
    sp_in, sp_out = (
        _split_perm(_rot_perm(n_in, l_in), n_in, l_in),
        _split_perm(_rot_perm(n_out, l_out), n_out, l_out),
    )
    keys = {(br, bc) for br, bc, _, _ in blocks}
    if sp_in is None or sp_out is None or len(keys) != len(blocks) or len(rows) == 0:
        return _equivariant(_blocks_table(blocks, taps, k), n_in, l_in, n_out, l_out)
    (lead_in, sig), (lead_out, tau) = sp_in, sp_out
    inv_lead, inv_tau = np.argsort(lead_out), np.argsort(tau)
    # (T P)[row, sigma(c)] = T[row, c]: block column bc moves to lead_in[bc], columns by sig;
    # (Q T)[p, c] = T[tau(p), c]: block row br moves to inv_lead[br], rows by inv_tau
    lhs = {(br, int(lead_in[bc]), off): rho for br, bc, off, rho in blocks}
    rhs = {(int(inv_lead[br]), bc, off): rho for br, bc, off, rho in blocks}
    if lhs.keys() != rhs.keys():
        return False
    cache = {} if cache is None else cache
    maps = (sig.tobytes(), inv_tau.tobytes())
    for key, rho in lhs.items():
        pair = (rho, rhs[key], *maps)
        if pair not in cache:
            left = table(rows, sig[cols], _rot_source(k, rho)[a])
            right = table(inv_tau[rows], cols, _rot_source(k, rhs[key])[a])
            cache[pair] = same(left, right)
        if not cache[pair]:
            return False
    return True


def p4_derivation(spec: Any = None, input_size: Any = None) -> Derivation:
    r"""Rotating the input by 90 degrees rotates each output map and shifts the orientation axis.

    `spec`: a 2D single-channel `Conv` with a square kernel and the same padding on every
    side, any padding mode (zeros, circular, reflect, replicate), stride 1 (default 3x3,
    padding 1); `input_size`: the side of the square input
    (default 5). Checks: the index-level identity $\mathrm{corr}(Rx, Rw) = R\,\mathrm{corr}(x, w)$,
    the lifting layer and the group convolution as exact matrix identities $T P = Q T$ with
    symbolic weights (on integer coefficient tables, linear in the $16\,o^2 k^2$ taps); the
    NumPy kernels numerically; plain convolution's failure for a generic kernel and success for
    every rot90-symmetric one on the same tables (and via
    `symconv.equivariance(spec, transform="rot90")` up to side 16). Any size within
    `symconv.limits` (the taps count against `nonzeros`).
    """
    spec = Conv(dims=2, kernel_size=3, padding=1, bias=False) if spec is None else spec
    if not isinstance(spec, Conv) or type(spec) is not Conv or spec.dims != 2:
        raise SpecError(f"{_OP}: expected a 2D symconv.Conv, got {spec}")
    k = spec.kernel_size[0]
    pads = {lo for lo_hi in spec.pads for lo in lo_hi}
    if (
        spec.kernel_size[1] != k
        or len(pads) != 1
        or any(s != 1 for s in spec.stride)
        or any(d != 1 for d in spec.dilation)
        or spec.flip
    ):
        raise SpecError(
            f"{_OP}: needs a square kernel, the same padding on every side, stride 1, "
            f"dilation 1, cross-correlation; got {spec}"
        )
    if spec.in_channels != 1 or spec.out_channels != 1 or spec.bias:
        spec = spec.replace(in_channels=1, out_channels=1, groups=1, bias=False)
    if input_size is None:
        n = 5
    else:
        sizes = spec._check_input(input_size)
        if len(set(sizes)) != 1:
            raise SpecError(f"{_OP}: the input must be square, got {sizes}")
        n = sizes[0]
    check_symbolic(_OP, spec, (n, n))  # the cost first: the input's positions
    p = pads.pop()
    m = spec.output_size((n, n))[0]
    entries = 16 * m * m * k * k  # the group convolution's taps: its checks' cost
    limit = get_limits()["nonzeros"]
    if entries > limit:
        raise SpecError(
            f"{_OP}: input {n}x{n} with a {k}x{k} kernel gives a group-convolution matrix of "
            f"16 * {m}^2 * {k}^2 = {entries} taps, which exceeds the limit {limit} "
            f"(symconv.limits 'nonzeros'); use a smaller input or kernel, or raise the limit "
            f"with symconv.limits.set_limits(nonzeros=...) or SYMCONV_MAX_NONZEROS"
        )
    i, j, a, b = sympy.symbols("i j a b", integer=True)
    nn, kk, pp = sympy.symbols("n k p", integer=True, positive=True)
    x, w = sympy.IndexedBase("x"), sympy.IndexedBase("w")
    d = Derivation(f"p4 equivariance: lifting and group convolution ({k}x{k}, padding {p})")
    d.add_step(
        "Rotation by 90 degrees (numpy's rot90)",
        sympy.Eq(sympy.Indexed("(R x)", i, j), x[j, nn - 1 - i]),
        "counter-clockwise; R^4 = 1",
        definition=True,
    )
    o = nn + 2 * pp - kk + 1
    d.add_step(
        "Rotate input and kernel together",
        sympy.Eq(
            sympy.Symbol(r"\mathrm{corr}(Rx, Rw)_{i,j}"),
            sympy.Sum(
                x[j + b - pp, o - 1 - i + (kk - 1 - a) - pp] * w[b, kk - 1 - a],
                (a, 0, kk - 1),
                (b, 0, kk - 1),
            ),
        ),
        "substitute a' = b, b' = k - 1 - a: this is corr(x, w) at (j, o - 1 - i), "
        "i.e. (R corr(x, w))[i, j]",
        by="corr(Rx, Rw) = R corr(x, w)",
    )
    d.add_step(
        "Hence",
        sympy.Eq(sympy.Symbol(r"\mathrm{corr}(R x, R w)"), sympy.Symbol(r"R\,\mathrm{corr}(x, w)")),
        "square input, the same padding on every side (any mode: each commutes with R): R "
        "maps windows onto windows",
        by="corr(Rx, Rw) = R corr(x, w)",
    )
    d.add_step(
        "Lifting: y[r] = corr(x, R^r w)",
        sympy.Eq(sympy.Symbol(r"\mathrm{lift}(Rx)_r"), sympy.Symbol(r"R\,\mathrm{lift}(x)_{r-1}")),
        "corr(Rx, R^r w) = R corr(x, R^(r-1) w): rotate each map, roll the orientation axis by 1",
        by=("lift(R x) = roll(R lift(x), 1)", "numpy lift and group_conv"),
    )
    d.add_step(
        "Group convolution: y[r] = sum_s corr(x[s], R^r w[(s - r) mod 4])",
        sympy.Eq(
            sympy.Symbol(r"\mathrm{gconv}(\mathcal{R} x)_r"),
            sympy.Symbol(r"R\,\mathrm{gconv}(x)_{r-1}"),
        ),
        "(R x)[s] = R x[s-1]; substitute s' = s - 1: the filter index (s' - (r - 1)) mod 4 matches",
        by=("gconv(roll R x) = roll R gconv(x)", "numpy lift and group_conv"),
    )
    d.add_step(
        "Plain convolution",
        sympy.Symbol(r"\mathrm{corr}(Rx, w) = R\,\mathrm{corr}(x, w) \iff w = R w"),
        "only rot90-symmetric kernels (symconv.equivariance(spec, transform='rot90'))",
        by="plain convolution is not",
    )
    d.results.update(output_size=m)

    def plain() -> Outcome:
        # T(R w) P_R = P_R T(w): T(R w) reads kernel index src[a] where T(w) reads a
        rows, cols, a, _, _ = _taps(spec, n)
        sig, tau = _rot_perm(n, 1), _rot_perm(m, 1)
        lhs = table(rows, sig[cols], _rot_source(k, 1)[a])
        rhs = table(np.argsort(tau)[rows], cols, a)
        ok = same(lhs, rhs)
        return Outcome(len(rows), 0.0 if ok else 1.0, ok, "T(R w) P_R = P_R T(w), symbolic w")

    pairs: dict = {}  # tap-table comparisons the lifting and group-convolution checks share

    def lifting() -> Outcome:
        taps = _taps(spec, n)  # index_form's gather: T of this layer
        ok = _equivariant_blocks(_lift_blocks(), taps, k, n, 1, m, 4, pairs)
        return Outcome(
            4 * len(taps[0]),
            0.0 if ok else 1.0,
            ok,
            "T_lift P_R = (roll (x) R) T_lift, symbolic w, block by block",
        )

    def gconv() -> Outcome:
        taps = _taps(spec, n)
        ok = _equivariant_blocks(_gconv_blocks(), taps, k, n, 4, m, 4, pairs)
        return Outcome(
            16 * len(taps[0]),
            0.0 if ok else 1.0,
            ok,
            "T_g (roll (x) R) = (roll (x) R) T_g, symbolic w, block by block",
        )

    def numeric() -> Outcome:
        rng = np.random.default_rng(0)
        mode = spec.padding_mode
        worst = 0.0
        for _ in range(3):
            xx = rng.standard_normal((2, 2, n, n))
            w1 = rng.standard_normal((3, 2, k, k))
            y = lift(xx, w1, p, mode)
            turned = lift(np.rot90(xx, 1, axes=(-2, -1)), w1, p, mode)
            worst = max(worst, discrepancy(turned, rotate_p4(y)))
            w2 = rng.standard_normal((2, 3, 4, k, k))
            if m + 2 * p < k or (mode == "reflect" and p >= m):  # no group layer on m x m
                continue
            z = group_conv(y, w2, p, mode)
            zr = group_conv(rotate_p4(y), w2, p, mode)
            worst = max(worst, discrepancy(zr, rotate_p4(z)))
        return Outcome(6, worst, worst < 1e-10, "numpy kernels, float64, random x and w")

    def contrast() -> Outcome:
        # plain T(w) P_R = P_R T(w) on T's table: generic symbolic w (every kernel index its
        # own symbol) and w = R w (one symbol per rot90 orbit of kernel indices)
        rows, cols, a, _, _ = _taps(spec, n)
        orbit = np.min([_rot_source(k, r) for r in range(4)], axis=0)
        fails = not _equivariant(table(rows, cols, a), n, 1, m, 1)
        holds = _equivariant(table(rows, cols, orbit[a]), n, 1, m, 1)
        how = "T P_R = P_R T on T's table"
        if max(n, m) <= _CROSS_CHECK:  # and by symconv.equivariance's rows, where cheap
            fails = fails and not equivariance(spec, (n, n), transform="rot90").exact
            sym = np.zeros((k, k))
            c = (k - 1) / 2
            for a_ in range(k):
                for b_ in range(k):
                    sym[a_, b_] = (a_ - c) ** 2 + (b_ - c) ** 2  # invariant under rot90
            holds = holds and equivariance(spec, (n, n), transform="rot90", weight=sym).exact
            how += " and symconv.equivariance"
        if k == 1:  # every 1x1 kernel is rot90-symmetric: plain convolution is equivariant
            ok = holds and not fails
            return Outcome(
                2, 0.0 if ok else 1.0, ok, f"1x1 kernel: every kernel is rot90-symmetric ({how})"
            )
        ok = fails and holds
        return Outcome(
            2, 0.0 if ok else 1.0, ok, f"generic w: broken; every w = R w: exact ({how})"
        )

    d.check("corr(Rx, Rw) = R corr(x, w)", "exact", plain)
    d.check("lift(R x) = roll(R lift(x), 1)", "exact", lifting)
    d.check("gconv(roll R x) = roll R gconv(x)", "exact", gconv)
    d.check("numpy lift and group_conv are equivariant", "numeric", numeric)
    d.check("plain convolution is not (unless w = R w)", "exact", contrast)
    return d
