"""onnxhub-tui: browse, download and cache ONNX Model Hub models; a successor to onnx.hub."""

__version__ = "0.1.0"
