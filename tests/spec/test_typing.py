"""The `__init__` signatures that type checkers see agree with the dataclasses they describe.

The layer specs store validated values (a per-axis tuple where the user may give one int), so
each declares its fields with the stored types and, under `typing.TYPE_CHECKING` only, an
`__init__` with the accepted ones. At run time the dataclass's own `__init__` is used; these
tests keep the two in step: the same keyword-only parameters, in field order, with the same
defaults.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap

import pytest

from symconv.arch import Network
from symconv.local import LocallyConnected, Tiled
from symconv.spec import Conv, Pool
from symconv.transpose import ConvTranspose

MISSING = object()


def _type_checking_init(cls: type) -> ast.FunctionDef:
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING"
        ):
            for stmt in node.body:
                if isinstance(stmt, ast.FunctionDef) and stmt.name == "__init__":
                    return stmt
    raise AssertionError(f"{cls.__name__} has no `if TYPE_CHECKING: def __init__`")


@pytest.mark.parametrize("cls", [Conv, Pool, ConvTranspose, LocallyConnected, Tiled, Network])
def test_the_type_checking_init_matches_the_dataclass_fields(cls: type) -> None:
    init = _type_checking_init(cls)
    assert init.args.vararg is None and init.args.kwarg is None and not init.args.posonlyargs
    positional = init.args.args[1:]  # after self
    defaults = [None] * (len(positional) - len(init.args.defaults)) + init.args.defaults
    params = [*zip(positional, defaults, strict=True)]
    params += zip(init.args.kwonlyargs, init.args.kw_defaults, strict=True)
    stub = {
        arg.arg: MISSING if default is None else ast.literal_eval(default)
        for arg, default in params
    }
    fields = {
        f.name: MISSING if f.default is dataclasses.MISSING else f.default
        for f in dataclasses.fields(cls)
        if f.init
    }
    assert list(stub) == list(fields)
    assert stub == fields
    # the __init__ that runs is the dataclass's, with the same keyword-only parameters
    runtime = inspect.signature(cls).parameters
    assert list(runtime) == list(stub)
    kinds = [p.kind for p in runtime.values()]
    assert kinds == [inspect.Parameter.POSITIONAL_OR_KEYWORD] * len(positional) + [
        inspect.Parameter.KEYWORD_ONLY
    ] * len(init.args.kwonlyargs)
    assert {n: MISSING if p.default is p.empty else p.default for n, p in runtime.items()} == stub
