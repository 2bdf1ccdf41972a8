"""`symconv derive OP`: a derivation for the layer flags, rendered, with its certificate; and
which flags each op reads (the op's registry entry). It imports `symconv.derive` and the
registry (SymPy): the parser imports this module when `derive` is used."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from typing import Any

from .._cliparse import parse_sizes
from .._errors import SpecError
from .._torchref import preload
from .._worker import Worker, can_fork
from ..derive import DERIVATIONS, derive
from ..registry import derive_ops, entry
from ..spec import Conv
from .layer import _arg, _flag, _given, _spec

__all__ = ["add_op", "run"]


def add_op(p: argparse.ArgumentParser) -> None:
    """The `op` argument, its help the registry's list of ops (added when the parser is used)."""
    p.add_argument("op", help="|".join(derive_ops()))


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


def run(args: argparse.Namespace) -> int:
    """`symconv derive OP`: the derivation rendered (text, LaTeX, Markdown or JSON), then its
    certificate; 1 when a check fails."""
    worker = _torch_worker(args)
    try:
        return _render(args, worker)
    finally:
        if worker is not None:
            worker.shutdown(cancel_futures=True)


def _torch_worker(args: argparse.Namespace) -> Worker | None:
    """For an op whose torch checks travel (its registry entry), a worker forked now that
    imports torch while this process derives; the checks then run there. None otherwise, or
    where forking is not safe (`can_fork`)."""
    if args.no_verify or args.op not in DERIVATIONS or not entry(args.op).travels:
        return None
    if not can_fork():
        return None
    worker = Worker()
    worker.submit(preload)
    return worker


def _render(args: argparse.Namespace, worker: Worker | None) -> int:
    d = _derivation(args)
    fmt = "json" if args.json else args.format
    if args.standalone and fmt != "latex":
        raise SpecError("derive: --standalone applies to --format latex only")
    if fmt == "json":
        cert = None if args.no_verify else d.verify(executor=worker)
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
    cert = None if args.no_verify else d.verify(executor=worker)
    if cert is not None and fmt == "text":
        print()
        print(cert.text())
    return 1 if cert is not None and cert.failed else 0
