from typing import Tuple

import torch
from torch import nn

from ..errors import InputShapeError


class PatchEmbed(nn.Module):
    """Image to patch tokens with one strided convolution.

    Returns the tokens [B, N, C] together with the patch grid (gh, gw) read from the
    convolution's output, so every later reshape follows the actual input shape.
    """

    def __init__(self, patch_size: int = 14, in_chans: int = 3, embed_dim: int = 384):
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, Tuple[int, int]]:
        if not torch.jit.is_tracing():
            _, _, h, w = x.shape
            if h % self.patch_size or w % self.patch_size:
                raise InputShapeError(
                    f"input of {h}x{w} px is not a multiple of the patch size {self.patch_size}; "
                    f"resize to a multiple of {self.patch_size} (e.g. 224 or 518)"
                )
        x = self.proj(x)
        grid = (x.shape[-2], x.shape[-1])
        return x.flatten(2).transpose(1, 2), grid
