"""The tour's torch work: the generated kernels against torch, and torch's convolution of
given arrays. Light on purpose (NumPy, numeric, the spec layer; torch when it runs): the tour's
torch worker is forked before SymPy is imported and runs these without ever loading it.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

import numeric as nm
from numeric.algorithms import explain

from .._torchref import conv_reference, torch_or_none
from ..spec import Conv

__all__ = ["kernels", "torch_conv"]


def torch_conv(spec: Conv, x: Any, w: Any) -> Any:
    """torch's convolution of NumPy arrays, as a NumPy array (None without torch)."""
    if torch_or_none() is None:  # pragma: no cover - torch is optional
        return None
    return conv_reference(spec, x, w).numpy()


def kernels() -> dict[str, Any]:
    """The generated NumPy kernels (numeric/_generated/) against torch, forward and backward."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:  # pragma: no cover - torch is optional
        return {
            "title": "Generated kernels",
            "text": "torch not installed: skipped",
            "passed": True,
        }
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6, 16, 16))
    w = rng.standard_normal((8, 3, 3, 3))
    b = rng.standard_normal(8)
    kw: dict[str, Any] = {"stride": 2, "padding": 1, "dilation": 1, "groups": 2}
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ref = F.conv2d(xt, wt, bt, **kw)
    y = nm.conv2d(x, w, b, **kw)
    delta = rng.standard_normal(y.shape)
    _backward(ref, delta)
    gx = nm.conv2d_grad_input(x.shape, w, delta, **kw)
    gw = nm.conv2d_grad_weight(x, w.shape, delta, **kw)
    errs = {
        "forward": float(np.abs(y - ref.detach().numpy()).max()),
        "grad_input": float(np.abs(gx - cast(torch.Tensor, xt.grad).numpy()).max()),
        "grad_weight": float(np.abs(gw - cast(torch.Tensor, wt.grad).numpy()).max()),
    }
    lines = [
        "numeric.conv2d(x, w, b, stride=2, padding=1, groups=2) on float64 arrays "
        "(N=4, 6x16x16, 8@3x3), printed from the index form, against torch:"
    ]
    lines += [f"  {name:<12} max |difference| {err:.1e}" for name, err in errs.items()]
    # the same layer type by the other algorithms: a 3x3 stride-1 layer, dilation 2
    x2, w2 = rng.standard_normal((2, 16, 12, 12)), rng.standard_normal((16, 16, 3, 3))
    kw2: dict[str, Any] = {"padding": 2, "dilation": 2}
    xt2, wt2 = (torch.tensor(a, requires_grad=True) for a in (x2, w2))
    ref2 = F.conv2d(xt2, wt2, None, **kw2)
    delta2 = rng.standard_normal(tuple(ref2.shape))
    _backward(ref2, delta2)
    lines.append("conv2d(padding=2, dilation=2), N=2, 16x12x12, 16@3x3, by each algorithm:")
    for algorithm in ("winograd", "shifted", "fft"):
        got = (
            nm.conv2d(x2, w2, None, **kw2, algorithm=algorithm),
            nm.conv2d_grad_input(x2.shape, w2, delta2, **kw2, algorithm=algorithm),
            nm.conv2d_grad_weight(x2, w2.shape, delta2, **kw2, algorithm=algorithm),
        )
        want = (  # the .grad casts: backward() set them
            ref2.detach().numpy(),
            cast(torch.Tensor, xt2.grad).numpy(),
            cast(torch.Tensor, wt2.grad).numpy(),
        )
        err = max(float(np.abs(a - b).max()) for a, b in zip(got, want, strict=True))
        errs[algorithm] = err
        lines.append(f"  {algorithm:<12} max |difference| {err:.1e} (forward, dL/dx, dL/dw)")
    vgg = Conv(dims=2, in_channels=512, out_channels=512, kernel_size=3, padding=1)
    e = explain(vgg, (28, 28), batch=8)
    est = ", ".join(
        f"{k} {1e3 * v['seconds']:.0f} ms" for k, v in e["costs"].items() if v is not None
    )
    lines.append(f"algorithm='auto' on VGG16 conv4_2 (N=8): {e['algorithm']} (estimated {est})")
    return {
        "title": "A generated kernel running against torch",
        "text": "\n".join(lines),
        "passed": max(errs.values()) < 1e-10,
    }


def _backward(y: Any, delta: Any) -> None:
    """Backpropagate `delta` through `y`: `L = sum(delta * y)`, so `dL/dy = delta` (a scalar
    loss: torch's `backward(delta)` would import its symbolic shapes, and SymPy with them)."""
    import torch

    (y * torch.tensor(delta)).sum().backward()
