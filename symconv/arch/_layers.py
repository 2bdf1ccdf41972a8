"""The layers of an architecture table: each maps incoming shapes to a `LayerResult`.

Private: `symconv.arch` re-exports every public name. Single-input layers have
`evaluate(shape)`; merge layers (`Add`, `Concat`, `Scale`, with `merge = True`) have
`evaluate(shapes)`, one shape per input. Every size comes from the specs' own methods
(`Conv.output_size`, `Conv.num_parameters`, `Conv.macs`, `Pool.output_size`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from .._errors import SpecError
from ..spec import Conv, Pool

__all__ = [
    "ACTIVATIONS",
    "LRN",
    "Activation",
    "AdaptiveAvgPool",
    "Add",
    "BatchNorm",
    "Concat",
    "ConvLayer",
    "Dropout",
    "Flatten",
    "Inception",
    "Layer",
    "LayerResult",
    "Linear",
    "PoolLayer",
    "Scale",
]

Shape = tuple[int, ...]


@dataclass(frozen=True)
class LayerResult:
    """What one layer does to the incoming volume (`evaluate`'s result).

    `view` is true when the output shares the input's memory (flatten, dropout at inference);
    `depth` counts the layers with weights on the longest path through it (1 for a conv or
    linear layer, 2 for an inception block: a 1x1 reduce, then its 3x3 or 5x5), as the papers
    count a network's depth (VGG's "16 weight layers", GoogLeNet's "22 layers deep").
    """

    shape: Shape
    parameters: int
    macs: int
    description: str
    view: bool = False
    depth: int = 0


def _spatial(shape: Shape, dims: int) -> tuple[int, tuple[int, ...]]:
    """Split `(C, *spatial)`, checking the number of spatial axes."""
    if len(shape) != dims + 1:
        raise SpecError(
            f"expects a (C, {dims} spatial axes) volume, got shape {shape}"
            + (" (already flattened)" if len(shape) == 1 else "")
        )
    return shape[0], shape[1:]


def _window(kernel: tuple[int, ...], stride: tuple[int, ...]) -> str:
    return "x".join(map(str, kernel)) + "/" + "x".join(map(str, sorted(set(stride))))


# -- layers --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConvLayer:
    """A convolution layer given by a `symconv.Conv` spec (a ReLU after it changes no count).

    Every layer has `evaluate(shape)`: the `LayerResult` for an incoming `(C, *spatial)` shape.

    ```python
    >>> from symconv import Conv
    >>> layer = ConvLayer("conv1", Conv(in_channels=3, out_channels=96, kernel_size=11, stride=4))
    >>> result = layer.evaluate((3, 227, 227))
    >>> result.shape, result.parameters, result.macs
    ((96, 55, 55), 34944, 105415200)

    ```
    """

    name: str
    spec: Conv
    kind: ClassVar[str] = "conv"

    def evaluate(self, shape: Shape) -> LayerResult:
        spec = self.spec
        channels, spatial = _spatial(shape, spec.dims)
        if channels != spec.in_channels:
            raise SpecError(
                f"in_channels {spec.in_channels} differs from the incoming {channels} channels"
            )
        pads = {lo for pair in spec.pads for lo in pair}
        pad = str(pads.pop()) if len(pads) == 1 else str(spec.pads)
        text = f"conv {_window(spec.kernel_size, spec.stride)} pad {pad}, {spec.out_channels}"
        text += f", groups {spec.groups}" if spec.groups > 1 else ""
        return LayerResult(
            (spec.out_channels, *spec.output_size(spatial)),
            spec.num_parameters(),
            spec.macs(spatial),
            text,
            depth=1,
        )


@dataclass(frozen=True)
class PoolLayer:
    """A pooling layer given by a `symconv.Pool` spec: no parameters, keeps the channel count."""

    name: str
    spec: Pool
    kind: ClassVar[str] = "pool"

    def evaluate(self, shape: Shape) -> LayerResult:
        spec = self.spec
        channels, spatial = _spatial(shape, spec.dims)
        text = f"{spec.kind} pool {_window(spec.kernel_size, spec.stride)}"
        text += f" pad {spec.padding[0]}" if any(spec.padding) else ""
        text += " ceil" if spec.ceil_mode else ""
        return LayerResult((channels, *spec.output_size(spatial)), 0, 0, text)


@dataclass(frozen=True)
class LRN:
    """Local response normalisation (AlexNet's "NORM"): no parameters, same shape.

    Its arithmetic (a sum of squares over `size` neighbouring channels per output) is not a
    multiply-add of weights and inputs, so it counts no MACs.
    """

    name: str
    size: int = 5
    kind: ClassVar[str] = "lrn"

    def evaluate(self, shape: Shape) -> LayerResult:
        if len(shape) < 2:
            raise SpecError(f"expects a (C, *spatial) volume, got shape {shape}")
        return LayerResult(shape, 0, 0, f"LRN size {self.size}")


@dataclass(frozen=True)
class Flatten:
    """Flatten `(C, *spatial)` to one axis: a view, no new memory."""

    name: str
    kind: ClassVar[str] = "flatten"

    def evaluate(self, shape: Shape) -> LayerResult:
        return LayerResult((math.prod(shape),), 0, 0, "flatten", view=True)


@dataclass(frozen=True)
class Dropout:
    """Dropout with rate `p`: no parameters, same shape; the identity at inference (a view)."""

    name: str
    p: float = 0.5
    kind: ClassVar[str] = "dropout"

    def evaluate(self, shape: Shape) -> LayerResult:
        return LayerResult(shape, 0, 0, f"dropout {self.p:.0%}", view=True)


@dataclass(frozen=True)
class Linear:
    """A fully connected layer; `in_features` is the flattened size of the incoming volume.

    ```python
    >>> Linear("fc6", 4096).num_parameters(6 * 6 * 256)
    37752832

    ```
    """

    name: str
    out_features: int
    bias: bool = True
    in_features: int | None = None  # checked against the incoming volume where given
    kind: ClassVar[str] = "linear"

    def __post_init__(self) -> None:
        if (
            isinstance(self.out_features, bool)
            or not isinstance(self.out_features, int)
            or self.out_features < 1
        ):
            raise SpecError(
                f"Linear {self.name!r}: out_features must be an integer >= 1, "
                f"got {self.out_features!r}"
            )

    def num_parameters(self, in_features: int) -> int:
        """Weights plus biases: $n_\\mathrm{in} n_\\mathrm{out} + n_\\mathrm{out}$."""
        return in_features * self.out_features + (self.out_features if self.bias else 0)

    def macs(self, in_features: int) -> int:
        """Multiply-adds per sample: one per weight."""
        return in_features * self.out_features

    def flops(self, in_features: int, exact: bool = False) -> int:
        """`2 * macs`, or with `exact=True` per output $n$ multiplications, $n - 1$ additions
        and one more for the bias (as `Conv.flops`)."""
        if not exact:
            return 2 * self.macs(in_features)
        return self.out_features * (2 * in_features - 1 + (1 if self.bias else 0))

    def evaluate(self, shape: Shape) -> LayerResult:
        n = math.prod(shape)
        if self.in_features is not None and n != self.in_features:
            raise SpecError(f"in_features {self.in_features} differs from the incoming {n} values")
        return LayerResult(
            (self.out_features,),
            self.num_parameters(n),
            self.macs(n),
            f"linear {n} -> {self.out_features}",
            depth=1,
        )


@dataclass(frozen=True)
class Inception:
    """GoogLeNet's inception block, given by its branch widths (the paper's Table 1 columns).

    Four branches on the same input, concatenated along the channels:
    1x1 conv; 1x1 "reduce" then 3x3 (pad 1); 1x1 "reduce" then 5x5 (pad 2); 3x3 max pool
    (stride 1, pad 1) then 1x1 "pool proj". Every conv is followed by a ReLU.

    ```python
    >>> block = Inception("3a", 64, 96, 128, 16, 32, 32, bias=False)
    >>> block.out_channels, block.evaluate((192, 28, 28)).parameters
    (256, 163328)

    ```
    """

    name: str
    n1x1: int
    n3x3_reduce: int
    n3x3: int
    n5x5_reduce: int
    n5x5: int
    pool_proj: int
    bias: bool = True
    kind: ClassVar[str] = "inception"

    @property
    def widths(self) -> tuple[int, int, int, int, int, int]:
        return (self.n1x1, self.n3x3_reduce, self.n3x3, self.n5x5_reduce, self.n5x5, self.pool_proj)

    @property
    def out_channels(self) -> int:
        return self.n1x1 + self.n3x3 + self.n5x5 + self.pool_proj

    def branches(self, in_channels: int) -> tuple[tuple[Conv | Pool, ...], ...]:
        """The four branches as spec sequences, in concatenation order."""

        def conv(c_in: int, c_out: int, k: int) -> Conv:
            return Conv(
                in_channels=c_in,
                out_channels=c_out,
                kernel_size=k,
                padding=(k - 1) // 2,
                bias=self.bias,
            )

        return (
            (conv(in_channels, self.n1x1, 1),),
            (conv(in_channels, self.n3x3_reduce, 1), conv(self.n3x3_reduce, self.n3x3, 3)),
            (conv(in_channels, self.n5x5_reduce, 1), conv(self.n5x5_reduce, self.n5x5, 5)),
            (
                Pool(kind="max", kernel_size=3, stride=1, padding=1),
                conv(in_channels, self.pool_proj, 1),
            ),
        )

    def evaluate(self, shape: Shape) -> LayerResult:
        channels, spatial = _spatial(shape, 2)
        sizes, parameters, macs = set(), 0, 0
        for branch in self.branches(channels):
            size = spatial
            for spec in branch:
                if isinstance(spec, Conv):
                    parameters += spec.num_parameters()
                    macs += spec.macs(size)
                size = spec.output_size(size)
            sizes.add(size)
        if len(sizes) != 1:
            raise SpecError(f"branch outputs {sorted(sizes)} differ, cannot concatenate")
        text = "inception " + " ".join(map(str, self.widths))
        return LayerResult((self.out_channels, *sizes.pop()), parameters, macs, text, depth=2)


# Activation functions by torch's module name; only PReLU has parameters.
ACTIVATIONS: tuple[str, ...] = (
    "relu",
    "relu6",
    "leaky_relu",
    "prelu",
    "elu",
    "gelu",
    "sigmoid",
    "hardsigmoid",
    "silu",
    "hardswish",
    "tanh",
    "softmax",
)


@dataclass(frozen=True)
class Activation:
    """An element-wise activation: same shape, no MACs (its arithmetic is not weights times
    inputs), no parameters except PReLU's slope, one shared (`per_channel=False`, torch's
    default) or one per channel.

    `inplace=True` (torch's `ReLU(inplace=True)`, as torchvision builds its networks) writes
    into its input: a view that stores nothing new.

    ```python
    >>> Activation("act", "prelu", per_channel=True).evaluate((64, 8, 8)).parameters
    64

    ```
    """

    name: str
    fn: str = "relu"
    inplace: bool = True
    per_channel: bool = False
    kind: ClassVar[str] = "activation"

    def __post_init__(self) -> None:
        if self.fn not in ACTIVATIONS:
            raise SpecError(
                f"Activation {self.name!r}: fn must be one of {', '.join(ACTIVATIONS)}, "
                f"got {self.fn!r}"
            )

    def evaluate(self, shape: Shape) -> LayerResult:
        params = 0
        if self.fn == "prelu":
            params = shape[0] if self.per_channel else 1
        return LayerResult(shape, params, 0, self.fn, view=self.inplace)


@dataclass(frozen=True)
class BatchNorm:
    r"""Batch normalisation over the channels: $2C$ parameters (the scale $\gamma$ and shift
    $\beta$), as torch counts them; the running mean and variance are buffers, not parameters.
    No MACs (it folds into the preceding conv at inference). `affine=False` has none.

    ```python
    >>> BatchNorm("bn").evaluate((64, 56, 56)).parameters
    128

    ```
    """

    name: str
    affine: bool = True
    kind: ClassVar[str] = "batchnorm"

    def evaluate(self, shape: Shape) -> LayerResult:
        return LayerResult(shape, 2 * shape[0] if self.affine else 0, 0, "batch norm")


@dataclass(frozen=True)
class AdaptiveAvgPool:
    """torch's `AdaptiveAvgPool{1,2,3}d`: average to a fixed spatial `output_size`.

    `output_size=1` is global average pooling (GAP). Where the input already has the output
    size it is the identity (torchvision's VGG and AlexNet at 224).
    """

    name: str
    output_size: int | tuple[int, ...] = 1
    kind: ClassVar[str] = "avgpool"

    def sizes(self, dims: int) -> tuple[int, ...]:
        size = self.output_size
        return (size,) * dims if isinstance(size, int) else tuple(size)

    def evaluate(self, shape: Shape) -> LayerResult:
        if len(shape) < 2:
            raise SpecError(f"expects a (C, *spatial) volume, got shape {shape}")
        out = self.sizes(len(shape) - 1)
        if len(out) != len(shape) - 1 or any(o < 1 for o in out):
            raise SpecError(f"output_size {self.output_size!r} does not fit shape {shape}")
        text = "global avg pool" if set(out) == {1} else f"adaptive avg pool {out}"
        return LayerResult((shape[0], *out), 0, 0, text, view=out == shape[1:])


def _same(shapes: tuple[Shape, ...], what: str) -> Shape:
    if len(shapes) < 2:
        raise SpecError(f"{what} needs at least two inputs, got {len(shapes)}")
    if len(set(shapes)) != 1:
        raise SpecError(f"{what}: input shapes {', '.join(map(str, shapes))} differ")
    return shapes[0]


@dataclass(frozen=True)
class Add:
    """Element-wise sum of its inputs (a residual connection): equal shapes, no parameters;
    its additions are not multiply-adds of weights, so no MACs."""

    name: str
    kind: ClassVar[str] = "add"
    merge: ClassVar[bool] = True

    def evaluate(self, shapes: tuple[Shape, ...]) -> LayerResult:
        return LayerResult(_same(shapes, "add"), 0, 0, f"add {len(shapes)}")


@dataclass(frozen=True)
class Concat:
    """Concatenation along the channels (inception, fire and dense blocks)."""

    name: str
    kind: ClassVar[str] = "concat"
    merge: ClassVar[bool] = True

    def evaluate(self, shapes: tuple[Shape, ...]) -> LayerResult:
        _same(tuple(s[1:] for s in shapes), "concat (spatial sizes)")
        channels = sum(s[0] for s in shapes)
        return LayerResult((channels, *shapes[0][1:]), 0, 0, f"concat {len(shapes)}")


@dataclass(frozen=True)
class Scale:
    """Channel-wise rescaling `x * gate` (squeeze-and-excitation): inputs `(x, gate)`, in
    either order, with `gate` of shape `(C, 1, ...)`; output `x`'s shape."""

    name: str
    kind: ClassVar[str] = "scale"
    merge: ClassVar[bool] = True

    def evaluate(self, shapes: tuple[Shape, ...]) -> LayerResult:
        if len(shapes) != 2:
            raise SpecError(f"scale needs two inputs (x, gate), got {len(shapes)}")
        x, gate = shapes
        if len(x) == len(gate) and all(g == 1 for g in x[1:]) and x != gate:
            x, gate = gate, x
        if gate[0] != x[0] or any(g != 1 for g in gate[1:]) or len(gate) != len(x):
            raise SpecError(f"gate shape {gate} must be (C, 1, ...) for input {x}")
        return LayerResult(x, 0, 0, "scale")


Layer = (
    ConvLayer
    | PoolLayer
    | LRN
    | Flatten
    | Dropout
    | Linear
    | Inception
    | Activation
    | BatchNorm
    | AdaptiveAvgPool
    | Add
    | Concat
    | Scale
)
LAYER_TYPES = (
    ConvLayer,
    PoolLayer,
    LRN,
    Flatten,
    Dropout,
    Linear,
    Inception,
    Activation,
    BatchNorm,
    AdaptiveAvgPool,
    Add,
    Concat,
    Scale,
)
