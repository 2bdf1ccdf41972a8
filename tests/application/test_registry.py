"""One registry (`symconv.registry`): `symconv derive`, `symconv verify`, the CLI and the docs
hook all read it, and none of them keeps a list of its own.

Each test compares a consumer with the table itself, so a name, statement, default layer or
page added in one place only fails here.
"""

from __future__ import annotations

import json
import re
import sys

import pytest
from helpers import ROOT

import symconv as sc
from symconv import registry
from symconv.cli import main
from symconv.derive import DERIVATIONS, derive
from symconv.registry import ENTRIES, derive_ops, entry, identities
from symconv.verify import REGISTRY, register

sys.path.insert(0, str(ROOT / "docs" / "hooks"))

from scdocs.directives import DIRECTIVE, parse
from scdocs.registry import derivation_of


def _directives() -> list[tuple[str, dict]]:
    """(page, params) of every `derivation` directive of the docs pages."""
    found = []
    for page in sorted((ROOT / "docs").glob("*.md")):
        for match in DIRECTIVE.finditer(page.read_text()):
            name, params = parse(match["body"])
            if name == "derivation":
                found.append((page.name, params))
    return found


def test_entries_are_well_formed() -> None:
    names = [e.name for e in ENTRIES]
    assert len(names) == len(set(names))
    ids = [e.identity_name for e in identities()]
    assert len(ids) == len(set(ids))
    for e in ENTRIES:
        assert e.statement and "\n" not in e.statement, e.name
        # not verified <-> a reason; a verify-only identity has a factory of its own
        assert (e.verify == "no") == bool(e.why_not), e.name
        assert e.derive is not None or e.verify == "own", e.name
        assert e.layer != "optional" or e.default is None, e.name
        assert set(e.options) <= {"shift", "transform"}, e.name


def test_derive_reads_the_registry() -> None:
    assert list(DERIVATIONS) == list(derive_ops())
    assert all(DERIVATIONS[op] is entry(op).derive for op in DERIVATIONS)
    with pytest.raises(sc.SpecError, match="unknown OP 'toeplitz-torch'"):
        derive("toeplitz-torch")  # a verify-only identity is no derive op
    with pytest.raises(sc.SpecError, match="'shift' does not apply; toeplitz takes no options"):
        derive("toeplitz", shift=1)


def test_every_derive_op_is_verified_or_says_why_not() -> None:
    for op in derive_ops():
        e = entry(op)
        assert e.identity_name in REGISTRY or e.why_not, op


def test_verify_reads_the_registry() -> None:
    assert list(REGISTRY) == [e.identity_name for e in identities()]
    for e in identities():
        assert REGISTRY[e.identity_name].statement == e.statement
    # `register` without a statement takes the registry's, and knows only its identities
    assert registry.identity("activation-step") is entry("activation")
    with pytest.raises(sc.SpecError, match="unknown identity 'nope'"):
        register("nope")


def test_default_identities_are_the_default_derivations() -> None:
    """An identity verified as `default` is `derive(name)`: the same title and steps."""
    for e in identities():
        if e.verify == "default" and e.layer in ("none", "optional"):  # the cheap ones
            ours, theirs = REGISTRY[e.identity_name].derivation(), derive(e.name)
            assert ours.title == theirs.title, e.name
            assert [s.title for s in ours.steps] == [s.title for s in theirs.steps], e.name


def test_the_cli_reads_the_registry(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["derive", "--help"])
    help_text = re.sub(r"\s+", "", capsys.readouterr().out)
    assert "|".join(derive_ops()) in help_text
    assert main(["verify", "--list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == {e.identity_name: e.statement for e in identities()}
    # what an op reads is its entry's `layer`: a general op refuses a layer flag
    for op in derive_ops():
        if entry(op).layer == "none":
            assert main(["derive", op, "-k", "3"]) == 2, op
            assert "reads no layer" in capsys.readouterr().err, op


def test_every_docs_directive_names_a_registered_derivation() -> None:
    shown: dict[str, set[str]] = {}
    for page, params in _directives():
        assert params["op"] in DERIVATIONS, (page, params)
        shown.setdefault(params["op"], set()).add(page)
    # the registry's `pages` are exactly the pages that show each entry
    assert shown == {e.name: set(e.pages) for e in ENTRIES if e.pages}


def test_the_docs_hook_builds_through_derive() -> None:
    """No list of its own: an op the registry lacks is refused with the registry's names."""
    for name in ("nope", "toeplitz-torch"):
        with pytest.raises(sc.SpecError, match="known: " + re.escape(", ".join(derive_ops()))):
            derivation_of(name)
    d = derivation_of("p4")  # no layer: the registry's default layer, as `derive("p4")`
    assert d.title == derive("p4").title and "padding 1" in d.title
