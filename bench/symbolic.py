"""The symbolic engine's wall times (issue 18): real layers' derivations and certificates.

Run: `python bench/symbolic.py [--old-timeout S] [--no-old] [--no-sweep] [--only TEXT]` from
the repository root (`--only`, repeatable: just the headline derivations whose command holds
TEXT, no other row, no sweep). Prints, in one run, Markdown tables of

1. the wall (and CPU) time of whole CLI runs (a fresh interpreter each, certificate
   included): the headline derivations (the issue's layers, and 64x64 layers with 16 -> 16
   channels for every layer-reading derivation the sweep leaves out), `symconv verify`,
   `symconv tour` (first line and total), cold `import symconv`, `symconv --help` and the
   strict docs build (`mkdocs build --strict` into a temporary directory);
2. derivation + certificate time against the layer's nonzeros for toeplitz, backprop,
   equivariance and transpose over a size sweep (16x16 to 64x64, 1 to 16 channels), each in a
   fresh interpreter with `symconv` and torch already imported (import time excluded).

Both tables give the previous implementation's time where it still runs: the script extracts
commit `a9dbdbb` (before the structure-based checks) into a temporary directory with
`git archive` and runs the same commands with that tree first on `PYTHONPATH`. Each old run has
a time limit (`--old-timeout`, default 60 s): longer ones print as `> 60 s`. `uptime` is printed
before and after: the load average says how busy the machine was. Not a test: nothing here
asserts time.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OLD_COMMIT = "a9dbdbb"

HEADLINE = [
    "derive backprop -i 64x64 -k 3 -p 1 --in-channels 16 --out-channels 16",
    "derive toeplitz -i 32x32 -k 5 -p 2 --in-channels 3 --out-channels 10",
    "derive equivariance -i 32x32 -k 3 -p 1 --in-channels 8 --out-channels 8",
    "derive transpose -i 64x64 -k 3 -s 2 -p 1 --in-channels 8 --out-channels 8",
    "derive local-backprop -i 64x64 -k 3 -p 1 --in-channels 16 --out-channels 16",
    "derive fourier -i 64x64 -k 3 --padding-mode circular -p same",
    "derive p4 -i 64x64 -k 3 -p 1",
    "derive unfold-fold -i 64x64 -k 3 --in-channels 16 --out-channels 16",
    "derive local-params -i 64x64 -k 3 -p 1 --in-channels 16 --out-channels 16",
    "derive equivariance -i 64x64 -k 3 -p 1 --in-channels 16 --out-channels 16 --transform rot90",
    "derive toeplitz -i 64x64 -k 5 -s 2 -p 2 --dilation 2 --groups 4 --padding-mode reflect "
    "--in-channels 16 --out-channels 16",
    # large kernels: the layer's matrix (85 M, 127 M nonzeros) is over the limit, the checks
    # read factor tables (backprop, local-backprop), U's row table (unfold-fold) or one
    # channel pair's taps (equivariance)
    "derive backprop -i 64x64 -k 9 -p 4 --in-channels 16 --out-channels 16",
    "derive local-backprop -i 64x64 -k 9 -p 4 --in-channels 16 --out-channels 16",
    "derive backprop -i 64x64 -k 9 -s 2 -p 8 --dilation 2 --groups 4 --padding-mode reflect "
    "--in-channels 16 --out-channels 16",
    "derive unfold-fold -i 64x64 -k 11 -p 5 --in-channels 16 --out-channels 16",
    "derive equivariance -i 64x64 -k 9 -p 4 --in-channels 16 --out-channels 16",
    "derive equivariance -i 64x64 -k 9 -p 4 --in-channels 16 --out-channels 16 --transform rot90",
    "derive equivariance -i 64x64 -k 11 -p 5 --in-channels 16 --out-channels 16 --transform flip_h",
]

# one fresh interpreter per point; prints "<nonzeros> <wall s> <CPU s> <passed>" or "refused"
_POINT = """
import sys, time
import torch, symconv as sc
from symconv.derive import derive
op, n, c = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
kw = dict(kernel_size=3, padding=1, stride=2 if op == "transpose" else 1)
spec = sc.Conv(dims=2, in_channels=c, out_channels=c, **kw)
nnz = sc.index_form(spec, (n, n)).nonzeros()
t, c0 = time.perf_counter(), time.process_time()
try:
    d = derive(op, spec, (n, n))
    cert = d.verify()
    d.text(), cert.text()
except sc.SpecError as err:
    print("refused", nnz, str(err)[:60].replace(" ", "_"))
    raise SystemExit
print(nnz, time.perf_counter() - t, time.process_time() - c0, cert.passed)
"""


def _env(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    return env


CPU: dict[str, float] = {"last": 0.0}  # CPU seconds (user + sys) of the last _timed command


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _timed(cmd: list[str], tree: Path, timeout: float) -> tuple[float | None, str]:
    """Wall seconds of one command (None past `timeout`) and its output; its CPU seconds in
    `CPU["last"]` (less sensitive than wall time to a busy machine)."""
    t, c = time.perf_counter(), _children_cpu()
    try:
        out = subprocess.run(
            cmd, env=_env(tree), capture_output=True, text=True, timeout=timeout, cwd=tree
        )
    except subprocess.TimeoutExpired:
        return None, "timeout"
    CPU["last"] = _children_cpu() - c
    return time.perf_counter() - t, (out.stdout + out.stderr)


def _cpu(sec: float | None) -> str:
    return "" if sec is None else f" (CPU {CPU['last']:.2f})"


def _first_line(cmd: list[str], tree: Path) -> tuple[float, float]:
    """Seconds to the first non-empty line on stdout, and to the end."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=_env(tree), stdout=subprocess.PIPE, text=True, cwd=tree)
    assert proc.stdout is not None
    first = None
    for line in proc.stdout:
        if first is None and line.strip():
            first = time.perf_counter() - t
    proc.wait()
    total = time.perf_counter() - t
    return (first if first is not None else total), total


def _fmt(sec: float | None, limit: float) -> str:
    return f"> {limit:.0f} s" if sec is None else f"{sec:.2f} s"


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:  # pragma: no cover
        return "(uptime not available)"


def _old_tree(dest: Path) -> Path | None:
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", OLD_COMMIT, "symconv", "numeric"],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def headline(old: Path | None, limit: float, only: list[str] | None = None) -> None:
    py = sys.executable
    rows: list[tuple[str, str, str]] = []
    for args in HEADLINE:
        if only and not any(text in args for text in only):
            continue
        cmd = [py, "-m", "symconv", *shlex.split(args)]
        new, out = _timed(cmd, ROOT, 600)
        now = _fmt(new, 600) + _cpu(new)
        status = "verified" if "verified" in out else ("refused" if "error" in out else "?")
        was = "-"
        if old is not None:
            sec, out_old = _timed(cmd, old, limit)
            was = _fmt(sec, limit) + _cpu(sec) + (" refused" if sec and "error:" in out_old else "")
        rows.append((f"`symconv {args}`", f"{now} {status}", was))
    if only:
        _print_rows(rows)
        return
    for label, args in (("`symconv verify`", ["verify", "--quiet"]),):
        new, _ = _timed([py, "-m", "symconv", *args], ROOT, 600)
        now = _fmt(new, 600) + _cpu(new)
        was = "-"
        if old is not None:
            sec, _ = _timed([py, "-m", "symconv", "verify"], old, max(limit, 120))
            was = _fmt(sec, max(limit, 120)) + _cpu(sec)
        rows.append((label, now, was))
    first, total = _first_line([py, "-m", "symconv", "tour", "--quiet"], ROOT)
    was = "-"
    if old is not None:
        f_old, t_old = _first_line([py, "-m", "symconv", "tour"], old)
        was = f"first line {f_old:.2f} s, total {t_old:.2f} s"
    rows.append(("`symconv tour`", f"first line {first:.2f} s, total {total:.2f} s", was))
    for label, cmd in (
        ("cold `import symconv`", [py, "-c", "import symconv"]),
        ("`symconv --help`", [py, "-m", "symconv", "--help"]),
    ):
        sec = _timed(cmd, ROOT, 120)[0]
        now = _fmt(sec, 120) + _cpu(sec)
        was = "-"
        if old is not None:
            sec = _timed(cmd, old, 120)[0]
            was = _fmt(sec, 120) + _cpu(sec)
        rows.append((label, now, was))
    site = Path(tempfile.mkdtemp(prefix="symconv-site-"))
    docs = [py, "-m", "mkdocs", "build", "--strict", "-q", "--site-dir", str(site)]
    sec = _timed(docs, ROOT, 600)[0]
    shutil.rmtree(site, ignore_errors=True)
    rows.append(("strict docs build (`mkdocs build --strict`)", _fmt(sec, 600) + _cpu(sec), "-"))
    _print_rows(rows)


def _print_rows(rows: list[tuple[str, str, str]]) -> None:
    print("| command (whole CLI run: wall, and CPU user+sys) | now | before (a9dbdbb) |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |", flush=True)


def sweep(old: Path | None, limit: float) -> None:
    py = sys.executable
    print()
    print(
        "| derivation | input | channels | nonzeros | now: wall (CPU) s | before: wall (CPU) s "
        "| CPU us/nonzero now |"
    )
    print("|---|---|---|---|---|---|---|")
    for op in ("toeplitz", "backprop", "equivariance", "transpose"):
        old_gave_up = old is None
        for n in (16, 32, 64):
            for c in (1, 4, 16):
                sec, out = _timed([py, "-c", _POINT, op, str(n), str(c)], ROOT, 600)
                parts = out.split()
                if sec is None or not parts or parts[0] == "refused":
                    print(f"| {op} | {n}x{n} | {c} | - | {out.strip()[:40]} | | |", flush=True)
                    continue
                nnz, secs, cpu = int(parts[0]), float(parts[1]), float(parts[2])
                was = "-"
                if not old_gave_up:
                    osec, oout = _timed([py, "-c", _POINT, op, str(n), str(c)], old, limit)
                    oparts = oout.split()
                    if osec is None:
                        was, old_gave_up = f"> {limit:.0f}", True  # larger ones take longer
                    elif oparts and oparts[0] == "refused":
                        was = "refused"
                    elif len(oparts) >= 4:
                        was = f"{float(oparts[1]):.2f} ({float(oparts[2]):.2f})"
                print(
                    f"| {op} | {n}x{n} | {c} -> {c} | {nnz:,} | {secs:.2f} ({cpu:.2f}) | {was} | "
                    f"{1e6 * cpu / nnz:.3f} |",
                    flush=True,
                )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--old-timeout", type=float, default=60.0, help="limit per old run (s)")
    p.add_argument("--no-old", action="store_true", help="skip the previous implementation")
    p.add_argument("--no-sweep", action="store_true", help="the CLI table only")
    p.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="just the headline derivations whose command holds TEXT (repeatable)",
    )
    args = p.parse_args()
    print(f"before: {_uptime()}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print()
    with tempfile.TemporaryDirectory(prefix="symconv-old-") as tmp:
        old = None if args.no_old else _old_tree(Path(tmp))
        headline(old, args.old_timeout, args.only)
        if not args.no_sweep and not args.only:
            sweep(old, args.old_timeout)
    print()
    print(f"after: {_uptime()}")


if __name__ == "__main__":
    main()
