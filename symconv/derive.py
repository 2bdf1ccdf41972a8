r"""`symconv derive OP`: the derivation named OP, built by its factory in `symconv.registry`.

`derive()` reads the one registry (`symconv.registry.ENTRIES`: names, default layers,
options); `DERIVATIONS` is its table of derive ops. Every factory returns a `Derivation`
whose `verify()` runs its checks; the matrix and transposed-convolution views are
`symconv.matrices`' (re-exported here).

```python
>>> from symconv.derive import derive
>>> derive("toeplitz", input_size=5).verify().passed
True

```
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._errors import SpecError
from .derivation import Derivation
from .limits import check_symbolic
from .matrices import matrix_derivation as matrix_derivation
from .matrices import transpose_derivation as transpose_derivation
from .registry import ENTRIES, entry

__all__ = ["DERIVATIONS", "derive", "matrix_derivation", "transpose_derivation"]


DERIVATIONS: dict[str, Callable[..., Derivation]] = {
    e.name: e.derive for e in ENTRIES if e.derive is not None
}
"""`symconv derive`'s ops and their factories, read off `symconv.registry.ENTRIES`."""


def derive(op: str, spec: Any = None, input_size: Any = None, **options: Any) -> Derivation:
    """The derivation named `op` (a key of `DERIVATIONS`) for `spec` at `input_size`.

    `options` go to the ops that take them (`equivariance`: `shift`, `transform`).
    `output-size` and `separable` are general; given a layer they add its numbers. Without a
    layer, an op that reads one takes its registry default (`symconv.registry.Entry`).
    """
    if op not in DERIVATIONS:
        raise SpecError(f"derive: unknown OP {op!r}; known: {', '.join(DERIVATIONS)}")
    e = entry(op)
    unknown = sorted(set(options) - set(e.options))
    if unknown:
        raise SpecError(
            f"derive {op}: option {unknown[0]!r} does not apply; "
            f"{op} takes {list(e.options) or 'no options'}"
        )
    if spec is None:
        spec = e.default_layer()
    if e.layer != "tile" and spec is not None:
        # the cost first, integers only: what this op builds (its entry's `cost`)
        check_symbolic(f"derive {op}", spec, input_size, cost=e.cost)
    return DERIVATIONS[op](spec, input_size, **options)
