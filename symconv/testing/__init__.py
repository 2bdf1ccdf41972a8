"""symconv.testing: Hypothesis strategies and identity checks for convolution code.

```python
from symconv.testing import check_identities, conv_specs, pool_specs, arrays_for
```

- `conv_specs`, `pool_specs`: `(spec, input_size)` pairs, valid by construction, shrinking to
  small readable layers (`symconv.testing.strategies`);
- `arrays_for`, `inputs`, `weights`, `upstream_gradients`, `filled`: arrays of a spec;
- `check_identities(conv, dims=2, ...)`: property-checks a convolution with torch's
  `F.conv{d}d` signature against the Toeplitz matrix, shape, linearity, bias, translation
  equivariance, and (when given) its transpose and gradients (`symconv.testing.identities`);
- `check_pool_identities(pool, kind, dims=2, ...)`: property-checks a max, avg or lp pool with
  torch's signature against symconv's pooling reference: window contents, padding, ceil_mode,
  and (when given) the backward's gradient routing and tie rule (`symconv.testing.pools`).

The names load on first use, so importing `symconv.testing.plugin` (the pytest plugin every
pytest run loads once symconv is installed) does not need Hypothesis.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .identities import IdentityFailure, check_identities, spec_source
    from .pools import check_pool_identities, pool_source
    from .strategies import (
        PADDING_STYLES,
        ConvArrays,
        arrays_for,
        conv_specs,
        filled,
        inputs,
        pool_specs,
        upstream_gradients,
        weights,
    )

_WHERE = {
    "PADDING_STYLES": "strategies",
    "ConvArrays": "strategies",
    "arrays_for": "strategies",
    "conv_specs": "strategies",
    "filled": "strategies",
    "inputs": "strategies",
    "pool_specs": "strategies",
    "upstream_gradients": "strategies",
    "weights": "strategies",
    "IdentityFailure": "identities",
    "check_identities": "identities",
    "spec_source": "identities",
    "check_pool_identities": "pools",
    "pool_source": "pools",
}

__all__ = [
    "PADDING_STYLES",
    "ConvArrays",
    "IdentityFailure",
    "arrays_for",
    "check_identities",
    "check_pool_identities",
    "conv_specs",
    "filled",
    "inputs",
    "pool_source",
    "pool_specs",
    "spec_source",
    "upstream_gradients",
    "weights",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'symconv.testing' has no attribute {name!r}")
    try:
        module = importlib.import_module(f".{_WHERE[name]}", __name__)
    except ModuleNotFoundError as err:  # pragma: no cover - hypothesis missing
        raise ImportError(
            f"symconv.testing.{name} needs {err.name}: pip install 'symconv[test]'"
        ) from err
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
