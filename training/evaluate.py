"""Evaluation by the official protocols, and the ``evaluate`` entry point.

University-1652: drone→satellite with every query_drone image against every
gallery_satellite image (distractor locations included as negatives), and
satellite→drone with every query_satellite image against every gallery_drone image.
SUES-200: the same two directions for each altitude. Counts come from the folders.
"""

import json
import logging
import os
from typing import Any, Dict, List, Optional, Sequence

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from .checkpoint import model_from_checkpoint
from .config import Config
from .data import ImageList, Item, Protocol, collate_skipping, dataset_class, eval_transform
from .metrics import retrieval_metrics
from .models import SPENet, build_random_init, build_spenet
from .runtime import autocast, setup_runtime

log = logging.getLogger(__name__)


@torch.no_grad()
def embed_items(
    model: SPENet,
    items: Sequence[Item],
    device: torch.device,
    batch_size: int = 64,
    num_workers: int = 0,
    desc: str = "embed",
):
    """Descriptors of the readable ``items``: (descriptors [n, D], labels [n], skipped count)."""
    transform = eval_transform(model.img_size, model.spec.mean, model.spec.std)
    loader = DataLoader(ImageList(items, transform), batch_size=batch_size, num_workers=num_workers, collate_fn=collate_skipping)
    model.eval()
    descriptors, indices, skipped = [], [], 0
    for batch in tqdm(loader, desc=desc, leave=False, disable=None):
        skipped += batch["skipped"]
        if "image" not in batch:
            continue
        with autocast(device, enabled=True):
            out = model(batch["image"].to(device, non_blocking=True))
        descriptors.append(out.descriptor.float().cpu())
        indices.append(batch["index"])
    if not descriptors:
        return torch.empty(0, model.dim), torch.empty(0, dtype=torch.long), skipped
    index = torch.cat(indices)
    labels = torch.tensor([items[i].label for i in index.tolist()], dtype=torch.long)
    return torch.cat(descriptors), labels, skipped


def evaluate_protocol(model: SPENet, protocol: Protocol, device: torch.device, batch_size: int = 64, num_workers: int = 0) -> Dict[str, Any]:
    queries, query_labels, skipped_q = embed_items(model, protocol.queries, device, batch_size, num_workers, f"{protocol.name} queries")
    gallery, gallery_labels, skipped_g = embed_items(model, protocol.gallery, device, batch_size, num_workers, f"{protocol.name} gallery")
    metrics = retrieval_metrics(queries @ gallery.t(), query_labels, gallery_labels)
    query_ids = set(query_labels.tolist())
    metrics["num_gallery_locations"] = len(set(gallery_labels.tolist()))
    # Gallery locations no query belongs to: distractors, counted as negatives.
    metrics["num_distractor_locations"] = len(set(gallery_labels.tolist()) - query_ids)
    metrics["skipped_images"] = skipped_q + skipped_g
    return metrics


def evaluate_model(model: SPENet, protocols: List[Protocol], device: torch.device, batch_size: int = 64, num_workers: int = 0) -> Dict[str, Dict[str, Any]]:
    results = {}
    for protocol in protocols:
        results[protocol.name] = evaluate_protocol(model, protocol, device, batch_size, num_workers)
        m = results[protocol.name]
        log.info(
            "%s: R@1 %.2f  R@5 %.2f  R@10 %.2f  R@top1%% %.2f  AP %.2f  (%d queries, %d gallery)",
            protocol.name, m["recall@1"], m["recall@5"], m["recall@10"], m["recall@top1%"], m["ap"],
            m["num_queries"], m["num_gallery"],
        )
    return results


def official_protocols(cfg: Config) -> List[Protocol]:
    name = cfg["eval"]["dataset"] or cfg["data"]["dataset"]
    root = cfg["eval"]["root"] or cfg["data"]["root"]
    return dataset_class(name).test_protocols(root, cfg["eval"]["altitudes"])


def run_evaluate(cfg: Config, checkpoint: Optional[str] = None, random_init: bool = False) -> Dict[str, Any]:
    """Entry point of ``python3 -m training evaluate``; returns the results and writes them as JSON."""
    device = setup_runtime(cfg)
    if checkpoint:
        model = model_from_checkpoint(checkpoint)
    elif random_init:
        model = build_random_init(cfg["model"])
    else:
        model = build_spenet(cfg["model"])
    model.to(device)
    protocols = official_protocols(cfg)
    results = {
        "dataset": cfg["eval"]["dataset"] or cfg["data"]["dataset"],
        "root": cfg["eval"]["root"] or cfg["data"]["root"],
        "split": "test",
        "checkpoint": checkpoint,
        "model": {"backbone": model.spec.name, "img_size": list(model.img_size), "dim": model.dim,
                  "descriptor": model.lrmm.fam.mode},
        "protocols": evaluate_model(model, protocols, device, int(cfg["eval"]["batch_size"]), int(cfg["data"]["num_workers"])),
    }
    output = cfg["eval"]["output"] or os.path.join(cfg["run"]["dir"], "eval.json")
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=2)
        fh.write("\n")
    log.info("wrote %s", output)
    return results
