"""Small building blocks of the DINOv2-style Vision Transformer."""

from .attention import Attention
from .block import Block
from .drop_path import DropPath
from .layer_scale import LayerScale
from .mlp import Mlp
from .patch_embed import PatchEmbed
from .pos_embed import resample_pos_embed

__all__ = ["Attention", "Block", "DropPath", "LayerScale", "Mlp", "PatchEmbed", "resample_pos_embed"]
