"""Backbone metadata, kept apart from model code.

Architectures, normalisation statistics and the names of the official DINOv2 weight files.
Weights are never downloaded: ``model.weights`` in the config points at a local file.
"""

from dataclasses import dataclass, field
from typing import Dict, Tuple

from ..errors import ConfigError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class BackboneSpec:
    name: str
    embed_dim: int
    depth: int
    num_heads: int
    patch_size: int = 14
    mlp_ratio: float = 4.0
    init_values: float = 1e-5
    # Image size the official position embedding was trained at (518 px = 37x37 patches).
    pretrain_img_size: int = 518
    mean: Tuple[float, float, float] = IMAGENET_MEAN
    std: Tuple[float, float, float] = IMAGENET_STD
    # Official weight files by key format ("meta", "timm"); empty for test-only sizes.
    weight_files: Dict[str, str] = field(default_factory=dict)


BACKBONES: Dict[str, BackboneSpec] = {
    spec.name: spec
    for spec in (
        # Test-only and embedded-default sizes: no official weights, trained from scratch.
        BackboneSpec("vit_tiny14", embed_dim=64, depth=2, num_heads=2),
        BackboneSpec("vit_mini14", embed_dim=128, depth=4, num_heads=4),
        BackboneSpec(
            "vit_small14",
            embed_dim=384,
            depth=12,
            num_heads=6,
            weight_files={"meta": "dinov2_vits14_pretrain.pth", "timm": "vit_small_patch14_dinov2.lvd142m"},
        ),
        BackboneSpec(
            "vit_base14",
            embed_dim=768,
            depth=12,
            num_heads=12,
            weight_files={"meta": "dinov2_vitb14_pretrain.pth", "timm": "vit_base_patch14_dinov2.lvd142m"},
        ),
        BackboneSpec(
            "vit_large14",
            embed_dim=1024,
            depth=24,
            num_heads=16,
            weight_files={"meta": "dinov2_vitl14_pretrain.pth", "timm": "vit_large_patch14_dinov2.lvd142m"},
        ),
    )
}


def get_backbone_spec(name: str) -> BackboneSpec:
    try:
        return BACKBONES[name]
    except KeyError:
        raise ConfigError(f"unknown backbone '{name}' in model.backbone; choose one of {sorted(BACKBONES)}") from None
