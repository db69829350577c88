"""ONNX export of SPE-Net with the metadata the Node pipeline reads.

Contract: input ``image`` float32 [N, 3, H, W] (dynamic N, normalised by the caller);
outputs ``descriptor`` float32 [N, D] (unit length) and ``foreground`` float32 [N, H/14, W/14].
Metadata (``geoloc.*`` metadata_props, string values, arrays and objects JSON-encoded) is
repeated as plain JSON in a sibling ``model.json``.
"""

import inspect
import json
import logging
import os
import warnings
from typing import Any, Dict, Mapping, Optional, Tuple

import onnx
import torch
from torch import nn

from . import __version__
from .checkpoint import model_from_checkpoint, read_checkpoint
from .config import Config
from .errors import ExportError
from .models import SPENet, build_random_init

log = logging.getLogger(__name__)

INPUT_NAME = "image"
OUTPUT_NAMES = ("descriptor", "foreground")


class ExportWrapper(nn.Module):
    """Exposes the two exported outputs of SPE-Net as a plain tuple, in contract order."""

    def __init__(self, model: SPENet):
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        out = self.model(image)
        return out.descriptor, out.foreground


def describe_training_data(cfg: Config, trained: bool) -> str:
    if cfg["export"]["training_data"]:
        return str(cfg["export"]["training_data"])
    if not trained:
        return "none (random initialisation)"
    data = cfg["data"]
    text = f"{data['dataset']} at {data['root']}"
    if data["dataset"] == "sues200":
        text += f" (altitudes {data['altitudes']})"
    return text


def build_metadata(model: SPENet, cfg: Config, metrics: Optional[Mapping[str, Any]], trained: bool) -> Dict[str, Any]:
    return {
        "inputSize": list(model.img_size),
        "mean": list(model.spec.mean),
        "std": list(model.spec.std),
        "dim": model.dim,
        "backbone": model.spec.name,
        "version": str(cfg["export"]["version"] or __version__),
        "trainingData": describe_training_data(cfg, trained),
        "metrics": dict(metrics or {}),
        "patchSize": model.spec.patch_size,
    }


# model.json key → ONNX metadata_props key (patchSize is implied by the backbone there).
_PROP_KEYS = {
    "inputSize": "geoloc.input_size",
    "mean": "geoloc.mean",
    "std": "geoloc.std",
    "dim": "geoloc.dim",
    "backbone": "geoloc.backbone",
    "version": "geoloc.version",
    "trainingData": "geoloc.training_data",
    "metrics": "geoloc.metrics",
}


def _prop_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _onnx_export(module: nn.Module, dummy: torch.Tensor, path: str, opset: int) -> None:
    kwargs = dict(
        input_names=[INPUT_NAME],
        output_names=list(OUTPUT_NAMES),
        dynamic_axes={name: {0: "batch"} for name in (INPUT_NAME, *OUTPUT_NAMES)},
        opset_version=opset,
        do_constant_folding=True,
    )
    # torch ≥ 2.5 also offers the dynamo exporter (the default from 2.9); the contract was
    # verified with the TorchScript exporter, which every supported torch has.
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    with warnings.catch_warnings():
        # torch 1.13 warns about constant folding of the traced grid size; harmless here.
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        try:
            torch.onnx.export(module, (dummy,), path, **kwargs)
        except ValueError as exc:  # torch refuses opsets outside the range its version writes
            raise ExportError(f"torch cannot export at export.opset={opset}: {exc}") from exc


def _declare_output_shapes(proto: onnx.ModelProto, dim: int, grid: Tuple[int, int]) -> None:
    """Replace the exporter's symbolic output sizes with the fixed ones (only N is dynamic)."""
    fixed = {"descriptor": (dim,), "foreground": grid}
    for output in proto.graph.output:
        dims = output.type.tensor_type.shape.dim
        for axis, size in enumerate(fixed[output.name], start=1):
            dims[axis].Clear()
            dims[axis].dim_value = int(size)


def export_model(
    model: SPENet, out_dir: str, metadata: Mapping[str, Any], opset: int = 17
) -> Tuple[str, str]:
    """Write ``model.onnx`` and ``model.json`` into ``out_dir``; returns both paths."""
    os.makedirs(out_dir, exist_ok=True)
    onnx_path = os.path.join(out_dir, "model.onnx")
    json_path = os.path.join(out_dir, "model.json")
    h, w = model.img_size
    wrapper = ExportWrapper(model).eval().cpu()
    dummy = torch.zeros(2, 3, h, w)
    with torch.no_grad():
        _onnx_export(wrapper, dummy, onnx_path, opset)
    proto = onnx.load(onnx_path)
    _declare_output_shapes(proto, model.dim, (h // model.spec.patch_size, w // model.spec.patch_size))
    for key, prop in _PROP_KEYS.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = prop, _prop_value(metadata[key])
    try:
        onnx.checker.check_model(proto)
        onnx.shape_inference.infer_shapes(proto, strict_mode=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise ExportError(f"exported graph {onnx_path} fails the ONNX checker: {exc}") from exc
    onnx.save(proto, onnx_path)
    with open(json_path, "w", encoding="utf-8") as fh:
        json.dump(dict(metadata), fh, indent=2)
        fh.write("\n")
    log.info("exported %s (%.1f MB) and %s", onnx_path, os.path.getsize(onnx_path) / 2**20, json_path)
    return onnx_path, json_path


def run_export(
    cfg: Config,
    checkpoint: Optional[str] = None,
    random_init: bool = False,
    out_dir: Optional[str] = None,
    metrics_path: Optional[str] = None,
) -> Tuple[str, str]:
    """Entry point of ``python3 -m training export``."""
    if random_init == bool(checkpoint):
        raise ExportError("give exactly one of --checkpoint PATH or --random-init")
    metrics: Dict[str, Any] = {}
    if checkpoint:
        model = model_from_checkpoint(checkpoint)
        state = read_checkpoint(checkpoint)
        best = state["progress"].get("best_metrics")
        metrics = {"validation": best} if best else {}
        trained_cfg = dict(cfg, data=state["config"]["data"])
    else:
        torch.manual_seed(int(cfg["run"]["seed"]))
        model = build_random_init(cfg["model"])
        trained_cfg = cfg
    if metrics_path:
        with open(metrics_path, "r", encoding="utf-8") as fh:
            metrics = json.load(fh)
    out_dir = out_dir or cfg["export"]["out"] or os.path.join(cfg["run"]["dir"], "export")
    metadata = build_metadata(model, trained_cfg, metrics, trained=bool(checkpoint))
    return export_model(model, out_dir, metadata, opset=int(cfg["export"]["opset"]))
