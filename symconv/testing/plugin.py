"""The pytest plugin symconv registers (entry point `pytest11: symconv`).

Installing symconv gives every pytest run two fixtures, without any conftest:

- `conv_identities`: `symconv.testing.check_identities`, ready to call on your convolution;
- `symconv_strategies`: the `symconv.testing` module (`conv_specs`, `pool_specs`,
  `arrays_for`, ...), for tests that build their own properties.

Nothing here imports Hypothesis until a fixture is used, so pytest runs without it still work.
"""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def conv_identities() -> Any:
    """`symconv.testing.check_identities`: `conv_identities(my_conv2d)` checks `my_conv2d`."""
    from symconv.testing import check_identities

    return check_identities


@pytest.fixture
def symconv_strategies() -> Any:
    """The `symconv.testing` module: `symconv_strategies.conv_specs(dims=2)` etc."""
    import symconv.testing

    return symconv.testing
