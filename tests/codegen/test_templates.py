"""The kernel templates (`symconv/codegen/templates/`) are real modules: they run on NumPy as
they are, agree with the generated modules printed from them, and their vocabularies (the
primitives, the index maps) are the ones the printers and the derivations supply.
"""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest

from numeric._generated import (
    numpy_conv,
    numpy_fft,
    numpy_local,
    numpy_pool,
    numpy_shifted,
    numpy_winograd,
)
from symconv.codegen import generate as gen
from symconv.codegen.fft import fft_nodes
from symconv.codegen.kernels import conv_nodes, pool_nodes
from symconv.codegen.local import local_nodes
from symconv.codegen.numpy_backend import NumPyKernelPrinter
from symconv.codegen.printer import IndexMap, Kernel
from symconv.codegen.shifted import shifted_nodes
from symconv.codegen.templates import (
    FAMILIES,
    conv,
    fft,
    local,
    maps,
    pool,
    prims,
    shifted,
    template_kernels,
    template_path,
    winograd,
)
from symconv.codegen.torch_backend import TorchKernelPrinter
from symconv.codegen.winograd import winograd_nodes

RNG = np.random.default_rng(16)

# (stride, pads, dilation, groups, mode, flip) of 1-D and 2-D layers: zeros / reflect /
# circular padding, stride, dilation, groups, depthwise (the shift-add path), a flipped kernel
CONV_CASES = [
    ((1,), [(1, 1)], (1,), 1, "zeros", False, (2, 3, 9), (4, 3, 3)),
    ((2,), [(2, 1)], (2,), 1, "reflect", True, (2, 2, 11), (3, 2, 3)),
    ((1, 2), [(1, 1), (0, 2)], (1, 1), 2, "circular", False, (2, 4, 7, 8), (6, 2, 3, 2)),
    ((2, 1), [(1, 1), (1, 1)], (1, 2), 4, "replicate", False, (3, 4, 8, 9), (8, 1, 3, 3)),
]


def _same(a, b) -> None:
    """Bit for bit: the template and the module printed from it run the same operations."""
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", range(len(CONV_CASES)))
def test_conv_template_runs_on_numpy_as_the_printed_module(case) -> None:
    stride, pads, dilation, groups, mode, flip, xs, ws = CONV_CASES[case]
    x, w, b = RNG.standard_normal(xs), RNG.standard_normal(ws), RNG.standard_normal(ws[0])
    args = (stride, pads, dilation, groups, mode, flip, 2)
    y = conv.conv_forward(x, w, b, *args)
    _same(y, numpy_conv.conv_forward(x, w, b, *args))
    delta = RNG.standard_normal(y.shape)
    size, kernel = xs[2:], ws[2:]
    _same(
        conv.conv_grad_input(delta, w, size, *args),
        numpy_conv.conv_grad_input(delta, w, size, *args),
    )
    _same(
        conv.conv_grad_weight(x, delta, kernel, *args),
        numpy_conv.conv_grad_weight(x, delta, kernel, *args),
    )
    _same(conv.conv_grad_bias(delta), numpy_conv.conv_grad_bias(delta))


def test_conv_template_agrees_with_torch() -> None:
    torch = pytest.importorskip("torch")
    x, w = RNG.standard_normal((2, 4, 9, 8)), RNG.standard_normal((6, 2, 3, 2))
    y = conv.conv_forward(x, w, None, (2, 1), [(1, 1), (0, 0)], (1, 2), 2, "zeros", False, 1)
    want = torch.nn.functional.conv2d(
        torch.from_numpy(x),
        torch.from_numpy(w),
        stride=(2, 1),
        padding=(1, 0),
        dilation=(1, 2),
        groups=2,
    )
    np.testing.assert_allclose(y, want.numpy(), rtol=1e-12, atol=1e-12)
    xt, wt = RNG.standard_normal((2, 4, 5)), RNG.standard_normal((4, 3, 3))
    yt = conv.conv_transpose_forward(xt, wt, None, (2,), (1,), (1,), (1,), 1, 2)
    want = torch.nn.functional.conv_transpose1d(
        torch.from_numpy(xt), torch.from_numpy(wt), stride=2, padding=1, output_padding=1
    )
    np.testing.assert_allclose(yt, want.numpy(), rtol=1e-12, atol=1e-12)
    _same(yt, numpy_conv.conv_transpose_forward(xt, wt, None, (2,), (1,), (1,), (1,), 1, 2))


def test_pool_template_runs_on_numpy_as_the_printed_module() -> None:
    x = RNG.standard_normal((2, 3, 9, 8))
    x[0, 0, 1, 1] = np.nan
    args = ((3, 2), (2, 2), (1, 0), (1, 1), (5, 4))
    for got, want in zip(pool.max_pool(x, *args), numpy_pool.max_pool(x, *args), strict=True):
        _same(got, want)
    y, idx = numpy_pool.max_pool(x, *args)
    delta = RNG.standard_normal(y.shape)
    size = x.shape[2:]
    _same(pool.max_pool_backward(delta, idx, size), numpy_pool.max_pool_backward(delta, idx, size))
    avg = ((3, 2), (2, 2), (1, 0), (5, 4), False, None)
    _same(pool.avg_pool(x, *avg), numpy_pool.avg_pool(x, *avg))
    back = (size, (3, 2), (2, 2), (1, 0), True, None)
    _same(pool.avg_pool_backward(delta, *back), numpy_pool.avg_pool_backward(delta, *back))
    xp = np.abs(RNG.standard_normal((2, 3, 7, 7)))
    _same(
        pool.lp_pool(xp, 2.0, (2, 2), (2, 2), (4, 4)),
        numpy_pool.lp_pool(xp, 2.0, (2, 2), (2, 2), (4, 4)),
    )
    d4 = RNG.standard_normal((2, 3, 4, 4))
    _same(
        pool.lp_pool_backward(d4, xp, 2.0, (2, 2), (2, 2)),
        numpy_pool.lp_pool_backward(d4, xp, 2.0, (2, 2), (2, 2)),
    )


def test_local_template_runs_on_numpy_as_the_printed_module() -> None:
    """Locally connected and tiled layers (reflect padding, stride, groups, a flipped kernel)."""
    x = RNG.standard_normal((3, 4, 7, 6))
    args = ((2, 1), [(1, 1), (1, 0)], (1, 2), 2, "reflect", True, 2)
    w = RNG.standard_normal((6, 4, 5, 2, 2, 2))  # (C_out, *O, C_in/G, *K), O = (4, 5)
    b = RNG.standard_normal((6, 4, 5))
    y = local.local_forward(x, w, b, *args)
    _same(y, numpy_local.local_forward(x, w, b, *args))
    delta = RNG.standard_normal(y.shape)
    _same(
        local.local_grad_input(delta, w, (7, 6), *args),
        numpy_local.local_grad_input(delta, w, (7, 6), *args),
    )
    _same(
        local.local_grad_weight(x, delta, (2, 2), *args),
        numpy_local.local_grad_weight(x, delta, (2, 2), *args),
    )
    _same(local.local_grad_bias(delta), numpy_local.local_grad_bias(delta))
    wt = RNG.standard_normal((6, 2, 2, 2, 2, 2))  # tiles (2, 2)
    _same(
        local.tiled_forward(x, wt, b[:, 0, 0], *args),
        numpy_local.tiled_forward(x, wt, b[:, 0, 0], *args),
    )
    _same(
        local.tiled_grad_input(delta, wt, (7, 6), *args),
        numpy_local.tiled_grad_input(delta, wt, (7, 6), *args),
    )
    _same(
        local.tiled_grad_weight(x, delta, (2, 2), (2, 2), *args),
        numpy_local.tiled_grad_weight(x, delta, (2, 2), (2, 2), *args),
    )


def test_fft_template_runs_on_numpy_as_the_printed_module() -> None:
    """The FFT convolution, its gradients and the separable convolution."""
    x = RNG.standard_normal((2, 4, 9, 8))
    w, b = RNG.standard_normal((6, 2, 3, 2)), RNG.standard_normal(6)
    args = ((2, 1), [(1, 2), (0, 1)], (1, 2), 2)
    y = fft.conv_fft(x, w, b, *args)
    _same(y, numpy_fft.conv_fft(x, w, b, *args))
    np.testing.assert_allclose(y, conv.conv_forward(x, w, b, *args, "zeros", False, 2), atol=1e-12)
    delta = RNG.standard_normal(y.shape)
    _same(
        fft.conv_fft_grad_input(delta, w, (9, 8), *args),
        numpy_fft.conv_fft_grad_input(delta, w, (9, 8), *args),
    )
    _same(
        fft.conv_fft_grad_weight(x, delta, (3, 2), *args),
        numpy_fft.conv_fft_grad_weight(x, delta, (3, 2), *args),
    )
    u, v = RNG.standard_normal((6, 2, 3)), RNG.standard_normal((6, 2, 2))
    _same(fft.conv_separable(x, u, v, b, *args), numpy_fft.conv_separable(x, u, v, b, *args))
    assert [fft.next_fast_len(n) for n in (7, 11, 97)] == [8, 12, 100]


@pytest.mark.parametrize("m", [2, 4])
def test_winograd_template_runs_on_numpy_as_the_printed_module(m) -> None:
    """F(m x m, 3 x 3) forward and gradients, dilation and groups, kept workspaces."""
    x = RNG.standard_normal((3, 4, 11, 10))
    w = RNG.standard_normal((6, 2, 3, 3))
    args = ([(1, 1), (2, 0)], (1, 2), 2, m, 2)
    for keep in (0, 1 << 24):
        y = winograd.conv2d_winograd(x, w, None, *args, keep)
        _same(y, numpy_winograd.conv2d_winograd(x, w, None, *args, keep))
        np.testing.assert_allclose(
            y,
            conv.conv_forward(x, w, None, (1, 1), args[0], (1, 2), 2, "zeros", False, 2),
            atol=1e-9,
        )
        delta = RNG.standard_normal(y.shape)
        _same(
            winograd.conv2d_winograd_grad_input(delta, w, (11, 10), *args, keep),
            numpy_winograd.conv2d_winograd_grad_input(delta, w, (11, 10), *args, keep),
        )
        _same(
            winograd.conv2d_winograd_grad_weight(x, delta, *args, keep),
            numpy_winograd.conv2d_winograd_grad_weight(x, delta, *args, keep),
        )
    winograd.release_workspaces()
    assert winograd.FORWARD[m][0] == numpy_winograd.FORWARD[m][0]


@pytest.mark.parametrize("groups", [1, 4])
def test_shifted_template_runs_on_numpy_as_the_printed_module(groups) -> None:
    """Shifted GEMMs (groups 1) and shift-adds (depthwise), dilation, cropping padding."""
    x = RNG.standard_normal((3, 4, 9, 8))
    w = RNG.standard_normal((4, 4 // groups, 3, 2))
    args = ([(1, 1), (-1, 2)], (2, 1), groups, 2)
    y = shifted.conv_shifted(x, w, None, *args)
    _same(y, numpy_shifted.conv_shifted(x, w, None, *args))
    delta = RNG.standard_normal(y.shape)
    _same(
        shifted.conv_shifted_grad_input(delta, w, (9, 8), *args),
        numpy_shifted.conv_shifted_grad_input(delta, w, (9, 8), *args),
    )
    _same(
        shifted.conv_shifted_grad_weight(x, delta, (3, 2), *args),
        numpy_shifted.conv_shifted_grad_weight(x, delta, (3, 2), *args),
    )


def _params(fn) -> list[str]:
    return [
        ("*" if p.kind is p.VAR_POSITIONAL else "") + p.name
        for p in inspect.signature(fn).parameters.values()
    ]


def test_every_backend_spells_the_whole_vocabulary() -> None:
    """prims.py is the vocabulary: the NumPy printer reads it; torch spells each primitive with
    the same parameters (and nothing else)."""
    vocab = {
        name: _params(fn)
        for name, fn in inspect.getmembers(prims, inspect.isfunction)
        if name.startswith("_") and fn.__module__ == prims.__name__
    }
    assert len(vocab) >= 25
    for printer in (NumPyKernelPrinter, TorchKernelPrinter):
        spelled = {
            name: [p.strip() for p in sig.split(",") if p.strip()]
            for name, (sig, _) in printer._primitives.items()
        }
        assert spelled == vocab, printer.__name__
    # the NumPy spelling is prims.py's own returned expression
    assert NumPyKernelPrinter._primitives["_flip"][1] == (
        "numpy.flip(x, tuple(a for a in axes if x.shape[a] > 1))"
    )


def test_the_templates_maps_are_the_printed_index_maps() -> None:
    """maps.py's typed functions: one per index map of the conv and pool modules, the same
    parameters, and each runs the code printed from its derivation (as numpy_conv does)."""
    every = (*conv_nodes(), *pool_nodes(), *local_nodes(), *fft_nodes())
    nodes = {n.name: n for n in every if isinstance(n, IndexMap)}.values()
    typed = {
        name: _params(fn)
        for name, fn in inspect.getmembers(maps, inspect.isfunction)
        if fn.__module__ == maps.__name__ and name not in ("_map", "printed_maps")
    }
    assert typed == {n.name: list(n.args) for n in nodes}
    assert maps._tile_of(np.arange(7), 3).tolist() == numpy_local._tile_of(np.arange(7), 3).tolist()
    u = np.arange(-3, 9)
    for mode in ("zeros", "reflect", "replicate", "circular"):
        name = f"_phi_{mode}"
        assert getattr(maps, name)(u, 5).tolist() == getattr(numpy_conv, name)(u, 5).tolist()
    assert maps._conv_out(32, 5, 2, 1, 2, 2) == numpy_conv._conv_out(32, 5, 2, 1, 2, 2) == 16


@pytest.mark.parametrize("family", FAMILIES)
def test_the_printed_kernels_are_the_template_without_annotations(family) -> None:
    """Each `# -- kernel NAME` section is one printed Kernel; its text is the template's with
    the annotations of every def taken out (same statements, same names), and the generated
    modules carry no annotation."""
    source = template_path(family).read_text(encoding="utf-8")
    kernels = template_kernels(family)
    nodes = {
        "conv": conv_nodes,
        "pool": pool_nodes,
        "local": local_nodes,
        "fft": fft_nodes,
        "winograd": winograd_nodes,
        "shifted": shifted_nodes,
    }[family]()
    module = f"symconv.codegen.templates.{family}"
    assert [n.name for n in nodes if isinstance(n, Kernel) and n.template == module] == [
        k.name for k in kernels
    ]
    tree = ast.parse(source)
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    printed_defs = set()
    for kernel in kernels:
        assert kernel.template == module
        for node in ast.walk(ast.parse(kernel.source)):
            if isinstance(node, ast.FunctionDef):
                args = node.args
                assert node.returns is None and all(
                    a.annotation is None for a in (*args.args, *args.kwonlyargs)
                ), node.name
                if node.col_offset == 0:
                    printed_defs.add(node.name)
    assert printed_defs == defined
    text = gen.generate_all()[f"numpy_{family}.py"]
    assert "-> Array" not in text and ": Array" not in text and ": Sizes" not in text
