"""mPLUG-2 exporter: faithful PyTorch modules, official checkpoint loading, per-module ONNX export."""

__version__ = "0.1.0"
