"""The light subcommands of `symconv`, `shape` and `params`: each `_cmd_NAME(args)` prints its
text or `--json` from the spec layer alone (no SymPy). The subcommands that need SymPy have a
module each (`arch_command`, `derive_command`, `tour_command`), which the parser names and
imports only when that subcommand is used (`symconv.cli.parser._lazy`)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .._cliparse import parse_sizes
from .._errors import SpecError
from ..spec import Conv
from .layer import _spec


def _emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(json.dumps(data, indent=2) if args.json else text)


# -- subcommands -----------------------------------------------------------------------------
def _cmd_shape(args: argparse.Namespace) -> None:
    spec = _spec(args)
    size = parse_sizes("input", args.input)
    out = spec.output_size(size)
    fit = spec.fits(size)
    channels = spec.out_channels if isinstance(spec, Conv) else None
    data: dict[str, Any] = {
        "layer": str(spec),
        "input_size": list(spec._check_input(size)),
        "output_size": list(out),
        "out_channels": channels,
        "fits": fit.exact,
        "unused": list(fit.unused),
        "formula": str(spec.output_size_formula()),
    }
    shape = "x".join(map(str, out)) + (f"x{channels}" if channels else "")
    text = f"{spec}\ninput {'x'.join(map(str, data['input_size']))} -> output {shape}"
    if not fit.exact:
        text += (
            f"\nnote: the stride does not tile the padded input; {list(fit.unused)} "
            f"trailing position(s) per axis are never read"
        )
    _emit(args, data, text)


def _cmd_params(args: argparse.Namespace) -> None:
    spec = _spec(args)
    data: dict[str, Any] = {"layer": str(spec), "parameters": spec.num_parameters()}
    if isinstance(spec, Conv):
        data["weight_shape"] = list(spec.weight_shape)
        data["biases"] = spec.out_channels if spec.bias else 0
    lines = [str(spec), f"parameters: {data['parameters']:,}"]
    if args.exact and not isinstance(spec, Conv):
        raise SpecError("params: --exact applies to convolutions (a pooling FLOP is one op)")
    if args.exact and not args.input:
        raise SpecError("params: --exact counts FLOPs, which need --input")
    if args.input:
        size = parse_sizes("input", args.input)
        data.update(output_size=list(spec.output_size(size)), flops=spec.flops(size))
        if isinstance(spec, Conv):
            data["macs"] = spec.macs(size)
            lines.append(f"multiply-adds per sample: {data['macs']:,}")
        lines.append(f"FLOPs per sample: {data['flops']:,}")
        if isinstance(spec, Conv) and args.exact:
            data["flops_exact"] = spec.flops(size, exact=True)
            lines[-1] += " (2 x multiply-adds, the usual convention)"
            lines.append(
                f"FLOPs per sample, exact: {data['flops_exact']:,} (n multiplications, n - 1 "
                f"additions and the bias per output)"
            )
    _emit(args, data, "\n".join(lines))
