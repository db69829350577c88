"""Process-level setup shared by the entry points: logging, threads, device, seeding."""

import contextlib
import logging
import os
import random
import sys
from typing import Optional

import numpy as np
import torch

from .config import Config

log = logging.getLogger("training")


def setup_logging(run_dir: Optional[str] = None, filename: str = "log.txt") -> None:
    """Log to stderr, and to ``<run_dir>/<filename>`` when a run folder is known."""
    root = logging.getLogger()
    if not any(getattr(h, "_geoloc", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
        handler._geoloc = True
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    if run_dir:
        os.makedirs(run_dir, exist_ok=True)
        path = os.path.abspath(os.path.join(run_dir, filename))
        if not any(getattr(h, "baseFilename", None) == path for h in root.handlers):
            handler = logging.FileHandler(path)
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            root.addHandler(handler)


def setup_runtime(cfg: Config) -> torch.device:
    threads = int(cfg["run"]["threads"] or 0)
    if threads > 0:
        torch.set_num_threads(threads)
    seed_everything(int(cfg["run"]["seed"]))
    return resolve_device(cfg["run"]["device"])


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        log.warning("run.device=%s but CUDA is not available; using the CPU", name)
        return torch.device("cpu")
    return device


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def autocast(device: torch.device, enabled: bool):
    """float16 autocast on CUDA; a no-op elsewhere (torch 1.13 rejects float16 on CPU even disabled)."""
    if enabled and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return contextlib.nullcontext()
