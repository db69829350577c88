"""Augmentations for drone–satellite pairs, and the plain evaluation transform.

Mean and std come from the backbone's metadata (training/models/registry.py).
"""

from typing import Any, Dict, Mapping, Sequence, Tuple

import torch
import torchvision.transforms as T
import torchvision.transforms.functional as TF
from PIL import Image


def _photometric(aug: Mapping[str, Any]) -> T.Compose:
    steps = []
    if aug["color_jitter"] > 0 or aug["hue"] > 0:
        strength = float(aug["color_jitter"])
        steps.append(T.ColorJitter(brightness=strength, contrast=strength, saturation=strength, hue=float(aug["hue"])))
    if aug["blur_sharpen"] > 0:
        # Drone frames range from motion-blurred to over-sharpened; satellite tiles vary in GSD.
        blur_or_sharpen = T.RandomChoice([T.GaussianBlur(kernel_size=5, sigma=(0.1, 1.5)), T.RandomAdjustSharpness(2.0, p=1.0)])
        steps.append(T.RandomApply([blur_or_sharpen], p=float(aug["blur_sharpen"])))
    return T.Compose(steps)


class PairTransform:
    """Resize, paired horizontal flip, satellite rot-90, colour, blur/sharpen, erasing.

    The flip is decided once per pair so that drone and satellite stay mirror-consistent;
    the satellite's rotation is free because a drone may fly at any heading.
    """

    def __init__(self, img_size: Sequence[int], mean: Sequence[float], std: Sequence[float], augment: Mapping[str, Any]):
        self.size = (int(img_size[0]), int(img_size[1]))
        self.hflip = float(augment["hflip"])
        self.sat_rot90 = bool(augment["sat_rot90"])
        self.photometric = _photometric(augment)
        self.normalize = T.Normalize(mean, std)
        self.erase = T.RandomErasing(p=float(augment["erasing"]), value=0) if augment["erasing"] > 0 else None

    def _view(self, image: Image.Image, flip: bool, rotate: bool) -> torch.Tensor:
        image = image.resize(self.size[::-1], Image.BICUBIC)
        if flip:
            image = TF.hflip(image)
        if rotate:
            image = image.rotate(90 * int(torch.randint(0, 4, ())), expand=False)
        tensor = self.normalize(TF.to_tensor(self.photometric(image)))
        return self.erase(tensor) if self.erase is not None else tensor

    def __call__(self, drone: Image.Image, satellite: Image.Image, resample_satellite: bool = False) -> Dict[str, torch.Tensor]:
        flip = bool(torch.rand(()) < self.hflip)
        views = {
            "drone": self._view(drone, flip, rotate=False),
            "satellite": self._view(satellite, flip, rotate=self.sat_rot90),
        }
        if resample_satellite:
            views["satellite_resampled"] = self._view(satellite, bool(torch.rand(()) < self.hflip), rotate=self.sat_rot90)
        return views


def eval_transform(img_size: Sequence[int], mean: Sequence[float], std: Sequence[float]) -> T.Compose:
    size: Tuple[int, int] = (int(img_size[0]), int(img_size[1]))
    return T.Compose([T.Resize(size, interpolation=T.InterpolationMode.BICUBIC), T.ToTensor(), T.Normalize(mean, std)])
