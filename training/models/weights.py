"""Loading weights: official DINOv2 backbones (Meta and timm key formats) and our checkpoints.

Loading is strict: any missing, unexpected or mis-shaped key stops with a readable diff.
"""

import logging
import math
import os
import re
from typing import Dict, Mapping, Tuple

import torch
from torch import nn

from ..errors import CheckpointFormatError, CheckpointKeysError, CheckpointMissingError, format_key_diff
from ..layers import resample_pos_embed

log = logging.getLogger(__name__)

StateDict = Dict[str, torch.Tensor]

# Training-time containers people save official weights in.
_WRAPPER_KEYS = ("model", "state_dict", "module")
# Meta checkpoints carry the iBOT mask token, unused for retrieval; timm drops it the same way.
_META_UNUSED = ("mask_token",)
_CHUNKED_BLOCK = re.compile(r"^blocks\.\d+\.(\d+)\.")


def torch_load(path: str, option: str, trusted: bool = False):
    """``torch.load`` on CPU; ``option`` (e.g. ``model.weights``) is the setting that named ``path``.

    Third-party weights are read with ``weights_only`` (tensors only, no arbitrary code).
    ``trusted`` is for checkpoints this package wrote: they also hold floats and the config,
    which torch 1.13's restricted unpickler cannot read.
    """
    if not os.path.isfile(path):
        raise CheckpointMissingError(f"{option} names {path}, which does not exist; give an existing file")
    if path.endswith(".safetensors"):
        try:
            from safetensors.torch import load_file
        except ImportError:
            raise CheckpointFormatError(
                f"{path} is a .safetensors file but the 'safetensors' package is not installed; "
                "install it or convert the file with torch.save"
            ) from None
        return load_file(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=not trusted)
    except Exception as exc:
        raise CheckpointFormatError(f"cannot read {path} as a PyTorch state dict: {exc}") from exc


def unwrap_state_dict(obj) -> StateDict:
    while isinstance(obj, Mapping) and not any(isinstance(v, torch.Tensor) for v in obj.values()):
        inner = next((obj[k] for k in _WRAPPER_KEYS if k in obj), None)
        if inner is None:
            raise CheckpointFormatError(f"no state dict found; top-level keys are {sorted(obj)[:10]}")
        obj = inner
    return {k.replace("module.", "", 1) if k.startswith("module.") else k: v for k, v in obj.items()}


def detect_format(state_dict: Mapping[str, torch.Tensor]) -> str:
    """'meta' for dinov2_vit*14_pretrain.pth, 'timm' for vit_*_patch14_dinov2.lvd142m."""
    if "mask_token" in state_dict or any(_CHUNKED_BLOCK.match(k) for k in state_dict):
        return "meta"
    return "timm"


def convert_meta(state_dict: Mapping[str, torch.Tensor]) -> StateDict:
    out = {}
    for key, value in state_dict.items():
        if key in _META_UNUSED:
            continue
        # Training checkpoints with block_chunks > 0 nest blocks as blocks.<chunk>.<index>.
        out[_CHUNKED_BLOCK.sub(r"blocks.\1.", key)] = value
    return out


def convert_timm(state_dict: Mapping[str, torch.Tensor]) -> StateDict:
    # timm's DINOv2 ViTs already use DINOv2's names for every parameter this backbone has.
    return dict(state_dict)


def _grid_of(num_tokens: int, num_prefix: int, key: str) -> Tuple[int, int]:
    side = math.isqrt(num_tokens - num_prefix)
    if side * side != num_tokens - num_prefix:
        raise CheckpointFormatError(f"{key} has {num_tokens} tokens, not {num_prefix} + a square grid")
    return side, side


def check_keys(model: nn.Module, state_dict: Mapping[str, torch.Tensor], source: str) -> None:
    expected = model.state_dict()
    missing = set(expected) - set(state_dict)
    unexpected = set(state_dict) - set(expected)
    mismatched = [
        f"{k}: {tuple(state_dict[k].shape)} vs {tuple(expected[k].shape)}"
        for k in set(expected) & set(state_dict)
        if state_dict[k].shape != expected[k].shape
    ]
    if missing or unexpected or mismatched:
        hint = ""
        if any("reg" in k for k in unexpected):
            hint = "\n  register-token variants (dinov2_*_reg4) are not supported; use the plain checkpoints"
        raise CheckpointKeysError(
            f"{source} does not match the {type(model).__name__} it is loaded into:\n"
            f"{format_key_diff(missing, unexpected, mismatched)}{hint}\n"
            "  check model.backbone against the checkpoint's architecture"
        )


def load_backbone_weights(backbone: nn.Module, path: str) -> str:
    """Load official DINOv2 weights into ``backbone``; returns the detected key format."""
    state_dict = unwrap_state_dict(torch_load(path, "model.weights"))
    fmt = detect_format(state_dict)
    state_dict = convert_meta(state_dict) if fmt == "meta" else convert_timm(state_dict)
    if "pos_embed" in state_dict:
        prefix = backbone.num_prefix_tokens
        old_grid = _grid_of(state_dict["pos_embed"].shape[1], prefix, "pos_embed")
        if old_grid != backbone.pos_grid:
            log.info("resampling pos_embed from %s to %s patches", old_grid, backbone.pos_grid)
            state_dict["pos_embed"] = resample_pos_embed(state_dict["pos_embed"], backbone.pos_grid, old_grid, prefix)
    check_keys(backbone, state_dict, f"{path} ({fmt} format)")
    backbone.load_state_dict(state_dict, strict=True)
    log.info("loaded %s-format DINOv2 weights from %s", fmt, path)
    return fmt


def load_model_state(model: nn.Module, state_dict: Mapping[str, torch.Tensor], source: str) -> None:
    """Strict load of one of our own checkpoints, with a readable diff on mismatch."""
    check_keys(model, state_dict, source)
    model.load_state_dict(state_dict, strict=True)
