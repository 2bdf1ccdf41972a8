"""The command line: outputs, --json, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from symconv.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_shape_text_and_json(capsys) -> None:
    code, out, _ = run(capsys, "shape", "--input", "7x7", "--kernel", "3", "--stride", "3")
    assert code == 0 and "output 2x2x1" in out and "does not tile" in out
    code, out, _ = run(
        capsys,
        "shape",
        "-i",
        "32x32",
        "-k",
        "5",
        "-p",
        "2",
        "--in-channels",
        "3",
        "--out-channels",
        "10",
        "--json",
    )
    data = json.loads(out)
    assert data["output_size"] == [32, 32] and data["out_channels"] == 10 and data["fits"]


def test_shape_pool_and_per_side_padding(capsys) -> None:
    code, out, _ = run(capsys, "shape", "-i", "55", "--pool", "max", "-k", "3", "-s", "2", "--json")
    assert code == 0 and json.loads(out)["output_size"] == [27, 27]
    code, out, _ = run(capsys, "shape", "-i", "10", "--dims", "1", "-k", "4", "-p", "1:2", "--json")
    assert code == 0 and json.loads(out)["output_size"] == [10]


def test_params(capsys) -> None:
    code, out, _ = run(
        capsys,
        "params",
        "--in-channels",
        "3",
        "--out-channels",
        "10",
        "-k",
        "5",
        "-i",
        "32x32",
        "--json",
    )
    data = json.loads(out)
    assert code == 0
    assert data["parameters"] == 760 and data["macs"] == 28 * 28 * 10 * 75
    assert data["weight_shape"] == [10, 3, 5, 5]


def test_derive_formats(capsys) -> None:
    code, out, _ = run(capsys, "derive", "output-size", "--json")
    data = json.loads(out)
    assert data["certificate"]["passed"] and len(data["steps"]) == 5
    code, out, _ = run(capsys, "derive", "output-size", "--format", "latex")
    assert code == 0 and r"\left\lfloor" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["shape", "-i", "7", "-k", "3", "-s", "2", "-p", "same"],
        ["shape", "-i", "7", "-k", "x"],
        ["shape", "-i", "3", "-k", "5"],
        ["shape", "-i", "7", "-k", "3", "--padding-mode", "mirror"],
        ["shape", "-i", "7", "--pool", "median"],
        ["params", "-k", "3", "--groups", "2", "--in-channels", "3"],
        ["derive", "no-such-op"],
        ["shape"],
        ["frobnicate"],
    ],
)
def test_errors_are_one_line_exit_2(capsys, argv) -> None:
    with pytest.raises(SystemExit) as info:
        code = main(argv)
        raise SystemExit(code)
    _, err = capsys.readouterr()
    assert info.value.code == 2
    assert err.count("\n") == 1 and "error" in err and "Traceback" not in err, err


def test_console_script_runs_as_module() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "symconv", "shape", "-i", "3", "-k", "5"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "kernel_size 5 > padded input 3" in proc.stderr
