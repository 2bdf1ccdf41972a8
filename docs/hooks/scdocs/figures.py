"""Figures drawn at build time from the engine's objects (matplotlib, inline SVG).

Every picture reads what it draws from the engine: sparsity from `toeplitz`, padded cells
from `IndexForm.pad_table`, connections from `IndexForm.tap_table`, the equivariance defect
from `equivariance(...).broken`, max-pool routing from `poolgrad.pool_backward`. No index
arithmetic happens here. `FIGURES[name]()` returns `(svg, caption)`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle

import symconv as sc
from symconv.indexform import index_form
from symconv.poolgrad import pool_backward, pool_forward

__all__ = ["FIGURES"]

matplotlib.use("Agg")  # no display: draw to files only

plt.rcParams.update(
    {
        "svg.fonttype": "none",  # text stays text: small files, selectable labels
        "svg.hashsalt": "symconv-docs",  # deterministic ids
        "font.family": "sans-serif",
        "font.size": 9,
        "axes.titlesize": 9,
    }
)

FIGURES: dict[str, Callable[[], tuple[str, str]]] = {}
_PAD = "#e6e6e6"
_ON = "#3f51b5"
_HIT = "#ff9800"
_BAD = "#e53935"


def figure(name: str) -> Callable[[Callable[[], tuple[str, str]]], Callable[[], tuple[str, str]]]:
    def add(fn: Callable[[], tuple[str, str]]) -> Callable[[], tuple[str, str]]:
        FIGURES[name] = fn
        return fn

    return add


def _svg(fig: plt.Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    # let CSS size it: drop the fixed width/height, keep the viewBox
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", text, count=1)


def _spy(ax: plt.Axes, matrix, title: str) -> None:
    """Nonzeros of a SymPy sparse matrix, one colour per distinct entry (per weight symbol)."""
    entries = dict(matrix.todok())
    labels = sorted({str(v) for v in entries.values()})
    colour = {lab: i for i, lab in enumerate(labels)}
    grid = np.full(matrix.shape, np.nan)
    for (r, c), v in entries.items():
        grid[r, c] = colour[str(v)]
    ax.imshow(grid, cmap="tab10" if len(labels) <= 10 else "tab20", interpolation="nearest")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    rows, cols = matrix.shape
    ax.set_xlabel(f"{rows}x{cols}, {len(entries)} nonzeros")
    for spine in ax.spines.values():
        spine.set_color("#999")


@figure("toeplitz-sparsity")
def toeplitz_sparsity() -> tuple[str, str]:
    cases = [
        (sc.Conv(dims=1, kernel_size=3, padding=1), 8),
        (sc.Conv(dims=2, kernel_size=3, padding=1), (4, 4)),
        (sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode="circular"), 8),
        (sc.Conv(dims=2, kernel_size=3, padding=1, padding_mode="circular"), (4, 4)),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(10, 3))
    for ax, (spec, n) in zip(axes, cases, strict=True):
        mode = spec.padding_mode
        _spy(
            ax, sc.toeplitz(spec, n), f"{spec.dims}D, {mode} padding\n{sc.structure(spec, n).name}"
        )
    return _svg(fig), (
        "Nonzeros of T for a 3-tap (3x3) kernel with padding 1; one colour per weight. Zero "
        "padding gives a banded Toeplitz matrix, circular padding wraps the band into the "
        "corners (circulant). In 2D the blocks are themselves Toeplitz (circulant)."
    )


@figure("padding-modes")
def padding_modes() -> tuple[str, str]:
    modes = ["zeros", "reflect", "replicate", "circular"]
    fig, ax = plt.subplots(figsize=(7, 2.6))
    n = 5
    for row, mode in enumerate(modes):
        form = index_form(sc.Conv(dims=1, kernel_size=5, padding=2, padding_mode=mode), n)
        src = form.pad_table(0)
        lo = form.axes[0].lo
        y = len(modes) - 1 - row
        for j, s in enumerate(src.tolist()):
            inside = lo <= j < lo + n
            ax.add_patch(Rectangle((j, y), 0.95, 0.8, color="#c5cae9" if inside else _PAD, lw=0))
            ax.text(j + 0.47, y + 0.4, f"x{s}" if s >= 0 else "0", ha="center", va="center")
        ax.text(-0.3, y + 0.4, mode, ha="right", va="center")
    ax.set_xlim(-2.2, len(src) + 0.1)
    ax.set_ylim(-0.1, len(modes))
    ax.axis("off")
    return _svg(fig), (
        "An input x0..x4 padded by 2 on each side (grey: the padding), read from "
        "IndexForm.pad_table: zeros, reflect (mirror without repeating the edge), replicate "
        "(clamp) and circular (wrap)."
    )


def _connections(ax: plt.Axes, spec, n: int, y0: float, title: str) -> None:
    """Padded input cells, output cells and a line from each output to every tap it reads."""
    form = index_form(spec, n)
    taps = form.tap_table(0, padded=True)
    lo = form.axes[0].lo
    padded = form.axes[0].padded
    out = taps.shape[0]
    for j in range(padded):
        inside = lo <= j < lo + n
        ax.add_patch(Rectangle((j, y0), 0.9, 0.6, color="#c5cae9" if inside else _PAD, lw=0))
    shift = (padded - out) / 2
    for o in range(out):
        x = o + shift
        ax.add_patch(Rectangle((x, y0 + 2), 0.9, 0.6, color=_HIT, lw=0))
        for t in taps[o].tolist():
            ax.plot([x + 0.45, t + 0.45], [y0 + 2, y0 + 0.6], color="#555", lw=0.6)
    ax.text(-0.5, y0 + 1.3, title, ha="right", va="center")


@figure("stride-dilation")
def stride_dilation() -> tuple[str, str]:
    cases = [
        sc.Conv(dims=1, kernel_size=3),
        sc.Conv(dims=1, kernel_size=3, padding=1),
        sc.Conv(dims=1, kernel_size=3, stride=2, padding=1),
        sc.Conv(dims=1, kernel_size=3, dilation=2),
        sc.Conv(dims=1, kernel_size=3, padding="full"),
    ]
    n = 7
    fig, ax = plt.subplots(figsize=(8, 1.0 * len(cases) + 0.5))
    for r, spec in enumerate(cases):
        k, s, d = spec.kernel_size[0], spec.stride[0], spec.dilation[0]
        lo, hi = spec.pads[0]
        o = spec.output_size(n)[0]
        title = f"k={k} s={s} d={d} pad=({lo},{hi})\ni={n} -> o={o}"
        _connections(ax, spec, n, 3.2 * (len(cases) - 1 - r), title)
    ax.set_xlim(-7, 12)
    ax.set_ylim(-0.3, 3.2 * len(cases))
    ax.axis("off")
    return _svg(fig), (
        "Which input each output reads (tap_table of the index form), input of 7 at the "
        "bottom of each row, padding grey, outputs orange: valid, padding 1, stride 2, "
        "dilation 2 and full padding."
    )


@figure("receptive-field")
def receptive_field() -> tuple[str, str]:
    stacks = [
        ("three 3-tap convs", [sc.Conv(dims=1, kernel_size=3)] * 3),
        ("3-tap, stride 2, three times", [sc.Conv(dims=1, kernel_size=3, stride=2)] * 3),
        (
            "3-tap, dilation 1, 2, 4",
            [sc.Conv(dims=1, kernel_size=3, dilation=d) for d in (1, 2, 4)],
        ),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(11, 2.6))
    for ax, (name, layers) in zip(axes, stacks, strict=True):
        n = 17
        sizes = [n]
        for layer in layers:
            sizes.append(layer.output_size(sizes[-1])[0])
        # walk back from the middle output of the last layer through each layer's taps
        active = {sizes[-1] // 2}
        levels = [active]
        for layer, size in zip(reversed(layers), reversed(sizes[:-1]), strict=True):
            taps = index_form(layer, size).tap_table(0)
            active = {int(t) for o in active for t in taps[o] if t >= 0}
            levels.append(active)
        levels.reverse()
        for lvl, (size, on) in enumerate(zip(sizes, levels, strict=True)):
            off = (n - size) / 2
            for j in range(size):
                ax.add_patch(
                    Rectangle((off + j, lvl), 0.9, 0.6, color=_ON if j in on else _PAD, lw=0)
                )
        rf = sc.receptive_field(layers)
        ax.set_title(f"{name}\nreceptive field {rf.size[0]}, jump {rf.jump[0]}")
        ax.set_xlim(-0.2, n)
        ax.set_ylim(-0.2, len(sizes))
        ax.axis("off")
    return _svg(fig), (
        "The inputs one output sees (blue), traced back layer by layer through the index "
        "form; input at the bottom. The title's size and jump come from "
        "symconv.receptive_field and agree with the traced cells."
    )


@figure("equivariance-border")
def equivariance_border() -> tuple[str, str]:
    modes = ["zeros", "reflect", "replicate", "circular"]
    fig, axes = plt.subplots(1, 4, figsize=(9, 2.6))
    n = 8
    for ax, mode in zip(axes, modes, strict=True):
        spec = sc.Conv(dims=2, kernel_size=3, padding=1, padding_mode=mode)
        eq = sc.equivariance(spec, (n, n), shift=(1, 1))
        grid = np.zeros((n, n))
        for o in eq.broken:
            grid[o] = 1
        ax.imshow(grid, cmap=ListedColormap(["#c8e6c9", _BAD]), vmin=0, vmax=1)
        ax.set_title(f"{mode}: {len(eq.broken)} of {n * n} broken")
        ax.set_xticks([])
        ax.set_yticks([])
    return _svg(fig), (
        "3x3 convolution, padding 1, 8x8 input, shift by (1, 1): output positions where "
        "f(shift x) differs from shift f(x) for some input and weights (red), from "
        "symconv.equivariance(...).broken. Only circular padding is exactly equivariant."
    )


@figure("maxpool-routing")
def maxpool_routing() -> tuple[str, str]:
    spec = sc.Pool(dims=2, kind="max", kernel_size=2, stride=2)
    x = np.array([[1, 3, 2, 0], [4, 2, 1, 1], [0, 5, 2, 2], [1, 2, 0, 2]], dtype=float)
    delta = np.array([[0.1, 0.2], [0.3, 0.4]])
    y = pool_forward(spec, x[None])[0]
    grad = pool_backward(spec, x[None], delta[None])[0]
    fig, axes = plt.subplots(1, 3, figsize=(8, 2.8))
    panels = [
        (x, "input x (2x2 windows)"),
        (y, "y = max over each window;\nupstream delta in brackets"),
        (grad, "dL/dx: each delta to its window's\nfirst maximum (ties: first)"),
    ]
    for ax, (m, title) in zip(axes, panels, strict=True):
        h, w = m.shape
        for r in range(h):
            for c in range(w):
                hot = m is grad and grad[r, c] != 0
                ax.add_patch(
                    Rectangle((c, h - 1 - r), 0.95, 0.95, color=_HIT if hot else _PAD, lw=0)
                )
                label = f"{m[r, c]:g}"
                if m is y:
                    label += f"\n[{delta[r, c]:g}]"
                ax.text(c + 0.47, h - 1 - r + 0.47, label, ha="center", va="center")
        if m is x:
            for r in range(0, 4, 2):
                for c in range(0, 4, 2):
                    ax.add_patch(Rectangle((c, 2 - r), 1.95, 1.95, fill=False, lw=1.5))
        ax.set_xlim(-0.1, w + 0.1)
        ax.set_ylim(-0.1, h + 0.1)
        ax.set_aspect("equal")
        ax.set_title(title)
        ax.axis("off")
    return _svg(fig), (
        "Max pooling 2x2, stride 2, evaluated by symconv.poolgrad: the gradient of each "
        "window goes to its maximum only. The bottom-right window holds three 2s; the "
        "gradient goes to the first in scan order (torch's rule)."
    )


@figure("grouped-blocks")
def grouped_blocks() -> tuple[str, str]:
    fig, axes = plt.subplots(1, 3, figsize=(9, 3))
    for ax, groups in zip(axes, (1, 2, 4), strict=True):
        spec = sc.Conv(
            dims=1, in_channels=4, out_channels=4, kernel_size=3, padding=1, groups=groups
        )
        _spy(ax, sc.toeplitz(spec, 5), f"groups={groups}, {spec.num_parameters()} parameters")
    return _svg(fig), (
        "T of a 4-to-4 channel 1D convolution on 5 positions: a 4x4 grid of Toeplitz "
        "blocks. Groups zero the blocks between groups (block diagonal); groups = channels "
        "is depthwise."
    )


@figure("transpose-sparsity")
def transpose_sparsity() -> tuple[str, str]:
    conv = sc.Conv(dims=1, kernel_size=3, stride=2, padding=1)
    tr = sc.ConvTranspose(dims=1, kernel_size=3, stride=2, padding=1)
    n = conv.output_size(7)[0]
    fig, axes = plt.subplots(1, 2, figsize=(6, 3))
    _spy(axes[0], sc.toeplitz(conv, 7), "Conv k=3 s=2 p=1 on 7: T")
    _spy(axes[1], sc.toeplitz(tr, n), f"ConvTranspose on {n}: its matrix")
    return _svg(fig), (
        "The transposed convolution's matrix is the transpose of the convolution's: "
        "rows become columns (same colours, same weights)."
    )


@figure("local-sparsity")
def local_sparsity() -> tuple[str, str]:
    cases = [
        ("convolution", sc.Conv(dims=1, kernel_size=3)),
        ("tiled, 2 kernels", sc.Tiled(dims=1, kernel_size=3, tiles=2)),
        ("locally connected", sc.LocallyConnected(dims=1, kernel_size=3, input_size=8)),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(9, 2.6))
    for ax, (name, spec) in zip(axes, cases, strict=True):
        _spy(ax, sc.toeplitz(spec, 8), f"{name}: {spec.num_parameters()} parameters")
    return _svg(fig), (
        "Same band of nonzeros, different weight sharing: one kernel on every row, two "
        "kernels alternating, one kernel per output position."
    )


# -- architectures (symconv.arch, symconv.case_studies) ------------------------------------------
_COMPARED = (
    "alexnet_grouped",
    "vgg16",
    "googlenet",
    "resnet18",
    "resnet50",
    "resnet152",
    "wide_resnet50_2",
    "resnext50_32x4d",
    "senet",
    "densenet121",
    "mobilenet_v1",
    "mobilenet_v2",
    "efficientnet_b0",
    "squeezenet1_0",
)


@figure("arch-comparison")
def arch_comparison() -> tuple[str, str]:
    from symconv import arch

    tables = [arch.get(n).table() for n in _COMPARED]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    acts = np.array([t.total_activations for t in tables], dtype=float)
    ax.scatter(
        [t.total_macs / 1e9 for t in tables],
        [t.total_parameters / 1e6 for t in tables],
        s=20 + 300 * acts / acts.max(),
        color=_ON,
        alpha=0.6,
    )
    for t in tables:
        ax.annotate(
            f"{t.network} ({t.depth})",
            (t.total_macs / 1e9, t.total_parameters / 1e6),
            textcoords="offset points",
            xytext=(5, 3),
            fontsize=7,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("multiply-adds per image (billions)")
    ax.set_ylabel("parameters (millions)")
    ax.grid(True, which="both", lw=0.3)
    return _svg(fig), (
        "Parameters against multiply-adds per 224x224 image (227 for AlexNet), both from "
        "symconv.arch's tables; the area of a disc is proportional to the forward activations "
        "stored, the depth (layers with weights on the longest path) is in brackets."
    )


@figure("resnet50-receptive-field")
def resnet50_receptive_field() -> tuple[str, str]:
    from symconv import arch

    rows = [r for r in arch.get("resnet50").table().rows if r.kind == "conv" and r.receptive_field]
    rows = [r for r in rows if "downsample" not in r.name]
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.step(range(1, len(rows) + 1), [r.receptive_field[0] for r in rows], where="post", color=_ON)
    ax.axhline(224, color=_BAD, lw=0.8, ls="--")
    ax.text(1, 232, "input size 224", color=_BAD, fontsize=8)
    starts = {}
    for i, r in enumerate(rows, 1):
        starts.setdefault(r.name.split(".")[0], i)
    for stage, i in starts.items():
        ax.axvline(i, color=_PAD, lw=0.8)
        ax.text(i + 0.3, 20, stage, fontsize=8, rotation=90, va="bottom")
    ax.set_xlabel("conv layer on the main path (shortcuts left out)")
    ax.set_ylabel("receptive field (pixels)")
    return _svg(fig), (
        "ResNet-50's receptive field after each conv of the main path (the widest path through "
        "every residual block), from symconv.receptive_field on the table's graph: it passes "
        "the 224-pixel input in the third stage and ends at 483 pixels; in the last stage "
        "each 3x3 conv adds 2 x 32 pixels."
    )


@figure("residual-gradients")
def residual_gradients() -> tuple[str, str]:
    from symconv.case_studies import gradient_norm_study

    study = gradient_norm_study()
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.semilogy(study["depth"], study["plain"], color=_BAD, label="plain: tanh(W x)")
    ax.semilogy(study["depth"], study["residual"], color=_ON, label="residual: x + tanh(W x)")
    ax.set_xlabel("layer l (0 = input, 50 = output)")
    ax.set_ylabel("||dL/dx_l||")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", lw=0.3)
    return _svg(fig), (
        "The gradient norm at each layer of two 50-layer stacks of width 64 with the same "
        "weights W ~ N(0, 0.8^2/64), for a unit gradient at the output "
        "(symconv.case_studies.gradient_norm_study, checked against torch autograd): the plain "
        "stack's product of Jacobians vanishes, the residual stack's product of (I + J) does "
        "not."
    )
