"""The `symconv` command line: shape, params, arch, derive, tour.

Every subcommand takes `--json`. Bad input prints one line on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from . import __version__
from ._cliparse import parse_padding, parse_sizes
from ._errors import SpecError
from .spec import PADDING_MODES, POOL_KINDS, Conv, Pool

__all__ = ["main"]


_MAX_MESSAGE = 400  # characters of an argparse error kept on its one line


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (status 2, no usage dump), and arguments added `later`:
    when the parser is used (parsed or its help printed), so that `symconv --help` or
    `symconv shape` imports no other subcommand's module (SymPy, the code generator)."""

    _later: list[Callable[[argparse.ArgumentParser], None]] | None = None

    def later(self, add: Callable[[argparse.ArgumentParser], None]) -> None:
        """Run `add(self)` when this parser is first used."""
        self._later = [*(self._later or []), add]

    def _ready(self) -> None:
        pending, self._later = self._later or [], None
        for add in pending:
            add(self)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self._ready()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self._ready()
        return super().format_help()

    def error(self, message: str) -> NoReturn:
        message = _one_line(message)
        if len(message) > _MAX_MESSAGE:  # argparse quotes the whole value: a 5,000-digit one
            message = message[:_MAX_MESSAGE] + "..."
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _add_spec_args(p: argparse.ArgumentParser, *, pool: bool = True) -> None:
    # Every default is None (the real defaults live in `_LAYER_DEFAULTS`), so that a flag given
    # explicitly can be told from one left out: flags that do not apply are rejected, not dropped.
    g = p.add_argument_group("layer")
    g.add_argument(
        "--dims", type=int, default=None, help="spatial axes, 1-3 (default: from --input or 2)"
    )
    g.add_argument("--kernel", "-k", default=None, help="kernel size: 5 or 5x3 (default 3)")
    g.add_argument("--stride", "-s", default=None, help="stride (default 1; pool: the kernel)")
    g.add_argument(
        "--padding",
        "-p",
        default=None,
        help="0 (default), 1x2, valid|same|full, or per side lo:hi,lo:hi",
    )
    g.add_argument("--dilation", "-d", default=None, help="(default 1)")
    g.add_argument("--in-channels", type=int, default=None, help="conv only (default 1)")
    g.add_argument("--out-channels", type=int, default=None, help="conv only (default 1)")
    g.add_argument("--groups", type=int, default=None, help="conv only (default 1)")
    g.add_argument("--no-bias", action="store_true", default=None, help="conv only")
    g.add_argument(
        "--padding-mode", default=None, help=f"conv only: {'|'.join(PADDING_MODES)} (default zeros)"
    )
    g.add_argument(
        "--flip",
        action="store_true",
        default=None,
        help="conv only: true convolution (default: cross-correlation)",
    )
    if pool:
        g.add_argument(
            "--pool",
            default=None,
            metavar="KIND",
            help=f"a pooling layer instead: {'|'.join(POOL_KINDS)}",
        )
        g.add_argument("--ceil-mode", action="store_true", default=None, help="pooling only")
        g.add_argument("--norm-type", type=float, default=None, help="p of lp pooling")
        g.add_argument(
            "--exclude-pad",
            action="store_true",
            default=None,
            help="avg pooling: count_include_pad=False",
        )


_LAYER_DEFAULTS: dict[str, Any] = {
    "kernel": "3",
    "padding": "0",
    "dilation": "1",
    "in_channels": 1,
    "out_channels": 1,
    "groups": 1,
    "no_bias": False,
    "padding_mode": "zeros",
    "flip": False,
    "ceil_mode": False,
    "exclude_pad": False,
}
_LAYER_FLAGS = (
    "dims",
    "kernel",
    "stride",
    "padding",
    "dilation",
    "in_channels",
    "out_channels",
    "groups",
    "no_bias",
    "padding_mode",
    "flip",
    "pool",
    "ceil_mode",
    "norm_type",
    "exclude_pad",
)
_CONV_ONLY = ("in_channels", "out_channels", "groups", "no_bias", "padding_mode", "flip")
_POOL_ONLY = ("ceil_mode", "norm_type", "exclude_pad")


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _given(args: argparse.Namespace, names: Sequence[str] = _LAYER_FLAGS) -> list[str]:
    """The layer flags among `names` given explicitly on the command line (not None)."""
    return [n for n in names if getattr(args, n, None) is not None]


def _arg(args: argparse.Namespace, name: str) -> Any:
    value = getattr(args, name, None)
    return _LAYER_DEFAULTS.get(name) if value is None else value


def _dims_of(args: argparse.Namespace) -> int:
    if args.dims is not None:
        return args.dims
    size = getattr(args, "input", None)
    if size is not None:
        parsed = parse_sizes("input", size)
        return len(parsed) if isinstance(parsed, tuple) else 2
    return 2


def _check_kind_flags(args: argparse.Namespace) -> None:
    """Reject conv-only flags for a pooling layer and pooling-only flags for a convolution."""
    pool = getattr(args, "pool", None)
    if pool is not None:
        if not pool.strip():
            raise SpecError(f"--pool: expected one of {'|'.join(POOL_KINDS)}, got {pool!r}")
        wrong = _given(args, _CONV_ONLY)
        if wrong:
            raise SpecError(
                f"{_flag(wrong[0])} applies to convolutions only, not to --pool {pool} "
                f"(pooling has no channels, groups, bias, padding mode or flip)"
            )
        if args.exclude_pad is not None and pool != "avg":
            raise SpecError(f"--exclude-pad applies to --pool avg only, not to --pool {pool}")
        return
    wrong = _given(args, _POOL_ONLY)
    if wrong:
        raise SpecError(
            f"{_flag(wrong[0])} applies to pooling only (give --pool KIND); the layer is a "
            f"convolution"
        )


def _spec(args: argparse.Namespace) -> Conv | Pool:
    _check_kind_flags(args)
    dims = _dims_of(args)
    kernel = parse_sizes("kernel", _arg(args, "kernel"))
    dilation = parse_sizes("dilation", _arg(args, "dilation"))
    if getattr(args, "pool", None) is not None:
        return Pool(
            dims=dims,
            kind=args.pool,
            kernel_size=kernel,
            stride=None if args.stride is None else parse_sizes("stride", args.stride),
            padding=parse_sizes("padding", _arg(args, "padding")),
            dilation=dilation,
            ceil_mode=_arg(args, "ceil_mode"),
            count_include_pad=False if args.exclude_pad else None,
            norm_type=args.norm_type,
        )
    return Conv(
        dims=dims,
        in_channels=_arg(args, "in_channels"),
        out_channels=_arg(args, "out_channels"),
        kernel_size=kernel,
        stride=1 if args.stride is None else parse_sizes("stride", args.stride),
        padding=parse_padding(_arg(args, "padding")),
        dilation=dilation,
        groups=_arg(args, "groups"),
        bias=not _arg(args, "no_bias"),
        padding_mode=_arg(args, "padding_mode"),
        flip=_arg(args, "flip"),
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


def _cmd_arch(args: argparse.Namespace) -> None:
    from . import arch

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


# which flags a derive op reads is its registry entry's `layer` (symconv.registry): `optional`
# (general; a layer adds its numbers), `none` (general: no layer flag, no --input), `tile`
# (winograd), `layer` (the layer, or the entry's own default when no layer flag is given)
# what the fourier derivation replaces when it turns a layer into its circulant version
_FOURIER_DROPS = ("stride", "padding", "in_channels", "out_channels", "groups", "no_bias")


def _one_size(op: str, name: str, value: int | tuple[int, ...]) -> int:
    """One integer from `--kernel` or `--input`: `5`, or `5x5` (every axis alike)."""
    if isinstance(value, int):
        return value
    if len(set(value)) != 1:
        raise SpecError(
            f"derive {op}: --{name} {'x'.join(map(str, value))} must be the same on every axis "
            f"(the derivation uses one size)"
        )
    return value[0]


def _not_applicable(op: str, flags: Sequence[str], why: str) -> None:
    if flags:
        raise SpecError(f"derive {op}: {_flag(flags[0])} does not apply: {why}")


def _parse_shift(text: str) -> int | tuple[int, ...]:
    """`--shift`: `1`, `-2` or `1x-1` (per axis)."""
    parts = [p.strip() for p in re.split(r"[x,]", text.strip().lower())]
    if not parts or not all(re.fullmatch(r"-?\d+", p) for p in parts):
        raise SpecError(
            f"--shift: expected an integer or integers separated by 'x' or ',', got {text!r}"
        )
    values = tuple(int(p) for p in parts)
    return values[0] if len(values) == 1 else values


def _derivation(args: argparse.Namespace) -> Any:
    """The derivation `args.op` for the layer flags and `--input`, rejecting what it ignores."""
    from .derive import DERIVATIONS, derive
    from .registry import entry

    op = args.op
    given = _given(args)
    options = {}
    if args.shift is not None:
        options["shift"] = _parse_shift(args.shift)
    if args.transform is not None:
        options["transform"] = args.transform
    takers = [o for o in DERIVATIONS if entry(o).options]
    if op not in takers:
        _not_applicable(
            op,
            list(options),
            f"only derive {', '.join(takers)} takes a shift or a transformation",
        )
    if op not in DERIVATIONS:
        return derive(op)  # the SpecError lists the ops
    layer = entry(op).layer
    if layer == "optional":
        # general derivations; a layer (any layer flag, or --input) adds its own numbers
        if not given and args.input is None:
            return derive(op)
        size = None if args.input is None else parse_sizes("input", args.input)
        return derive(op, _spec(args), size)
    if layer == "none":
        extra = given + (["input"] if args.input is not None else [])
        _not_applicable(op, extra, "the derivation is general and reads no layer or input size")
        return derive(op)
    if op == "winograd":
        _not_applicable(
            op,
            [n for n in given if n != "kernel"],
            "F(m, r) is a stride-1 valid correlation tile; only -k (r) and -i (the tile length "
            "m + r - 1) are read",
        )
        r = _one_size(op, "kernel", parse_sizes("kernel", _arg(args, "kernel")))
        if r < 1:
            raise SpecError(f"derive winograd: --kernel must be >= 1, got {r}")
        size = None if args.input is None else parse_sizes("input", args.input)
        tile = None if size is None else _one_size(op, "input", size)
        return derive(op, Conv(dims=1, kernel_size=r), tile)
    if op == "winograd-layer":
        kernel_ok = args.kernel is None or parse_sizes("kernel", args.kernel) in (3, (3, 3))
        _not_applicable(
            op,
            [n for n in given if n != "kernel" or not kernel_ok],
            "the layer is fixed (3x3, stride 1, F(m x m, 3 x 3)); only -i (the tile length m + 2, "
            "4 or 6) is read",
        )
        size = None if args.input is None else parse_sizes("input", args.input)
        return derive(op, None, None if size is None else _one_size(op, "input", size))
    # an op with a registry default layer (p4: 3x3, padding 1) takes it when no layer flag is
    # given, as derive(op) does; any layer flag states the whole layer with the CLI's defaults
    spec = None if not given and entry(op).default is not None else _spec(args)
    if op == "p4":
        _not_applicable(
            op,
            _given(args, ("in_channels", "out_channels", "groups", "no_bias")),
            "the derivation uses one input and one output channel, no bias",
        )
    if op == "fourier" and isinstance(spec, Conv):
        if spec.padding_mode != "circular" or spec.in_channels != 1 or spec.out_channels != 1:
            dropped = _given(args, _FOURIER_DROPS)
            if args.padding_mode is not None and args.padding_mode != "circular":
                dropped.append("padding_mode")
            _not_applicable(
                op,
                dropped,
                "the layer is replaced by its circulant version (circular 'same' padding, one "
                "channel, stride 1, no bias); state it with --padding-mode circular -p same",
            )
            _one_size(op, "dilation", parse_sizes("dilation", _arg(args, "dilation")))
    size = None if args.input is None else parse_sizes("input", args.input)
    return derive(op, spec, size, **options)


def _cmd_derive(args: argparse.Namespace) -> int:
    d = _derivation(args)
    fmt = "json" if args.json else args.format
    if args.standalone and fmt != "latex":
        raise SpecError("derive: --standalone applies to --format latex only")
    if fmt == "json":
        cert = None if args.no_verify else d.verify()
        extra = {} if cert is None else {"certificate": cert.as_dict()}
        print(json.dumps({**d.as_dict(), **extra}, indent=2))
        return 1 if cert is not None and cert.failed else 0
    # the steps stream out before the checks run (a real layer's certificate takes a moment)
    if fmt == "latex":
        print(d.latex(standalone=args.standalone), flush=True)
    elif fmt == "markdown":
        print(d.markdown(), flush=True)
    else:
        print(d.text(ascii=args.ascii), flush=True)
    cert = None if args.no_verify else d.verify()
    if cert is not None and fmt == "text":
        print()
        print(cert.text())
    return 1 if cert is not None and cert.failed else 0


def _cmd_tour(args: argparse.Namespace) -> int:
    from .tour import tour

    progress = not args.quiet and sys.stderr.isatty()
    return 0 if tour(as_json=args.json, progress=progress, workers=True) else 1


def _jobs(text: str) -> int:
    """`--jobs N`: an integer >= 1 (argparse prints the one-line error and exits 2)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"--jobs must be an integer >= 1, got {text!r}")
    return int(text)


def _build() -> argparse.ArgumentParser:
    parser = _Parser(prog="symconv", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("shape", help="output size of a conv or pool layer")
    p.add_argument("--input", "-i", required=True, help="spatial input size, e.g. 32x32")
    _add_spec_args(p)
    p.set_defaults(run=_cmd_shape)

    p = sub.add_parser("params", help="parameters (and FLOPs with --input) of a layer")
    p.add_argument("--input", "-i", default=None)
    p.add_argument(
        "--exact",
        action="store_true",
        help="also the exact FLOP count (the lectures'), besides 2 x multiply-adds",
    )
    _add_spec_args(p)
    p.set_defaults(run=_cmd_params)

    p = sub.add_parser("arch", help="layer-by-layer table of an architecture")
    p.add_argument("name", nargs="?", help="resnet50, vgg16, googlenet, ... (see --list)")
    p.add_argument("--list", action="store_true", help="every shipped network and its source")
    p.add_argument("--torch", default=None, help="tabulate package.module:factory() instead")
    p.add_argument("--input", "-i", default=None, help="with --torch: one sample, e.g. 3x224x224")
    p.add_argument("--markdown", action="store_true")
    p.set_defaults(run=_cmd_arch)

    p = sub.add_parser("derive", help="a derivation, rendered, with its certificate")
    p.later(_derive_op)
    p.add_argument("--input", "-i", default=None, help="spatial input size")
    _add_spec_args(p)
    p.add_argument("--format", "-f", default="text", choices=["text", "latex", "markdown", "json"])
    p.add_argument("--standalone", action="store_true", help="--format latex: a complete document")
    p.add_argument("--ascii", action="store_true", help="--format text: plain ASCII")
    p.add_argument("--shift", default=None, help="equivariance: the shift t per axis (1, 2x0)")
    p.add_argument(
        "--transform",
        default=None,
        choices=["translate", "rot90", "flip_h", "flip_v"],
        help="equivariance: the transformation (default translate)",
    )
    p.add_argument(
        "--no-verify", action="store_true", help="the derivation without its certificate"
    )
    p.set_defaults(run=_cmd_derive)

    p = sub.add_parser("tour", help="a derivation, its verification and arithmetic, in one run")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar on stderr")
    p.set_defaults(run=_cmd_tour)

    p = sub.add_parser("verify", help="check every registered identity at every level; a table")
    p.add_argument("--only", action="append", metavar="NAME", help="this identity only (repeat)")
    p.add_argument("--list", action="store_true", help="list the registered identities")
    p.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=None,
        metavar="N",
        help="worker processes (default: one per CPU, at most 4; 1 for fewer than 4 identities)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar on stderr")
    p.set_defaults(run=_cmd_verify)

    p = sub.add_parser("generate", help="print the NumPy/torch kernels (or one --spec module)")
    p.later(_generate_args)

    for action in sub.choices.values():
        action.later(_json)
    return parser


# Lazy loading, documented: each subcommand imports its module (SymPy with it) when it runs.
def _derive_op(p: argparse.ArgumentParser) -> None:
    from .registry import derive_ops

    p.add_argument("op", help="|".join(derive_ops()))


def _cmd_verify(args: argparse.Namespace) -> int:
    from .verify import command

    return command(args)


def _generate_args(p: argparse.ArgumentParser) -> None:
    from .codegen import generate

    generate.add_arguments(p)
    p.set_defaults(run=generate.run)


def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `symconv` console script.

    Bad input and a failing environment never print a traceback: a `SpecError`, or a
    `ValueError`, `OverflowError`, `OSError` (an unwritable file, a full disk) or `MemoryError`
    raised while running a subcommand, prints one line on stderr (values quoted, control
    characters escaped) and returns 2; a closed stdout (the reader went away, or no stdout at
    all) stops quietly with 1. Missing or unknown flags are argparse's one-line errors (2).
    """
    args = _build().parse_args(argv)
    try:
        if sys.stdout is None:  # started with stdout closed: nowhere to write, as a closed pipe
            raise BrokenPipeError
        status = args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except SpecError as err:
        _error(args.command, str(err))
        return 2
    except BrokenPipeError:
        # the reader went away (`symconv arch vgg16 | head -1`): stop quietly. Point stdout at
        # devnull so that the flush at exit cannot raise again (Python docs, "Note on SIGPIPE").
        _stdout_to_devnull()
        return 1
    except (ValueError, OverflowError, OSError, MemoryError, RecursionError) as err:
        if isinstance(err, OSError) and _stdout_failed():
            _stdout_to_devnull()  # stdout is full or broken: the flush at exit would fail again
            _error(args.command, f"cannot write the output: {err}")
            return 2
        _error(args.command, f"{type(err).__name__}: {err}")
        return 2
    return status or 0


def _one_line(text: str) -> str:
    """`text` with every control character escaped (a pasted newline or escape sequence
    cannot break the one-line error or reach the terminal)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _error(command: str, message: str) -> None:
    sys.stderr.write(f"symconv {_one_line(command)}: error: {_one_line(message)}\n")
    sys.stderr.flush()


def _stdout_failed() -> bool:
    """Whether writing stdout fails now (a full disk, a closed descriptor)."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError, AttributeError):
        return True
    return False


def _stdout_to_devnull() -> None:
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced stdout (pytest's capture): no fd
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
