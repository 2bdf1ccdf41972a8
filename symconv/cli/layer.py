"""The layer flags of `symconv shape`, `params` and `derive`: adding them to a parser
(`_add_spec_args`) and reading the `Conv` or `Pool` they state (`_spec`), rejecting a flag
that does not apply to the layer's kind."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from .._cliparse import parse_padding, parse_sizes
from .._errors import SpecError
from ..spec import PADDING_MODES, POOL_KINDS, Conv, Pool


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
