"""``mlpkit export MODEL --format onnx|torch [-o OUT]``: write a saved model for another framework
(:mod:`mlpkit.export`) and print what was written."""

from __future__ import annotations

from pathlib import Path

from ..export import export_onnx, export_torch
from ..settings import SettingsError
from ..settings.rundir import load_model
from ._display import make_console

#: the file written when ``-o`` is not given: MODEL with this suffix
SUFFIXES = {"onnx": ".onnx", "torch": ".pt"}


def export(model: Path, fmt: str, out: Path | None, opset: int | None) -> int:
    """Load ``model``, export it as ``fmt`` to ``out`` (default: beside the model), print the files."""
    if opset is not None and fmt != "onnx":
        raise SettingsError("--opset applies to --format onnx only")
    network = load_model(model)
    target = out if out is not None else model.with_suffix(SUFFIXES[fmt])
    try:
        if fmt == "onnx":
            written = [export_onnx(network, target, opset=opset)]
        else:
            written = list(export_torch(network, target))
    except ImportError as exc:  # the optional package is missing: one line naming what to install
        raise SettingsError(str(exc)) from None
    console = make_console()
    what = {"onnx": "ONNX model", "torch": "PyTorch state dict"}[fmt]
    console.print(f"wrote {written[0]} ({what}, {network.input_dim} inputs -> {network.output_dim} outputs)")
    if len(written) > 1:
        console.print(f"wrote {written[1]} (build_model(): the nn.Sequential it fits)")
    return 0
