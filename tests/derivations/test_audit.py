"""The lectures' audit (`symconv.audit`): every printed statement recomputed, with its verdict."""

from __future__ import annotations

import json

import pytest

from symconv import _sizes, audit, errata

VERDICTS = {"agree", "erratum", "question", "not computable"}


@pytest.fixture(scope="module")
def verdicts() -> dict[int, str]:
    return {i: c.verdict() for i, c in enumerate(audit.AUDIT)}


def test_every_claim_has_a_recorded_verdict(verdicts):
    """A printed value the engine does not reproduce must be an erratum with its explanation."""
    bad = [audit.AUDIT[i] for i, v in verdicts.items() if v not in VERDICTS]
    assert not bad, [(c.place, c.printed, c.computed()) for c in bad]


def test_every_lecture_is_audited(verdicts):
    for key in audit.LECTURES:
        mine = [verdicts[i] for i, c in enumerate(audit.AUDIT) if c.lecture == key]
        assert mine.count("agree") + mine.count("erratum") >= 3, key


def test_the_errata_are_exactly_the_erratum_rows(verdicts):
    rows = [c.erratum for i, c in enumerate(audit.AUDIT) if verdicts[i] == "erratum"]
    assert sorted(map(id, rows)) == sorted(map(id, errata.ERRATA))


def test_googlenet_cells_follow_the_table_comparison():
    from symconv import arch

    comparisons = arch.compare_googlenet()
    agreeing = [c for c in audit.AUDIT if c.place.startswith("GoogLeNet table") and not c.erratum]
    assert len(agreeing) == sum(c.agrees for c in comparisons)
    errata_cells = [c for c in audit.AUDIT if c.place.startswith("GoogLeNet table") and c.erratum]
    assert len(errata_cells) == sum(not c.agrees and c.quantity != "output" for c in comparisons)


def test_questions_and_uncomputable_rows_say_why(verdicts):
    for i, c in enumerate(audit.AUDIT):
        if verdicts[i] == "not computable":
            assert c.note and c.compute is None
        if verdicts[i] == "question":
            assert c.printed_value is None and c.computed() is not None


def test_rounding_rules():
    """35K agrees with 34,944 (one unit of the printed digit), 2.33 with 7/3; 36K would not."""
    c = next(c for c in audit.AUDIT if c.printed == "(11*11*3 + 1)*96 = 35K")
    assert c.verdict() == "agree" and c.computed() == 34_944
    assert audit.Claim("001", "", "", "36K", 36_000, c.compute, ulp=1_000).verdict() == "disagrees"
    third = next(c for c in audit.AUDIT if c.printed == "(7 − 3)/3 + 1 = 2.33")
    assert third.verdict() == "agree" and float(third.computed()) == pytest.approx(7 / 3)


def test_a_wrong_engine_fails_the_audit(monkeypatch):
    """Off-by-one output sizes: the size claims stop agreeing (the audit can fail)."""
    real = _sizes.conv_out
    monkeypatch.setattr(_sizes, "conv_out", lambda *a, **k: real(*a, **k) + 1)
    broken = [c for c in audit.AUDIT if c.verdict() == "disagrees"]
    assert len(broken) >= 10
    assert any(c.printed == "5x5 output" for c in broken)


def test_table_is_json_ready():
    rows = json.loads(json.dumps(audit.table()))
    assert len(rows) == len(audit.AUDIT)
    assert {r["verdict"] for r in rows} <= VERDICTS
    row = next(r for r in rows if r["printed"] == "76*10 = 760")
    assert row["computed"] == "760" and "num_parameters" in row["call"]
