"""ONNX export contract, and parity between PyTorch and onnxruntime-node."""

import json
import os
import shutil

import numpy as np
import onnx
import pytest
import torch

from training.config import load_config
from training.export import build_metadata, export_model
from training.models import build_spenet

from .helpers import ORT_NODE, TINY_CONFIG, assert_refused, run_onnxruntime_node, run_training_cli


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    cfg = load_config(TINY_CONFIG, ["model.img_size=[56,70]"])
    torch.manual_seed(0)
    model = build_spenet(cfg["model"]).eval()
    with torch.no_grad():  # zero-initialised heads would make the foreground map trivially 0.5
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.05)
    out = tmp_path_factory.mktemp("export")
    metadata = build_metadata(model, cfg, {"val": {"recall@1": 12.5}}, trained=False)
    onnx_path, json_path = export_model(model, str(out), metadata)
    return model, onnx_path, json_path


def test_graph_contract_and_metadata(exported):
    model, onnx_path, json_path = exported
    proto = onnx.load(onnx_path)
    assert proto.opset_import[0].version == 17
    assert [i.name for i in proto.graph.input] == ["image"]
    assert [o.name for o in proto.graph.output] == ["descriptor", "foreground"]

    def dims(value):
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    assert dims(proto.graph.input[0]) == ["batch", 3, 56, 70]
    assert dims(proto.graph.output[0]) == ["batch", 64]
    assert dims(proto.graph.output[1]) == ["batch", 4, 5]
    props = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(props["geoloc.input_size"]) == [56, 70]
    assert json.loads(props["geoloc.mean"]) == [0.485, 0.456, 0.406]
    assert json.loads(props["geoloc.std"]) == [0.229, 0.224, 0.225]
    assert props["geoloc.dim"] == "64" and props["geoloc.backbone"] == "vit_tiny14"
    assert props["geoloc.version"] and props["geoloc.training_data"].startswith("none")
    assert json.loads(props["geoloc.metrics"]) == {"val": {"recall@1": 12.5}}
    with open(json_path) as fh:
        meta = json.load(fh)
    assert meta == {
        "inputSize": [56, 70], "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "dim": 64,
        "backbone": "vit_tiny14", "version": props["geoloc.version"], "trainingData": props["geoloc.training_data"],
        "metrics": {"val": {"recall@1": 12.5}}, "patchSize": 14,
    }


@pytest.mark.skipif(shutil.which("node") is None or not os.path.isdir(ORT_NODE),
                    reason=f"node or onnxruntime-node ({ORT_NODE}) is not installed")
@pytest.mark.parametrize("batch", [1, 3])
def test_parity_with_onnxruntime_node(exported, tmp_path, batch):
    model, onnx_path, _ = exported
    image = np.random.default_rng(batch).standard_normal((batch, 3, 56, 70)).astype(np.float32)
    ort = run_onnxruntime_node(onnx_path, image, str(tmp_path))
    with torch.no_grad():
        ref = model(torch.from_numpy(image))
    assert ort["descriptor"].shape == (batch, 64) and ort["foreground"].shape == (batch, 4, 5)
    assert np.abs(ort["descriptor"] - ref.descriptor.numpy()).max() <= 1e-4
    assert np.abs(ort["foreground"] - ref.foreground.numpy()).max() <= 1e-4
    assert ref.foreground.std() > 1e-3  # the map carries information, so the comparison means something


def test_cli_random_init_export(tmp_path):
    weights = tmp_path / "absent_dinov2.pth"  # loading it would fail: proof that it is not loaded
    result = run_training_cli("export", "--config", TINY_CONFIG, "--random-init", "--out", str(tmp_path),
                              f"model.weights={weights}")
    assert result.returncode == 0, result.stderr
    assert f"random initialisation; model.weights={weights} is ignored" in result.stderr
    assert (tmp_path / "model.onnx").stat().st_size > 0
    assert json.loads((tmp_path / "model.json").read_text())["backbone"] == "vit_tiny14"


def test_opset_torch_cannot_write_is_a_coded_error(tmp_path):
    result = run_training_cli("export", "--config", TINY_CONFIG, "--random-init", "--out", str(tmp_path),
                              "export.opset=3")
    assert_refused(result, "GEOLOC_ERR_EXPORT", "export.opset=3")
