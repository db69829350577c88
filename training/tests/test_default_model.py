"""The committed default model (fixtures/model): contract, size and recorded gain over untrained."""

import json
import os
import shutil

import numpy as np
import onnx
import pytest

from .helpers import ORT_NODE, REPO_ROOT, run_onnxruntime_node

MODEL_DIR = os.path.join(REPO_ROOT, "fixtures", "model")
pytestmark = pytest.mark.skipif(not os.path.isfile(os.path.join(MODEL_DIR, "model.onnx")),
                                reason=f"no default model at {MODEL_DIR}")


def _read(name):
    with open(os.path.join(MODEL_DIR, name)) as fh:
        return json.load(fh)


def test_metrics_record_the_gain_over_untrained():
    metrics = _read("metrics.json")
    headline = metrics["headline"]
    assert headline["trained_recall@1"] == metrics["trained"]["drone->satellite"]["recall@1"]
    assert headline["untrained_recall@1"] == metrics["untrained"]["drone->satellite"]["recall@1"]
    assert headline["trained_recall@1"] - headline["untrained_recall@1"] >= 30
    assert metrics["training"]["seconds"] <= 30 * 60
    assert metrics["trained"]["drone->satellite"]["num_distractor_locations"] > 0


def test_model_file_matches_its_metadata():
    path = os.path.join(MODEL_DIR, "model.onnx")
    assert os.path.getsize(path) <= 25 * 2**20
    meta = _read("model.json")
    props = {p.key: p.value for p in onnx.load(path).metadata_props}
    assert json.loads(props["geoloc.input_size"]) == meta["inputSize"]
    assert int(props["geoloc.dim"]) == meta["dim"] and props["geoloc.backbone"] == meta["backbone"]
    assert json.loads(props["geoloc.metrics"]) == meta["metrics"]
    assert _read("metrics.json")["onnx"]["bytes"] == os.path.getsize(path)


@pytest.mark.skipif(shutil.which("node") is None or not os.path.isdir(ORT_NODE), reason="node or onnxruntime-node missing")
def test_runs_in_onnxruntime_node(tmp_path):
    meta = _read("model.json")
    h, w = meta["inputSize"]
    image = np.random.default_rng(0).standard_normal((2, 3, h, w)).astype(np.float32)
    out = run_onnxruntime_node(os.path.join(MODEL_DIR, "model.onnx"), image, str(tmp_path))
    assert out["descriptor"].shape == (2, meta["dim"])
    assert np.allclose(np.linalg.norm(out["descriptor"], axis=1), 1, atol=1e-4)
    assert out["foreground"].shape == (2, h // 14, w // 14)
    assert out["foreground"].std() > 1e-3  # a learnt map, not the constant 0.5 of a dead RDM
