"""The `symconv` command line: shape, params, arch, derive, tour.

Every subcommand takes `--json`. Bad input prints one line on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from ._cliparse import parse_padding, parse_sizes
from ._errors import SpecError
from .spec import PADDING_MODES, POOL_KINDS, Conv, Pool

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (status 2, no usage dump)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _add_spec_args(p: argparse.ArgumentParser, *, pool: bool = True) -> None:
    g = p.add_argument_group("layer")
    g.add_argument(
        "--dims", type=int, default=None, help="spatial axes, 1-3 (default: from --input or 2)"
    )
    g.add_argument("--kernel", "-k", default="3", help="kernel size: 5 or 5x3 (default 3)")
    g.add_argument("--stride", "-s", default=None, help="stride (default 1; pool: the kernel)")
    g.add_argument(
        "--padding", "-p", default="0", help="0, 1x2, valid|same|full, or per side lo:hi,lo:hi"
    )
    g.add_argument("--dilation", "-d", default="1")
    g.add_argument("--in-channels", type=int, default=1)
    g.add_argument("--out-channels", type=int, default=1)
    g.add_argument("--groups", type=int, default=1)
    g.add_argument("--no-bias", action="store_true")
    g.add_argument("--padding-mode", default="zeros", help="|".join(PADDING_MODES))
    g.add_argument(
        "--flip", action="store_true", help="true convolution (default: cross-correlation)"
    )
    if pool:
        g.add_argument(
            "--pool",
            default=None,
            metavar="KIND",
            help=f"a pooling layer instead: {'|'.join(POOL_KINDS)}",
        )
        g.add_argument("--ceil-mode", action="store_true")
        g.add_argument("--norm-type", type=float, default=None, help="p of lp pooling")
        g.add_argument(
            "--exclude-pad", action="store_true", help="avg pooling: count_include_pad=False"
        )


def _dims_of(args: argparse.Namespace) -> int:
    if args.dims is not None:
        return args.dims
    size = getattr(args, "input", None)
    if size is not None:
        parsed = parse_sizes("input", size)
        return len(parsed) if isinstance(parsed, tuple) else 2
    return 2


def _spec(args: argparse.Namespace) -> Conv | Pool:
    dims = _dims_of(args)
    kernel = parse_sizes("kernel", args.kernel)
    dilation = parse_sizes("dilation", args.dilation)
    if getattr(args, "pool", None):
        return Pool(
            dims=dims,
            kind=args.pool,
            kernel_size=kernel,
            stride=None if args.stride is None else parse_sizes("stride", args.stride),
            padding=parse_sizes("padding", args.padding),
            dilation=dilation,
            ceil_mode=args.ceil_mode,
            count_include_pad=(False if args.exclude_pad else None) if args.pool == "avg" else None,
            norm_type=args.norm_type,
        )
    return Conv(
        dims=dims,
        in_channels=args.in_channels,
        out_channels=args.out_channels,
        kernel_size=kernel,
        stride=1 if args.stride is None else parse_sizes("stride", args.stride),
        padding=parse_padding(args.padding),
        dilation=dilation,
        groups=args.groups,
        bias=not args.no_bias,
        padding_mode=args.padding_mode,
        flip=args.flip,
    )


def _emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(json.dumps(data, indent=2) if args.json else text)


# -- subcommands -----------------------------------------------------------------------------
def _cmd_shape(args: argparse.Namespace) -> None:
    spec = _spec(args)
    size = parse_sizes("input", args.input)
    out = spec.output_size(size)
    fit = spec.fits(size)
    channels = spec.out_channels if isinstance(spec, Conv) else None
    data = {
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
    if args.input:
        size = parse_sizes("input", args.input)
        data.update(output_size=list(spec.output_size(size)), flops=spec.flops(size))
        if isinstance(spec, Conv):
            data["macs"] = spec.macs(size)
            lines.append(f"multiply-adds per sample: {data['macs']:,}")
        lines.append(f"FLOPs per sample: {data['flops']:,}")
    _emit(args, data, "\n".join(lines))


def _cmd_arch(args: argparse.Namespace) -> None:
    from . import arch

    table = arch.get(args.name).table()
    if args.json:
        print(json.dumps(table.as_dict(), indent=2))
    else:
        print(table.markdown() if args.markdown else table.text())


def _derivation(args: argparse.Namespace) -> Any:
    from .derive import derive

    size = None if args.input is None else parse_sizes("input", args.input)
    return derive(args.op, _spec(args), size)


def _cmd_derive(args: argparse.Namespace) -> int:
    d = _derivation(args)
    fmt = "json" if args.json else args.format
    cert = d.verify()
    if fmt == "json":
        print(json.dumps({**d.as_dict(), "certificate": cert.as_dict()}, indent=2))
    elif fmt == "latex":
        print(d.latex())
    elif fmt == "markdown":
        print(d.markdown())
    else:
        print(d.text())
        print()
        print(cert.text())
    return 0 if cert.passed else 1


def _cmd_tour(args: argparse.Namespace) -> int:
    from .tour import tour

    return 0 if tour(as_json=args.json) else 1


def _build() -> argparse.ArgumentParser:
    parser = _Parser(prog="symconv", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("shape", help="output size of a conv or pool layer")
    p.add_argument("--input", "-i", required=True, help="spatial input size, e.g. 32x32")
    _add_spec_args(p)
    p.set_defaults(run=_cmd_shape)

    p = sub.add_parser("params", help="parameters (and FLOPs with --input) of a layer")
    p.add_argument("--input", "-i", default=None)
    _add_spec_args(p)
    p.set_defaults(run=_cmd_params)

    p = sub.add_parser("arch", help="layer-by-layer table of a classic architecture")
    p.add_argument("name", help="lenet5, alexnet, zfnet, vgg16, googlenet, ...")
    p.add_argument("--markdown", action="store_true")
    p.set_defaults(run=_cmd_arch)

    p = sub.add_parser("derive", help="a derivation, rendered, with its certificate")
    from .derive import DERIVATIONS

    p.add_argument("op", help="|".join(DERIVATIONS))
    p.add_argument("--input", "-i", default=None, help="spatial input size")
    _add_spec_args(p)
    p.add_argument("--format", "-f", default="text", choices=["text", "latex", "markdown", "json"])
    p.set_defaults(run=_cmd_derive)

    p = sub.add_parser("tour", help="a derivation, its verification and arithmetic, in one run")
    p.set_defaults(run=_cmd_tour)

    p = sub.add_parser("verify", help="check every registered identity at every level; a table")
    p.add_argument("--only", action="append", metavar="NAME", help="this identity only (repeat)")
    p.add_argument("--list", action="store_true", help="list the registered identities")
    from .verify import command as verify_command

    p.set_defaults(run=verify_command)

    from .codegen import generate as _generate

    p = sub.add_parser("generate", help="print the NumPy/torch kernels (or one --spec module)")
    _generate.add_arguments(p)
    p.set_defaults(run=_generate.run)

    for action in sub.choices.values():
        action.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `symconv` console script."""
    args = _build().parse_args(argv)
    try:
        status = args.run(args)
    except SpecError as err:
        sys.stderr.write(f"symconv {args.command}: error: {err}\n")
        return 2
    return status or 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
