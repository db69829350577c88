"""DINOv2-style Vision Transformer assembled from the layers in ``training.layers``.

Parameter names follow Meta's DINOv2 release (``patch_embed.proj``, ``blocks.N.attn.qkv``,
``blocks.N.ls1.gamma``, ``norm``...), so official weights map onto it by name.
"""

from typing import NamedTuple, Optional, Sequence, Tuple

import torch
from torch import nn

from ..layers import Block, PatchEmbed, resample_pos_embed
from .registry import BackboneSpec


class BackboneOutput(NamedTuple):
    cls_token: torch.Tensor  # [B, C], after the final norm
    patch_tokens: torch.Tensor  # [B, gh*gw, C], after the final norm
    grid: Tuple[int, int]  # (gh, gw), read from the input shape


class VisionTransformer(nn.Module):
    num_prefix_tokens = 1  # class token only: register tokens are off, as in the original DINOv2

    def __init__(
        self,
        img_size: Sequence[int] = (224, 224),
        patch_size: int = 14,
        embed_dim: int = 384,
        depth: int = 12,
        num_heads: int = 6,
        mlp_ratio: float = 4.0,
        init_values: Optional[float] = 1e-5,
        drop_path_rate: float = 0.0,
    ):
        super().__init__()
        self.patch_size = patch_size
        self.embed_dim = embed_dim
        self.pos_grid = (img_size[0] // patch_size, img_size[1] // patch_size)
        self.patch_embed = PatchEmbed(patch_size=patch_size, embed_dim=embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.pos_grid[0] * self.pos_grid[1], embed_dim))
        rates = torch.linspace(0, drop_path_rate, depth).tolist()
        self.blocks = nn.ModuleList(
            Block(embed_dim, num_heads, mlp_ratio=mlp_ratio, init_values=init_values, drop_path=rate) for rate in rates
        )
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.init_weights()

    @classmethod
    def from_spec(cls, spec: BackboneSpec, img_size: Sequence[int], drop_path_rate: float = 0.0) -> "VisionTransformer":
        return cls(
            img_size=img_size,
            patch_size=spec.patch_size,
            embed_dim=spec.embed_dim,
            depth=spec.depth,
            num_heads=spec.num_heads,
            mlp_ratio=spec.mlp_ratio,
            init_values=spec.init_values,
            drop_path_rate=drop_path_rate,
        )

    def init_weights(self) -> None:
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def pos_embed_for(self, grid: Tuple[int, int]) -> torch.Tensor:
        if torch.jit.is_tracing():
            # Export traces at the configured size, where the stored table applies unchanged.
            return self.pos_embed
        return resample_pos_embed(self.pos_embed, grid, self.pos_grid, self.num_prefix_tokens)

    def forward(self, x: torch.Tensor) -> BackboneOutput:
        x, grid = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = x + self.pos_embed_for(grid)
        for block in self.blocks:
            x = block(x)
        x = self.norm(x)
        return BackboneOutput(cls_token=x[:, 0], patch_tokens=x[:, self.num_prefix_tokens :], grid=grid)
