"""Training throughput (pairs/s) and peak memory of SPE-Net on CPU.

Runs each configuration in its own process so peak RSS (getrusage) belongs to it alone, and
reports ratios against the tiny configuration measured in the same run. Synthetic tensors
stand in for images so the figures measure the model, not JPEG decoding.

    /usr/bin/python3 bench/train_throughput.py [--steps 5] [--batch 8] [--threads 2]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = {
    "tiny": ["training/configs/tiny.yaml"],
    "vit_small14@224": ["training/configs/base.yaml", "model.backbone=vit_small14", "model.img_size=[224,224]"],
}


def measure(config: str, overrides, steps: int, batch: int, threads: int) -> dict:
    import torch

    sys.path.insert(0, REPO_ROOT)
    from training.config import load_config
    from training.losses import SPENetLoss
    from training.models import build_spenet

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = load_config(os.path.join(REPO_ROOT, config), overrides)
    model = build_spenet(cfg["model"]).train()
    loss_fn = SPENetLoss.from_config(cfg["loss"])
    optimizer = torch.optim.AdamW(list(model.parameters()) + list(loss_fn.parameters()), lr=1e-4)
    h, w = model.img_size
    views = 3 if loss_fn.uses_srs else 2  # drone, satellite and the SRS re-sampled satellite

    def step():
        images = torch.randn(views * batch, 3, h, w)
        out = loss_fn(*model(images).descriptor.chunk(views))
        optimizer.zero_grad(set_to_none=True)
        out.total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    step()  # warm-up: allocator and kernel selection
    started = time.perf_counter()
    for _ in range(steps):
        step()
    elapsed = time.perf_counter() - started
    return {
        "pairs_per_s": steps * batch / elapsed,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "img_size": [h, w],
        "backbone": model.spec.name,
        "params_m": sum(p.numel() for p in model.parameters()) / 1e6,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8, help="pairs per step")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--case", choices=sorted(CASES), help=argparse.SUPPRESS)  # child-process mode
    args = parser.parse_args()
    if args.case:
        config, *overrides = CASES[args.case]
        print(json.dumps(measure(config, overrides, args.steps, args.batch, args.threads)))
        return 0

    results = {}
    for case in CASES:
        cmd = [sys.executable, os.path.abspath(__file__), "--case", case, "--steps", str(args.steps),
               "--batch", str(args.batch), "--threads", str(args.threads)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO_ROOT)
        results[case] = json.loads(out.stdout.strip().splitlines()[-1])
    base = results["tiny"]
    print(f"CPU, {args.threads} threads, batch {args.batch} pairs (+ SRS satellite view), {args.steps} timed steps")
    print(f"{'config':<18}{'size':>10}{'params':>9}{'pairs/s':>10}{'x tiny':>9}{'peak RSS':>12}{'x tiny':>9}")
    for case, r in results.items():
        print(
            f"{case:<18}{'x'.join(map(str, r['img_size'])):>10}{r['params_m']:>8.1f}M{r['pairs_per_s']:>10.2f}"
            f"{r['pairs_per_s'] / base['pairs_per_s']:>9.3f}{r['peak_rss_mib']:>9.0f} MiB"
            f"{r['peak_rss_mib'] / base['peak_rss_mib']:>9.2f}"
        )
    print("GPU: not measured (no GPU is lent to this task).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
