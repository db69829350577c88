"""Training checkpoints: model, loss (temperature), optimizer, AMP scaler and progress."""

import logging
import os
from typing import Any, Dict, Optional

import torch

from . import __version__
from .config import Config
from .errors import CheckpointFormatError
from .models import SPENet, build_spenet, load_model_state
from .models.weights import torch_load

log = logging.getLogger(__name__)

FORMAT = "geoloc-spenet-checkpoint"


def save_checkpoint(path: str, *, model, loss, optimizer, scaler, config: Config, progress: Dict[str, Any]) -> None:
    state = {
        "format": FORMAT,
        "version": __version__,
        "model": model.state_dict(),
        "loss": loss.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else None,
        "config": config,
        "progress": progress,
    }
    tmp = f"{path}.tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)  # never leave a half-written checkpoint behind


def read_checkpoint(path: str, option: str = "--checkpoint") -> Dict[str, Any]:
    """A checkpoint written by ``train``; ``option`` is the setting that named ``path``."""
    state = torch_load(path, option, trusted=True)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointFormatError(
            f"{path} is not a geoloc training checkpoint (expected the last.pt/best.pt of a run); "
            "official DINOv2 weights go into model.weights instead"
        )
    return state


def model_from_checkpoint(path: str, model_cfg: Optional[Dict[str, Any]] = None) -> SPENet:
    """Rebuild the model a checkpoint was trained as (its own model config unless given)."""
    state = read_checkpoint(path)
    cfg = dict(model_cfg or state["config"]["model"])
    cfg["weights"] = None  # the checkpoint carries every backbone weight already
    model = build_spenet(cfg, log_random_init=False)
    load_model_state(model, state["model"], path)
    return model
