"""`symconv arch`: the layer-by-layer table of a shipped network or of a torch model
(`symconv.arch`, which loads SymPy: the parser imports this module when `arch` runs)."""

from __future__ import annotations

import argparse
import json

from .. import arch
from .._cliparse import parse_sizes
from .._errors import SpecError

__all__ = ["run"]


def run(args: argparse.Namespace) -> None:
    """`symconv arch`: a shipped network's table, `--list`, or a torch model's (`--torch`)."""
    given = [flag for flag, v in (("NAME", args.name), ("--torch", args.torch)) if v]
    if args.list:
        if given:
            raise SpecError(f"--list takes no {' or '.join(given)}")
        rows = [(n, arch.SOURCES[n], arch.get(n).description) for n in arch.NAMES]
        data = [{"name": n, "source": s, "description": d} for n, s, d in rows]
        width = max(len(n) for n in arch.NAMES)
        text = "\n".join(f"{n:<{width}}  {s:<11}  {d}" for n, s, d in rows)
        print(json.dumps(data, indent=2) if args.json else text)
        return
    if len(given) != 1:
        raise SpecError("give a network NAME, or --torch package.module:factory, or --list")
    if args.torch:
        if not args.input:
            raise SpecError("--torch needs --input, the shape of one sample, e.g. 3x224x224")
        shape = parse_sizes("input", args.input)
        shape = (shape,) if isinstance(shape, int) else shape
        module = arch.load_factory(args.torch)
        table = arch.from_torch(module, shape, args.torch.split(":")[1]).table()
    else:
        if args.input:
            raise SpecError("--input applies to --torch only (shipped networks fix their input)")
        table = arch.get(args.name).table()
    if args.json:
        print(json.dumps(table.as_dict(), indent=2))
    else:
        print(table.markdown() if args.markdown else table.text())
