"""The algorithm rules the convolutions' docstrings state: `RULES` (which dims and ops each
algorithm runs), `NOTES` (what else it needs of the layer), `runs`, and the sentences printed
from them."""

from __future__ import annotations

# -- the algorithm rules the docstrings state --------------------------------------------------
ALGORITHMS = ("direct", "winograd", "shifted", "fft", "separable")  # as numeric.algorithms
# which spatial dims and which ops each algorithm runs (None: all), and what else it needs of
# the layer (printed after its name)
RULES: dict[str, tuple[tuple[int, ...] | None, tuple[str, ...] | None]] = {
    "direct": (None, None),
    "winograd": ((2,), None),
    "shifted": (None, None),
    "fft": (None, None),
    "separable": ((2,), ("forward",)),
}
NOTES: dict[str, str] = {
    "winograd": "3x3 kernel, stride 1",
    "shifted": "stride 1",
    "separable": "needs a rank-1 kernel in every (out, in) channel slice, see "
    "`numeric.algorithms.rank_one_factors`; forward only: on torch tensors that require a "
    'gradient the backward runs `"auto"`',
}


def runs(algorithm: str, dims: int, op: str) -> bool:
    """Whether `algorithm` runs `op` ("forward", "grad_input", "grad_weight") of a `dims`-d
    convolution whose kernel and stride suit it (`NOTES`)."""
    on_dims, on_ops = RULES[algorithm]
    return (on_dims is None or dims in on_dims) and (on_ops is None or op in on_ops)


def _q(algorithm: str) -> str:
    return f'`"{algorithm}"`'


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _named(algorithm: str, op: str) -> str:
    note = NOTES.get(algorithm, "")
    if algorithm == "separable" and op != "forward":
        note = ""
    return _q(algorithm) + (f" ({note})" if note else "")


def _refused(dims: int, op: str) -> list[str]:
    return [a for a in ALGORITHMS if not runs(a, dims, op)]


def _forward_algorithms(d: int) -> str:
    items = [_q("auto")] + [_named(a, "forward") for a in ALGORITHMS if runs(a, d, "forward")]
    refused = _refused(d, "forward")
    if not refused:
        return (
            f"`algorithm`: {_listing(items)}; see `numeric.algorithms`. An algorithm that cannot "
            'run the layer raises `symconv.SpecError`; `"auto"` picks only among those that can.'
        )
    return (
        f"`algorithm`: {_listing(items)} (see `numeric.algorithms`); "
        f"{' and '.join(map(_q, refused))} run {_dims_of(refused)} layers only and raise "
        "`symconv.SpecError` here."
    )


def _gradient_algorithms(d: int, op: str) -> str:
    items = [_named(a, op) for a in ALGORITHMS if a != "direct" and runs(a, d, op)]
    text = (
        f'(`algorithm="direct"`) or another algorithm: {_listing(items)} '
        '(`numeric.algorithms`; default `"auto"`).'
    )
    refused = _refused(d, op)
    by_dims = [a for a in refused if d not in (RULES[a][0] or (d,))]
    by_op = [a for a in refused if op not in (RULES[a][1] or (op,))]
    if not refused:
        return text
    if not by_dims and len(refused) == 1:
        return text + (
            f" {_q(refused[0])} runs the forward pass only and raises `symconv.SpecError` here."
        )
    why = [f"{_dims_of(by_dims)} only"] if by_dims else []
    why += [f"{a} runs the forward pass only" for a in by_op]
    return text + (
        f" {' and '.join(map(_q, refused))} raise `symconv.SpecError` here ({'; '.join(why)})."
    )


def _dims_of(algorithms: list[str]) -> str:
    """The dims the algorithms run ("2-d")."""
    return " or ".join(f"{n}-d" for n in sorted({n for a in algorithms for n in RULES[a][0] or ()}))
