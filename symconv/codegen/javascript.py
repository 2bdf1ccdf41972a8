r"""The JavaScript backend: the explorer page's arithmetic, printed from the engine's expressions.

The docs' convolution explorer (`docs/explorer.md`) computes nothing of its own: every size,
padding map and tap position it shows comes from `docs/js/symconv_layer.js`, which this module
prints. The printed part is the size arithmetic of `symconv._sizes` and the index maps of
`symconv.indexform` (the padding maps $\varphi$, the tap coordinate $s o + d a'$, the transposed
gather $(q + p - d a)/s$), evaluated on SymPy symbols and printed by SymPy's JavaScript code
printer (`JavascriptCodePrinter`, with one-line conditionals). The template part
(`TEMPLATE` below) only combines the printed functions: per-axis tap tables, the matrix's
nonzero count, the inputs a selected output reads, and a small forward kernel.

`explorer_module()` returns the module's text; `symconv generate` writes it, `--check` compares.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sympy
from sympy.printing.jscode import JavascriptCodePrinter

from .. import _sizes
from ..arith import SYMBOLS, pool_output_formula

__all__ = ["JS_PATH", "explorer_module", "printed_functions"]

JS_PATH = Path(__file__).resolve().parents[2] / "docs" / "js" / "symconv_layer.js"


class _Printer(JavascriptCodePrinter):
    """SymPy's JavaScript printer, conditionals on one line (`c ? a : b`)."""

    def _print_Piecewise(self, expr: Any) -> str:
        *cases, (last, cond) = expr.args
        if cond != sympy.true:  # pragma: no cover - every printed Piecewise ends in `True`
            raise ValueError("a printed Piecewise needs a final True branch")
        out = self._print(last)
        for value, c in reversed(cases):
            out = f"(({self._print(c)}) ? ({self._print(value)}) : ({out}))"
        return out

    def _print_ceiling(self, expr: Any) -> str:
        return f"Math.ceil({self._print(expr.args[0])})"


def _sym(*names: str) -> list[sympy.Symbol]:
    return [sympy.Symbol(n, integer=True) for n in names]


def printed_functions() -> dict[str, tuple[tuple[str, ...], Any, str]]:
    """Name -> (argument names, SymPy expression or tuple of them, the engine function it is).

    Every expression is built by calling the engine's own function on symbols.
    """
    i, k, s, d, lo, hi, p, op, o, a, q, n = _sym(
        "i", "k", "s", "d", "lo", "hi", "p", "op", "o", "a", "q", "n"
    )
    S = SYMBOLS
    ceil_out = pool_output_formula(ceil_mode=True).subs(
        {S["i"]: i, S["k"]: k, S["s"]: s, S["d"]: d, S["p"]: p}
    )
    fns: dict[str, tuple[tuple[str, ...], Any, str]] = {
        "convOut": (
            ("i", "k", "s", "d", "lo", "hi"),
            _sizes.conv_out(i, k, s, d, lo, hi),
            "symconv._sizes.conv_out",
        ),
        "poolOutCeil": (
            ("i", "k", "s", "d", "p"),
            ceil_out,
            "symconv.arith.pool_output_formula(ceil_mode=True)",
        ),
        "transposeOut": (
            ("i", "k", "s", "d", "p", "op"),
            _sizes.transpose_out(i, k, s, d, p, op),
            "symconv._sizes.transpose_out",
        ),
        "dilatedExtent": (("k", "d"), _sizes.dilated_extent(k, d), "symconv._sizes.dilated_extent"),
        "paddedLength": (
            ("i", "lo", "hi"),
            _sizes.padded_length(i, lo, hi),
            "symconv._sizes.padded_length",
        ),
        "unused": (
            ("i", "k", "s", "d", "lo", "hi"),
            _sizes.unused(i, k, s, d, lo, hi),
            "symconv._sizes.unused",
        ),
        "unusedAfter": (
            ("i", "k", "s", "d", "lo", "hi", "o"),
            _sizes.unused(i, k, s, d, lo, hi, o),
            "symconv._sizes.unused(o=...)",
        ),
        "samePadding": (("k", "d"), _sizes.same_padding(k, d), "symconv._sizes.same_padding"),
        "fullPadding": (("k", "d"), _sizes.full_padding(k, d), "symconv._sizes.full_padding"),
        "tapCoordinate": (
            ("o", "a", "k", "s", "d"),
            _sizes.tap_coordinate(o, a, k, s, d),
            "symconv._sizes.tap_coordinate",
        ),
        "tapCoordinateFlipped": (
            ("o", "a", "k", "s", "d"),
            _sizes.tap_coordinate(o, a, k, s, d, flip=True),
            "symconv._sizes.tap_coordinate(flip=True)",
        ),
        "transposeSource": (
            ("q", "a", "s", "d", "p"),
            _sizes.transpose_source(q, a, s, d, p),
            "symconv._sizes.transpose_source",
        ),
        "transposeEquivalentPadding": (
            ("k", "d", "p", "op"),
            _sizes.transpose_equivalent_padding(k, d, p, op),
            "symconv._sizes.transpose_equivalent_padding",
        ),
    }
    for mode in ("zeros", "reflect", "replicate", "circular"):
        fns[f"pad_{mode}"] = (
            ("i", "n"),
            _sizes.pad_index(mode, i, n),
            f"symconv._sizes.pad_index({mode!r})",
        )
    return fns


def _function(name: str, args: tuple[str, ...], expr: Any, source: str) -> str:
    printer = _Printer()
    body = (
        "[" + ", ".join(printer.doprint(e) for e in expr) + "]"
        if isinstance(expr, tuple)
        else printer.doprint(expr)
    )
    return (
        f"  // printed from {source}\n"
        f"  function {name}({', '.join(args)}) {{\n    return {body};\n  }}\n"
    )


def explorer_module() -> str:
    """The text of `docs/js/symconv_layer.js` (deterministic)."""
    printed = "\n".join(
        _function(name, *spec) for name, spec in sorted(printed_functions().items())
    )
    exports = ", ".join(sorted(printed_functions()))
    return (
        "// GENERATED by `symconv generate` from symconv's size arithmetic and index forms.\n"
        "// Do not edit: change symconv/codegen/javascript.py and run `symconv generate`.\n"
        "// Printed (SymPy's JavaScript printer): every function below marked 'printed from'.\n"
        "// Template (symconv/codegen/javascript.py, TEMPLATE): the functions after them.\n"
        '"use strict";\n'
        "var SymconvLayer = (function () {\n"
        + printed
        + "\n  // ---- template: combinations of the printed functions ----\n"
        + TEMPLATE
        + f"\n  return {{ {exports}, {TEMPLATE_EXPORTS} }};\n"
        "})();\n"
    )


TEMPLATE_EXPORTS = "padIndex, axisPlan, tapTable, nonzeros, reads, feeds, forward"

# The template part: it never computes a size or an index itself, only calls the printed
# functions above (convOut, pad_*, tapCoordinate, ...).
TEMPLATE = r"""
  function padIndex(mode, i, n) {
    return { zeros: pad_zeros, reflect: pad_reflect, replicate: pad_replicate,
             circular: pad_circular }[mode](i, n);
  }

  // One axis of a layer: sizes and pads. layer: {kind: 'conv'|'pool'|'transpose', k, s, d,
  // padding: number | [lo, hi] | 'same' | 'valid' | 'full', mode, flip, ceil, op}.
  function axisPlan(layer, i) {
    var k = layer.k, s = layer.s, d = layer.d, lo, hi, out;
    if (layer.kind === "transpose") {
      var p = layer.padding;
      out = transposeOut(i, k, s, d, p, layer.op);
      var eq = transposeEquivalentPadding(k, d, p, layer.op);
      return { i: i, k: k, s: s, d: d, lo: p, hi: p, out: out, padded: i, unused: 0,
               equivalent: { zeros: s - 1, stretched: (i - 1) * s + 1, lo: eq[0], hi: eq[1] } };
    }
    if (layer.padding === "same") { var sp = samePadding(k, d); lo = sp[0]; hi = sp[1]; }
    else if (layer.padding === "full") { var fp = fullPadding(k, d); lo = fp[0]; hi = fp[1]; }
    else if (layer.padding === "valid") { lo = 0; hi = 0; }
    else if (Array.isArray(layer.padding)) { lo = layer.padding[0]; hi = layer.padding[1]; }
    else { lo = layer.padding; hi = layer.padding; }
    if (layer.kind === "pool" && layer.ceil) out = poolOutCeil(i, k, s, d, lo);
    else out = convOut(i, k, s, d, lo, hi);
    return { i: i, k: k, s: s, d: d, lo: lo, hi: hi, out: out, padded: paddedLength(i, lo, hi),
             unused: unusedAfter(i, k, s, d, lo, hi, out) };
  }

  // taps[o][a] = the input index output o reads at tap a (-1: a zero), and the padded
  // coordinate it sits at (conv and pool), as symconv.indexform's tap_table.
  function tapTable(layer, plan) {
    var rows = [];
    for (var o = 0; o < plan.out; o++) {
      var row = [];
      for (var a = 0; a < plan.k; a++) {
        if (layer.kind === "transpose") {
          var t = transposeSource(o, a, plan.s, plan.d, plan.lo), num = t[0], st = t[1];
          var src = -1;
          if (((num % st) + st) % st === 0) {
            var ii = Math.floor(num / st);
            if (ii >= 0 && ii < plan.i) src = ii;
          }
          row.push({ input: src, padded: null });
        } else {
          var j = layer.flip ? tapCoordinateFlipped(o, a, plan.k, plan.s, plan.d)
                             : tapCoordinate(o, a, plan.k, plan.s, plan.d);
          var inside = j >= 0 && j < plan.padded;
          var mode = layer.kind === "pool" ? "zeros" : layer.mode;
          row.push({ input: inside ? padIndex(mode, j - plan.lo, plan.i) : -1,
                     padded: inside ? j : null });
        }
      }
      rows.push(row);
    }
    return rows;
  }

  function channelPairs(layer) {
    if (layer.kind === "pool") return layer.cin;
    return layer.cout * (layer.cin / layer.groups);
  }

  // Nonzeros of the layer's matrix: distinct (row, column) pairs, per axis, times the
  // connected channel pairs (symconv.indexform.IndexForm.nonzeros).
  function nonzeros(layer, plans, tables) {
    var total = channelPairs(layer);
    for (var ax = 0; ax < plans.length; ax++) {
      var seen = {}, count = 0;
      tables[ax].forEach(function (row, o) {
        row.forEach(function (t) {
          if (t.input >= 0 && !seen[o + ":" + t.input]) { seen[o + ":" + t.input] = 1; count++; }
        });
      });
      total *= count;
    }
    return total;
  }

  function product(lists) {
    return lists.reduce(function (acc, list) {
      var out = [];
      acc.forEach(function (p) { list.forEach(function (v) { out.push(p.concat([v])); }); });
      return out;
    }, [[]]);
  }

  // The taps of output cell `at` (one index per axis): [{tap, input (or null: a zero), padded}].
  function reads(tables, at) {
    var per = tables.map(function (t, ax) {
      return t[at[ax]].map(function (cell, a) { return { a: a, cell: cell }; });
    });
    return product(per).map(function (combo) {
      var zero = combo.some(function (c) { return c.cell.input < 0; });
      return { tap: combo.map(function (c) { return c.a; }),
               input: zero ? null : combo.map(function (c) { return c.cell.input; }),
               padded: combo.map(function (c) { return c.cell.padded; }) };
    });
  }

  // The output cells that read input cell `at` (the matrix's column: the backward pass).
  function feeds(tables, plans, at) {
    var per = tables.map(function (t, ax) {
      var outs = [];
      t.forEach(function (row, o) {
        if (row.some(function (c) { return c.input === at[ax]; })) outs.push(o);
      });
      return outs;
    });
    return product(per);
  }

  // One channel, one kernel: y[o] = sum over taps of w[a] x~[...] (max or mean for pools),
  // x and w as nested arrays (1-d or 2-d). Returns nested arrays of the output.
  function forward(layer, tables, x, w) {
    var dims = tables.length;
    var shape = tables.map(function (t) { return t.length; });
    function value(arr, idx) { return idx.reduce(function (v, i) { return v[i]; }, arr); }
    function cell(at) {
      var terms = reads(tables, at), acc = null, n = 0;
      terms.forEach(function (t) {
        var xv = t.input === null ? (layer.kind === "pool" && layer.pool === "max" ? null : 0)
                                  : value(x, t.input);
        if (xv === null) return;
        if (layer.kind === "pool") {
          acc = layer.pool === "max" ? (acc === null ? xv : Math.max(acc, xv)) : (acc || 0) + xv;
          n++;
        } else {
          acc = (acc || 0) + value(w, t.tap) * xv;
        }
      });
      if (layer.kind === "pool" && layer.pool === "avg") {  // count_include_pad: the window
        return acc / terms.filter(function (t) {             // clipped to the padded input
          return t.padded.every(function (j) { return j !== null; });
        }).length;
      }
      return acc === null ? 0 : acc;
    }
    if (dims === 1) return Array.from({ length: shape[0] }, function (_, o) { return cell([o]); });
    return Array.from({ length: shape[0] }, function (_, r) {
      return Array.from({ length: shape[1] }, function (_, c) { return cell([r, c]); });
    });
  }
"""
