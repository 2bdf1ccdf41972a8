"""The torch backend: the primitive vocabulary of `KernelPrinter` in torch (CPU or CUDA)."""

from __future__ import annotations

from typing import Any, ClassVar

from .printer import IndexExprPrinter, KernelPrinter

__all__ = ["TorchKernelPrinter"]


class TorchIndexPrinter(IndexExprPrinter):
    _module = "torch"
    _minimum = "torch.clamp_max"
    _maximum = "torch.clamp_min"
    _where = "torch.where"

    def _print_Relational(self, expr: Any) -> str:
        return f"({self._print(expr.lhs)} {expr.rel_op} {self._print(expr.rhs)})"


class TorchKernelPrinter(KernelPrinter):
    """Kernels on `torch.Tensor`, on the tensor's device (no autograd: callers use no_grad)."""

    _module = "torch"
    _expr_printer = TorchIndexPrinter
    _extra_imports: ClassVar[dict[str, str]] = {
        "torch": "torch",
        "contextlib": "contextlib",
        "threading": "threading",
    }
    _primitives: ClassVar[dict[str, tuple[str, str]]] = {
        "_empty": ("shape, like", "torch.empty(shape, dtype=like.dtype, device=like.device)"),
        "_zeros": ("shape, like", "torch.zeros(shape, dtype=like.dtype, device=like.device)"),
        "_full": (
            "shape, value, like",
            "torch.full(shape, value, dtype=like.dtype, device=like.device)",
        ),
        "_zeros_index": (
            "shape, like",
            "torch.zeros(shape, dtype=torch.int64, device=like.device)",
        ),
        "_arange": ("n, like", "torch.arange(n, dtype=torch.int64, device=like.device)"),
        "_index": (
            "values, like",
            "torch.tensor(values, dtype=torch.int64, device=like.device)",
        ),
        "_as_float": ("a, like", "torch.as_tensor(a, device=like.device).to(like.dtype)"),
        "_take": ("x, index, axis", "torch.index_select(x, axis, index)"),
        "_index_add": ("target, axis, index, values", "target.index_add_(axis, index, values)"),
        "_scatter_flat": (
            "n, index, values, like",
            "_zeros((n,), like).index_add_(0, index, values)",
        ),
        "_permute": ("x, axes", "x.permute(*axes)"),
        "_contiguous": ("x", "x.contiguous()"),
        "_steps": ("x", "x.stride()"),
        "_strided": ("x, shape, steps", "x.as_strided(shape, steps)"),
        "_copy": ("x", "x.clone()"),
        "_matmul": (
            "a, b, out",
            "torch.matmul(a, b) if out is None else torch.matmul(a, b, out=out)",
        ),
        "_multiply": ("a, b, out", "torch.mul(a, b, out=out)"),
        "_add": ("a, b, out", "torch.add(a, b, out=out)"),
        "_multiply_add": (  # out = acc + a b, one pass (scratch unused)
            "out, acc, a, b, scratch",
            "torch.addcmul(acc, a, b, out=out)",
        ),
        "_einsum": ("spec, *operands", "torch.einsum(spec, *operands)"),
        "_window_dot": ("src, d", "(src.unsqueeze(2) * d).sum((0, *range(3, d.ndim)))"),
        "_where": ("cond, a, b", "torch.where(cond, a, b)"),
        "_flip": ("x, axes", "torch.flip(x, axes)"),
        "_sum": ("x, axes", "x.sum(dim=axes)"),
        # MKL runs thin GEMMs fastest in one call (kernels' _thin_matmul)
        "_rfftn": ("x, lengths, axes", "torch.fft.rfftn(x, s=lengths, dim=axes)"),
        "_irfftn": ("spectrum, lengths, axes", "torch.fft.irfftn(spectrum, s=lengths, dim=axes)"),
        "_conj": ("spectrum", "torch.conj_physical(spectrum)"),
        "_as_dtype": ("a, like", "a.to(like.dtype)"),
        "_const": (
            "rows, like",
            "torch.tensor(rows, dtype=torch.float64, device=like.device).to(like.dtype)",
        ),
        "_is_contiguous": ("x", "x.is_contiguous()"),
        "_small_gemm": ("", "0"),
        "_quiet": ("", "contextlib.nullcontext()"),
    }
