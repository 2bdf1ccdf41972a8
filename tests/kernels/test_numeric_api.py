"""numeric's API contract: errors, optional torch, bounded workspace, generated modules."""

from __future__ import annotations

import ast
import gc
import importlib
import inspect
import pydoc
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest
import torch

import numeric as nm
import symconv as sc
from numeric.algorithms import release_workspaces
from symconv.cli import main
from symconv.codegen import api_table
from symconv.codegen import generate as gen
from symconv.codegen.api import API_FILE, FAMILY_FILE


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: nm.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((4, 2, 3, 3))), "input channels"),
        (lambda: nm.conv2d(np.zeros((3, 8)), np.zeros((4, 3, 3, 3))), "dimensions"),
        (lambda: nm.conv2d(np.zeros((1, 3, 8, 8), int), np.zeros((4, 3, 3, 3))), "float32"),
        (lambda: nm.conv2d(np.zeros((1, 3, 8, 8)), torch.zeros(4, 3, 3, 3)), "mixed"),
        (
            lambda: nm.conv2d(np.zeros((1, 3, 8, 8), np.float32), np.zeros((4, 3, 3, 3))),
            "one dtype",
        ),
        (lambda: nm.conv2d(np.zeros((1, 3, 2, 2)), np.zeros((4, 3, 3, 3))), "padded input"),
        (
            lambda: nm.conv2d(
                np.zeros((1, 3, 8, 8)), np.zeros((4, 3, 3, 3)), stride=2, padding="same"
            ),
            "same",
        ),
        (lambda: nm.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((4, 3, 3, 3)), np.zeros(3)), "bias"),
        (
            lambda: nm.conv2d(
                np.zeros((1, 3, 3, 3)), np.zeros((4, 3, 3, 3)), padding=3, padding_mode="reflect"
            ),
            "reflect",
        ),
        (lambda: nm.conv2d([[1.0]], np.zeros((4, 3, 3, 3))), "numpy.ndarray"),
        (lambda: nm.max_pool2d(np.zeros((1, 1, 4, 4)), 2, padding=2), "half the kernel"),
        (
            lambda: nm.conv2d_grad_input(
                (1, 3, 8, 8), np.zeros((4, 3, 3, 3)), np.zeros((1, 4, 5, 5))
            ),
            "grad_output",
        ),
        (
            lambda: nm.max_pool2d_backward(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 4, 4)), 2),
            "grad_output",
        ),
    ],
)
def test_errors_are_spec_errors(call, message):
    with pytest.raises(sc.SpecError, match=message):
        call()


def test_torch_device_and_batch_zero():
    x, w = torch.zeros(0, 3, 8, 8), torch.zeros(4, 3, 3, 3)
    assert nm.conv2d(x, w).shape == (0, 4, 6, 6)
    assert nm.conv2d(np.zeros((0, 3, 8, 8)), np.zeros((4, 3, 3, 3))).shape == (0, 4, 6, 6)
    y = nm.conv2d(torch.ones(3, 8, 8), torch.ones(4, 3, 3, 3))  # unbatched, as torch
    assert y.shape == (4, 6, 6) and y.device == x.device


def test_numpy_kernels_without_torch():
    code = textwrap.dedent(
        """
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("torch is blocked")
        sys.meta_path.insert(0, Block())
        import numpy as np
        import numeric as nm
        y = nm.conv2d(np.ones((2, 3, 6, 6)), np.ones((4, 3, 3, 3)), padding=1)
        g = nm.max_pool2d_backward(np.ones((2, 3, 3, 3)), np.ones((2, 3, 6, 6)), 2)
        assert y.shape == (2, 4, 6, 6) and g.shape == (2, 3, 6, 6)
        assert "torch" not in sys.modules
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_workspace_is_bounded():
    """A large batch with a small budget: peak extra memory stays near the budget."""
    x = np.random.default_rng(0).standard_normal((64, 8, 32, 32)).astype(np.float32)
    w = np.ones((8, 8, 3, 3), np.float32)
    out_bytes = 64 * 8 * 32 * 32 * 4
    limit = 2 * 2**20
    nm.conv2d(x[:1], w, padding=1)  # first use imports the kernels' module: not workspace
    peaks = []
    with nm.workspace_limit(limit):
        assert nm.get_workspace_limit() == limit
        # tracemalloc counts every thread's allocations, a stray thread's too (the full suite
        # once saw 2.6x the limit here, never reproduced alone): the least of three calls.
        # Winograd's workspaces kept by earlier tests would hide allocations: released first.
        for _ in range(3):
            gc.collect()
            release_workspaces()
            tracemalloc.start()
            try:
                y = nm.conv2d(x, w, padding=1)
                peaks.append(tracemalloc.get_traced_memory()[1])
            finally:
                tracemalloc.stop()
    assert y.shape == (64, 8, 32, 32)
    assert min(peaks) - out_bytes < 1.5 * limit, (peaks, out_bytes, limit)
    with nm.workspace_limit(2**30):  # unbounded: the whole batch at once uses more
        release_workspaces()
        tracemalloc.start()
        try:
            nm.conv2d(x, w, padding=1)
            _, big = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert big > 3 * limit
    with pytest.raises(sc.SpecError):
        nm.set_workspace_limit(0)


def test_generated_public_functions_are_in_ruff_layout_and_lint_clean():
    """numeric's public functions (that they are committed as printed: tests/codegen)."""
    # they are among the generated modules, printed in ruff's layout (no formatter runs:
    # the text is the same with or without ruff; `ruff format` would leave it as it is; the
    # explicit paths are checked although pyproject excludes numeric/_generated from ruff)
    printed = [gen.DEFAULT_DIR / name for name in (API_FILE, FAMILY_FILE)]
    assert {p.name for p in printed} <= set(gen.generate_all())
    for command in (("format", "--check", "--diff"), ("check",)):  # and lint-clean
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command, *map(str, printed)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr


def test_check_reports_stale_files(tmp_path, capsys):
    gen.write(gen.generate_all(), tmp_path)
    assert main(["generate", "--check", "--out", str(tmp_path)]) == 0
    passed = capsys.readouterr().out.strip().splitlines()
    assert len(passed) == 1 and "current" in passed[0]  # one line when it passes
    (tmp_path / "numpy_conv.py").write_text("# edited\n")
    assert main(["generate", "--check", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "numpy_conv.py" in out[0]


def test_generation_is_deterministic():
    assert gen.generate_all() == gen.generate_all()
    text = gen.generate_all()["numpy_conv.py"]
    assert "do not edit" in text and "def _phi_reflect" in text


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_spec_module_standalone(tmp_path, backend):
    spec = 'Conv(dims=2, in_channels=3, out_channels=4, kernel_size=3, stride=2, padding=1, padding_mode="reflect")'
    assert main(["generate", "--spec", spec, "--input", "9x9", "--out", str(tmp_path),
                 "--backend", backend]) == 0  # fmt: skip
    name = f"{backend}_conv2d_3to4_k3_s2_p1_reflect_9x9"
    text = (tmp_path / f"{name}.py").read_text()
    assert "X_SHAPE = (None, 3, 9, 9)" in text and "slice(0, 9, 2)" in text  # literals folded in
    code = textwrap.dedent(
        f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("symconv", "numeric", "sympy"):
                    raise ImportError(name + " is blocked")
        sys.meta_path.insert(0, Block())
        sys.path.insert(0, {str(tmp_path)!r})
        import numpy as np
        import {name} as m
        x = np.random.default_rng(0).standard_normal((2, 3, 9, 9))
        w = np.random.default_rng(1).standard_normal((4, 3, 3, 3))
        if {backend!r} == "torch":
            import torch
            x, w = torch.tensor(x), torch.tensor(w)
        y = m.forward(x, w)
        gx = m.grad_input(y, w)
        np.save({str(tmp_path / "y.npy")!r}, np.asarray(y))
        np.save({str(tmp_path / "gx.npy")!r}, np.asarray(gx))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rng0, rng1 = np.random.default_rng(0), np.random.default_rng(1)
    x, w = rng0.standard_normal((2, 3, 9, 9)), rng1.standard_normal((4, 3, 3, 3))
    y = nm.conv2d(x, w, stride=2, padding=1, padding_mode="reflect")
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), y, atol=1e-12)
    gx = nm.conv2d_grad_input(x.shape, w, y, stride=2, padding=1, padding_mode="reflect")
    np.testing.assert_allclose(np.load(tmp_path / "gx.npy"), gx, atol=1e-12)


def test_spec_rejects_non_literals(capsys):
    assert main(["generate", "--spec", "Conv(kernel_size=__import__('os'))", "--input", "5"]) == 2
    assert main(["generate", "--spec", "print(1)", "--input", "5"]) == 2
    assert "error" in capsys.readouterr().err


def test_pool_spec_module(tmp_path):
    assert main(["generate", "--spec", 'Pool(kind="max", kernel_size=2)', "--input", "4x4",
                 "--out", str(tmp_path)]) == 0  # fmt: skip
    assert "def forward(x)" in (tmp_path / "numpy_maxpool2d_k2_4x4.py").read_text()


def test_printer_declares_unsupported():
    from symconv.codegen.kernels import conv_nodes
    from symconv.codegen.numpy_backend import NumPyKernelPrinter
    from symconv.codegen.printer import Unsupported

    class Limited(NumPyKernelPrinter):
        _unsupported = ("conv_transpose_forward",)

    with pytest.raises(Unsupported, match="conv_transpose_forward"):
        Limited().module(conv_nodes(), "")


def test_swap_channels_is_transpose_weight():
    from numeric._generated import numpy_conv
    from symconv.backprop import transpose_weight

    spec = sc.Conv(in_channels=4, out_channels=6, kernel_size=2, groups=2)
    w = np.arange(np.prod(spec.weight_shape)).reshape(spec.weight_shape)
    np.testing.assert_array_equal(
        numpy_conv._swap_channels(w, 2), w.ravel()[transpose_weight(spec)]
    )


def test_threads_setting_and_forked_children():
    """set_num_threads validates and returns the old count; a child forked after the pool
    started gets a new pool (its parent's threads do not exist there) instead of hanging."""
    import multiprocessing

    with pytest.raises(sc.SpecError, match="integer >= 1"):
        nm.set_num_threads(0)
    old = nm.set_num_threads(2)
    try:
        x = np.random.default_rng(0).standard_normal((8, 16, 32, 32))
        w = np.ones((16, 16, 3, 3))
        y = nm.conv2d(x, w, padding=1)  # large enough to run on the pool
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(1) as pool:
            child = pool.apply_async(_conv_sum, (x, w)).get(timeout=60)
        assert np.isclose(child, float(y.sum()))
    finally:
        nm.set_num_threads(old)


def _conv_sum(x, w):
    return float(nm.conv2d(x, w, padding=1).sum())


def test_one_entry_tuples_stand_for_every_axis_as_in_torch():
    """torch's functional ops take `stride=(2,)` in 2D for every axis; so does numeric
    (kernel_size, stride, padding, dilation, output_padding); other lengths still fail."""
    g = np.random.default_rng(0)
    x, w = g.standard_normal((1, 2, 7, 7)), g.standard_normal((3, 2, 3, 3))
    pairs = [
        (nm.conv2d, (x, w), dict(stride=(2,), padding=[1], dilation=(2,))),
        (nm.conv_transpose2d, (x, w.transpose(1, 0, 2, 3)),
         dict(stride=(2,), padding=(1,), output_padding=(1,))),
        (nm.max_pool2d, (x,), dict(kernel_size=(2,), stride=(1,), padding=(1,), dilation=(2,))),
        (nm.avg_pool2d, (x,), dict(kernel_size=(3,), stride=(2,), padding=(1,))),
    ]  # fmt: skip
    for fn, args, kw in pairs:
        ints = {k: v[0] for k, v in kw.items()}
        np.testing.assert_array_equal(fn(*args, **kw), fn(*args, **ints))
        ref = getattr(torch.nn.functional, fn.__name__)
        targs = [torch.tensor(a) for a in args]
        np.testing.assert_allclose(fn(*args, **kw), ref(*targs, **kw).numpy(), atol=1e-12)
    with pytest.raises(sc.SpecError, match=r"stride \(2, 2, 2\) has 3 entries, expected 2"):
        nm.conv2d(x, w, stride=(2, 2, 2))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x, w, g: nm.conv2d_grad_input((1, 2, 6.9, 6), w, g), "input_size must hold integers"),
        (lambda x, w, g: nm.conv2d_grad_input((1, 2, "6", 6), w, g), "got '6'"),
        (lambda x, w, g: nm.conv2d_grad_input((1, 2, True, 6), w, g), "got True"),
        (lambda x, w, g: nm.conv2d_grad_input("abc", w, g), "sequence of integers"),
        (lambda x, w, g: nm.conv2d_grad_weight(x, (3, 2, 3.9, 3), g), "weight_size must hold"),
        (lambda x, w, g: nm.conv2d(None, w), "input must be a numpy.ndarray or a torch.Tensor, got None"),
        (lambda x, w, g: nm.conv2d(x, None), "weight must be"),
        (lambda x, w, g: nm.max_pool2d(None, 2), "input must be"),
        (lambda x, w, g: nm.avg_pool2d_backward(g, None, 2), "input must be"),
        (lambda x, w, g: nm.p4.lift(None, w), "p4: input must be"),
        (lambda x, w, g: nm.p4.lift_filters("abc"), "p4: weight must be"),
        (lambda x, w, g: nm.p4.group_conv([1], w), "p4: input must be"),
    ],
)  # fmt: skip
def test_sizes_and_arrays_are_checked(call, message):
    """Sizes are integers (6.9 is not truncated, '6' not converted); a None or a string where an
    array belongs is a SpecError naming it, not an AttributeError from inside."""
    import numeric.p4  # noqa: F401

    g = np.random.default_rng(0)
    x, w, d = (
        g.standard_normal((1, 2, 6, 6)),
        g.standard_normal((3, 2, 3, 3)),
        g.standard_normal((1, 3, 4, 4)),
    )
    with pytest.raises(sc.SpecError, match=message):
        call(x, w, d)
    assert nm.conv2d_grad_input(torch.Size([1, 2, 6, 6]), w, d).shape == (1, 2, 6, 6)
    assert nm.conv2d_grad_input(np.array([1, 2, 6, 6]), w, d).shape == (1, 2, 6, 6)


def test_max_pool_backward_checks_the_indices():
    """indices as max_pool*d(return_indices=True) gives them: same array type, integer, the
    output's shape, flat positions in range or -1 (a window in the padding: no gradient)."""
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    g = np.ones((1, 1, 3, 3))
    cases = [
        (np.full((1, 1, 3, 3), 36), r"in \[0, 36\).*got 36"),
        (np.full((1, 1, 3, 3), -2), "got -2"),
        (np.full((1, 1, 3, 3), 1.0), "integer dtype, got float64"),
        ([[1]], "must be a numpy.ndarray like grad_output, got list"),
        (torch.zeros(1, 1, 3, 3, dtype=torch.long), "got Tensor"),
        (np.zeros((1, 1, 2, 2), dtype=np.int64), "indices has shape"),
    ]
    for idx, message in cases:
        with pytest.raises(sc.SpecError, match=message):
            nm.max_pool2d_backward(g, x, 2, indices=idx)
    with pytest.raises(sc.SpecError, match=r"indices must be a torch\.Tensor"):
        nm.max_pool2d_backward(
            torch.tensor(g), torch.tensor(x), 2, indices=np.zeros((1, 1, 3, 3), np.int64)
        )
    _, idx = nm.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(
        nm.max_pool2d_backward(g, x, 2, indices=idx), nm.max_pool2d_backward(g, x, 2)
    )
    _, tidx = nm.max_pool2d(torch.tensor(x), 2, return_indices=True)
    nm.max_pool2d_backward(torch.tensor(g), torch.tensor(x), 2, indices=tidx)


# -- the public functions are printed from one table (symconv/codegen/api_table/) ----------
ROWS = api_table.rows()


def _table_signature(row: api_table.Row) -> inspect.Signature:
    empty = inspect.Parameter.empty
    return inspect.Signature(
        [
            inspect.Parameter(
                p.name,
                inspect.Parameter.KEYWORD_ONLY
                if p.keyword_only
                else inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=empty if p.default is api_table.REQUIRED else p.default,
                annotation=p.annotation,
            )
            for p in row.params
        ],
        return_annotation=row.returns,
    )


def _torch_parameters(dotted: str) -> list[tuple[str, object]]:
    """(name, default) of torch's function: its signature, or for the builtins the one their
    docstring opens with; `max_pool2d` dispatches on `return_indices` (`*args, **kwargs`), so
    its `_with_indices` form (the same parameters) is read."""
    module, name = dotted.rsplit(".", 1)
    fn = getattr(importlib.import_module(module), name)
    try:
        params = list(inspect.signature(fn).parameters.values())
    except ValueError:  # a builtin: "conv2d(input, weight, bias=None, ...) -> Tensor"
        head = fn.__doc__.strip().splitlines()[0].split(" -> ")[0]
        args = ast.parse(f"def {head}: pass").body[0].args
        defaults = [None] * (len(args.args) - len(args.defaults)) + list(args.defaults)
        return [
            (a.arg, inspect.Parameter.empty if d is None else ast.literal_eval(d))
            for a, d in zip(args.args, defaults, strict=True)
        ]
    if params and params[0].kind is inspect.Parameter.VAR_POSITIONAL:
        return _torch_parameters(dotted + "_with_indices")
    return [(p.name, p.default) for p in params]


def test_the_public_names_are_the_tables():
    import numeric._generated.api as api
    import numeric._generated.api_family as api_family
    import numeric.family

    assert list(nm._API) == api.__all__ == api_table.names(family=False)
    assert sorted(nm._FAMILY) == api_family.__all__ == api_table.names(family=True)
    assert sorted(numeric.family.__all__) == api_family.__all__
    assert set(nm._API) | set(nm._FAMILY) <= set(nm.__all__)


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_public_signatures_are_the_tables_and_torchs(row):
    """numeric's function has its row's signature (names, kinds, defaults, annotations) and
    docstring; its positional parameters are torch's, with torch's defaults."""
    fn = getattr(nm, row.name)
    module = "numeric._generated." + ("api_family" if row.family else "api")
    assert fn.__module__ == module and fn.__name__ == row.name
    assert inspect.signature(fn) == _table_signature(row)
    first = row.doc.split("\n\n")[0]
    assert " ".join(fn.__doc__.split()).startswith(" ".join(first.split()))
    shown = pydoc.render_doc(fn, renderer=pydoc.plaintext)  # help(nm.<name>)
    assert f"{row.name}(" in shown and " ".join(first.split()[:6]) in " ".join(shown.split())
    if row.torch is None:  # numeric's own: torch.nn.functional has no such function
        assert not hasattr(torch.nn.functional, row.name)
        return
    ours = inspect.signature(fn).parameters.values()
    positional = [(p.name, p.default) for p in ours if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    assert positional == _torch_parameters(row.torch)


@pytest.mark.parametrize("op", ["forward", "grad_input", "grad_weight"])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_docstring_algorithm_rules_are_the_kernels(dims, op):
    """What the convolutions' docstrings say of each algorithm (the table's RULES and NOTES) is
    what `numeric.algorithms.supported` decides."""
    from numeric.algorithms import ALGORITHMS, supported

    assert ALGORITHMS == ("auto", *api_table.ALGORITHMS)
    suited = sc.Conv(dims=dims, kernel_size=3)  # a 3x3 kernel, stride 1: what every note asks
    strided = sc.Conv(dims=dims, kernel_size=3, stride=2)
    wide = sc.Conv(dims=dims, kernel_size=5)
    name = {"forward": f"conv{dims}d", "grad_input": f"conv{dims}d_grad_input"}.get(
        op, f"conv{dims}d_grad_weight"
    )
    doc = " ".join(getattr(nm, name).__doc__.split())
    for algorithm in api_table.ALGORITHMS:
        runs = api_table.runs(algorithm, dims, op)
        assert (supported(suited, algorithm, op) is None) == runs, algorithm
        assert f'`"{algorithm}"`' in doc or algorithm == "direct", algorithm
        if runs:
            note = api_table.NOTES.get(algorithm, "")
            assert (supported(strided, algorithm, op) is None) == ("stride 1" not in note)
            assert (supported(wide, algorithm, op) is None) == ("3x3" not in note)
            if note and not (algorithm == "separable" and op != "forward"):
                assert " ".join(note.split()) in doc, algorithm
