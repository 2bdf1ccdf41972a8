"""numeric.algorithms as a package: the choice of "auto" read off the data file of rates.

The cost model reads its rates from `numeric/algorithms/rates.json` (written by
`bench/calibrate.py --write`, `write_rates`) once, on first use. The choice table below was
computed by the single module `numeric/algorithms.py` before it became a package, at the rates
it then held in code (the same numbers the shipped file records); the package must choose the
same for the same layers, ops, threads and rates.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import ROOT

import numeric as nm
import symconv as sc
from numeric import algorithms as alg
from symconv import SpecError

# The rates numeric/algorithms.py held in code when the table below was computed from it.
REFERENCE = {"gemm": 2.1e11, "fft": 4.6e9, "memory": 1.3e9, "calls": 5.0e5}

# name: (Conv fields, input size, batch); the rank-1 layers get a rank-1 weight
LAYERS: dict[str, tuple[dict[str, Any], tuple[int, ...], int]] = {
    "lenet": (dict(in_channels=1, out_channels=6, kernel_size=5), (28, 28), 64),
    "alexnet": (dict(in_channels=3, out_channels=96, kernel_size=11, stride=4), (227, 227), 8),
    "vgg64": (dict(in_channels=64, out_channels=64, kernel_size=3, padding=1), (56, 56), 8),
    "vgg256": (dict(in_channels=256, out_channels=256, kernel_size=3, padding=1), (28, 28), 8),
    "vgg512": (dict(in_channels=512, out_channels=512, kernel_size=3, padding=1), (7, 7), 8),
    "depthwise": (
        dict(in_channels=128, out_channels=128, kernel_size=3, padding=1, groups=128),
        (56, 56),
        8,
    ),
    "dilated": (
        dict(in_channels=32, out_channels=32, kernel_size=3, padding=2, dilation=2),
        (64, 64),
        8,
    ),
    "large": (dict(in_channels=16, out_channels=16, kernel_size=15, padding=7), (128, 128), 2),
    "pointwise": (dict(in_channels=64, out_channels=256, kernel_size=1), (56, 56), 8),
    "grouped": (
        dict(in_channels=64, out_channels=64, kernel_size=3, padding=1, groups=4),
        (32, 32),
        4,
    ),
    "rank1": (dict(in_channels=1, out_channels=1, kernel_size=9, padding=4), (64, 64), 1),
    "rank1_5": (dict(in_channels=1, out_channels=1, kernel_size=5, padding=2), (64, 64), 4),
    "small": (dict(in_channels=3, out_channels=4, kernel_size=3), (8, 8), 1),
    "reflect": (
        dict(in_channels=8, out_channels=8, kernel_size=5, padding=2, padding_mode="reflect"),
        (32, 32),
        2,
    ),
    "conv1d": (dict(dims=1, in_channels=16, out_channels=32, kernel_size=7, padding=3), (256,), 8),
    "conv1d_long": (
        dict(dims=1, in_channels=4, out_channels=4, kernel_size=63, padding=31),
        (4096,),
        2,
    ),
    "conv3d": (
        dict(dims=3, in_channels=8, out_channels=16, kernel_size=3, padding=1),
        (16, 16, 16),
        2,
    ),
    "strided": (
        dict(in_channels=32, out_channels=64, kernel_size=3, stride=2, padding=1),
        (32, 32),
        8,
    ),
}
W, S, F, D = "winograd", "shifted", "fft", "direct"
# per layer, "auto" for (forward, grad_input, grad_weight) on finite data, then the forward's
# choice when an operand holds inf or NaN (the gradients' is direct, their only NON_SPREADING):
# computed with numeric/algorithms.py at commit b67228c, the same at 1 and 2 threads
CHOICES = {
    "lenet": (D, D, D, D),
    "alexnet": (D, D, D, D),
    "vgg64": (W, W, W, S),
    "vgg256": (W, W, W, S),
    "vgg512": (D, D, D, D),
    "depthwise": (S, S, S, S),
    "dilated": (S, S, S, S),
    "large": (F, F, F, S),
    "pointwise": (D, D, D, D),
    "grouped": (W, W, W, S),
    "rank1": ("separable", F, F, S),
    "rank1_5": ("separable", S, S, S),
    "small": (D, D, D, D),
    "reflect": (S, S, S, S),
    "conv1d": (D, D, D, D),
    "conv1d_long": (F, F, F, S),
    "conv3d": (D, D, D, D),
    "strided": (D, D, D, D),
}
OPS = ("forward", "grad_input", "grad_weight")


def _choices(threads: int) -> dict[str, tuple[str, ...]]:
    """The table of `CHOICES` as the package computes it now, at `threads` NumPy threads."""
    rng = np.random.default_rng(0)
    table = {}
    old = nm.set_num_threads(threads)
    try:
        for name, (fields, size, batch) in LAYERS.items():
            spec = sc.Conv(**{"dims": 2, **fields})
            weight = None
            if name.startswith("rank1"):
                kh, kw = spec.kernel_size
                u, v = rng.standard_normal(kh), rng.standard_normal(kw)
                weight = np.einsum("a,b->ab", u, v)[None, None]
            row = [
                alg.explain(
                    spec, size, batch=batch, op=op, weight=weight if op == OPS[0] else None
                )["algorithm"]
                for op in OPS
            ]
            for op in OPS:
                w = weight if op == OPS[0] else None
                spread = alg.plan(op, "conv", spec, size, batch, "auto", w, finite=False)[0]
                if op == OPS[0]:
                    row.append(spread)
                else:
                    assert spread == D, (name, op)
            table[name] = tuple(row)
    finally:
        nm.set_num_threads(old)
    return table


@pytest.mark.parametrize("threads", [1, 2])
def test_auto_chooses_as_the_single_module_did(threads: int, monkeypatch: Any) -> None:
    for key, value in REFERENCE.items():
        monkeypatch.setitem(alg.RATES, key, value)
    assert _choices(threads) == CHOICES


def test_the_shipped_rates_are_the_ones_the_table_was_computed_at() -> None:
    """The data file replaced the constants in code without changing them (a recalibration
    changes the file; this test then names the commit that did)."""
    assert json.loads(alg.RATES_FILE.read_text())["rates"] == REFERENCE


def _fresh(code: str) -> str:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_the_model_reads_the_data_file_once_on_first_use(tmp_path: Path) -> None:
    """Importing the package reads nothing; the first cost query reads the file the module
    names (here one `write_rates` wrote, with other rates), and "auto" prices with them."""
    path = alg.write_rates(dict(REFERENCE, gemm=1.0e9), tmp_path / "rates.json", command="test")
    code = (
        "import json\n"
        "import symconv as sc\n"
        "import numeric.algorithms as alg\n"
        "from numeric.algorithms import cost_model\n"
        "assert 'RATES' not in vars(alg) and cost_model.recorded.cache_info().currsize == 0\n"
        f"cost_model.RATES_FILE = cost_model.Path({str(path)!r})\n"
        "spec = sc.Conv(dims=2, in_channels=64, out_channels=64, kernel_size=3, padding=1)\n"
        "e = alg.explain(spec, (56, 56), batch=8)\n"
        "alg.costs(spec, (56, 56))\n"
        "assert cost_model.recorded.cache_info().misses == 1\n"
        "assert e['rates'] is not alg.RATES and e['rates'] == alg.RATES\n"
        "print(json.dumps([alg.RATES, cost_model.recorded()['command']]))"
    )
    rates, command = json.loads(_fresh(code))
    assert rates == dict(REFERENCE, gemm=1.0e9) and command == "test"


def test_write_rates_records_the_measurement(tmp_path: Path) -> None:
    measured = {"gemm": 1.234e11, "fft": 5.67e9, "memory": 9.87e8, "calls": 4.4e5}
    record = json.loads(alg.write_rates(measured, tmp_path / "r.json", command="cmd").read_text())
    assert record["rates"] == {"gemm": 1.2e11, "fft": 5.7e9, "memory": 9.9e8, "calls": 4.4e5}
    assert record["command"] == "cmd" and record["dtype"] == "float32"
    assert record["threads"] == nm.get_num_threads() and np.__version__ in record["machine"]
    assert record["measured"].endswith("UTC")


@pytest.mark.parametrize(
    ("rates", "match"),
    [
        ({"gemm": 1.0}, "rates must have the keys"),
        ([1.0, 2.0], "rates must have the keys"),
        (dict(REFERENCE, fft=0.0), "positive numbers"),
        (dict(REFERENCE, calls=float("inf")), "positive numbers"),
    ],
)
def test_write_rates_refuses_bad_rates(rates: Any, match: str, tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=match):
        alg.write_rates(rates, tmp_path / "r.json")
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"rates": {"gemm": 1.0}}', "rates must hold the keys"),
        ('{"rates": {"gemm": 1, "fft": 1, "memory": -1, "calls": 1}}', "positive numbers"),
        ("[]", "rates must hold the keys"),
        ('{"rates": ', "must be a JSON record"),
    ],
)
def test_a_bad_data_file_is_named(text: str, match: str, tmp_path: Path) -> None:
    path = tmp_path / "rates.json"
    path.write_text(text)
    code = (
        "from numeric.algorithms import cost_model\n"
        f"cost_model.RATES_FILE = cost_model.Path({str(path)!r})\n"
        "try:\n    cost_model.get_rates()\n"
        "except ValueError as e:\n    print(e)\n"
    )
    message = _fresh(code)
    assert str(path) in message and match in message


def test_the_package_keeps_the_single_module_names() -> None:
    """Every name the module had (public, and the private ones tests and numeric._ops use)."""
    names = [*alg.__all__, "OPS", "RANK_TOL", "WINOGRAD_TILES", "CACHE_BYTES", "_keep"]
    names += ["_cache_chunk", "forward", "grad_input", "grad_weight"]
    assert all(getattr(alg, n) is not None for n in names)
    assert alg.RATES is alg.get_rates() and alg.cost_model.RATES is alg.RATES
