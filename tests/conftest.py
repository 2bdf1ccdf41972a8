"""Hypothesis profiles: `ci` (default, fast) and `thorough` (many examples), the ones the
pytest plugin registers in any project (`symconv.testing.plugin.PROFILES`).

Select with `pytest --hypothesis-profile thorough`.
"""

from hypothesis import settings

from symconv.testing.plugin import register_profiles

register_profiles(replace=True)  # Hypothesis has a built-in `ci`: ours here
settings.load_profile("ci")
