"""Float tolerances that the symbolic modules and `numeric` share (below the spec layer, so that
`numeric` need not import a derivation module to agree with it)."""

from __future__ import annotations

__all__ = ["RANK_TOL"]

# The default `tol` of the rank-1 test, by the kernel's float type: the largest
# sigma_2 / sigma_1 still counted as zero (a float type not named here: the float64 value).
# `symconv.separable` and `numeric.algorithms.rank_one_factors` both use this table, so they
# agree on which kernels are rank 1.
RANK_TOL: dict[str, float] = {"float64": 1e-10, "float32": 1e-6}
