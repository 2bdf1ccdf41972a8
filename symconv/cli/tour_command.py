"""`symconv tour`: a derivation, its verification and arithmetic in one run (`symconv.tour`,
which loads SymPy and numeric: the parser imports this module when `tour` runs)."""

from __future__ import annotations

import argparse
import sys

from ..tour import tour

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Run the tour; 0 when every step passed, else 1."""
    progress = not args.quiet and sys.stderr.isatty()
    return 0 if tour(as_json=args.json, progress=progress, workers=True) else 1
