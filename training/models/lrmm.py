"""LRMM: the local region modules of SPE-Net.

RDM (region discovery) scores every patch with a learned foreground probability and pools
the patch tokens into a foreground and a background feature with those weights. FAM
(feature alignment) projects the global (CLS), foreground and background features into one
shared embedding space and fuses them into the L2-normalised retrieval descriptor.
"""

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from ..layers import Mlp

DESCRIPTOR_MODES = ("fused", "global")


class RegionOutput(NamedTuple):
    foreground_prob: torch.Tensor  # [B, N] in (0, 1)
    foreground: torch.Tensor  # [B, C]
    background: torch.Tensor  # [B, C]


class FamOutput(NamedTuple):
    descriptor: torch.Tensor  # [B, D], unit length
    global_embedding: torch.Tensor  # [B, D], before fusion


class RegionDiscovery(nn.Module):
    """RDM: per-patch foreground probability, and probability-weighted fg/bg pooling."""

    def __init__(self, dim: int, hidden_ratio: float = 0.25, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        # Randomly initialised on purpose: with p = 0.5 everywhere, foreground and background
        # pool to the same mean, FAM's weights for the two stay equal, and the score head
        # would never receive a gradient.
        self.score = Mlp(dim, max(1, int(dim * hidden_ratio)), 1)

    def forward(self, patch_tokens: torch.Tensor) -> RegionOutput:
        prob = torch.sigmoid(self.score(self.norm(patch_tokens)).squeeze(-1))
        weights = torch.stack([prob, 1.0 - prob], dim=1)  # [B, 2, N]
        pooled = (weights @ patch_tokens) / (weights.sum(dim=-1, keepdim=True) + self.eps)
        return RegionOutput(foreground_prob=prob, foreground=pooled[:, 0], background=pooled[:, 1])


class ResidualFusion(nn.Module):
    """Fuses [global, fg, bg] into a correction of the global embedding.

    Zero-initialised, so a fresh fused model starts exactly as the global-only ablation.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.proj = nn.Linear(3 * dim, dim)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, z_global: torch.Tensor, z_fg: torch.Tensor, z_bg: torch.Tensor) -> torch.Tensor:
        return z_global + self.proj(torch.cat([z_global, z_fg, z_bg], dim=-1))


class GlobalOnly(nn.Module):
    """Ablation: the descriptor is the projected CLS feature alone."""

    def forward(self, z_global: torch.Tensor, z_fg: torch.Tensor, z_bg: torch.Tensor) -> torch.Tensor:
        return z_global


class FeatureAlignment(nn.Module):
    """FAM: one projection shared by the three features, then fusion and L2 normalisation."""

    def __init__(self, in_dim: int, out_dim: int, mode: str = "fused"):
        super().__init__()
        if mode not in DESCRIPTOR_MODES:
            raise ConfigError(f"model.descriptor is '{mode}'; choose one of {list(DESCRIPTOR_MODES)}")
        self.mode = mode
        self.project = nn.Sequential(nn.LayerNorm(in_dim, eps=1e-6), nn.Linear(in_dim, out_dim))
        self.fuse = ResidualFusion(out_dim) if mode == "fused" else GlobalOnly()

    def forward(self, global_feat: torch.Tensor, regions: RegionOutput) -> FamOutput:
        z_global = self.project(global_feat)
        fused = self.fuse(z_global, self.project(regions.foreground), self.project(regions.background))
        return FamOutput(descriptor=F.normalize(fused, dim=-1), global_embedding=z_global)


class LRMM(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, mode: str = "fused", rdm_hidden_ratio: float = 0.25):
        super().__init__()
        self.rdm = RegionDiscovery(in_dim, hidden_ratio=rdm_hidden_ratio)
        self.fam = FeatureAlignment(in_dim, out_dim, mode=mode)

    def forward(self, cls_token: torch.Tensor, patch_tokens: torch.Tensor):
        regions = self.rdm(patch_tokens)
        return regions, self.fam(cls_token, regions)
