"""Parameter counts of convolution, tiled, locally connected and dense layers; unshared backprop."""

from __future__ import annotations

import pytest

import symconv as sc
from symconv.derive import derive
from symconv.local_params import O, local_backprop, local_params, param_formulas


def test_formulas() -> None:
    f = param_formulas()
    assert f["locally connected"] / f["convolution"] == O**2
    assert str(f["dense"]) == "C_in*C_out*N**2*O**2"


def test_table_matches_specs() -> None:
    spec = sc.Conv(dims=2, in_channels=3, out_channels=8, kernel_size=5, padding=2)
    d = local_params(spec, (12, 12))
    assert d.verify().passed
    t = d["table"]
    assert t["convolution"] == spec.num_parameters()
    loc = sc.LocallyConnected(
        dims=2, in_channels=3, out_channels=8, kernel_size=5, padding=2, input_size=(12, 12)
    )
    assert t["locally connected"] == loc.num_parameters()
    tiled = sc.Tiled(dims=2, in_channels=3, out_channels=8, kernel_size=5, padding=2, tiles=2)
    assert t["tiled"] == tiled.num_parameters()
    assert t["dense"] == (12 * 12 * 3) * (12 * 12 * 8) + 12 * 12 * 8


def test_errors() -> None:
    with pytest.raises(sc.SpecError, match="2D Conv"):
        local_params(sc.Conv(dims=1, kernel_size=3))
    with pytest.raises(sc.SpecError, match="square"):
        local_params(sc.Conv(dims=2, kernel_size=3), (5, 6))
    with pytest.raises(sc.SpecError, match="LocallyConnected or Tiled"):
        local_backprop(sc.Pool(kernel_size=2))


@pytest.mark.parametrize(
    "spec",
    [
        sc.LocallyConnected(
            dims=1,
            in_channels=2,
            out_channels=2,
            kernel_size=3,
            stride=2,
            padding=1,
            input_size=7,
            bias=False,
        ),
        sc.LocallyConnected(dims=2, kernel_size=2, input_size=(3, 4)),
        sc.Tiled(dims=1, kernel_size=2, tiles=3, bias=False),
    ],
)
def test_local_backprop(spec) -> None:
    d = local_backprop(spec, None if isinstance(spec, sc.LocallyConnected) else 6)
    cert = d.verify()
    assert cert.passed and cert.level == "exact", cert.text()


def test_unshared_gradient_is_one_product_per_weight() -> None:
    d = local_backprop(sc.LocallyConnected(dims=1, kernel_size=3, input_size=5, bias=False))
    assert all(len(v.args) == 2 for v in d["grad_weight"].values())  # delta * x, no sum


@pytest.mark.parametrize("op", ["local-params", "local-backprop"])
def test_registry(op: str) -> None:
    assert derive(op, sc.Conv(dims=2, kernel_size=3), None).verify().passed


def _as_table(grads: dict, second: str) -> dict:
    """A symbolic gradient {entry: sum of coef * delta[r] * second[...]} as the coefficient
    table {(entry, r, flat index of the second factor): coef} that `_gradient_tables` builds."""
    import sympy

    out = {}
    for entry, expr in grads.items():
        for term, coef in sympy.expand(expr).as_coefficients_dict().items():
            (d,) = [f for f in term.args if str(f.base) == "delta"]
            (o,) = [f for f in term.args if str(f.base) == second]
            out[(entry, int(d.indices[0]), o.indices)] = coef
    return out


@pytest.mark.parametrize("case", [3, 17, 40, 101, 180])
def test_gradient_tables_are_the_symbolic_gradients(case: int) -> None:
    """The grid's integer tables hold exactly the symbolic gradients' terms (so comparing them
    is the symbolic comparison), and a wrong term is seen."""
    import numpy as np

    from symconv.local_params import _gradient_tables, _gradients, _local_grid

    spec, size = _local_grid()[case]
    dw, xtd, dx, ttd = _gradient_tables(spec, size)
    sdw, sxtd, sdx, sttd = _gradients(spec, size)
    form = sc.indexform.index_form(spec, size)

    def flat(table: dict, shape: tuple[int, ...]) -> dict:
        return {(e, r, int(np.ravel_multi_index(tuple(map(int, o)), shape))): c
                for (e, r, o), c in table.items()}  # fmt: skip

    assert dw == flat(_as_table(sdw, "x"), form.in_shape())
    assert xtd == flat(_as_table(sxtd, "x"), form.in_shape())
    assert dx == flat(_as_table(sdx, "w"), form.weight_shape)
    assert ttd == flat(_as_table(sttd, "w"), form.weight_shape)
    wrong = dict(xtd)
    key = next(iter(wrong))
    wrong[key] += 1
    assert wrong != dw
