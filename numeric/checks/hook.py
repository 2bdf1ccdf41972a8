r"""The hook through which numeric's checks reach the registry of derivations.

A check of numeric (its cost model, its kernels against the Toeplitz matrix, its Winograd
layer) is a `symconv.Derivation` that compares numeric's code with the derivations: it lives
here, with numeric, but numeric may not import the derivation layer (`.importlinter`). So each
check *registers* itself at import, `register(NumericCheck(...))`, naming the derivation-layer
functions it `needs`; the application layer (`symconv.registry`) reads `registered()`, adds
each check to its table at the place `after` names, and calls its factories with those
functions passed in by keyword (dependency injection): `symconv.registry.INJECTED` maps each
name to the function.

The two factories, as the registry calls them:

- `derive(spec, input_size, **needs)`: the derivation `symconv derive NAME` builds (`layer`
  says what it reads of the layer, as `symconv.registry.Layer`);
- `own(**needs)`: a verify-only identity (`verify="own"`, no `derive`), what
  `symconv verify NAME` runs.

```python
>>> from numeric.checks.hook import NumericCheck, registered
>>> import numeric.checks  # registers numeric's own checks
>>> [c.name for c in registered()]
['algorithm-costs', 'numeric-kernels', 'winograd-layer']
>>> registered()[1].needs
('toeplitz_numeric', 'exact_grid')

```

This module imports nothing of numeric or symconv (beyond typing): the registry reads it
once, at its own import, so a check must be registered before (`numeric.checks` imports
numeric's own); registering afterwards raises, as would a second check of the same name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pragma: no cover
    from symconv.derivation import Derivation

__all__ = ["NumericCheck", "register", "registered"]


@dataclass(frozen=True)
class NumericCheck:
    """One of numeric's checks, as the registry of derivations lists it.

    - `name`, `statement`: the CLI name and what it establishes, one line;
    - `derive`: `(spec, input_size, **needs) -> Derivation`, or `None` for a verify-only
      identity; `layer`: what it reads (`layer`, the default, `optional`, `none`, `tile`);
    - `own`: `(**needs) -> Derivation`, the identity `symconv verify` runs when `verify` is
      `"own"`;
    - `needs`: the names of the derivation-layer functions the factories take as keywords;
    - `verify`, `why_not`, `pages`: as `symconv.registry.Entry`'s;
    - `after`: the registry entry it follows in `symconv derive`'s and `symconv verify`'s
      order (`""`: at the end).
    """

    name: str
    statement: str
    derive: Callable[..., Derivation] | None = None
    own: Callable[..., Derivation] | None = None
    needs: tuple[str, ...] = ()
    layer: Literal["layer", "optional", "none", "tile"] = "layer"
    verify: Literal["default", "own", "no"] = "default"
    why_not: str = ""
    pages: tuple[str, ...] = ()
    after: str = ""


_CHECKS: dict[str, NumericCheck] = {}
_read = False


def register(check: NumericCheck) -> NumericCheck:
    """Add `check` to the hook (at the import of the module that defines it); returns it.

    Raises `RuntimeError` for a check without the factory its `verify` needs, a registration
    after the registry has read the hook, or a name registered twice.
    """
    if (check.verify == "own") != (check.own is not None) or (
        check.derive is None and check.verify != "own"
    ):
        raise RuntimeError(
            f"numeric.checks: {check.name!r}: an `own` factory exactly when verify is 'own', "
            "and a `derive` factory unless it is a verify-only identity"
        )
    if _read:
        raise RuntimeError(
            f"numeric.checks: {check.name!r} registered after symconv.registry read the hook; "
            "import the module that registers it before symconv.registry"
        )
    if check.name in _CHECKS:
        raise RuntimeError(f"numeric.checks: {check.name!r} is registered twice")
    _CHECKS[check.name] = check
    return check


def registered() -> tuple[NumericCheck, ...]:
    """The registered checks, in the order they were registered. The registry calls this once;
    registering afterwards raises."""
    global _read
    _read = True
    return tuple(_CHECKS.values())
