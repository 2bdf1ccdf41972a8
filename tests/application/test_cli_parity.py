"""CLI parity with the Python API: derive's layer flags where the derivation reads them,
equivariance's shift and transformation, --no-verify."""

from __future__ import annotations

import json

import symconv as sc
from symconv.cli import main
from symconv.derive import derive


def run_json(capsys, *argv: str) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_equivariance_shift_and_transform_match_the_api(capsys) -> None:
    data = run_json(capsys, "derive", "equivariance", "--dims", "1", "-k", "3", "-s", "2",
                    "-i", "7", "--shift", "2")  # fmt: skip
    api = sc.equivariance(sc.Conv(dims=1, kernel_size=3, stride=2), 7, shift=2)
    assert data["title"] == api.title and "shift (2,)" in data["title"]
    assert [s["title"] for s in data["steps"]] == [s.title for s in api.steps]
    data = run_json(capsys, "derive", "equivariance", "-k", "3", "-p", "1", "--no-bias",
                    "-i", "5", "--transform", "rot90")  # fmt: skip
    assert "rot90" in data["title"] and data["certificate"]["passed"]


def test_output_size_with_a_layer(capsys) -> None:
    data = run_json(capsys, "derive", "output-size", "-k", "3", "-s", "2", "-p", "1", "-i", "7")
    titles = [s["title"] for s in data["steps"]]
    assert titles[-1] == "At input 7x7" and titles[-2].startswith("This layer")
    assert "(4, 4)" in data["steps"][-1]["text"]  # Conv(k=3, s=2, p=1) on 7: 4
    assert data["certificate"]["passed"]
    plain = run_json(capsys, "derive", "output-size")
    assert len(plain["steps"]) == 5  # no layer flag: the general derivation only


def test_separable_with_a_layer(capsys) -> None:
    data = run_json(capsys, "derive", "separable", "-k", "5", "-i", "9x9")
    last = data["steps"][-1]
    assert last["title"] == "This layer on 9x9"
    # full 5x5 kernel on 9x9: 25 * 5 * 5 = 625; passes: 5 * 9 * 5 + 5 * 5 * 5 = 350
    assert "625" in last["text"] and "350" in last["text"]
    assert data["certificate"]["passed"]


def test_derive_options_refused_where_they_do_not_apply() -> None:
    import pytest

    with pytest.raises(sc.SpecError, match="shift"):
        derive("toeplitz", shift=1)
    assert derive("separable").steps[-1].title.startswith("Exactly")  # no layer: general


def test_no_verify_runs_no_check(capsys, monkeypatch) -> None:
    from symconv import derivation

    monkeypatch.setattr(
        derivation.Derivation, "verify", lambda self: (_ for _ in ()).throw(AssertionError)
    )
    assert main(["derive", "backprop", "--no-verify"]) == 0
    assert "Backpropagation" in capsys.readouterr().out
