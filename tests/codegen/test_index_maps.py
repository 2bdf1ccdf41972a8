"""Each printed index map names the derivation it comes from and equals what that derivation
produces.

Every `IndexMap` of every generated module is printed as a function whose docstring ends in
"From <derivation>." (a dotted path that must resolve). Here each printed function -- the
committed NumPy module's own, imported from `numeric._generated` -- is evaluated on a grid of
integer arguments and compared with what the named derivation computes for the same layer:
the concrete index form's tables (`IndexForm.tap_table`, `pad_table`, `in_shape`), the
derived gradient operators (`grad_input_op`, `grad_weight_op`), ConvTranspose's direct
equivalent, the FFT padding derivation (and, for the crop, a circular correlation computed with
`numpy.fft`), the Tiled index form's weight index. A map without a reference here fails.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import re
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import sympy

from symconv import _sizes
from symconv._errors import SpecError
from symconv.backprop import grad_input_op, grad_weight_op
from symconv.codegen.fft import fft_nodes
from symconv.codegen.kernels import conv_nodes, pool_nodes
from symconv.codegen.local import local_nodes
from symconv.codegen.printer import IndexMap
from symconv.codegen.winograd import winograd_nodes
from symconv.fourier import fft_padding_derivation, fft_plan
from symconv.indexform import index_form
from symconv.local import Tiled
from symconv.spec import Conv, Pool
from symconv.transpose import ConvTranspose, conv_transpose_equivalent

GENERATED = ("conv", "pool", "fft", "local", "winograd", "shifted")


def all_maps() -> dict[str, IndexMap]:
    """Every index map a generated module prints, by name (one name, one map)."""
    found: dict[str, IndexMap] = {}
    for nodes in (conv_nodes(), pool_nodes(), fft_nodes(), local_nodes(), winograd_nodes()):
        for node in nodes:
            if isinstance(node, IndexMap):
                assert found.setdefault(node.name, node) == node, node.name
    return found


def printed(name: str) -> Iterator[tuple[str, Callable]]:
    """(module, function) of every generated NumPy module that prints map `name`."""
    for family in GENERATED:
        module = importlib.import_module(f"numeric._generated.numpy_{family}")
        if hasattr(module, name):
            yield module.__name__, getattr(module, name)


def resolve(path: str) -> object:
    """The object a dotted path names (module, then attributes)."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise AssertionError(f"{path} names nothing")


# -- references: what each named derivation produces -------------------------------------------
def _padding(mode: str, f: Callable) -> None:
    """phi(u, n) = the index form's padding map: the input index x~[j] reads (u = j - P)."""
    eq = index_form(Conv(dims=1, kernel_size=1, padding_mode=mode)).padding_expression()
    sym = {s.name: s for s in eq.rhs.free_symbols if isinstance(s, sympy.Symbol)}
    for n in range(1, 6):
        pad = n - 1 if mode == "reflect" else n
        u = np.arange(-pad, n + pad)
        got = f(u, n)
        for uu, g in zip(u, got, strict=True):
            value = eq.rhs.xreplace({sym["j"]: int(uu) + 7, sym["P"]: 7, sym["I"]: n})
            want = -1 if value == 0 else int(value.indices[-1])
            assert g == want, (mode, n, uu)
        table = index_form(Conv(dims=1, kernel_size=1, padding=pad, padding_mode=mode), n)
        assert got.tolist() == table.pad_table(0).tolist(), (mode, n)


def _start(flip: bool, f: Callable) -> None:
    """The window start: the index form's padded position at o = 0; the step in o is S."""
    for k, s, d, i in itertools.product((1, 2, 3), (1, 2, 3), (1, 2), (9, 10)):
        table = index_form(
            Conv(dims=1, kernel_size=k, stride=s, dilation=d, flip=flip), i
        ).tap_table(0, padded=True)
        for a in range(k):
            assert f(a, k, d) == table[0, a], (k, s, d, a)
            assert (table[:, a] - f(a, k, d)).tolist() == [s * o for o in range(len(table))]


def _sizes_grid() -> Iterator[tuple[int, ...]]:
    for i, k, s, d, lo, hi in itertools.product(
        (1, 4, 7), (1, 2, 3), (1, 2, 3), (1, 2), (0, 2), (0, 1)
    ):
        if _sizes.dilated_extent(k, d) <= i + lo + hi:
            yield i, k, s, d, lo, hi


def _conv_out(f: Callable) -> None:
    for i, k, s, d, lo, hi in _sizes_grid():
        assert f(i, k, s, d, lo, hi) == _sizes.conv_out(i, k, s, d, lo, hi)
        spec = Conv(dims=1, kernel_size=k, stride=s, dilation=d, padding=((lo, hi),))
        assert f(i, k, s, d, lo, hi) == spec.output_size(i)[0]


def _grad_input(which: str, f: Callable) -> None:
    """GradInput's padding (reach, reach + unused) of the derived operator."""
    for i, k, s, d, lo, hi in _sizes_grid():
        spec = Conv(dims=1, kernel_size=k, stride=s, dilation=d, padding=((lo, hi),))
        (low, high) = grad_input_op(spec, i).conv.pads[0]
        if which == "_reach":
            assert f(k, d) == low, (k, d)
        else:
            assert f(i, k, s, d, lo, hi) == high - low, (i, k, s, d, lo, hi)


def _transpose_lo(f: Callable) -> None:
    for k, d, p in itertools.product((1, 2, 3, 4), (1, 2), range(5)):
        try:
            eq = conv_transpose_equivalent(
                ConvTranspose(dims=1, kernel_size=k, dilation=d, padding=p)
            )
        except SpecError:  # padding beyond what a transposed convolution allows
            continue
        assert f(k, d, p) == eq.padding[0][0], (k, d, p)


def _gw_start(f: Callable) -> None:
    """GradWeight: output a of the derived weight-gradient convolution starts at D a."""
    for k, s, d, i in itertools.product((1, 2, 3), (1, 2), (1, 2, 3), (8, 9)):
        op = grad_weight_op(Conv(dims=1, kernel_size=k, stride=s, dilation=d), i)
        table = index_form(op.conv, op.padded_size).tap_table(0, padded=True)
        for a in range(k):
            assert f(a, d) == table[a, 0], (k, s, d, a)


def _pools() -> Iterator[tuple[Pool, int, tuple[int, ...]]]:
    for k, s, d, p, i, ceil in itertools.product(
        (1, 2, 3), (1, 2, 3), (1, 2), (0, 1), (5, 8), (False, True)
    ):
        try:
            spec = Pool(
                dims=1, kind="max", kernel_size=k, stride=s, dilation=d, padding=p, ceil_mode=ceil
            )
            spec.output_size(i)
        except SpecError:
            continue
        yield spec, i, (k, s, d, p)


def _pool_start(f: Callable) -> None:
    for spec, i, (k, _, d, _) in _pools():
        table = index_form(spec, i).tap_table(0, padded=True)
        for a in range(k):
            assert f(a, d) == table[0, a], (spec, a)


def _pool_source(f: Callable) -> None:
    for spec, i, (k, s, d, p) in _pools():
        table = index_form(spec, i).tap_table(0, padded=True)
        o = np.arange(len(table))
        for a in range(k):
            inside = table[:, a] >= 0  # ceil mode: the last window may leave x~
            assert (f(o, a, s, d, p)[inside] == table[inside, a] - p).all(), (spec, a)


def _in_padded(f: Callable) -> None:
    for spec, i, (_, _, _, p) in _pools():
        length = index_form(spec, i).in_shape(padded=True)[-1]
        j = np.arange(length + 3)
        assert f(j, i, p).tolist() == (j < length).tolist(), spec


def _in_input(f: Callable) -> None:
    for i, p in itertools.product((1, 3, 6), (0, 1, 2)):
        table = index_form(Conv(dims=1, kernel_size=1, padding=p), i).pad_table(0)
        assert f(np.arange(len(table)), i, p).tolist() == (table >= 0).tolist(), (i, p)


def _ceil_extra(f: Callable) -> None:
    """How far the last window reaches past x~: where the index form reads no padded input."""
    for spec, i, (k, s, d, p) in _pools():
        form = index_form(spec, i)
        out, length = form.out_shape()[-1], form.in_shape(padded=True)[-1]
        first = form.tap_table(0, padded=True)[0]
        reach = int(first[-1]) + s * (out - 1) + 1
        assert f(i, k, s, d, p, out) == max(0, reach - length), spec
        # the index form reads nothing beyond x~ + the extra padding, and needs all of it
        last = form.tap_table(0, padded=True)[-1]
        assert (last == -1).sum() == sum(1 for a in range(k) if first[a] + s * (out - 1) >= length)


def _fft_size(f: Callable) -> None:
    step = next(s for s in fft_padding_derivation() if s.title == "So the smallest length is")
    sym = {s.name: s for s in step.statement.rhs.free_symbols}
    for n, k, lo, hi in itertools.product((1, 4, 7), (1, 2, 5), (0, 1, 3), (0, 2)):
        want = step.statement.rhs.xreplace(
            {sym["n"]: n, sym["K"]: k, sym["p_lo"]: lo, sym["p_hi"]: hi}
        )
        assert f(n, k, lo, hi) == want, (n, k, lo, hi)


def _crop_index(f: Callable) -> None:
    """Output o of the layer is entry _crop_index(o) of the circular correlation at length N
    (N = the printed fft_size, and fft_plan's fast length): checked numerically."""
    from numeric._generated.numpy_fft import fft_size

    rng = np.random.default_rng(0)
    for n, k, s, d, lo, hi in itertools.product((4, 7), (1, 3), (1, 2), (1, 2), (0, 2), (0, 1)):
        spec = Conv(dims=1, kernel_size=k, stride=s, dilation=d, padding=((lo, hi),))
        try:
            out = spec.output_size(n)[0]
        except SpecError:
            continue
        x, w = rng.standard_normal(n), rng.standard_normal(k)
        ext = _sizes.dilated_extent(k, d)
        wd = np.zeros(ext)
        wd[::d] = w
        xp = np.pad(x, (lo, hi))
        y = np.array([xp[s * o : s * o + ext] @ wd for o in range(out)])
        for size in (fft_size(n, ext, lo, hi), fft_plan(spec, n).sizes[0]):
            c = np.fft.irfft(np.fft.rfft(x, size) * np.conj(np.fft.rfft(wd, size)), size)
            got = c[f(np.arange(out), s, lo, size)]
            np.testing.assert_allclose(got, y, atol=1e-12, err_msg=str((spec, n, size)))


def _tile_of(f: Callable) -> None:
    for t, i in itertools.product((1, 2, 3), (6, 9)):
        form = index_form(Tiled(dims=1, kernel_size=2, tiles=t), i)
        for o in range(form.out_shape()[-1]):
            assert f(o, t) == form.weight_index(0, 0, (o,), (0,))[1], (t, o)


REFERENCES: dict[str, Callable[[Callable], None]] = {
    **{
        f"_phi_{m}": (lambda f, m=m: _padding(m, f))
        for m in ("zeros", "reflect", "replicate", "circular")
    },
    "_start_corr": lambda f: _start(False, f),
    "_start_flip": lambda f: _start(True, f),
    "_conv_out": _conv_out,
    "_reach": lambda f: _grad_input("_reach", f),
    "_unused": lambda f: _grad_input("_unused", f),
    "_transpose_lo": _transpose_lo,
    "_gw_start": _gw_start,
    "_pool_start": _pool_start,
    "_pool_source": _pool_source,
    "_in_padded": _in_padded,
    "_in_input": _in_input,
    "_ceil_extra": _ceil_extra,
    "fft_size": _fft_size,
    "_crop_index": _crop_index,
    "_tile_of": _tile_of,
}


def test_every_printed_map_has_a_reference() -> None:
    assert sorted(all_maps()) == sorted(REFERENCES)


def test_every_printed_function_that_names_a_derivation_is_an_index_map() -> None:
    """Nothing else in the generated modules claims a derivation (the maps are all known)."""
    maps = all_maps()
    for family in GENERATED:
        module = importlib.import_module(f"numeric._generated.numpy_{family}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if re.search(r"\n\n    From symconv\.", fn.__doc__ or ""):
                assert name in maps, (family, name)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_each_printed_index_map_names_its_derivation_and_equals_what_it_produces(name) -> None:
    node = all_maps()[name]
    assert node.derivation.startswith("symconv."), name
    assert callable(resolve(node.derivation)), node.derivation
    where = list(printed(name))
    assert where, f"{name} is printed in no generated module"
    for module, fn in where:
        assert fn.__doc__.startswith(node.origin), (module, name)
        assert fn.__doc__.rstrip().endswith(f"From {node.derivation}."), (module, name)
        assert list(inspect.signature(fn).parameters) == list(node.args), (module, name)
        REFERENCES[name](fn)
