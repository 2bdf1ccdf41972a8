"""The argument parser of `symconv`: `_build()` returns it, each subcommand bound to the
function that runs it.

Lazy loading, the CLI's one mechanism (`_lazy`): a subcommand whose module loads SymPy (or
the code generator) is named by `"module:function"` and imported when that subcommand runs,
or when its parser is used for arguments that need it (`derive`'s op list, `generate`'s
flags: `_Parser.later`). So `symconv --help`, `shape` and `params` import neither SymPy,
SciPy nor torch (tests/application/test_imports.py checks it)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from .. import __version__
from .commands import _cmd_params, _cmd_shape
from .layer import _add_spec_args

# `symconv --help`'s description: the first line of symconv.cli's docstring
_DESCRIPTION = "The `symconv` command line: shape, params, arch, derive, tour."

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


def _jobs(text: str) -> int:
    """`--jobs N`: an integer >= 1 (argparse prints the one-line error and exits 2)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"--jobs must be an integer >= 1, got {text!r}")
    return int(text)


def _build() -> argparse.ArgumentParser:
    parser = _Parser(prog="symconv", description=_DESCRIPTION)
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
    p.set_defaults(run=_lazy("symconv.cli.arch_command:run"))

    p = sub.add_parser("derive", help="a derivation, rendered, with its certificate")
    p.later(_lazy("symconv.cli.derive_command:add_op"))
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
    p.set_defaults(run=_lazy("symconv.cli.derive_command:run"))

    p = sub.add_parser("tour", help="a derivation, its verification and arithmetic, in one run")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar on stderr")
    p.set_defaults(run=_lazy("symconv.cli.tour_command:run"))

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
    p.set_defaults(run=_lazy("symconv.verify:command"))

    p = sub.add_parser("generate", help="print the NumPy/torch kernels (or one --spec module)")
    p.later(_lazy("symconv.codegen.generate:add_arguments"))
    p.set_defaults(run=_lazy("symconv.codegen.generate:run"))

    for action in sub.choices.values():
        action.later(_json)
    return parser


def _lazy(target: str) -> Callable[..., Any]:
    """The function `target` (`"package.module:function"`), its module imported when it is first
    called: the CLI's one way to defer an import (see the module docstring)."""
    module, name = target.split(":")

    def call(*args: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args)

    call.__qualname__ = call.__name__ = f"lazy {target}"
    return call


def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _one_line(text: str) -> str:
    """`text` with every control character escaped (a pasted newline or escape sequence
    cannot break the one-line error or reach the terminal)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
