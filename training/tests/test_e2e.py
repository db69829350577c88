"""Train a few steps, evaluate by the official protocol, export: through the real CLI."""

import json
import os

import onnx
import pytest
import yaml

from .helpers import SYNTHETIC_U1652, TINY_CONFIG, assert_refused, run_training_cli


def cli(*args):
    result = run_training_cli(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def run_end_to_end(root: str, run_dir: str, extra=()):
    overrides = [f"run.dir={run_dir}", f"data.root={root}", "train.max_steps=4", "train.batch_size=4",
                 "data.val_fraction=0.34", "data.val_drones_per_location=2", *extra]
    cli("train", "--config", TINY_CONFIG, *overrides)
    with open(os.path.join(run_dir, "config.yaml")) as fh:
        merged = yaml.safe_load(fh)
    assert merged["data"]["root"] == root and merged["train"]["max_steps"] == 4
    records = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]
    assert records[-1]["step"] == 4 and "val" in records[-1]

    cli("evaluate", "--config", TINY_CONFIG, "--checkpoint", os.path.join(run_dir, "best.pt"), *overrides)
    with open(os.path.join(run_dir, "eval.json")) as fh:
        results = json.load(fh)
    protocols = results["protocols"]
    assert set(protocols) == {"drone->satellite", "satellite->drone"}
    for metrics in protocols.values():
        assert 0 <= metrics["recall@1"] <= metrics["recall@5"] <= metrics["recall@10"] <= 100

    out = os.path.join(run_dir, "export")
    cli("export", "--config", TINY_CONFIG, "--checkpoint", os.path.join(run_dir, "best.pt"), "--out", out,
        "--metrics", os.path.join(run_dir, "eval.json"))
    props = {p.key: p.value for p in onnx.load(os.path.join(out, "model.onnx")).metadata_props}
    assert json.loads(props["geoloc.metrics"])["protocols"] == protocols
    assert root in props["geoloc.training_data"]
    return results


def test_end_to_end_on_generated_layout(u1652_root, tmp_path):
    results = run_end_to_end(u1652_root, str(tmp_path / "run"))
    assert results["protocols"]["drone->satellite"]["num_distractor_locations"] == 2


@pytest.mark.skipif(not os.path.isdir(SYNTHETIC_U1652), reason=f"synthetic University-1652 not generated at {SYNTHETIC_U1652}")
def test_end_to_end_on_synthetic_university1652(tmp_path):
    results = run_end_to_end(SYNTHETIC_U1652, str(tmp_path / "run"), ["data.pairs_per_location=2"])
    assert results["protocols"]["drone->satellite"]["num_distractor_locations"] > 0


def test_resume_continues_after_the_saved_epoch(u1652_root, tmp_path):
    run_dir = str(tmp_path / "run")
    common = ["--config", TINY_CONFIG, f"run.dir={run_dir}", f"data.root={u1652_root}", "train.batch_size=4",
              "data.val_fraction=0.34"]
    cli("train", *common, "train.epochs=1")
    cli("train", *common, "train.epochs=2", "--resume", os.path.join(run_dir, "last.pt"))
    records = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]
    assert [r["epoch"] for r in records] == [0, 1]
    assert records[1]["step"] == 2 * records[0]["step"]
    # Resuming a run that already reached train.epochs would do nothing and write nothing.
    nothing_left = run_training_cli("train", *common, "train.epochs=2", "--resume", os.path.join(run_dir, "last.pt"))
    assert_refused(nothing_left, "GEOLOC_ERR_CONFIG", "train.epochs=2")


def test_evaluate_random_init_ignores_model_weights(u1652_root, tmp_path):
    run_dir = tmp_path / "run"
    weights = tmp_path / "absent_dinov2.pth"  # loading it would fail: proof that it is not loaded
    result = cli("evaluate", "--config", TINY_CONFIG, "--random-init", f"run.dir={run_dir}", f"data.root={u1652_root}",
                 f"model.weights={weights}")
    assert f"model.weights={weights} is ignored" in result.stderr
    assert json.loads((run_dir / "eval.json").read_text())["checkpoint"] is None


def test_time_limit_stops_training_with_a_checkpoint(u1652_root, tmp_path):
    run_dir = str(tmp_path / "run")
    cli("train", "--config", TINY_CONFIG, f"run.dir={run_dir}", f"data.root={u1652_root}", "train.batch_size=4",
        "data.val_fraction=0.34", "train.epochs=50", "train.time_limit_minutes=1e-9")
    records = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]
    assert len(records) == 1 and records[0]["step"] <= 1 and "val" in records[0]
    assert os.path.isfile(os.path.join(run_dir, "best.pt"))
