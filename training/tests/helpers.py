"""Paths, the training CLI and the onnxruntime-node runner shared by the tests."""

import json
import os
import subprocess

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SYNTHETIC_U1652 = os.path.join(REPO_ROOT, "fixtures", "cache", "datasets", "University-1652")
SYNTHETIC_SUES200 = os.path.join(REPO_ROOT, "fixtures", "cache", "datasets", "SUES-200")
TINY_CONFIG = os.path.join(REPO_ROOT, "training", "configs", "tiny.yaml")

ORT_NODE = os.path.join(REPO_ROOT, "node_modules", "onnxruntime-node")
ORT_RUN = os.path.join(os.path.dirname(__file__), "ort_run.js")


def run_training_cli(*args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    """``python3 -m training ARGS`` from the repository root, as the Node CLI spawns it."""
    return subprocess.run(["/usr/bin/python3", "-m", "training", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=timeout)


def assert_refused(result: subprocess.CompletedProcess, code: str, *named: str) -> None:
    """Exit status 2 with ``code`` and every ``named`` text on stderr, and no traceback."""
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    for text in (code, *named):
        assert text in result.stderr, result.stderr[-3000:]


def run_onnxruntime_node(model_path: str, image: np.ndarray, work: str):
    image.astype("<f4").tofile(os.path.join(work, "input.bin"))
    subprocess.run(
        ["node", ORT_RUN, model_path, os.path.join(work, "input.bin"), ",".join(map(str, image.shape)), work],
        check=True, capture_output=True, timeout=120,
    )
    with open(os.path.join(work, "shapes.json")) as fh:
        shapes = json.load(fh)
    return {name: np.fromfile(os.path.join(work, f"{name}.bin"), dtype="<f4").reshape(shape) for name, shape in shapes.items()}
