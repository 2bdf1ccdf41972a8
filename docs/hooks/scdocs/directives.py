r"""The `{{ symconv NAME key=value ... }}` directive: parsing and dispatch to the registry.

A page names an engine call; it never contains code. `NAME` must be a key of
`registry.RENDERERS`; each value is read by `parse_value` as one of a few literal forms (no
`eval`, no `sympify`):

- an integer `3`, a decimal `2.5`, `true` / `false`;
- a size `5x5` (a tuple of integers);
- a word `circular`, `vgg16` (letters, digits, `_` and `-`).

```python
>>> parse("derivation op=toeplitz dims=1 kernel_size=3 input=5")
('derivation', {'op': 'toeplitz', 'dims': 1, 'kernel_size': 3, 'input': 5})

```
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["DIRECTIVE", "DirectiveError", "parse", "parse_value"]

DIRECTIVE = re.compile(r"\{\{\s*symconv\s+(?P<body>[^{}]*?)\s*\}\}")
_NAME = re.compile(r"[a-z][a-z0-9-]*")
_ARG = re.compile(r"(?P<key>[a-z_][a-z0-9_]*)=(?P<value>\S+)")
_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?\d+\.\d+")
_SIZE = re.compile(r"\d+(?:x\d+)+")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


class DirectiveError(ValueError):
    """A directive that does not parse, names no renderer, or whose renderer refused it."""


def parse_value(text: str) -> Any:
    """One argument value; anything but the literal forms listed above is refused."""
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    if _SIZE.fullmatch(text):
        return tuple(int(v) for v in text.split("x"))
    if text in ("true", "false"):
        return text == "true"
    if _WORD.fullmatch(text):
        return text
    raise DirectiveError(f"argument value {text!r} is not an integer, decimal, size, bool or word")


def parse(body: str) -> tuple[str, dict[str, Any]]:
    """`"NAME key=value ..."` as the renderer name and its keyword arguments."""
    name, *args = body.split()
    if not _NAME.fullmatch(name):
        raise DirectiveError(f"renderer name {name!r} must be lower-case letters, digits and '-'")
    params: dict[str, Any] = {}
    for arg in args:
        m = _ARG.fullmatch(arg)
        if m is None:
            raise DirectiveError(f"argument {arg!r} of {name!r} is not key=value")
        if m["key"] in params:
            raise DirectiveError(f"argument {m['key']!r} of {name!r} given twice")
        params[m["key"]] = parse_value(m["value"])
    return name, params
