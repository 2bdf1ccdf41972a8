"""The named derivations: each renders and verifies; a broken claim fails its certificate."""

from __future__ import annotations

import json

import pytest

import symconv as sc
from symconv.cli import main
from symconv.derive import DERIVATIONS, derive, matrix_derivation, transpose_derivation


@pytest.mark.parametrize(
    ("op", "spec", "size"),
    [
        ("output-size", None, None),
        ("toeplitz", sc.Conv(dims=1, kernel_size=3), 5),
        (
            "toeplitz",
            sc.Conv(
                dims=2,
                in_channels=2,
                out_channels=2,
                groups=2,
                kernel_size=2,
                padding=1,
                padding_mode="reflect",
            ),
            (3, 4),
        ),
        (
            "toeplitz",
            sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode="circular", flip=True),
            6,
        ),
        ("transpose", sc.Conv(dims=2, kernel_size=3, stride=2, padding=1), 4),
        ("transpose", sc.ConvTranspose(dims=1, kernel_size=4, stride=3, output_padding=2), 3),
        ("backprop", sc.Conv(dims=1, kernel_size=2, stride=2, dilation=2), 7),
        ("activation", None, None),
    ],
)
def test_derivations_verify_and_render(op, spec, size) -> None:
    d = derive(op, spec, size)
    cert = d.verify()
    assert cert.passed, cert.text()
    assert d.latex() and d.markdown().startswith("### ") and d.text()
    assert d._repr_latex_().startswith("$")
    json.dumps(d.as_dict())


def test_matrix_derivation_shows_small_matrix_and_structure() -> None:
    d = matrix_derivation(sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode="circular"), 5)
    assert d["structure"].name == "circulant"
    assert d["T"].shape == (5, 5)


def test_transpose_derivation_rejects_what_torch_cannot_transpose() -> None:
    with pytest.raises(sc.SpecError, match="zero, symmetric padding"):
        transpose_derivation(sc.Conv(kernel_size=3, padding=1, padding_mode="reflect"))
    with pytest.raises(sc.SpecError, match="unknown OP 'nope'"):
        derive("nope")
    assert set(DERIVATIONS) >= {"output-size", "toeplitz", "transpose", "backprop"}


def test_cli_derive_toeplitz_json(capsys) -> None:
    code = main(["derive", "toeplitz", "--dims", "1", "-k", "3", "-i", "5", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["certificate"]["passed"]
    assert any("Toeplitz" in s["text"] for s in data["steps"])


def test_discrepancy_never_lets_nan_pass():
    """`max(worst, nan)` keeps `worst`: checks measure with `discrepancy`, which is infinite
    where the non-finite places differ, and grid_check counts a NaN error as infinite."""
    from symconv.derivation import discrepancy, grid_check

    nan, inf = float("nan"), float("inf")
    assert discrepancy([1.0, 2.0], [1.5, 2.0]) == 0.5
    assert discrepancy([1.0, nan, inf], [1.0, nan, inf]) == 0.0
    assert discrepancy([1.0, nan], [1.0, 2.0]) == inf
    assert discrepancy([1.0, 2.0], [1.0, nan]) == inf
    assert discrepancy([inf], [-inf]) == inf
    assert discrepancy([1.0], [1.0, 1.0]) == inf
    count, worst, ok, _ = grid_check([0, 1], lambda case: nan if case else 0.0)
    assert (count, worst, ok) == (2, inf, False)


def test_discrepancy_of_complex_values():
    from symconv.derivation import discrepancy

    assert discrepancy([1 + 1j, 2], [1 - 1j, 2]) == 2.0
    assert discrepancy([complex("nan+0j")], [1.0]) == float("inf")


def test_cli_derive_prints_the_steps_before_the_checks_run(capsys, monkeypatch) -> None:
    """`symconv derive` streams: the steps are out when the certificate's checks start."""
    from symconv.cli import main
    from symconv.derivation import Derivation

    seen: list[str] = []
    real = Derivation.verify

    def spy(self, **kw):
        seen.append(capsys.readouterr().out)
        return real(self, **kw)

    monkeypatch.setattr(Derivation, "verify", spy)
    assert main(["derive", "backprop", "-i", "16x16", "-k", "3", "-p", "1"]) == 0
    assert "Chain rule" in seen[0] and "verified" not in seen[0]
    assert "verified" in capsys.readouterr().out
