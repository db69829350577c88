from .lrmm import LRMM, FeatureAlignment, RegionDiscovery
from .registry import BACKBONES, BackboneSpec, get_backbone_spec
from .spenet import SPENet, SPENetOutput, build_random_init, build_spenet, parse_img_size
from .vit import BackboneOutput, VisionTransformer
from .weights import load_backbone_weights, load_model_state

__all__ = [
    "BACKBONES",
    "BackboneOutput",
    "BackboneSpec",
    "FeatureAlignment",
    "LRMM",
    "RegionDiscovery",
    "SPENet",
    "SPENetOutput",
    "VisionTransformer",
    "build_random_init",
    "build_spenet",
    "get_backbone_spec",
    "load_backbone_weights",
    "load_model_state",
    "parse_img_size",
]
