"""What `symconv derive` charges each derivation (issue 18): the cost of what it builds, checked
before anything is built; and the torch check of `derive toeplitz` (`factored_matvec`, now a
few large GEMMs) catches what it caught before."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest

import symconv as sc
from symconv.derive import derive, matrix_derivation
from symconv.indexform import index_form
from symconv.limits import check_symbolic, limits, symbolic_cost
from symconv.registry import ENTRIES, entry
from symconv.transpose import ConvTranspose

toeplitz_module = importlib.import_module("symconv.toeplitz")  # the function shadows it
C16_K9 = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=9, padding=4)


def test_unfold_is_charged_its_own_matrix_not_the_layers() -> None:
    """unfold's matrix has one row per (c, a, o): C_in prod k prod o, C_out times fewer than
    the layer's T; the 64x64 16 -> 16 9x9 layer (85 M nonzeros in T) is admitted."""
    cost = entry("unfold-fold").cost
    assert cost is not None
    size = (64, 64)
    layer = symbolic_cost(C16_K9, size)["nonzeros"]
    assert layer > 2**26  # the layer's matrix is over the default limit ...
    assert cost(C16_K9, size) * C16_K9.out_channels == layer  # ... unfold's is 16 x smaller
    check_symbolic("derive unfold-fold", C16_K9, size, cost=cost)  # admitted
    with pytest.raises(sc.SpecError, match="nonzeros"):  # a request charged the layer's
        check_symbolic("derive toeplitz", C16_K9, size)  # matrix is refused, up front


@pytest.mark.parametrize(
    "spec, size",
    [
        (sc.Conv(dims=2, in_channels=3, out_channels=5, kernel_size=3, padding=1), (6, 5)),
        (sc.Conv(dims=2, in_channels=2, kernel_size=(2, 3), stride=2, dilation=(1, 2)), (7, 9)),
        (sc.Conv(dims=1, in_channels=4, kernel_size=3, padding=2), (5,)),
    ],
    ids=str,
)
def test_unfold_cost_counts_the_rows_it_builds(spec: sc.Conv, size: tuple[int, ...]) -> None:
    """The charge is unfold's number of rows (each holds at most one 1): an upper bound of the
    nonzeros, exact without padding."""
    from symconv.family import unfold_matrix

    cost = entry("unfold-fold").cost
    assert cost is not None
    U = unfold_matrix(spec, size)
    assert cost(spec, size) == U.shape[0] >= U.nnz()
    if not any(p for pads in spec.pads for p in pads):
        assert U.nnz() == U.shape[0]


def test_a_lowered_limit_refuses_unfold_at_its_own_cost() -> None:
    """Between unfold's cost and the layer's, unfold runs and a request charged the layer's
    matrix is refused; below unfold's cost, unfold is refused too, naming the nonzeros it
    builds."""
    spec = sc.Conv(dims=2, in_channels=2, out_channels=8, kernel_size=3, padding=1)
    own = 2 * 9 * 8 * 8
    assert symbolic_cost(spec, (8, 8))["nonzeros"] == 8 * own
    with limits(nonzeros=own):
        cert = derive("unfold-fold", spec, (8, 8)).verify()
        assert cert.passed and cert.level == "exact", cert.text()
        with pytest.raises(sc.SpecError, match=f"matrix's nonzeros {8 * own} exceeds"):
            check_symbolic("derive toeplitz", spec, (8, 8))
    with limits(nonzeros=own - 1):
        with pytest.raises(sc.SpecError, match=f"nonzeros it builds {own} exceeds"):
            derive("unfold-fold", spec, (8, 8))


def test_toeplitz_and_transpose_of_a_conv_are_charged_their_tables() -> None:
    """A plain Conv's `derive toeplitz` reads factor tables and gathers C_in prod k values per
    output position (T is never built at this size), `derive transpose` compares factor
    tables: both admit the 9x9 16 -> 16 layer whose T has 85 M nonzeros; a layer whose T is
    built (locally connected) is still charged T."""
    size = (64, 64)
    for op in ("toeplitz", "transpose"):
        cost = entry(op).cost
        assert cost is not None
        assert 16 * 81 * 64 * 64 <= cost(C16_K9, size) < symbolic_cost(C16_K9, size)["nonzeros"]
        check_symbolic(f"derive {op}", C16_K9, size, cost=cost)
    transpose_cost = entry("transpose").cost
    assert transpose_cost is not None
    for stride in (1, 2, 3):  # the transposed layer's output: (n - 1) s - 2p + d(k - 1) + 1
        layer = sc.Conv(dims=2, in_channels=4, kernel_size=3, stride=stride, dilation=2)
        out = ConvTranspose(dims=2, in_channels=4, out_channels=1, kernel_size=3,
                            stride=stride, dilation=2).output_size((5, 6))  # fmt: skip
        assert transpose_cost(layer, (5, 6)) >= 4 * 9 * math.prod(out)
    local = sc.LocallyConnected(dims=2, in_channels=2, out_channels=3, kernel_size=3,
                                input_size=(8, 8))  # fmt: skip
    toeplitz_cost = entry("toeplitz").cost
    assert toeplitz_cost is not None
    assert toeplitz_cost(local, (8, 8)) == symbolic_cost(local, (8, 8))["nonzeros"]
    with limits(nonzeros=16 * 9 * 5 * 5 - 1):  # below a Conv's gathered values: refused
        with pytest.raises(sc.SpecError, match="nonzeros it builds 3600 exceeds"):
            derive("toeplitz", sc.Conv(dims=2, in_channels=16, kernel_size=3), (7, 7))
    with limits(nonzeros=16 * 9 * 5 * 5):
        cert = derive("toeplitz", sc.Conv(dims=2, in_channels=16, kernel_size=3), (7, 7))
        assert cert.verify().passed


def test_output_size_builds_no_matrix() -> None:
    """output-size reads formulas: no nonzeros limit, the positions still capped."""
    d = derive("output-size", C16_K9, (64, 64))
    assert d.verify().passed
    with pytest.raises(sc.SpecError, match="positions"):
        derive("output-size", C16_K9, (1000, 1000))


def test_local_params_counts_from_formulas_at_any_kernel() -> None:
    """local-params builds no matrix of the layer's size: a 9x9 16 -> 16 layer on 64 x 64
    (85 M nonzeros in T) is admitted, its table read off the formulas; oversize inputs are
    still refused, by derive and by the function itself."""
    from symconv.local_params import local_params

    d = derive("local-params", C16_K9, (64, 64))
    assert d.results["table"]["convolution"] == C16_K9.num_parameters()
    assert d.results["table"]["dense"] == (16 * 64 * 64) ** 2 + 16 * 64 * 64
    assert d.verify().passed
    with pytest.raises(sc.SpecError, match="positions"):
        derive("local-params", C16_K9, (1000, 1000))
    with pytest.raises(sc.SpecError, match="positions"):
        local_params(C16_K9, (1000, 1000))


def test_every_cost_is_refused_before_its_factory_runs(monkeypatch) -> None:
    """For every entry with a cost of its own, an oversize request raises before the factory
    is called (the check is integer arithmetic)."""
    import symconv.derive as derive_module

    for e in ENTRIES:
        if e.cost is None or e.derive is None:
            continue
        monkeypatch.setitem(derive_module.DERIVATIONS, e.name, _boom)
        with limits(positions=16):
            with pytest.raises(sc.SpecError, match="positions"):
                derive(e.name, sc.Conv(dims=2, kernel_size=3), (5, 5))
    with limits(nonzeros=100):
        monkeypatch.setitem(derive_module.DERIVATIONS, "unfold-fold", _boom)
        with pytest.raises(sc.SpecError, match="nonzeros it builds"):
            derive("unfold-fold", sc.Conv(dims=2, in_channels=4, kernel_size=3), (8, 8))


def _boom(*args: object, **kwargs: object) -> None:
    raise AssertionError("the factory ran before the cost was checked")


# -- factored_matvec: T x in blocks of output rows ------------------------------------------
LAYERS = [
    (sc.Conv(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1, dims=2,
             padding_mode="reflect", groups=2), (9, 8)),
    (sc.Conv(dims=2, in_channels=2, out_channels=3, kernel_size=(3, 2), padding=2,
             padding_mode="circular", dilation=(2, 1)), (5, 7)),
    (sc.Conv(dims=1, in_channels=3, out_channels=2, kernel_size=4, padding="same", flip=True),
     (7,)),
    (sc.Conv(dims=3, in_channels=2, out_channels=2, kernel_size=2, padding=1), (3, 4, 2)),
]  # fmt: skip


@pytest.mark.parametrize("block", [1, 7, 1 << 22])
@pytest.mark.parametrize("spec, size", LAYERS, ids=str)
def test_factored_matvec_in_any_block_size_is_t_times_x(spec, size, block, monkeypatch) -> None:
    """Blocks of one output row, a few, or all: the same T x as the assembled matrix."""
    monkeypatch.setattr(toeplitz_module, "_MATVEC_BLOCK", block)
    rng = np.random.default_rng(7)
    form = index_form(spec, size)
    w, x = rng.standard_normal(spec.weight_shape), rng.standard_normal(form.in_shape())
    want = sc.toeplitz_numeric(spec, size, w) @ x.ravel()
    got = toeplitz_module.factored_matvec(form, w, x)
    assert got.shape == (math.prod(form.out_shape()),)
    assert np.allclose(got, want, atol=1e-12)


def _mutants():
    real = toeplitz_module.factored_matvec

    def nudged(form, w, x):  # one output off by 1e-8
        y = real(form, w, x)
        y[len(y) // 2] += 1e-8
        return y

    def transposed_kernel(form, w, x):  # the kernel's axes swapped (a square kernel)
        return real(form, np.swapaxes(w, -1, -2), x)

    def flipped_kernel(form, w, x):  # convolution instead of cross-correlation
        return real(form, w[..., ::-1, ::-1], x)

    def swapped_channels(form, w, x):  # input channels read in reverse
        return real(form, w, x[::-1])

    def last_block_dropped(form, w, x):  # a block boundary lost
        y = real(form, w, x).reshape(form.out_channels, -1)
        y[:, -1] = 0.0
        return y.reshape(-1)

    return [nudged, transposed_kernel, flipped_kernel, swapped_channels, last_block_dropped]


@pytest.mark.parametrize("mutant", _mutants(), ids=lambda m: m.__name__)
def test_toeplitz_torch_check_catches_a_wrong_matvec(mutant, monkeypatch) -> None:
    """`derive toeplitz`'s check 'T x equals torch' fails for each broken T x (and passes for
    the real one)."""
    pytest.importorskip("torch")
    import symconv.matrices as matrices

    spec = sc.Conv(dims=2, in_channels=4, out_channels=4, kernel_size=3, padding=1)
    name = "T x equals torch.nn.functional.conv"

    def outcome():
        cert = matrix_derivation(spec, (6, 6)).verify()
        return next(c for c in cert.results if c.name == name)

    assert outcome().passed
    monkeypatch.setattr(matrices, "factored_matvec", mutant)
    assert outcome().failed


# -- pooling's backprop: the trials share the index form's gathers ----------------------------
POOLS = [
    sc.Pool(dims=2, kind="max", kernel_size=3, stride=1, padding=1),
    sc.Pool(dims=2, kind="avg", kernel_size=3, stride=2, padding=1, count_include_pad=False),
    sc.Pool(dims=2, kind="lp", kernel_size=2, norm_type=3),
]
POOL_CHECK = "forward and dL/dx agree with torch autograd"


def _pool_check(spec: sc.Pool) -> object:
    from symconv.poolgrad import pool_backprop

    cert = pool_backprop(spec, (6, 6)).verify()
    return next(r for r in cert.results if r.name == POOL_CHECK)


def _shifted_tables(real):
    def prepare(spec, x):  # every window reads one input further on (a wrong index map)
        form, g, gp = real(spec, x)
        g = type(g)(
            g.rows, (g.cols + 1) % x.size, g.weights, g.out_shape, g.in_shape, g.weight_shape
        )
        return form, g, gp

    return prepare


def _last_maximum(real):
    def backward(spec, x, delta, tables):  # ties to the last maximum, not the first
        return real(spec, x[..., ::-1, ::-1], delta[..., ::-1, ::-1], tables)[..., ::-1, ::-1]

    return backward


@pytest.mark.parametrize("spec", POOLS, ids=str)
def test_pool_check_reads_the_shared_tables(spec, monkeypatch) -> None:
    """The check passes, and fails once the gathers it shares are wrong."""
    pytest.importorskip("torch")
    from symconv import poolgrad

    assert _pool_check(spec).passed
    monkeypatch.setattr(poolgrad, "_prepare", _shifted_tables(poolgrad._prepare))
    assert _pool_check(spec).failed


def test_pool_check_catches_the_last_maximum(monkeypatch) -> None:
    """Routing ties to the last maximum (integer inputs force ties) fails the check."""
    pytest.importorskip("torch")
    from symconv import poolgrad

    spec = POOLS[0]
    monkeypatch.setattr(poolgrad, "_backward", _last_maximum(poolgrad._backward))
    assert _pool_check(spec).failed


@pytest.mark.parametrize("spec", POOLS, ids=str)
def test_public_pool_functions_equal_the_shared_path(spec) -> None:
    """`pool_forward` / `pool_backward` (their own gathers) = the derivation's shared path."""
    from symconv import poolgrad

    rng = np.random.default_rng(5)
    x = rng.random((2, 6, 6)) + 0.1
    tables = poolgrad._prepare(spec, x)
    y = poolgrad.pool_forward(spec, x)
    delta = rng.standard_normal(y.shape)
    assert np.array_equal(y, poolgrad._forward(spec, x, tables))
    want = poolgrad._backward(spec, x, delta, tables)
    assert np.array_equal(poolgrad.pool_backward(spec, x, delta), want)
