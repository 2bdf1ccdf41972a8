"""`python -m symconv.cli`: the `symconv` command line."""

from . import main

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
