"""Hypothesis profiles: `ci` (default, fast) and `thorough` (many examples).

Select with `pytest --hypothesis-profile thorough`.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile("ci")
