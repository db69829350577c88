"""The ``train`` entry point: SPE-Net on University-1652 or SUES-200.

Model selection uses a validation split carved from the training locations; the test split
is only touched by ``evaluate``.
"""

import json
import logging
import math
import os
import time
from typing import Any, Dict, List, Optional

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from .checkpoint import read_checkpoint, save_checkpoint
from .config import Config, save_config
from .config_schema import MIN_PAIRS_PER_BATCH
from .data import (
    CrossViewPairs,
    PairTransform,
    Protocol,
    UniqueLocationBatchSampler,
    collate_skipping,
    dataset_class,
    split_train_val,
    validation_protocol,
)
from .errors import ConfigError
from .evaluate import evaluate_model
from .losses import SPENetLoss
from .models import SPENet, build_spenet, load_model_state
from .runtime import autocast, setup_logging, setup_runtime

log = logging.getLogger(__name__)

# The two ways of naming the checkpoint to resume from; errors about it name both.
RESUME_OPTION = "--resume (train.resume)"


def make_grad_scaler(enabled: bool):
    # torch.amp.GradScaler appeared in torch 2.3; torch.cuda.amp's is deprecated there.
    if hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler("cuda", enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)


def param_groups(model: SPENet, loss: SPENetLoss, lr: float, backbone_lr_scale: float, weight_decay: float) -> List[Dict[str, Any]]:
    """Backbone and head learning rates; no weight decay on norms, biases, tokens and scales."""
    groups: Dict[tuple, List[torch.nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        scale = backbone_lr_scale if name.startswith("backbone.") else 1.0
        decay = param.ndim > 1 and not name.endswith(("pos_embed", "cls_token"))
        groups.setdefault((scale, decay), []).append(param)
    out = [
        {"params": params, "lr": lr * scale, "base_lr": lr * scale, "weight_decay": weight_decay if decay else 0.0}
        for (scale, decay), params in sorted(groups.items())
    ]
    out.append({"params": list(loss.parameters()), "lr": lr, "base_lr": lr, "weight_decay": 0.0})
    return out


def lr_factor(step: int, total_steps: int, warmup_steps: int, min_ratio: float) -> float:
    """Linear warmup to 1, then cosine decay to ``min_ratio``."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def build_train_data(cfg: Config, model: SPENet):
    """Training pairs and the validation protocol of the held-out training locations."""
    data = cfg["data"]
    cls = dataset_class(data["dataset"])
    if data["dataset"] == "sues200":
        locations = cls.train_locations(data["root"], data["altitudes"])
    else:
        locations = cls.train_locations(data["root"])
    train_locs, val_locs = split_train_val(locations, float(data["val_fraction"]), int(cfg["run"]["seed"]))
    transform = PairTransform(model.img_size, model.spec.mean, model.spec.std, data["augment"])
    dataset = cls(train_locs, transform, resample_satellite=float(cfg["loss"]["srs_weight"]) > 0)
    val = validation_protocol(val_locs, data["val_drones_per_location"]) if val_locs else None
    log.info(
        "%s: %d training locations (%d pairs), %d validation locations (%d queries)",
        data["dataset"], len({loc.place for loc in train_locs}), len(dataset), len({loc.place for loc in val_locs}),
        len(val.queries) if val else 0,
    )
    return dataset, val


class Trainer:
    """Optimizer, schedule, AMP, clipping, validation-based selection and checkpoints for one run."""

    def __init__(self, cfg: Config, model: SPENet, loss_fn: SPENetLoss, dataset: CrossViewPairs,
                 val_protocol: Optional[Protocol], device: torch.device):
        self.cfg, self.tcfg = cfg, cfg["train"]
        self.model, self.loss_fn, self.device = model, loss_fn, device
        self.val_protocol = val_protocol
        self.run_dir = cfg["run"]["dir"]
        self.workers = int(cfg["data"]["num_workers"])
        try:
            self.sampler = UniqueLocationBatchSampler(
                dataset.pair_places, int(self.tcfg["batch_size"]), seed=int(cfg["run"]["seed"]), drop_last=True,
                pairs_per_location=cfg["data"]["pairs_per_location"],
            )
        except ValueError as exc:  # the only refusal: more pairs per batch than training locations
            raise ConfigError(f"train.batch_size is too large: {exc} of the training split "
                              "(a batch holds each location at most once)") from None
        self.loader = DataLoader(
            dataset, batch_sampler=self.sampler, num_workers=self.workers, collate_fn=collate_skipping,
            pin_memory=device.type == "cuda", persistent_workers=self.workers > 0,
        )
        lr = float(self.tcfg["lr"])
        self.optimizer = torch.optim.AdamW(
            param_groups(model, loss_fn, lr, float(self.tcfg["backbone_lr_scale"]), float(self.tcfg["weight_decay"]))
        )
        self.use_amp = bool(self.tcfg["amp"]) and device.type == "cuda"
        self.scaler = make_grad_scaler(self.use_amp)
        self.epochs = int(self.tcfg["epochs"])
        steps_per_epoch = len(self.sampler)
        self.total_steps = self.epochs * steps_per_epoch
        if self.tcfg["max_steps"]:
            self.total_steps = min(self.total_steps, int(self.tcfg["max_steps"]))
        self.warmup_steps = int(round(float(self.tcfg["warmup_epochs"]) * steps_per_epoch))
        self.time_limit = float(self.tcfg["time_limit_minutes"] or 0) * 60
        self.started = time.time()
        self.progress: Dict[str, Any] = {"epoch": -1, "step": 0, "best_metrics": {}, "best_epoch": None}

    def resume(self, path: str) -> None:
        state = read_checkpoint(path, RESUME_OPTION)
        load_model_state(self.model, state["model"], path)
        self.loss_fn.load_state_dict(state["loss"])
        self.optimizer.load_state_dict(state["optimizer"])
        if state["scaler"] is not None:
            self.scaler.load_state_dict(state["scaler"])
        self.progress = state["progress"]
        if self.progress["epoch"] + 1 >= self.epochs or self.progress["step"] >= self.total_steps:
            raise ConfigError(
                f"{path} has already trained {self.progress['epoch'] + 1} epochs ({self.progress['step']} steps): "
                f"nothing is left at train.epochs={self.epochs}, train.max_steps={self.tcfg['max_steps']}; "
                "raise them to train on"
            )
        log.info("resumed from %s at epoch %d, step %d", path, self.progress["epoch"] + 1, self.progress["step"])

    def finished(self) -> bool:
        out_of_time = bool(self.time_limit) and time.time() - self.started > self.time_limit
        return self.progress["step"] >= self.total_steps or out_of_time

    def step(self, batch: Dict[str, Any]):
        factor = lr_factor(self.progress["step"], self.total_steps, self.warmup_steps, float(self.tcfg["min_lr_ratio"]))
        for group in self.optimizer.param_groups:
            group["lr"] = group["base_lr"] * factor
        views = [batch["drone"], batch["satellite"]]
        if "satellite_resampled" in batch:
            views.append(batch["satellite_resampled"])
        images = torch.cat(views).to(self.device, non_blocking=True)
        with autocast(self.device, self.use_amp):
            # One pass over all views: the backbone is shared, and the batch is bigger.
            descriptors = self.model(images).descriptor.float().chunk(len(views))
        out = self.loss_fn(*descriptors)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(out.total).backward()
        if float(self.tcfg["grad_clip"]) > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), float(self.tcfg["grad_clip"]))
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.loss_fn.temperature.clamp_()
        self.progress["step"] += 1
        return out

    def train_epoch(self, epoch: int) -> Dict[str, Any]:
        self.sampler.set_epoch(epoch)
        self.model.train()
        sums = {"loss": 0.0, "infonce": 0.0, "srs": 0.0}
        batches = pairs = skipped = 0
        started = time.time()
        bar = tqdm(self.loader, desc=f"epoch {epoch}", leave=False, disable=None)
        for batch in bar:
            skipped += batch["skipped"]
            if self.finished():
                break
            if "drone" not in batch or batch["drone"].shape[0] < MIN_PAIRS_PER_BATCH:
                continue  # unreadable images left too few pairs: no contrast to learn from
            out = self.step(batch)
            batches += 1
            pairs += batch["drone"].shape[0]
            sums["loss"] += float(out.total)
            sums["infonce"] += float(out.infonce)
            sums["srs"] += float(out.srs)
            bar.set_postfix(loss=f"{float(out.total):.3f}", tau=f"{float(out.temperature):.3f}")
        elapsed = time.time() - started
        if skipped:
            log.warning("epoch %d: skipped %d unreadable images", epoch, skipped)
        return {
            "epoch": epoch,
            "step": self.progress["step"],
            **{k: v / max(batches, 1) for k, v in sums.items()},
            "temperature": float(self.loss_fn.temperature()),
            "lr": self.optimizer.param_groups[0]["lr"],
            "pairs_per_s": pairs / max(elapsed, 1e-9),
            "epoch_seconds": elapsed,
            "skipped_images": skipped,
        }

    def validate(self, epoch: int) -> Optional[Dict[str, Any]]:
        if self.val_protocol is None:
            return None
        batch_size = int(self.cfg["eval"]["batch_size"])
        val = evaluate_model(self.model, [self.val_protocol], self.device, batch_size, self.workers)[self.val_protocol.name]
        best = self.progress["best_metrics"]
        if not best or (val["recall@1"], val["ap"]) > (best["recall@1"], best["ap"]):
            self.progress["best_epoch"], self.progress["best_metrics"] = epoch, val
        return val

    def save(self, epoch: int) -> None:
        self.progress["epoch"] = epoch
        state = dict(model=self.model, loss=self.loss_fn, optimizer=self.optimizer,
                     scaler=self.scaler if self.use_amp else None, config=self.cfg, progress=self.progress)
        save_checkpoint(os.path.join(self.run_dir, "last.pt"), **state)
        if self.progress["best_epoch"] == epoch or self.val_protocol is None:
            save_checkpoint(os.path.join(self.run_dir, "best.pt"), **state)

    def fit(self) -> Dict[str, Any]:
        log.info("training for %d steps (%d per epoch) on %s", self.total_steps, len(self.sampler), self.device)
        metrics_path = os.path.join(self.run_dir, "metrics.jsonl")
        first_epoch = self.progress["epoch"] + 1
        for epoch in range(first_epoch, self.epochs):
            # the first epoch always runs, so a time limit that passes before it still ends in a checkpoint
            if epoch > first_epoch and self.finished():
                break
            record = self.train_epoch(epoch)
            if self.finished() and self.progress["step"] < self.total_steps:
                log.warning("train.time_limit_minutes=%s reached at step %d of %d; stopping",
                            self.tcfg["time_limit_minutes"], self.progress["step"], self.total_steps)
            if (epoch + 1) % int(self.tcfg["eval_every"]) == 0 or epoch == self.epochs - 1 or self.finished():
                val = self.validate(epoch)
                if val is not None:
                    record["val"] = val
            self.save(epoch)
            with open(metrics_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(record) + "\n")
            log.info(
                "epoch %d: loss %.4f (infonce %.4f, srs %.4f), tau %.4f, %.1f pairs/s%s",
                epoch, record["loss"], record["infonce"], record["srs"], record["temperature"], record["pairs_per_s"],
                f", val R@1 {record['val']['recall@1']:.2f}" if "val" in record else "",
            )
        log.info("done: best epoch %s, best validation %s", self.progress["best_epoch"], self.progress["best_metrics"])
        return self.progress


def train(cfg: Config) -> Dict[str, Any]:
    """Train as configured; returns the progress record (steps, best epoch, best validation metrics)."""
    run_dir = cfg["run"]["dir"]
    setup_logging(run_dir)
    save_config(cfg, run_dir)
    device = setup_runtime(cfg)
    model = build_spenet(cfg["model"]).to(device)
    loss_fn = SPENetLoss.from_config(cfg["loss"]).to(device)
    dataset, val_protocol = build_train_data(cfg, model)
    trainer = Trainer(cfg, model, loss_fn, dataset, val_protocol, device)
    if cfg["train"]["resume"]:
        trainer.resume(cfg["train"]["resume"])
    return trainer.fit()
