import torch
from torch import nn


class LayerScale(nn.Module):
    """Per-channel residual scaling; DINOv2 starts it at 1e-5 so deep stacks train stably."""

    def __init__(self, dim: int, init_values: float = 1e-5):
        super().__init__()
        self.gamma = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma
