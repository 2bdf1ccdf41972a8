"""symconv.arch against torchinfo's summary and fvcore's FLOP counter on the same models.

The models are the torch twins of tests/derivations/test_arch_graphs.py, built from the papers. torchinfo
counts parameters as torch does (they must be equal). fvcore counts one "flop" per
multiply-accumulate of a convolution or a linear layer; its `conv` and `linear` entries are
symconv's MACs (its other entries, batch norm and pooling, are not MACs by the convention
symconv states: multiply-accumulates of conv and linear layers only). torchinfo's own
"mult-adds" adds batch norm's parameter count, so only its parameters are compared.
"""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")
torchinfo = pytest.importorskip("torchinfo")
fvcore_nn = pytest.importorskip("fvcore.nn")

from test_arch_graphs import TORCH  # noqa: E402

from symconv import arch  # noqa: E402


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "mobilenet_v2", "densenet121"])
def test_parameters_and_macs_match_torchinfo_and_fvcore(name: str) -> None:
    model = TORCH[name]().eval()
    table = arch.get(name).table()
    shape = (1, *table.input_shape) if hasattr(table, "input_shape") else (1, 3, 224, 224)
    summary = torchinfo.summary(model, input_size=shape, verbose=0)
    assert summary.total_params == table.total_parameters
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flops = fvcore_nn.FlopCountAnalysis(model, torch.zeros(shape))
        flops.unsupported_ops_warnings(False)
        flops.uncalled_modules_warnings(False)
        ops = flops.by_operator()
    assert ops["conv"] + ops["linear"] == table.total_macs
