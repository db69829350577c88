"""Training losses: symmetric InfoNCE over drone–satellite pairs, and SRS.

SRS (satellite re-sampling) gives the satellite view, which has a single image per location
against ~50 drone images, a contrastive term of its own between two independently
augmented re-samplings of each satellite image. See training/README.md for the formula and
the reasoning.
"""

import math
from typing import NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import nn


class LossOutput(NamedTuple):
    total: torch.Tensor
    infonce: torch.Tensor
    srs: torch.Tensor
    temperature: torch.Tensor


class LearnableTemperature(nn.Module):
    """τ = exp(θ), kept inside [t_min, t_max]; ``clamp_`` after each step keeps θ from drifting."""

    def __init__(self, init: float = 0.07, t_min: float = 0.01, t_max: float = 1.0):
        super().__init__()
        if not 0 < t_min <= init <= t_max:
            raise ValueError(f"temperature {init} must lie in [{t_min}, {t_max}] with t_min > 0")
        self.log_min, self.log_max = math.log(t_min), math.log(t_max)
        self.log_temperature = nn.Parameter(torch.tensor(math.log(init)))

    def forward(self) -> torch.Tensor:
        return self.log_temperature.clamp(self.log_min, self.log_max).exp()

    @torch.no_grad()
    def clamp_(self) -> None:
        self.log_temperature.clamp_(self.log_min, self.log_max)


def symmetric_infonce(a: torch.Tensor, b: torch.Tensor, temperature: torch.Tensor, label_smoothing: float = 0.1) -> torch.Tensor:
    """½·[CE(a·bᵀ/τ, I) + CE(b·aᵀ/τ, I)]: row i of ``a`` and row i of ``b`` are the positive pair.

    Every other row of the batch is a negative; the batch sampler guarantees that no two
    rows come from the same location, so no negative is secretly a positive.
    """
    logits = a.float() @ b.float().t() / temperature
    target = torch.arange(logits.shape[0], device=logits.device)
    forward = F.cross_entropy(logits, target, label_smoothing=label_smoothing)
    backward = F.cross_entropy(logits.t(), target, label_smoothing=label_smoothing)
    return 0.5 * (forward + backward)


class SPENetLoss(nn.Module):
    """L = InfoNCE(drone, satellite) + λ_SRS · InfoNCE(satellite, re-sampled satellite)."""

    def __init__(
        self,
        temperature: float = 0.07,
        temperature_min: float = 0.01,
        temperature_max: float = 1.0,
        label_smoothing: float = 0.1,
        srs_weight: float = 0.1,
    ):
        super().__init__()
        self.temperature = LearnableTemperature(temperature, temperature_min, temperature_max)
        self.label_smoothing = label_smoothing
        self.srs_weight = srs_weight

    @classmethod
    def from_config(cls, loss_cfg) -> "SPENetLoss":
        return cls(
            temperature=float(loss_cfg["temperature"]),
            temperature_min=float(loss_cfg["temperature_min"]),
            temperature_max=float(loss_cfg["temperature_max"]),
            label_smoothing=float(loss_cfg["label_smoothing"]),
            srs_weight=float(loss_cfg["srs_weight"]),
        )

    @property
    def uses_srs(self) -> bool:
        return self.srs_weight > 0

    def forward(self, drone: torch.Tensor, satellite: torch.Tensor, satellite_resampled: Optional[torch.Tensor] = None) -> LossOutput:
        tau = self.temperature()
        infonce = symmetric_infonce(drone, satellite, tau, self.label_smoothing)
        if self.uses_srs and satellite_resampled is not None:
            srs = symmetric_infonce(satellite, satellite_resampled, tau, self.label_smoothing)
        else:
            srs = infonce.new_zeros(())
        return LossOutput(total=infonce + self.srs_weight * srs, infonce=infonce, srs=srs, temperature=tau.detach())
