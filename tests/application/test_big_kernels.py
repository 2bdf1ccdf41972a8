"""Large kernels on the 64 x 64, 16 -> 16 layer (issue 18): each derivation of the layer is
charged what it builds, within `symconv.limits` for kernels up to 11 x 11 (stride, dilation,
groups, padding modes); backprop and local-backprop, checked on factor tables, are admitted and
verified there, are still refused above the limits before allocating, and their checks still
fail under a mutation of the index map, the padding, the stride, the dilation, the flip or the
gradient operator."""

from __future__ import annotations

import dataclasses
import math
import sys
from typing import Any

import numpy as np
import pytest
from helpers import patch_kind_table, peak_bytes

import symconv as sc
from symconv.derive import derive
from symconv.indexform import IndexForm, clear_caches
from symconv.limits import check_symbolic, factor_tables_cost, get_limits, limits, symbolic_cost
from symconv.registry import entry

SIZE = (64, 64)
KERNELS = (3, 5, 7, 9, 11)
# the ops of `symconv derive` that read a 16 -> 16 layer (fourier and p4 take one channel)
OPS = (
    "equivariance",
    "output-size",
    "toeplitz",
    "transpose",
    "backprop",
    "local-backprop",
    "unfold-fold",
    "local-params",
    "separable",
)


def _layers() -> list[sc.Conv]:
    """16 -> 16 layers, kernels 3 to 11 ('same'-style padding k // 2), each also with stride 2,
    dilation 2 (padding k - 1), groups 4, reflect and circular padding, flip."""
    out = []
    for k in KERNELS:
        base = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=k, padding=k // 2)
        out += [
            base,
            base.replace(stride=2),
            base.replace(dilation=2, padding=k - 1),
            base.replace(groups=4),
            base.replace(padding_mode="reflect"),
            base.replace(padding_mode="circular"),
            base.replace(flip=True),
        ]
    return out


LAYERS = _layers()


@pytest.mark.parametrize("op", OPS)
def test_64x64_16_channel_costs_are_within_the_limits(op: str) -> None:
    """Each op's charge (`Entry.cost`, integer arithmetic) admits every layer of the range,
    including those whose matrix is over the nonzeros limit (9 x 9 and 11 x 11)."""
    cost = entry(op).cost
    assert cost is not None, op
    over = 0
    for spec in LAYERS:
        assert cost(spec, SIZE) <= get_limits()["nonzeros"], (op, str(spec))
        check_symbolic(f"derive {op}", spec, SIZE, cost=cost)  # no refusal
        over += symbolic_cost(spec, SIZE)["nonzeros"] > get_limits()["nonzeros"]
    assert over >= 10  # the range holds layers whose matrix alone would be refused


SMALL = [
    (sc.Conv(dims=2, in_channels=4, out_channels=6, kernel_size=5, padding=2, groups=2), (7, 6)),
    (sc.Conv(dims=2, in_channels=3, out_channels=2, kernel_size=(3, 2), stride=(2, 3),
             dilation=(2, 1), padding=((1, 3), (0, 2)), padding_mode="reflect"), (8, 9)),
    (sc.Conv(dims=1, in_channels=2, out_channels=3, kernel_size=4, padding="full",
             dilation=3, flip=True), (5,)),
    (sc.Conv(dims=1, kernel_size=7, stride=3, padding=3, padding_mode="circular"), (11,)),
    (sc.Conv(dims=3, in_channels=2, out_channels=2, kernel_size=2, padding=1), (3, 4, 2)),
    (sc.Conv(dims=2, kernel_size=3), (3, 3)),
]  # fmt: skip


@pytest.mark.parametrize("spec, size", SMALL, ids=str)
def test_gradient_cost_bounds_the_tables_the_checks_build(spec: sc.Conv, size) -> None:
    """`factor_tables_cost` is at least the rows of every table backprop's exact check and
    local-backprop's structural check build (both sides of each identity)."""
    from symconv.local import LocallyConnected

    bp = sys.modules["symconv.backprop"]  # the module (`symconv.backprop` is also a function)
    lp = sys.modules["symconv.local_params"]

    cost = factor_tables_cost(spec, size)
    gi, gw = bp._grad_input_tables(spec, size), bp._grad_weight_tables(spec, size)
    rows = sum(len(t) for side in (*gi, *gw) for t in side)
    assert 0 < rows <= cost
    local = LocallyConnected(**_conv_fields(spec), input_size=size)
    form = sc.index_form(local, size)
    ch, axes = lp._form_tables(form)
    fch, faxes = lp._formula_tables(local, form)
    assert len(ch) + len(fch) + sum(len(t) for t in (*axes, *faxes)) <= factor_tables_cost(
        local, size
    )
    assert entry("backprop").cost(spec, size) == cost  # type: ignore[misc]
    assert entry("local-backprop").cost(local, size) == cost  # type: ignore[misc]


def _conv_fields(spec: sc.Conv) -> dict[str, Any]:
    return dict(dims=spec.dims, in_channels=spec.in_channels, out_channels=spec.out_channels,
                kernel_size=spec.kernel_size, stride=spec.stride, padding=spec.pads,
                dilation=spec.dilation, groups=spec.groups, padding_mode=spec.padding_mode,
                flip=spec.flip, bias=False)  # fmt: skip


def test_pool_backprop_is_still_charged_its_taps() -> None:
    """`derive backprop` of a pooling layer gathers its taps: charged the layer's matrix."""
    pool = sc.Pool(dims=2, kind="max", kernel_size=3, stride=1, padding=1)
    cost = entry("backprop").cost
    assert cost is not None
    assert cost(pool, SIZE) == symbolic_cost(pool, SIZE)["nonzeros"]


def _boom(*args: object, **kwargs: object) -> None:
    raise AssertionError("the factory ran before the cost was checked")


@pytest.mark.parametrize("op", ["backprop", "local-backprop"])
def test_gradients_are_refused_at_their_own_cost_before_running(op: str, monkeypatch) -> None:
    """Below the charge, `derive` and the function itself refuse, naming the nonzeros it
    builds, before the factory runs; at the charge they run and verify."""
    import symconv.derive as derive_module

    spec = sc.Conv(dims=2, in_channels=4, out_channels=4, kernel_size=5, padding=2)
    own = factor_tables_cost(spec, (8, 8))
    fn = sc.backprop if op == "backprop" else sc.local_backprop
    with limits(nonzeros=own - 1):
        with pytest.raises(sc.SpecError, match=f"nonzeros it builds {own} exceeds"):
            fn(spec, (8, 8))
        with monkeypatch.context() as m:
            m.setitem(derive_module.DERIVATIONS, op, _boom)
            with pytest.raises(sc.SpecError, match=f"nonzeros it builds {own} exceeds"):
                derive(op, spec, (8, 8))
    with limits(nonzeros=own):
        cert = derive(op, spec, (8, 8)).verify()
        assert cert.passed, cert.text()


WIDE = sc.Conv(dims=2, in_channels=2**13, out_channels=2**13, kernel_size=1)


@pytest.mark.parametrize(
    "call",
    [
        lambda: sc.backprop(WIDE, (4, 4)),
        lambda: sc.local_backprop(WIDE, (4, 4)),
        lambda: derive("backprop", WIDE, 4),
        lambda: sc.backprop(sc.Conv(dims=2, kernel_size=9, padding=4), (128, 128)),
        lambda: derive("local-backprop", sc.Conv(dims=2, kernel_size=11, padding=5), (100, 100)),
    ],
    ids=["backprop-channels", "local-channels", "derive-channels", "backprop-128", "local-100"],
)
def test_oversize_gradients_are_refused_before_allocating(call) -> None:
    """2^26 channel pairs (their table alone is over the limit), or inputs over the positions
    limit: refused from integer arithmetic, nothing the size of the request allocated."""
    peak, raised = peak_bytes(call)
    assert isinstance(raised, sc.SpecError), raised
    assert "limit" in str(raised)
    assert peak < 512 * 1024


# -- admitted, verified, and each check still catches a broken operator ----------------------
C16_K9 = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=9, padding=4)
HARD_K9 = sc.Conv(
    dims=2, in_channels=16, out_channels=16, kernel_size=9, stride=2, dilation=2, padding=8,
    groups=4, padding_mode="reflect",
)  # fmt: skip
THIS = "T^T delta = dL/dx and X^T delta = dL/dw (this spec)"
LOCAL_THIS = "dL/dw = X^T delta, dL/dx = T^T delta (this layer)"


@pytest.fixture
def fresh_caches():
    """Patched index arithmetic must meet no form or check result cached before or after."""
    clear_caches()
    yield
    clear_caches()


def _result(cert, name: str):
    return next(r for r in cert.results if r.name == name)


@pytest.mark.parametrize("spec", [C16_K9, C16_K9.replace(kernel_size=11, padding=5), HARD_K9],
                         ids=str)  # fmt: skip
@pytest.mark.parametrize("op", ["backprop", "local-backprop"])
def test_large_kernel_gradients_are_admitted_and_verified(op: str, spec: sc.Conv) -> None:
    assert symbolic_cost(spec, SIZE)["nonzeros"] > get_limits()["nonzeros"] or spec is HARD_K9
    cert = derive(op, spec, SIZE).verify()
    assert cert.passed, cert.text()
    this = _result(cert, THIS if op == "backprop" else LOCAL_THIS)
    assert this.passed and this.level == "exact"
    if op == "backprop":
        assert this.detail == "at input (64, 64)"


def _grad_input_mutants(spec: sc.Conv) -> dict[str, Any]:
    from symconv.backprop import grad_input_op

    op = grad_input_op(spec, SIZE)
    (lo, hi), second = op.conv.pads
    return {
        "no flip toggle": dataclasses.replace(op, conv=op.conv.replace(flip=spec.flip)),
        "padding off by one": dataclasses.replace(
            op, conv=op.conv.replace(padding=((lo + 1, hi), second))
        ),
        "stride ignored": dataclasses.replace(op, stride=(1, spec.stride[1])),
        "dilation ignored": dataclasses.replace(op, conv=op.conv.replace(dilation=1)),
        "fold by copying": dataclasses.replace(op, conv=op.conv.replace(padding_mode="circular")),
        "zero padding's crop": dataclasses.replace(op, padding_mode="zeros"),
    }


@pytest.mark.parametrize("mutation", list(_grad_input_mutants(HARD_K9)))
def test_large_kernel_grad_input_check_catches(mutation: str, fresh_caches) -> None:
    from symconv.backprop import verify_exact

    assert verify_exact(HARD_K9, SIZE) == (True, True)
    wrong = _grad_input_mutants(HARD_K9)[mutation]
    assert verify_exact(HARD_K9, SIZE, grad_input=wrong)[0] is False


def test_large_kernel_grad_weight_check_catches(monkeypatch, fresh_caches) -> None:
    from symconv.backprop import grad_weight_op, verify_exact

    op = grad_weight_op(HARD_K9, SIZE)
    for what, wrong in {
        "stride not applied": dataclasses.replace(op, conv=op.conv.replace(dilation=1)),
        "dilation not applied": dataclasses.replace(op, conv=op.conv.replace(stride=1)),
        "read flipped": dataclasses.replace(op, flip=True),
        "kernel one tap short": dataclasses.replace(op, kernel_size=(8, 9)),
    }.items():
        assert verify_exact(HARD_K9, SIZE, grad_weight=wrong)[1] is False, what
    backprop = sys.modules["symconv.backprop"]
    real = backprop.transpose_weight  # within each group, w[c, k] read as w[k, c]
    monkeypatch.setattr(backprop, "transpose_weight", lambda s: real(s).swapaxes(0, 1).copy())
    assert verify_exact(C16_K9, SIZE)[0] is False


def _mirror(self, axis, t):  # the map reads mirrored columns on axis 1
    n = self.axes[axis].size
    return np.where((t >= 0) & (axis == 1), n - 1 - t, t)


def _off_by_one(self, axis, t):  # the map reads one input further on axis 0
    n = self.axes[axis].size
    return np.where((t >= 0) & (axis == 0), np.minimum(t + 1, n - 1), t)


@pytest.mark.parametrize("change", [_mirror, _off_by_one], ids=["mirror", "off-by-one"])
@pytest.mark.parametrize("spec", [C16_K9, HARD_K9], ids=["k9", "k9-s2-d2-g4-reflect"])
def test_large_kernel_backprop_fails_on_a_wrong_index_map(change, spec, monkeypatch,
                                                          fresh_caches) -> None:  # fmt: skip
    patch_kind_table(monkeypatch, ("conv",), change)
    cert = derive("backprop", spec, SIZE).verify()
    assert not cert.passed and not _result(cert, THIS).passed


def _replicate_clamp(self, axis):  # replicate's clamp where reflect's mirror belongs
    ax = self.axes[axis]
    return np.clip(np.arange(ax.padded) - ax.lo, 0, ax.size - 1)


@pytest.mark.parametrize("kind, op", [("conv", "backprop"), ("local", "local-backprop")])
def test_large_kernel_gradients_fail_on_a_wrong_padding(kind, op, monkeypatch,
                                                        fresh_caches) -> None:  # fmt: skip
    real = IndexForm.pad_table
    monkeypatch.setattr(
        IndexForm,
        "pad_table",
        lambda self, axis: _replicate_clamp(self, axis) if self.kind == kind else real(self, axis),
    )
    clear_caches()
    cert = derive(op, HARD_K9, SIZE).verify()
    assert not _result(cert, THIS if op == "backprop" else LOCAL_THIS).passed


@pytest.mark.parametrize(
    "what",
    ["dilation ignored", "stride ignored", "flip ignored", "off by one", "mirror"],
)
def test_large_kernel_local_backprop_catches(what: str, monkeypatch, fresh_caches) -> None:
    """local-backprop's structural check at 64 x 64, 9 x 9 (stride 2, dilation 2, groups 4,
    reflect; flipped for the flip mutation): each mutation of the layer's index map fails it."""
    spec = HARD_K9.replace(flip=True) if what == "flip ignored" else HARD_K9
    assert _result(derive("local-backprop", spec, SIZE).verify(), LOCAL_THIS).passed
    indexform = sys.modules["symconv.indexform"]
    real = indexform.window_coord
    if what == "off by one":
        patch_kind_table(monkeypatch, ("local",), _off_by_one)
    elif what == "mirror":
        patch_kind_table(monkeypatch, ("local",), _mirror)
    else:
        changes = {"dilation ignored": (False, True, False), "stride ignored": (True, False, False),
                   "flip ignored": (False, False, True)}[what]  # fmt: skip

        def coord(o, a, k, s, d, flip=False, c=changes):
            return real(o, a, k, 1 if c[0] else s, 1 if c[1] else d, False if c[2] else flip)

        monkeypatch.setattr(indexform, "window_coord", coord)
        clear_caches()
    cert = derive("local-backprop", spec, SIZE).verify()
    assert not _result(cert, LOCAL_THIS).passed, what


def test_the_charge_is_far_below_the_layers_matrix() -> None:
    """At 64 x 64, 16 -> 16, 11 x 11 the gradients' charge is about 1/3000 of the matrix."""
    spec = C16_K9.replace(kernel_size=11, padding=5)
    matrix = symbolic_cost(spec, SIZE)["nonzeros"]
    assert matrix == 16 * 16 * 121 * math.prod(SIZE)
    assert factor_tables_cost(spec, SIZE) * 1000 < matrix


# -- unfold-fold: U held as its integer row table, compared row by row -----------------------
UNFOLD_K9 = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=9, stride=2,
                    dilation=2, padding=8)  # fmt: skip
UNFOLD_CHECKS = (
    "unfold(x) = X^T, the patch matrix",
    "U's rows are the index form on this layer",
    "fold's matrix = U^T on this layer and small 1-d/2-d layers",
)


def _unfold_results(spec: sc.Conv) -> dict[str, bool]:
    cert = derive("unfold-fold", spec, SIZE).verify()
    return {r.name: r.passed for r in cert.results if r.name in UNFOLD_CHECKS}


def test_one_per_row_reads_a_zero_one_matrix_exactly() -> None:
    """Each row's column, and the rows that are not one 1 (two entries, or one entry twice)."""
    from symconv.family import _one_per_row

    got, bad = _one_per_row(np.array([2, 0]), np.array([5, 3]), 3)
    assert got.tolist() == [3, -1, 5] and bad == 0
    assert _one_per_row(np.array([1, 1]), np.array([4, 4]), 2)[1] == 1  # the entry 2
    assert _one_per_row(np.array([1, 1]), np.array([4, 0]), 2)[1] == 1  # two ones in a row


@pytest.mark.parametrize("spec", [C16_K9, UNFOLD_K9], ids=["k9", "k9-s2-d2"])
def test_large_kernel_unfold_fold_verifies_and_catches_a_wrong_window(spec, monkeypatch) -> None:
    from symconv import family

    assert all(_unfold_results(spec).values())
    real = family.window_table
    for wrong in (
        lambda out, k, s, d: real(out, k, s, d)[:, ::-1],  # taps reversed (a flip)
        lambda out, k, s, d: real(out, k, s, d) + 1,  # one further on (the padding)
        lambda out, k, s, d: real(out, k, s + 1, d),  # the stride
        lambda out, k, s, d: real(out, k, s, d + 1),  # the dilation
    ):
        monkeypatch.setattr(family, "window_table", wrong)
        got = _unfold_results(spec)
        assert not any(got.values()), got
    monkeypatch.undo()


def test_large_kernel_fold_check_catches_a_doubled_or_moved_scatter(monkeypatch) -> None:
    from symconv import family

    real = family._fold_entries

    def doubled(spec, size, out):  # the last scatter twice: an entry 2 in F
        rows, cols, shape = real(spec, size, out)
        return np.append(rows, rows[-1]), np.append(cols, cols[-1]), shape

    def moved(spec, size, out):  # one scatter lands one row further
        rows, cols, shape = real(spec, size, out)
        rows = rows.copy()
        rows[len(rows) // 2] = (rows[len(rows) // 2] + 1) % shape[0]
        return rows, cols, shape

    for change in (doubled, moved):
        monkeypatch.setattr(family, "_fold_entries", change)
        got = _unfold_results(C16_K9)
        assert got == {**dict.fromkeys(UNFOLD_CHECKS, True), UNFOLD_CHECKS[2]: False}, change


def test_large_kernel_patch_check_catches_a_doubled_tap(monkeypatch, fresh_caches) -> None:
    """X^T's gather with one tap repeated (an entry 2): the patch check fails."""
    from symconv.indexform import _gather

    real = _gather.gather

    def doubled(form, padded=False):
        g = real(form, padded)
        return type(g)(np.append(g.rows, g.rows[-1]), np.append(g.cols, g.cols[-1]),
                       np.append(g.weights, g.weights[-1]), g.out_shape, g.in_shape,
                       g.weight_shape)  # fmt: skip

    monkeypatch.setattr(_gather, "gather", doubled)
    assert _unfold_results(C16_K9)[UNFOLD_CHECKS[0]] is False


def test_separable_reads_counts_at_any_kernel() -> None:
    """separable builds nothing of the layer's size (counts from `Conv.macs`, matrices on 5x5
    inputs): an 11 x 11 16 -> 16 layer (90 M nonzeros in T) is admitted and verified, its
    counts those of `Conv`; oversize inputs are still refused."""
    spec = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=11)
    assert symbolic_cost(spec, SIZE)["nonzeros"] > get_limits()["nonzeros"]
    d = derive("separable", spec, SIZE)
    assert d.verify().passed
    full = sc.Conv(dims=2, kernel_size=11, bias=False).macs(SIZE)
    assert f"M_full = {full}" in d.text()
    with pytest.raises(sc.SpecError, match="positions"):
        derive("separable", spec, (1000, 1000))


# -- p4: the lifting and group-convolution identities block by block --------------------------
P4_NAMES = ("corr(Rx, Rw) = R corr(x, w)", "lift(R x) = roll(R lift(x), 1)",
            "gconv(roll R x) = roll R gconv(x)")  # fmt: skip


def _p4_failing(spec: sc.Conv) -> set[str]:
    cert = derive("p4", spec, SIZE).verify()
    return {r.name for r in cert.results if not r.passed and r.level == "exact"}


def test_p4_blocks_agree_with_the_whole_table() -> None:
    """`_equivariant_blocks` gives `_equivariant`'s verdict on the assembled matrices (every
    padding mode, kernels 1 to 5, and with the kernels read clockwise: both fail), and the
    blocks assemble exactly `_lift_matrix` and `_gconv_matrix`."""
    from symconv import groupconv as gc

    for mode in ("zeros", "reflect", "replicate", "circular"):
        for k, p, n in ((3, 1, 5), (1, 0, 4), (5, 2, 6), (2, 0, 4)):
            spec = sc.Conv(dims=2, kernel_size=k, padding=p, padding_mode=mode, bias=False)
            m = spec.output_size((n, n))[0]
            taps = gc._taps(spec, n)
            for blocks, layers, full in (
                (gc._lift_blocks(), 1, gc._lift_matrix(spec, n)),
                (gc._gconv_blocks(), 4, gc._gconv_matrix(spec, n)),
            ):
                assert gc.same(gc._blocks_table(blocks, taps, k), full)
                got = gc._equivariant_blocks(blocks, taps, k, n, layers, m, 4)
                assert got == gc._equivariant(full, n, layers, m, 4) and (got or k == 2), (
                    mode, k, blocks == gc._lift_blocks()
                )  # fmt: skip
                flipped = [(br, bc, off, -rho) for br, bc, off, rho in blocks]
                wrong = gc._equivariant(gc._blocks_table(flipped, taps, k), n, layers, m, 4)
                assert gc._equivariant_blocks(flipped, taps, k, n, layers, m, 4) == wrong
                assert not wrong or k == 1


@pytest.mark.parametrize("k", [9, 11])
def test_large_kernel_p4_catches_mutations(k: int, monkeypatch, fresh_caches) -> None:
    from symconv import groupconv as gc

    spec = sc.Conv(dims=2, kernel_size=k, padding=k // 2, padding_mode="circular")
    assert _p4_failing(spec) == set()
    real_rot = gc._rot_source  # kernels rotated clockwise
    monkeypatch.setattr(gc, "_rot_source", lambda kk, r: real_rot(kk, -r))
    assert _p4_failing(spec) >= set(P4_NAMES)
    monkeypatch.undo()
    real_perm = gc._rot_perm  # maps transposed instead of rotated (still splits per block)
    monkeypatch.setattr(gc, "_rot_perm", lambda n, layers: np.ravel_multi_index(
        np.unravel_index(real_perm(n, layers), (layers, n, n))[:1] + tuple(
            np.indices((layers, n, n))[[2, 1]].reshape(2, -1)), (layers, n, n)))  # fmt: skip
    assert _p4_failing(spec) >= set(P4_NAMES)
    monkeypatch.undo()

    def unsplit(n, layers):  # orientations not shifted at one position: no block form
        perm = real_perm(n, layers).copy()
        if layers > 1:
            per = n * n
            perm[0], perm[per] = perm[per], perm[0]
        return perm

    monkeypatch.setattr(gc, "_rot_perm", unsplit)
    assert _p4_failing(spec) >= set(P4_NAMES[1:])  # the whole-table fallback
    monkeypatch.undo()
    real_blocks = gc._gconv_blocks  # filter orientation s, not (s - r) mod 4 (no shift)
    monkeypatch.setattr(
        gc, "_gconv_blocks", lambda: [(r, s, s, rho) for r, s, _, rho in real_blocks()]
    )
    assert _p4_failing(spec) == {P4_NAMES[2]}
    monkeypatch.undo()
    monkeypatch.setattr(gc, "_lift_blocks", lambda: [(r, 0, 0, 0) for r in range(4)])  # unrotated
    assert _p4_failing(spec) == {P4_NAMES[1]}


def test_gather_weights_are_numpys_ravel_of_the_broadcast_parts() -> None:
    """`_ravel_broadcast` (gather's weight index without one copy per part) is
    `np.ravel_multi_index` of the broadcast parts, raises as it does out of range, and leaves
    its inputs alone."""
    from symconv.indexform._gather import _ravel_broadcast

    rng = np.random.default_rng(3)
    shape = (4, 3, 5, 2)
    parts = [rng.integers(0, 4, (6, 1)), rng.integers(0, 3, (6, 1)),
             rng.integers(0, 5, (1, 7)), rng.integers(0, 2, (1, 7))]  # fmt: skip
    kept = [p.copy() for p in parts]
    want = np.ravel_multi_index([np.broadcast_to(p, (6, 7)).ravel() for p in parts], shape)
    assert np.array_equal(_ravel_broadcast(parts, shape, (6, 7)), want)
    assert all(np.array_equal(p, q) for p, q in zip(parts, kept, strict=True))
    parts[2] = parts[2].copy()
    parts[2][0, 3] = 5  # an index 5 on an axis of 5
    with pytest.raises(ValueError, match="invalid entry"):
        np.ravel_multi_index([np.broadcast_to(p, (6, 7)).ravel() for p in parts], shape)
    with pytest.raises(ValueError, match="invalid entry"):
        _ravel_broadcast(parts, shape, (6, 7))


@pytest.mark.parametrize("k", KERNELS)
def test_equivariance_is_charged_its_structure_not_the_matrix(k: int) -> None:
    """A Conv with symbolic weights is charged one channel pair's taps plus its weights; its
    own call admits what derive admits; pooling and numeric weights still build the rows."""
    from symconv.equivariance import symbolic_weights_cost

    spec = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=k, padding=k // 2)
    cost = symbolic_weights_cost(spec, SIZE)
    assert cost == 64 * 64 * k * k + 16 * 16 * k * k
    assert entry("equivariance").cost(spec, SIZE) == cost <= get_limits()["nonzeros"]
    pool = sc.Pool(dims=2, kind="max", kernel_size=k, stride=1, padding=k // 2)
    assert entry("equivariance").cost(pool, SIZE) == symbolic_cost(pool, SIZE)["nonzeros"]
    with limits(nonzeros=cost - 1), pytest.raises(sc.SpecError, match="nonzeros"):
        sc.equivariance(spec, SIZE, transform="rot90")
    with limits(nonzeros=cost):  # admitted at exactly its charge
        check_symbolic("equivariance", spec, SIZE, cost=symbolic_weights_cost)


def test_equivariance_with_a_9x9_kernel_is_verified() -> None:
    """rot90 of a 9 x 9, 16 -> 16 layer on 24 x 24: refused before (its matrix), now derived and
    verified; the broken outputs are the border band the kernel's reach leaves."""
    spec = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=9, padding=4)
    with limits(nonzeros=symbolic_cost(spec, (24, 24))["nonzeros"] - 1):
        d = derive("equivariance", spec, (24, 24), transform="rot90")
        cert = d.verify()
    assert cert.passed and not d.exact and len(d.condition) > 0
