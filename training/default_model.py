"""Recipe for the embedded default model: train, evaluate trained and untrained, export.

    /usr/bin/python3 -m training.default_model [--out fixtures/model] [key.path=value ...]

Uses training/configs/default.yaml. Writes model.onnx, model.json and metrics.json into
--out; the untrained baseline is the same architecture from the same seed, before training.
"""

import argparse
import hashlib
import json
import logging
import os
import platform
import sys
import time
from typing import List, Optional

import torch

from . import __version__
from .config import CONFIG_DIR, apply_overrides, load_config
from .errors import DatasetLayoutError, GeolocError
from .evaluate import run_evaluate
from .export import run_export
from .runtime import setup_logging
from .train import train

log = logging.getLogger("training.default_model")
DEFAULT_CONFIG = os.path.join(CONFIG_DIR, "default.yaml")
HEADLINE = "drone->satellite"


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dataset_fingerprint(root: str) -> dict:
    """File count and a hash of every file's relative path and size: detects a dataset
    regenerated while the recipe runs, and identifies the data the model was made from."""
    digest, count = hashlib.sha256(), 0
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            digest.update(f"{os.path.relpath(path, root)}:{os.path.getsize(path)}\n".encode())
            count += 1
    return {"files": count, "sha256": digest.hexdigest()}


def make_default_model(out_dir: str, overrides: List[str]) -> dict:
    cfg = load_config(DEFAULT_CONFIG, overrides)
    run_dir = cfg["run"]["dir"]
    setup_logging(run_dir)
    fingerprint = dataset_fingerprint(cfg["data"]["root"])

    untrained = run_evaluate(apply_overrides(cfg, [f"eval.output={os.path.join(run_dir, 'eval_untrained.json')}"]), random_init=True)
    started = time.time()
    progress = train(cfg)
    train_seconds = time.time() - started
    checkpoint = os.path.join(run_dir, "best.pt")
    eval_path = os.path.join(run_dir, "eval.json")
    trained = run_evaluate(apply_overrides(cfg, [f"eval.output={eval_path}"]), checkpoint=checkpoint)
    if dataset_fingerprint(cfg["data"]["root"]) != fingerprint:
        raise DatasetLayoutError(f"{cfg['data']['root']} changed while the default model was being made; run again")
    onnx_path, _ = run_export(cfg, checkpoint=checkpoint, out_dir=out_dir, metrics_path=eval_path)

    r1_before = untrained["protocols"][HEADLINE]["recall@1"]
    r1_after = trained["protocols"][HEADLINE]["recall@1"]
    metrics = {
        "model": trained["model"],
        "dataset": trained["dataset"],
        "root": trained["root"],
        "dataset_fingerprint": fingerprint,
        "split": "test",
        "headline": {
            "protocol": f"{HEADLINE}: every query_drone image against every gallery_satellite image (distractors included)",
            "untrained_recall@1": r1_before,
            "trained_recall@1": r1_after,
            "gain_points": r1_after - r1_before,
        },
        "untrained": untrained["protocols"],
        "trained": trained["protocols"],
        "training": {
            "seconds": round(train_seconds, 1),
            "steps": progress["step"],
            "epochs": progress["epoch"] + 1,
            "best_epoch": progress["best_epoch"],
            "validation_at_best": progress["best_metrics"],
            "torch_threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "package_version": __version__,
        },
        "onnx": {"file": os.path.basename(onnx_path), "bytes": os.path.getsize(onnx_path), "sha256": _sha256(onnx_path)},
        "config": cfg,
    }
    with open(os.path.join(out_dir, "metrics.json"), "w", encoding="utf-8") as fh:
        json.dump(metrics, fh, indent=2)
        fh.write("\n")
    log.info("default model: %s R@1 %.2f -> %.2f (+%.2f points), trained in %.0f s",
             HEADLINE, r1_before, r1_after, r1_after - r1_before, train_seconds)
    return metrics


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m training.default_model", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="fixtures/model", help="folder for model.onnx, model.json, metrics.json")
    parser.add_argument("overrides", nargs="*", metavar="key.path=value", help="overrides of default.yaml")
    args = parser.parse_args(argv)
    setup_logging()
    try:
        make_default_model(args.out, args.overrides)
    except GeolocError as exc:
        log.error("%s", exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
