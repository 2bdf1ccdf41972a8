"""The pytest plugin symconv registers (entry point `pytest11: symconv`).

Installing symconv gives every pytest run three fixtures, without any conftest:

- `conv_identities`: `symconv.testing.check_identities`, ready to call on your convolution;
- `pool_identities`: `symconv.testing.check_pool_identities`, for your pooling function;
- `symconv_strategies`: the `symconv.testing` module (`conv_specs`, `pool_specs`,
  `arrays_for`, ...), for tests that build their own properties.

and symconv's Hypothesis profiles, so `pytest --hypothesis-profile thorough` (or `ci`) works in
any project: `ci` (60 examples, no deadline) and `thorough` (10,000 examples). A profile of the
same name that already exists is kept: the project's own (from its conftest), and Hypothesis'
built-in `ci` (derandomized, 100 examples), which `--hypothesis-profile ci` then loads.

Nothing here imports Hypothesis (nor SymPy, SciPy or torch) unless a fixture is used or
`--hypothesis-profile` is given, so pytest runs without them still work: the fixtures look
their names up on the `symconv.testing` package, which imports each module on first use (its
module `__getattr__`, the package's one lazy-loading mechanism).
"""

from __future__ import annotations

from typing import Any

import pytest

import symconv.testing as testing  # the package alone (already imported: this is its module)

#: symconv's Hypothesis profiles: name -> settings keywords (health checks by name).
PROFILES: dict[str, dict[str, Any]] = {
    "ci": {"max_examples": 60, "deadline": None, "suppress_health_check": ["too_slow"]},
    "thorough": {"max_examples": 10_000, "deadline": None, "suppress_health_check": "all"},
}


def register_profiles(replace: bool = False) -> None:
    """Register `PROFILES` with Hypothesis; a profile of the same name is kept unless
    `replace` (symconv's own test suite replaces Hypothesis' built-in `ci`)."""
    from hypothesis import HealthCheck, settings
    from hypothesis.errors import InvalidArgument

    for name, options in PROFILES.items():
        try:
            settings.get_profile(name)
            if not replace:
                continue  # the project's own, or Hypothesis' built-in
        except InvalidArgument:
            pass
        checks = options["suppress_health_check"]
        checks = list(HealthCheck) if checks == "all" else [HealthCheck[c] for c in checks]
        settings.register_profile(name, **{**options, "suppress_health_check": checks})


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Before Hypothesis' plugin loads `--hypothesis-profile NAME`, make symconv's names known."""
    try:
        wanted = config.getoption("--hypothesis-profile")
    except ValueError:  # Hypothesis (and its pytest plugin) not installed
        return
    if wanted:
        register_profiles()


@pytest.fixture
def conv_identities() -> Any:
    """`symconv.testing.check_identities`: `conv_identities(my_conv2d)` checks `my_conv2d`."""
    return testing.check_identities


@pytest.fixture
def pool_identities() -> Any:
    """`symconv.testing.check_pool_identities`: `pool_identities(my_max_pool2d, "max")`."""
    return testing.check_pool_identities


@pytest.fixture
def symconv_strategies() -> Any:
    """The `symconv.testing` module: `symconv_strategies.conv_specs(dims=2)` etc."""
    return testing
