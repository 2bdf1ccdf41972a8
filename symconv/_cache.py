"""In-process caches of pure results (index forms, factor tables, grid checks), cleared as one.

`pure(maxsize)` is `functools.lru_cache` that also registers the cache, so `clear()` empties
every one of them: what a test that patches the index arithmetic calls before and after.
Arguments must be hashable values (frozen specs, tuples of ints).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

__all__ = ["clear", "pure"]

F = TypeVar("F", bound=Callable[..., Any])
_CACHES: list[Any] = []


def pure(maxsize: int = 256) -> Callable[[F], F]:
    """Decorator: cache a pure function's results by argument value (and register the cache)."""

    def wrap(fn: F) -> F:
        cached = lru_cache(maxsize=maxsize)(fn)
        _CACHES.append(cached)
        return cached  # type: ignore[return-value]

    return wrap


def clear() -> None:
    """Empty every registered cache."""
    for cached in _CACHES:
        cached.cache_clear()
