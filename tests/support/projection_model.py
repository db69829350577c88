"""Writes a small ONNX model that keeps geoloc's model contract and tells images apart.

The random-init SPE-Net descriptors barely depend on the image (its CLS token starts near
zero and the fusion starts at zero), so retrieval tests need another real model: block-
averaged pixels through a seeded random projection, L2-normalised; foreground is the
sigmoid of the per-patch mean. Same input/output names, shapes and metadata as an export.

usage: /usr/bin/python3 tests/support/projection_model.py --out DIR [--dim 64] [--size 56]
"""

import argparse
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

PATCH = 14
BLOCK = 4
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
OPSET = 17


def build(dim: int, size: int, seed: int) -> onnx.ModelProto:
    features = 3 * (size // BLOCK) ** 2
    weights = np.random.default_rng(seed).standard_normal((features, dim)).astype(np.float32)
    nodes = [
        helper.make_node("AveragePool", ["image"], ["blocks"], kernel_shape=[BLOCK, BLOCK], strides=[BLOCK, BLOCK]),
        helper.make_node("Flatten", ["blocks"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "projection"], ["projected"]),
        helper.make_node("LpNormalization", ["projected"], ["descriptor"], axis=1, p=2),
        helper.make_node("AveragePool", ["image"], ["patches"], kernel_shape=[PATCH, PATCH], strides=[PATCH, PATCH]),
        helper.make_node("ReduceMean", ["patches"], ["patch_mean"], axes=[1], keepdims=0),
        helper.make_node("Sigmoid", ["patch_mean"], ["foreground"]),
    ]
    graph = helper.make_graph(
        nodes,
        "geoloc-test-projection",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, size, size])],
        [
            helper.make_tensor_value_info("descriptor", TensorProto.FLOAT, ["N", dim]),
            helper.make_tensor_value_info("foreground", TensorProto.FLOAT, ["N", size // PATCH, size // PATCH]),
        ],
        initializer=[numpy_helper.from_array(weights, "projection")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--size", type=int, default=56)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = build(args.dim, args.size, args.seed)
    meta = {
        "inputSize": [args.size, args.size],
        "mean": MEAN,
        "std": STD,
        "dim": args.dim,
        "backbone": "test-projection",
        "version": "1",
        "trainingData": "none (block means through a seeded random projection, for tests)",
        "metrics": {},
        "patchSize": PATCH,
    }
    props = {"inputSize": "geoloc.input_size", "mean": "geoloc.mean", "std": "geoloc.std", "dim": "geoloc.dim", "backbone": "geoloc.backbone", "version": "geoloc.version", "trainingData": "geoloc.training_data", "metrics": "geoloc.metrics"}
    helper.set_model_props(model, {props[k]: json.dumps(v) for k, v in meta.items() if k in props})
    onnx.checker.check_model(model)
    os.makedirs(args.out, exist_ok=True)
    onnx.save(model, os.path.join(args.out, "model.onnx"))
    with open(os.path.join(args.out, "model.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)


if __name__ == "__main__":
    main()
