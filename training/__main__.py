"""Command line: ``python3 -m training {train,evaluate,export} [--config FILE] [key.path=value ...]``.

The Node CLI (``geoloc train|evaluate|export``) spawns exactly this with the repository root
as working directory.
"""

import argparse
import logging
import sys
from typing import List, Optional

from .config import load_config
from .errors import GeolocError
from .runtime import setup_logging

log = logging.getLogger("training")

OVERRIDES_HELP = (
    "config overrides as key.path=value, e.g. train.epochs=5 model.img_size=[112,112] "
    "(keys must exist in training/configs/base.yaml)"
)

EPILOG = """examples:
  python3 -m training train --config training/configs/tiny.yaml run.dir=runs/smoke train.max_steps=5
  python3 -m training evaluate --checkpoint runs/smoke/best.pt
  python3 -m training export --config training/configs/tiny.yaml --random-init --out /tmp/tiny-model
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m training",
        description="SPE-Net training, evaluation and ONNX export for geoloc.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{train,evaluate,export}")

    def add(name: str, help_text: str, description: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=description)
        p.add_argument("--config", help="YAML config (default: training/configs/base.yaml); see training/configs/")
        p.add_argument("overrides", nargs="*", metavar="key.path=value", help=OVERRIDES_HELP)
        return p

    train = add(
        "train",
        "train SPE-Net",
        "Train SPE-Net on data.dataset under data.root. Writes the merged config, log.txt, metrics.jsonl, "
        "last.pt and best.pt (selected on a validation split of the training locations) into run.dir.",
    )
    train.add_argument("--resume", metavar="CKPT", help="resume from a checkpoint (same as train.resume=CKPT)")

    evaluate = add(
        "evaluate",
        "evaluate a checkpoint by the official protocols",
        "Evaluate on the test split by the official protocols: University-1652 drone->satellite and "
        "satellite->drone over all queries and galleries (distractors included); SUES-200 per altitude. "
        "Prints and writes JSON (eval.output, default <run.dir>/eval.json) with Recall@1/5/10, "
        "Recall@top1%% and AP.",
    )
    group = evaluate.add_mutually_exclusive_group(required=True)
    group.add_argument("--checkpoint", metavar="CKPT", help="a last.pt/best.pt written by train")
    group.add_argument("--random-init", action="store_true", help="evaluate the untrained architecture")

    export = add(
        "export",
        "export a checkpoint (or a random model) to ONNX",
        "Export to ONNX opset 17: input 'image' [N,3,H,W] (normalised), outputs 'descriptor' [N,D] and "
        "'foreground' [N,H/14,W/14], geoloc.* metadata; also writes model.json beside model.onnx.",
    )
    group = export.add_mutually_exclusive_group(required=True)
    group.add_argument("--checkpoint", metavar="CKPT", help="a last.pt/best.pt written by train")
    group.add_argument("--random-init", action="store_true", help="export an untrained model (for tests)")
    export.add_argument("--out", metavar="DIR", help="output folder (default export.out or <run.dir>/export)")
    export.add_argument("--metrics", metavar="JSON", help="metrics JSON to embed (e.g. an eval.json)")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    try:
        overrides = list(args.overrides)
        if getattr(args, "resume", None):
            overrides.append(f"train.resume={args.resume}")
        cfg = load_config(args.config, overrides)
        # Imported per command: export needs onnx, train and evaluate need torchvision.
        if args.command == "train":
            from .train import train

            train(cfg)
        elif args.command == "evaluate":
            from .evaluate import run_evaluate

            run_evaluate(cfg, checkpoint=args.checkpoint, random_init=args.random_init)
        else:
            from .export import run_export

            run_export(cfg, checkpoint=args.checkpoint, random_init=args.random_init, out_dir=args.out,
                       metrics_path=args.metrics)
    except GeolocError as exc:
        log.error("%s", exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
