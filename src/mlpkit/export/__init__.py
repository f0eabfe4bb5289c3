"""Export a trained network to other frameworks: ONNX (:func:`export_onnx`) and PyTorch
(:func:`export_torch`). Both need an optional package (``pip install 'mlpkit[onnx]'``, ``pip install
torch``), imported only when an export runs; ``import mlpkit`` never imports this package."""

from .onnx import export_onnx
from .torch import export_torch

__all__ = ["export_onnx", "export_torch"]
