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


def one_line_exit_2(capsys, *argv: str) -> str:
    """Run `main(argv)`: status 2 and exactly one line on stderr, no traceback; that line."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and "error" in err and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        # conv-only flags with a pooling layer, pooling-only flags with a convolution
        (["shape", "-i", "32", "--pool", "max", "--in-channels", "0"], "--in-channels"),
        (["shape", "-i", "32", "--pool", "max", "--groups", "-5"], "--groups"),
        (["shape", "-i", "32", "--pool", "avg", "--padding-mode", "bogus"], "--padding-mode"),
        (["shape", "-i", "32", "--pool", "max", "--no-bias"], "--no-bias"),
        (["shape", "-i", "32", "--pool", "max", "--flip"], "--flip"),
        (["params", "--pool", "max", "--out-channels", "4"], "--out-channels"),
        (["shape", "-i", "32", "--norm-type", "-5"], "--norm-type"),
        (["shape", "-i", "32", "--exclude-pad"], "--exclude-pad"),
        (["shape", "-i", "32", "--ceil-mode"], "--ceil-mode"),
        (["shape", "-i", "32", "--pool", "max", "--exclude-pad"], "--exclude-pad"),
        (["shape", "-i", "32", "--pool", ""], "--pool"),
        # derive: options the op does not read
        *(
            (["derive", op, "-i", "0"], "--input")
            for op in ("activation", "fft-padding", "commutativity")
        ),
        # output-size and separable read a layer; its input is checked by the layer
        *((["derive", op, "-i", "0"], "input_size") for op in ("separable", "output-size")),
        (["derive", "separable", "-k", "3", "-s", "2"], "--stride"),
        (["derive", "separable", "-k", "3x5"], "--kernel"),
        (["derive", "output-size", "--pool", "max"], "Pool"),
        (["derive", "toeplitz", "--shift", "1"], "--shift"),
        (["derive", "backprop", "--transform", "rot90"], "--transform"),
        (["derive", "equivariance", "--shift", "1.5"], "--shift"),
        (["derive", "winograd", "-k", "3", "-s", "2", "-d", "2", "-i", "5"], "--stride"),
        (["derive", "winograd", "-d", "2"], "--dilation"),
        (["derive", "winograd", "--dims", "1"], "--dims"),
        (["derive", "winograd", "-k", "3x5"], "--kernel"),
        (["derive", "winograd", "-i", "5x6"], "--input"),
        (["derive", "winograd", "-k", "0"], "--kernel"),
        (["derive", "winograd", "-i", "0"], "tile length 0"),
        (["derive", "winograd-layer", "-k", "7", "-s", "3", "--dims", "1"], "--dims"),
        (["derive", "winograd-layer", "-k", "7"], "--kernel"),
        (["derive", "winograd-layer", "-s", "3"], "--stride"),
        (["derive", "p4", "--in-channels", "3"], "--in-channels"),
        (["derive", "p4", "--no-bias"], "--no-bias"),
        (["derive", "fourier", "-s", "2"], "--stride"),
        (["derive", "fourier", "-k", "3", "--padding-mode", "zeros"], "--padding-mode"),
        (["derive", "fourier", "-d", "1x2"], "--dilation"),
        # sizes beyond the caps fail at once instead of running for minutes
        (["derive", "winograd", "-i", "40"], "MAX_TILE"),
        (["derive", "winograd", "-k", "25"], "MAX_TILE"),
        (["derive", "p4", "-i", "90x90", "-k", "63", "-p", "31"], "(symconv.limits 'nonzeros')"),
        (["derive", "p4", "-i", "100x100"], "positions per channel 10000 exceeds the limit"),
    ],
)
def test_flags_that_do_not_apply_are_rejected(capsys, argv: list[str], names: str) -> None:
    assert names in one_line_exit_2(capsys, *argv)


def test_defaults_and_applicable_flags_still_work(capsys) -> None:
    from symconv.cli import _build, _spec

    code, out, _ = run(capsys, "shape", "-i", "8", "--pool", "avg", "-k", "2", "--exclude-pad")
    assert code == 0 and "output 4x4" in out
    args = _build().parse_args(["shape", "-i", "8", "--pool", "avg", "-p", "1", "--exclude-pad"])
    assert _spec(args).count_include_pad is False
    conv = _spec(_build().parse_args(["shape", "-i", "8"]))  # every default, none given
    assert (conv.kernel_size, conv.in_channels, conv.groups, conv.bias) == ((3, 3), 1, 1, True)
    assert (conv.padding_mode, conv.flip, conv.pads) == ("zeros", False, ((0, 0), (0, 0)))
    code, out, _ = run(capsys, "shape", "-i", "9", "--pool", "lp", "--norm-type", "2", "--json")
    assert code == 0 and json.loads(out)["output_size"] == [3, 3]
    code, out, _ = run(capsys, "shape", "-i", "7", "--pool", "max", "-k", "2", "--ceil-mode")
    assert code == 0 and "4x4" in out
    flags = ["--in-channels", "2", "--out-channels", "2", "--groups", "2", "--no-bias"]
    code, out, _ = run(capsys, "params", *flags)
    assert code == 0 and "parameters: 18" in out
    code, out, _ = run(capsys, "derive", "winograd", "-k", "3x3", "-i", "4x4", "--json")
    data = json.loads(out)
    assert code == 0 and data["certificate"]["passed"] and "F(2, 3)" in data["title"]


def test_derive_without_layer_flags_takes_the_registry_default(capsys) -> None:
    """`symconv derive p4` is `derive("p4")` (3x3, padding 1); a layer flag states the layer."""
    from symconv.derive import derive

    code, out, _ = run(capsys, "derive", "p4", "--json")
    assert code == 0 and json.loads(out)["title"] == derive("p4").title
    assert "padding 1" in json.loads(out)["title"]
    code, out, _ = run(capsys, "derive", "p4", "-k", "3", "--json")
    assert code == 0 and "padding 0" in json.loads(out)["title"]


def test_generate_empty_out_writes_nothing(capsys, tmp_path, monkeypatch) -> None:
    from symconv.codegen import generate

    default = tmp_path / "default"  # stands in for the package's numeric/_generated/
    monkeypatch.setattr(generate, "DEFAULT_DIR", default)
    spec = "Conv(dims=2, kernel_size=3)"
    assert "--out" in one_line_exit_2(capsys, "generate", "--spec", spec, "-i", "8", "--out", "")
    assert "--out" in one_line_exit_2(capsys, "generate", "--out", " ")
    assert not default.exists()


def test_generate_out_not_a_directory(capsys, tmp_path) -> None:
    spec = "Conv(dims=2, kernel_size=3)"
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    err = one_line_exit_2(capsys, "generate", "--spec", spec, "-i", "8", "--out", str(afile))
    assert "not a directory" in err
    err = one_line_exit_2(capsys, "generate", "--check", "--out", str(afile))
    assert "not a directory" in err
    err = one_line_exit_2(
        capsys, "generate", "--spec", spec, "-i", "8", "--out", str(afile / "sub")
    )
    assert "cannot write" in err
    assert afile.read_text() == "keep me" and sorted(tmp_path.iterdir()) == [afile]


@pytest.mark.parametrize(
    "spec",
    [
        "Conv(dims=2, kernel_size={[1]: 2})",
        "Conv(dims=2, kernel_size={1, [2]})",
        "Conv(dims=2, kernel_size=3, **{'bias': False})",
        "Conv(dims=2, kernel_size=" + "(" * 400 + "3" + ")" * 400 + ")",
    ],
)
def test_generate_bad_spec_literals(capsys, tmp_path, spec: str) -> None:
    assert "--spec" in one_line_exit_2(
        capsys, "generate", "--spec", spec, "-i", "8", "--out", str(tmp_path)
    )
    assert list(tmp_path.iterdir()) == []


def test_generate_options_that_need_spec(capsys, tmp_path) -> None:
    for argv in (
        ["generate", "--out", str(tmp_path), "-i", "8"],
        ["generate", "--out", str(tmp_path), "--backend", "torch"],
        ["generate", "--check", "--spec", "Conv(dims=1, kernel_size=3)", "-i", "8"],
    ):
        one_line_exit_2(capsys, *argv)
    assert list(tmp_path.iterdir()) == []


def test_closed_stdout_exits_quietly() -> None:
    """`symconv arch vgg16 | head -1`: no BrokenPipeError traceback when the reader is gone."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "symconv", "arch", "vgg16"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # before the table is printed
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 1
    assert err == "", err


@pytest.mark.parametrize(
    "op",
    ["toeplitz", "transpose", "backprop", "equivariance", "fourier", "local-params",
     "local-backprop"],
)  # fmt: skip
def test_derive_layer_ops_take_or_refuse_every_layer_flag(capsys, op: str) -> None:
    """Each layer flag set either gives a derivation whose certificate passes (exit 0) or one
    error line (exit 2): never a failed certificate, never a traceback."""
    for flags in (
        ["--pool", "max"],
        ["--pool", "avg", "-k", "2", "--ceil-mode"],
        ["--flip"],
        ["--padding-mode", "reflect", "-p", "1"],
        ["--groups", "2", "--in-channels", "2", "--out-channels", "4"],
        ["-s", "2", "-d", "2", "-i", "7"],
        ["--dims", "1", "--no-bias"],
        ["-i", "0"],
    ):
        code = main(["derive", op, *flags])
        out, err = capsys.readouterr()
        assert code in (0, 2), (op, flags, out[-500:])
        if code == 2:
            assert err.count("\n") == 1 and "error" in err and "Traceback" not in err, err
        else:
            assert "verified" in out and not err, (op, flags, err)
