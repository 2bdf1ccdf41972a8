r"""The identity registry behind `symconv verify`: every identity symconv states, checked at
every level it supports.

An `Identity` is a name, a one-line statement and a *derivation factory*: a function returning
the `Derivation` whose checks establish it. Which identities there are, their statements and
order, come from the one registry, `symconv.registry`: an entry verified as `default` runs
`derive(name)`, one verified as `own` the factory registered here with `@register(name)`.
`verify()` calls each factory, runs `Derivation.verify()` (the same checks a user gets from
the derivation itself) and groups the certificate's results by level (`general`, `exact`,
`numeric`; see `symconv.derivation`). A factory raises `Skip` when what it checks is not
available (torch not installed); the row then says so, it is never counted as a pass.

```python
>>> from symconv.verify import REGISTRY, verify
>>> report = verify(only=["output-size"])
>>> report.passed, [(row.level, row.passed) for row in report.rows]
(True, [('general', True), ('exact', True)])

```
"""

import json
from typing import Any

from .identities import (
    REGISTRY,
    Identity,
    Skip,
    backprop_grid_derivation,
    numeric_kernels_derivation,
    toeplitz_factorization_derivation,
    toeplitz_torch_derivation,
    transpose_adjoint_derivation,
)
from .identities import (
    _factorization_error as _factorization_error,
)
from .identities import (
    register as register,
)
from .run import _TOGETHER as _TOGETHER
from .run import LevelRow, Report, _auto_jobs, _one_thread, _Table, verify
from .run import _tasks as _tasks

__all__ = [
    "REGISTRY",
    "Identity",
    "LevelRow",
    "Report",
    "Skip",
    "backprop_grid_derivation",
    "command",
    "numeric_kernels_derivation",
    "toeplitz_factorization_derivation",
    "toeplitz_torch_derivation",
    "transpose_adjoint_derivation",
    "verify",
]


# -- the `symconv verify` subcommand --------------------------------------------------------------
class _Progress:
    """A tqdm bar on stderr (only where stderr is a terminal); `write` prints a table line
    above it."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="verify", unit="identity", leave=False)

    def __call__(self, done: int, total: int, name: str) -> None:
        if self.bar is not None:
            self.bar.n = done
            self.bar.set_postfix_str(name, refresh=True)

    def write(self, line: str) -> None:
        import sys

        if self.bar is not None:
            self.bar.write(line, file=sys.stdout)
        else:
            print(line, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def command(args: Any) -> int:
    """`symconv verify [--only NAME]... [--list] [--json] [--jobs N] [--quiet]`: exit 0 when
    every identity passes. The table streams: each identity's rows print as they complete.
    Without `--jobs`, `_auto_jobs` picks the number of worker processes."""
    import sys

    if args.list:
        if args.json:
            print(json.dumps({n: i.statement for n, i in REGISTRY.items()}, indent=2))
        else:
            width = max(map(len, REGISTRY))
            for n, i in REGISTRY.items():
                print(f"{n.ljust(width)}  {i.statement}")
        return 0
    names = list(REGISTRY) if not args.only else list(dict.fromkeys(args.only))
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        verify(names)  # raises the SpecError naming them
    _one_thread()  # the whole process: torch, imported by the first check using it, on 1 thread
    bar = _Progress(len(names), sys.stderr.isatty() and not getattr(args, "quiet", False))
    table = _Table(names)
    on_rows = None
    if not args.json:
        for line in table.head():
            bar.write(line)

        def on_rows(rows: list[LevelRow]) -> None:
            for line in table.lines(rows):
                bar.write(line)

    try:
        jobs = getattr(args, "jobs", None) or _auto_jobs(len(names))
        report = verify(names, bar, jobs=jobs, on_rows=on_rows)
    finally:
        bar.close()
    if args.json:
        print(report.json())
    else:
        for line in table.foot(report):
            print(line)
    return 0 if report.passed else 1
