"""SPE-Net: a DINOv2 backbone shared by drone and satellite views, followed by LRMM."""

import logging
from typing import Any, Mapping, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import nn

from .lrmm import LRMM
from .registry import BackboneSpec, get_backbone_spec
from .vit import VisionTransformer
from .weights import load_backbone_weights

log = logging.getLogger(__name__)


class SPENetOutput(NamedTuple):
    descriptor: torch.Tensor  # [B, D], L2-normalised retrieval descriptor
    foreground: torch.Tensor  # [B, gh, gw], per-patch foreground probability
    global_embedding: torch.Tensor  # [B, D], projected CLS feature before fusion


class SPENet(nn.Module):
    def __init__(self, backbone: VisionTransformer, lrmm: LRMM, spec: BackboneSpec, img_size: Sequence[int]):
        super().__init__()
        self.backbone = backbone
        self.lrmm = lrmm
        self.spec = spec
        self.img_size: Tuple[int, int] = (int(img_size[0]), int(img_size[1]))

    @property
    def dim(self) -> int:
        return self.lrmm.fam.project[-1].out_features

    def forward(self, image: torch.Tensor) -> SPENetOutput:
        feats = self.backbone(image)
        regions, fam = self.lrmm(feats.cls_token, feats.patch_tokens)
        gh, gw = feats.grid
        foreground = regions.foreground_prob.reshape(-1, gh, gw)
        return SPENetOutput(descriptor=fam.descriptor, foreground=foreground, global_embedding=fam.global_embedding)


def parse_img_size(value: Any) -> Tuple[int, int]:
    """``224`` or ``[H, W]`` → (H, W)."""
    if isinstance(value, int):
        return value, value
    h, w = value
    return int(h), int(w)


def build_spenet(model_cfg: Mapping[str, Any], weights: Optional[str] = None, log_random_init: bool = True) -> SPENet:
    """Build SPE-Net from the ``model`` section of a config.

    With ``weights`` (or ``model.weights``) the backbone starts from official DINOv2 weights;
    otherwise from random initialisation, which is logged once here (unless the caller is
    about to load a full checkpoint, ``log_random_init=False``).
    """
    spec = get_backbone_spec(model_cfg["backbone"])
    img_size = parse_img_size(model_cfg["img_size"])
    backbone = VisionTransformer.from_spec(spec, img_size, drop_path_rate=float(model_cfg.get("drop_path", 0.0)))
    dim = int(model_cfg.get("dim") or spec.embed_dim)
    lrmm = LRMM(spec.embed_dim, dim, mode=model_cfg.get("descriptor", "fused"))
    model = SPENet(backbone, lrmm, spec, img_size)
    weights = weights or model_cfg.get("weights")
    if weights:
        load_backbone_weights(model.backbone, weights)
    elif log_random_init:
        log.warning("backbone %s starts from random initialisation (model.weights is not set)", spec.name)
    return model


def build_random_init(model_cfg: Mapping[str, Any]) -> SPENet:
    """The untrained architecture that ``--random-init`` asks for, whatever ``model.weights`` says."""
    model = build_spenet(dict(model_cfg, weights=None), log_random_init=False)
    ignored = f"; model.weights={model_cfg['weights']} is ignored" if model_cfg.get("weights") else ""
    log.warning("--random-init: backbone %s starts from random initialisation%s", model.spec.name, ignored)
    return model
