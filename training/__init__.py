"""SPE-Net training package for geoloc: model, data, losses, evaluation and ONNX export.

Run as ``python3 -m training {train,evaluate,export} --config FILE [key.path=value ...]``.
"""

__version__ = "0.1.0"
