r"""The cost model's formulas: per algorithm of `numeric.algorithms`, the work of one layer
(`gemm` and `fft` floating-point operations, `memory` elements moved, `calls` NumPy
operations issued) as SymPy expressions.

`symconv.codegen.api` prints them into `numeric/_generated/costs.py`: one plain Python function
per algorithm that evaluates them in floating point (what "auto" prices layers with, so that
numeric neither imports SymPy nor compiles a formula at run time) and a function rebuilding the
expressions themselves, which `numeric.algorithms.cost_formulas()` returns. The symbols, in the
order the printed functions take them:

$N, C_\mathrm{in}, C_\mathrm{out}, G$, $O$ (outputs per channel), $P$ (padded inputs per
channel), $k$ (taps), $t$ (Winograd tiles per sample and channel, all dilation phases),
$\alpha$, $m$, $D$ (the dilations' product), $L$ (FFT points per channel), $F$ (complex
frequencies of the real FFT), $Q$ (the shifted GEMMs' rows: flat positions of the padded grid
from the first output to the last), $H$ (the batch parts run side by side,
`numeric.set_num_threads`: each transforms the filter once).

```python
>>> from symconv.codegen.api_table.costs import cost_formulas
>>> cost_formulas()["direct"]["gemm"]
2*C_in*C_out*N*O*k/G

```
"""

from __future__ import annotations

import sympy

# the formulas' symbols, in the order the printed cost functions take them
SYMBOLS = ("N", "C_in", "C_out", "G", "O", "P", "k", "t", "alpha", "m", "D", "L", "F", "Q", "H")


def symbols() -> tuple[sympy.Symbol, ...]:
    """The symbols of `SYMBOLS` (positive integers)."""
    return tuple(sympy.symbols(" ".join(SYMBOLS), positive=True, integer=True))


def cost_formulas() -> dict[str, dict[str, sympy.Expr]]:
    """Per algorithm (with `direct-depthwise` and `shifted-rows`, the paths `numeric` prices
    separately), its `gemm`, `fft`, `memory` and `calls` as SymPy expressions in `SYMBOLS`."""
    N, Ci, Co, G, O, P, k, t, a, m, D, L, F, Q, H = symbols()
    cg = Ci / G
    return {
        # im2col: pad, one copy of every window (C_in k O), the GEMM, the output
        "direct": {
            "gemm": 2 * N * Co * cg * O * k,
            "fft": sympy.Integer(0),
            "memory": N * (Ci * P + 2 * Ci * k * O + Co * O),
            "calls": sympy.Integer(5),
        },
        # groups == C_in, one channel each: no GEMM, a multiply and an add per tap on
        # cache-resident blocks (measured: 3/4 of a strided copy's time per tap and output)
        "direct-depthwise": {
            "gemm": sympy.Integer(0),
            "fft": sympy.Integer(0),
            "memory": N * (Ci * P + sympy.Rational(3, 4) * Co * O * k),
            "calls": 2 * k + 4,
        },
        # the element-wise stage as one GEMM per tile position; pad, copy the a x a tiles (one
        # strided copy), B^T d B and A^T M A (two GEMM passes each), scatter the m x m output
        # tiles; with dilation D (its product over the axes) the tile copy moves runs of D
        # elements, about D times slower per element (refit with bench/calibrate.py after the
        # one-copy gather: 1 + D, it was 3/2 + 2 D with a copy per tile position); per batch
        # part the filter transform G g G^T (copy 3 x 3 -> a x 3 -> a x a per channel pair:
        # 27 + 6 a + a^2 elements moved; it dominates on small images with many channels,
        # bench/auto_regret.py: 512 x 7 x 7 took 36 ms by Winograd, 12 direct)
        "winograd": {
            "gemm": 2 * N * Co * cg * t * a**2,
            "fft": sympy.Integer(0),
            "memory": N * (Ci * P + Ci * t * a**2 * (1 + D) + 2 * Co * t * a**2 + Co * t * m**2)
            + H * (27 + 6 * a + a**2) * Co * cg,
            "calls": sympy.Integer(16),
        },
        # stride 1: the flattened channels-last copy of the padded input, one GEMM per tap on a
        # shifted view of it (Q rows: the outputs and the grid's discarded positions between
        # them), each added into the accumulator (a cache-resident add: counted as one element
        # moved, fit with bench/calibrate.py), the outputs; NumPy runs a batched GEMM as one
        # call per sample; the channels-last copies in and out are transposes, twice a plain
        # copy's time (bench/auto_regret.py: 1x1 64 -> 256 on 56 x 56 took 26 ms, 9 direct)
        "shifted": {
            "gemm": 2 * N * Co * cg * Q * k,
            "fft": sympy.Integer(0),
            "memory": N * (3 * Ci * P + (k - 1) * Co * Q + Co * (Q + 2 * O)),
            "calls": 2 * G * k * N + 6,
        },
        # stride 1, few channels per group (the printed shift_add_layer): no GEMM; the padded
        # input copied once (kept between chunks), then per tap and channel pair a multiply and
        # an add over Q positions, cache-resident (fit with bench/calibrate.py: half an element
        # moved each), two calls per block of 2^17 accumulator elements
        "shifted-rows": {
            "gemm": sympy.Integer(0),
            "fft": sympy.Integer(0),
            "memory": N * (Ci * P + sympy.Rational(1, 2) * Co * cg * k * Q + Co * O),
            "calls": 2 * cg * k * (N * Co * Q / 2**17 + 1) + 8,
        },
        # real FFTs of the inputs, outputs and kernels (5/2 L log2 L each) and the channel sum
        # as a complex GEMM per frequency (8 real operations per complex multiply-add)
        "fft": {
            "gemm": 8 * N * Co * cg * F,
            "fft": sympy.Rational(5, 2) * L * sympy.log(L, 2) * (N * Ci + N * Co + Co * cg),
            "memory": N * (Ci * P + 4 * Ci * F + 4 * Co * F + Co * O),
            "calls": sympy.Integer(16),
        },
        # rank-1 kernels: a row pass and a column pass, broadcast multiply-adds (memory-bound;
        # refit 2026-11-23 on four rank-1 layers, 5x5 to 9x9: one element moved per tap and
        # position, the earlier 3 overestimated every one of them 2.5-3.6x)
        "separable": {
            "gemm": sympy.Integer(0),
            "fft": sympy.Integer(0),
            "memory": N * (Ci * P + Co * cg * (P + O) * sympy.sqrt(k)),
            "calls": 4 * G * sympy.sqrt(k),
        },
    }
