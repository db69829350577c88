import inspect
from typing import Tuple

import torch
import torch.nn.functional as F

# `antialias` reached F.interpolate in torch 1.11; probe instead of comparing versions.
_HAS_ANTIALIAS = "antialias" in inspect.signature(F.interpolate).parameters


def resample_pos_embed(
    pos_embed: torch.Tensor,
    new_grid: Tuple[int, int],
    old_grid: Tuple[int, int],
    num_prefix_tokens: int = 1,
) -> torch.Tensor:
    """Bicubic resampling of a [1, prefix + gh*gw, C] position embedding to another grid.

    Prefix (class) tokens are kept as they are. Antialiasing is used where the installed
    torch supports it, which matters when shrinking (518 px weights used at 224 px).
    """
    if tuple(new_grid) == tuple(old_grid):
        return pos_embed
    prefix, grid_tokens = pos_embed[:, :num_prefix_tokens], pos_embed[:, num_prefix_tokens:]
    dim = pos_embed.shape[-1]
    grid_tokens = grid_tokens.reshape(1, old_grid[0], old_grid[1], dim).permute(0, 3, 1, 2)
    kwargs = {"antialias": True} if _HAS_ANTIALIAS else {}
    orig_dtype = grid_tokens.dtype
    grid_tokens = F.interpolate(
        grid_tokens.float(), size=tuple(new_grid), mode="bicubic", align_corners=False, **kwargs
    ).to(orig_dtype)
    grid_tokens = grid_tokens.permute(0, 2, 3, 1).reshape(1, new_grid[0] * new_grid[1], dim)
    return torch.cat([prefix, grid_tokens], dim=1)
