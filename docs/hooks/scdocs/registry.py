r"""The fixed registry of named renderers a page may call: `RENDERERS[name](**params)`.

Each renderer calls the engine and returns `Html` or `Markdown`. Renderers that describe one
layer take the layer's own constructor arguments (`layer=conv|pool|transpose|local|tiled`,
then `dims=1 kernel_size=3 ...`), so the layer is validated by the engine (`SpecError`).

| name | engine call | shows |
|---|---|---|
| `derivation` | `derive(op, ...)` (`symconv.registry`) + `verify()` | steps and the certificate |
| `index-form` | `index_form(spec).expression()` / `.padding_expression()` | one formula |
| `formula` | `symconv.arith` output-size formulas | one formula |
| `matrix` | `toeplitz`, `padding_matrix`, `valid_matrix`, `patch_matrix`, `structure` | a matrix |
| `shape` | `spec.output_size`, `spec.fits` | inline text |
| `params` | `spec.num_parameters`, `weight_shape` | inline text |
| `layer-table` | the channel variants of one layer | a table |
| `arch-table`, `arch-summary`, `arch-receptive-field` | `symconv.arch` | tables |
| `errata` | `symconv.errata.ERRATA` | a table |
| `audit` | `symconv.audit.AUDIT` | one table per lecture |
| `jupyter` | `Derivation._repr_latex_` | what a notebook shows |
| `figure` | `figures.FIGURES` | an inline SVG |
| `algorithm-costs` | `numeric.algorithms.cost_formulas`, `explain` | two tables |
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import sympy

import symconv as sc
from symconv import arch, arith, audit, errata
from symconv.derivation import Certificate, Derivation
from symconv.derive import derive
from symconv.indexform import index_form

from . import figures
from .directives import DirectiveError
from .render import Html, Markdown, derivation_html, esc, math_html, table_html

__all__ = ["LAYERS", "RENDERERS", "derivation_of", "render"]

Output = Html | Markdown
RENDERERS: dict[str, Callable[..., Output]] = {}

LAYERS: dict[str, type] = {
    "conv": sc.Conv,
    "pool": sc.Pool,
    "transpose": sc.ConvTranspose,
    "local": sc.LocallyConnected,
    "tiled": sc.Tiled,
}


def renderer(name: str) -> Callable[[Callable[..., Output]], Callable[..., Output]]:
    def add(fn: Callable[..., Output]) -> Callable[..., Output]:
        RENDERERS[name] = fn
        return fn

    return add


def render(name: str, params: dict[str, Any]) -> Output:
    """Call the renderer `name`; unknown names and arguments are refused before the call."""
    if name not in RENDERERS:
        raise DirectiveError(f"unknown renderer {name!r}; known: {', '.join(sorted(RENDERERS))}")
    fn = RENDERERS[name]
    sig = inspect.signature(fn)
    takes_spec = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    if not takes_spec:
        unknown = set(params) - set(sig.parameters)
        if unknown:
            raise DirectiveError(
                f"{name}: unknown argument(s) {sorted(unknown)}; takes {list(sig.parameters)}"
            )
    try:
        return fn(**params)
    except sc.SpecError as error:
        raise DirectiveError(f"{name}: {error}") from error


def _spec(layer: str, fields: dict[str, Any]) -> Any:
    """The layer `layer` built from `fields` (only its constructor's fields are accepted)."""
    if layer not in LAYERS:
        raise DirectiveError(f"unknown layer {layer!r}; known: {', '.join(LAYERS)}")
    cls = LAYERS[layer]
    allowed = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = set(fields) - allowed
    if unknown:
        raise DirectiveError(f"{cls.__name__} has no field(s) {sorted(unknown)}")
    return cls(**fields)


_VERIFIED: dict[tuple[Any, ...], tuple[Derivation, Certificate]] = {}


def _verified(
    key: tuple[Any, ...], build: Callable[[], Derivation]
) -> tuple[Derivation, Certificate]:
    """Build and verify once per key and process (`mkdocs serve` rebuilds reuse it)."""
    if key not in _VERIFIED:
        d = build()
        _VERIFIED[key] = (d, d.verify())
    return _VERIFIED[key]


# -- derivations -------------------------------------------------------------------------------
def derivation_of(
    op: str,
    layer: str = "conv",
    input: Any = None,
    shift: Any = None,
    transform: str | None = None,
    **fields: Any,
) -> Derivation:
    """The `Derivation` a `derivation` directive with these arguments shows (not verified):
    `symconv.derive.derive(op, ...)`, so a page reads the one registry (`symconv.registry`)
    as `symconv derive OP` does; no layer given: the op's registry default."""
    spec = _spec(layer, fields) if fields or layer != "conv" else None
    options = {k: v for k, v in (("shift", shift), ("transform", transform)) if v is not None}
    return derive(op, spec, input, **options)


@renderer("derivation")
def derivation(
    op: str,
    layer: str = "conv",
    input: Any = None,
    shift: Any = None,
    transform: str | None = None,
    **fields: Any,
) -> Output:
    """A derivation's steps and its certificate; a failed certificate fails the build."""
    spec = _spec(layer, fields) if fields or layer != "conv" else None
    # keyed by the layer's value: pages spelling one layer differently share its certificate
    key = (op, spec if spec is not None else layer, input, shift, transform)
    d, cert = _verified(key, lambda: derivation_of(op, layer, input, shift, transform, **fields))
    if cert.failed:  # skipped checks (an optional dependency missing) are shown as such
        raise DirectiveError(f"derivation {op}: verification failed\n{cert.text()}")
    return Html(derivation_html(d, cert))


@renderer("jupyter")
def jupyter() -> Output:
    """What `_repr_latex_` gives a notebook, rendered here the way Jupyter renders it."""
    d, _ = _verified(("output-size",), arith.lecture_formula_derivation)
    tex = d._repr_latex_()
    assert tex.startswith("$") and tex.endswith("$")
    return Html(math_html(tex.strip("$")))


# -- formulas ----------------------------------------------------------------------------------
@renderer("index-form")
def index_form_(
    layer: str = "conv",
    input: Any = None,
    symbolic: bool = True,
    part: str = "layer",
    inline: bool = False,
    **fields: Any,
) -> Output:
    """The layer's index form (`part=padded-input`: the padded input's definition)."""
    if part not in ("layer", "padded-input"):
        raise DirectiveError(f"index-form: part must be layer or padded-input, not {part!r}")
    form = index_form(_spec(layer, fields), input)
    expr = form.padding_expression() if part == "padded-input" else form.expression(symbolic)
    return Html(math_html(expr, display=not inline), block=not inline)


_FORMULAS: dict[str, Callable[[], Any]] = {
    "conv-output": lambda: sympy.Eq(sympy.Symbol("o"), arith.conv_output_formula()),
    "conv-output-asymmetric": lambda: sympy.Eq(
        sympy.Symbol("o"), arith.conv_output_formula(symmetric=False)
    ),
    "pool-output-ceil": lambda: sympy.Eq(sympy.Symbol("o"), arith.pool_output_formula(True)),
    "transpose-output": lambda: sympy.Eq(sympy.Symbol("o"), arith.transpose_output_formula()),
}


@renderer("formula")
def formula(name: str, inline: bool = False, **fields: Any) -> Output:
    """A named output-size formula; with layer fields, that layer's axis 0 substituted."""
    if name not in _FORMULAS:
        raise DirectiveError(f"formula: unknown {name!r}; known: {', '.join(_FORMULAS)}")
    expr = _FORMULAS[name]()
    if fields:
        layer = fields.pop("layer", "conv")
        expr = sympy.Eq(expr.lhs, arith.substitute_axis(expr.rhs, _spec(layer, fields), 0))
    return Html(math_html(expr, display=not inline), block=not inline)


_MATRICES = {
    "toeplitz": sc.toeplitz,
    "padding": sc.padding_matrix,
    "valid": sc.valid_matrix,
    "patch": sc.patch_matrix,
}


@renderer("matrix")
def matrix(kind: str, input: Any, layer: str = "conv", **fields: Any) -> Output:
    """One of the layer's matrices at `input`, with `structure`'s verdict for the Toeplitz one."""
    if kind not in _MATRICES:
        raise DirectiveError(f"matrix: unknown kind {kind!r}; known: {', '.join(_MATRICES)}")
    spec = _spec(layer, fields)
    m = _MATRICES[kind](spec, input)
    if max(m.shape) > 20:
        raise DirectiveError(f"matrix: {m.shape[0]}x{m.shape[1]} is too big to show; shrink input")
    out = math_html(m)
    if kind == "toeplitz" and not isinstance(spec, sc.ConvTranspose):
        s = sc.structure(spec, input)
        out += (
            f'<p class="sc-why">{m.shape[0]}x{m.shape[1]}, {m.nnz()} nonzeros. '
            f"<code>structure</code>: <strong>{esc(s.name)}</strong> ({esc(s.evidence)}).</p>"
        )
    return Html(out)


# -- numbers -----------------------------------------------------------------------------------
def _size(t: tuple[int, ...]) -> str:
    return "x".join(map(str, t))


@renderer("shape")
def shape(input: Any, layer: str = "conv", **fields: Any) -> Output:
    """Inline: the output size of the layer on `input`, and whether the stride fits."""
    spec = _spec(layer, fields)
    out = spec.output_size(input)
    text = f"output {_size(out)}"
    if hasattr(spec, "fits"):
        fit = spec.fits(input)
        if not fit.exact:
            text += f" (the stride does not fit: {_size(fit.unused)} input positions unread)"
    return Html(f"<strong>{esc(text)}</strong>", block=False)


@renderer("params")
def params(layer: str = "conv", **fields: Any) -> Output:
    """Inline: the layer's parameter count and weight shape."""
    spec = _spec(layer, fields)
    return Html(
        f"<strong>{spec.num_parameters():,} parameters</strong> "
        f"(weight shape {esc(spec.weight_shape)}"
        f"{', plus biases' if getattr(spec, 'bias', False) else ''})",
        block=False,
    )


def _variants() -> list[tuple[str, Any]]:
    """Channel variants of one 3x3 layer with 32 channels in and out (64 for the 1x1)."""
    return [
        ("standard 3x3", sc.Conv(in_channels=32, out_channels=32, kernel_size=3, padding=1)),
        (
            "grouped, 4 groups",
            sc.Conv(in_channels=32, out_channels=32, kernel_size=3, padding=1, groups=4),
        ),
        (
            "depthwise",
            sc.Conv(in_channels=32, out_channels=32, kernel_size=3, padding=1, groups=32),
        ),
        ("pointwise 1x1", sc.Conv(in_channels=32, out_channels=32, kernel_size=1)),
        (
            "dilated 3x3, dilation 2",
            sc.Conv(in_channels=32, out_channels=32, kernel_size=3, padding=2, dilation=2),
        ),
        ("1x1 bottleneck 32 to 8", sc.Conv(in_channels=32, out_channels=8, kernel_size=1)),
    ]


@renderer("layer-table")
def layer_table(input: Any = 56) -> Output:
    """Weight shape, parameters, MACs and receptive field of the channel variants."""
    rows = []
    for name, spec in _variants():
        rows.append(
            [
                name,
                str(spec),
                _size(spec.weight_shape),
                f"{spec.num_parameters():,}",
                f"{spec.macs(input):,}",
                _size(spec.output_size(input)),
                _size(spec.receptive_field()),
            ]
        )
    head = ["variant", "spec", "weight", "params", "MACs", "output", "field"]
    return Html(table_html(head, rows, numeric={3, 4}))


@renderer("arch-table")
def arch_table(network: str, collapsible: bool = False) -> Output:
    """`symconv.arch.get(network).table()`, layer by layer, with its notes; `collapsible`:
    one row per block, each block's layers in a `<details>` element."""
    table = _arch_table(network)
    if not collapsible:
        return Markdown(table.markdown())
    head, numeric = list(table.HEAD), set(table.NUMERIC)
    summary, parts = [table.input_cells()], []
    for i, b in enumerate(table.blocks(), 1):
        summary.append(table.block_cells(i, b))
        if len(b.rows) > 1:
            parts.append(
                f"<details><summary>{esc(b.name)}: {len(b.rows)} layers, "
                f"{b.parameters:,} parameters, {b.macs:,} MACs, depth {b.depth}</summary>"
                + table_html(head, [table.cells(r) for r in b.rows], numeric)
                + "</details>"
            )
    summary.append(table.total_cells())
    title = f"<p><strong>{esc(table.network)}</strong> (input {arch.volume(table.input_shape)})</p>"
    notes = "".join(f"<li>{esc(n)}</li>" for n in table.notes)
    return Html(
        title
        + table_html(head, summary, numeric)
        + "<p>Each block's layers:</p>"
        + "".join(parts)
        + (f"<ul>{notes}</ul>" if notes else "")
    )


_TABLES: dict[str, arch.Table] = {}


def _arch_table(network: str) -> arch.Table:
    """Each shipped network's table once per process."""
    if network not in _TABLES:
        _TABLES[network] = arch.get(network).table()
    return _TABLES[network]


@renderer("arch-summary")
def arch_summary() -> Output:
    """Totals of every shipped network, with its source and depth."""
    rows = []
    for name in arch.NAMES:
        t = _arch_table(name)
        rows.append(
            [
                name,
                arch.SOURCES[name],
                arch.volume(t.input_shape),
                f"{t.total_parameters:,}",
                f"{t.total_macs:,}",
                f"{t.total_activations:,}",
                f"{t.total_memory / 1e6:.1f}",
                str(t.depth),
            ]
        )
    head = ["network", "source", "input", "params", "MACs", "activations", "memory (MB)", "depth"]
    return Html(table_html(head, rows, numeric={3, 4, 5, 6, 7}))


@renderer("arch-receptive-field")
def arch_receptive_field(network: str = "resnet50") -> Output:
    """The receptive field at the end of each block with a spatial output."""
    rows = []
    for b in _arch_table(network).blocks():
        field = b.rows[-1].receptive_field
        if field is not None and any(r.kind in ("conv", "pool") for r in b.rows):
            rows.append([b.name, arch.volume(b.shape), "x".join(map(str, field))])
    return Html(table_html(["after", "output", "receptive field"], rows, numeric={2}))


@renderer("errata")
def errata_table() -> Output:
    """Every erratum: where, what, printed, computed now, and why they differ."""
    rows = []
    for e in errata.ERRATA:
        v = e.check()
        computed = v.computed
        shown = (
            f"{computed:,}"
            if isinstance(computed, int)
            else f"{computed:.2f}"
            if isinstance(computed, float)
            else ", ".join(map(str, computed))
            if isinstance(computed, tuple)
            else str(computed)
        )
        rows.append(
            [
                e.source,
                e.place,
                e.quantity,
                e.printed,
                shown,
                "agrees" if v.agrees else e.kind,
                e.explain(),
            ]
        )
    head = ["source", "where", "quantity", "printed", "computed", "verdict", "why"]
    return Html(table_html(head, rows, numeric={4}))


@renderer("audit")
def audit_table() -> Output:
    """Every printed equation and number of the five lectures, recomputed: the verdict counts,
    then one table per lecture (where, printed, engine's value, verdict, the call)."""
    rows = audit.table()
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    parts = [f"<p>{esc(len(rows))} printed statements: {esc(summary)}.</p>"]
    head = ["where", "quantity", "printed", "engine", "verdict", "computed by", "note"]
    for key, name in audit.LECTURES.items():
        mine = [r for r in rows if r["lecture"] == key]
        parts.append(f"<h3>{esc(key)}: {esc(name)}</h3>")
        parts.append(
            table_html(
                head,
                [
                    [
                        r["place"],
                        r["quantity"],
                        r["printed"],
                        r["computed"],
                        r["verdict"],
                        Html(f"<code>{esc(r['call'])}</code>"),
                        r["note"],
                    ]
                    for r in mine
                ],
                numeric={3},
            )
        )
    return Html("\n".join(parts))


_SUITE = (  # name, batch, input size, Conv fields: the benchmark suite (BENCHMARKS.md)
    ("LeNet conv1", 64, 28, dict(in_channels=1, out_channels=6, kernel_size=5)),
    ("AlexNet conv1", 8, 227, dict(in_channels=3, out_channels=96, kernel_size=11, stride=4)),
    ("VGG 64x56x56", 8, 56, dict(in_channels=64, out_channels=64, kernel_size=3, padding=1)),
    ("VGG 256x28x28", 8, 28, dict(in_channels=256, out_channels=256, kernel_size=3, padding=1)),
    (
        "depthwise 128x56x56",
        8,
        56,
        dict(in_channels=128, out_channels=128, kernel_size=3, padding=1, groups=128),
    ),
    (
        "dilated 32x64x64 d2",
        8,
        64,
        dict(in_channels=32, out_channels=32, kernel_size=3, padding=2, dilation=2),
    ),
    (
        "15x15 kernel 16x128x128",
        2,
        128,
        dict(in_channels=16, out_channels=16, kernel_size=15, padding=7),
    ),
)


@renderer("algorithm-costs")
def algorithm_costs() -> Output:
    """`numeric.algorithms`: the cost formulas, and what "auto" picks for the benchmark suite."""
    from numeric import algorithms as alg

    formulas = alg.cost_formulas()
    rows = [
        [name, *(Html(math_html(f[part], display=False)) for part in ("gemm", "fft", "memory"))]
        for name, f in formulas.items()
    ]
    out = table_html(["algorithm", "GEMM FLOPs", "FFT FLOPs", "elements moved"], rows, set())
    rows = []
    for name, batch, size, fields in _SUITE:
        spec = sc.Conv(dims=2, **fields)
        e = alg.explain(spec, (size, size), batch=batch)
        ms = {k: "n/a" if v is None else f"{1e3 * v['seconds']:.1f}" for k, v in e["costs"].items()}
        rows.append([name, str(spec), batch, *ms.values(), e["algorithm"]])
    head = ["layer", "spec", "N", *(f"{k} (ms)" for k in e["costs"]), "auto"]
    rates = ", ".join(f"{k} {v:.2g}/s" for k, v in alg.RATES.items())
    note = f"<p>Estimated milliseconds at the recorded rates ({esc(rates)}).</p>"
    return Html(out + note + table_html(head, rows, numeric=set(range(2, 3 + len(e["costs"])))))


@renderer("figure")
def figure(name: str) -> Output:
    """A figure drawn from the engine's objects, as inline SVG."""
    if name not in figures.FIGURES:
        raise DirectiveError(f"figure: unknown {name!r}; known: {', '.join(figures.FIGURES)}")
    svg, caption = figures.FIGURES[name]()
    return Html(f'<figure class="sc-figure">{svg}<figcaption>{esc(caption)}</figcaption></figure>')
