"""Fixtures: tiny datasets in the official folder layouts, built from generated images."""

import os

import numpy as np
import pytest
from PIL import Image


def _location_image(location: int, view: int, size: int = 42) -> Image.Image:
    """A per-location colour pattern; drone views are noisy shifted versions of it."""
    rng = np.random.default_rng(location)
    base = rng.integers(0, 255, size=(6, 6, 3), dtype=np.uint8)
    image = np.kron(base, np.ones((size // 6, size // 6, 1), dtype=np.uint8))
    if view:
        noise = np.random.default_rng(1000 * location + view).integers(-20, 20, size=image.shape)
        image = np.clip(np.roll(image, view, axis=1).astype(int) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(image)


def _write_folder(folder: str, location: int, views, ext: str = "png") -> None:
    os.makedirs(folder, exist_ok=True)
    for view in views:
        _location_image(location, view).save(os.path.join(folder, f"{view:02d}.{ext}"))


@pytest.fixture(scope="session")
def u1652_root(tmp_path_factory):
    """6 training locations × 4 drone views; test: 3 query locations + 2 distractors."""
    root = tmp_path_factory.mktemp("University-1652")
    for loc in range(6):
        _write_folder(root / "train" / "drone" / f"{loc:04d}", loc, range(1, 5), "jpeg")
        _write_folder(root / "train" / "satellite" / f"{loc:04d}", loc, [0], "jpg")
    for loc in range(100, 105):
        if loc < 103:
            _write_folder(root / "test" / "query_drone" / f"{loc:04d}", loc, range(1, 4))
            _write_folder(root / "test" / "query_satellite" / f"{loc:04d}", loc, [0])
        _write_folder(root / "test" / "gallery_satellite" / f"{loc:04d}", loc, [0])
        _write_folder(root / "test" / "gallery_drone" / f"{loc:04d}", loc, range(1, 4))
    return str(root)


@pytest.fixture(scope="session")
def sues200_root(tmp_path_factory):
    """Two altitudes; 4 training locations × 3 views; test: 2 query locations of 3 in the gallery."""
    root = tmp_path_factory.mktemp("SUES-200")
    for alt in (150, 200):
        for loc in range(4):
            _write_folder(root / "Training" / str(alt) / "drone" / f"{loc:04d}", loc, range(1, 4))
            _write_folder(root / "Training" / str(alt) / "satellite" / f"{loc:04d}", loc, [0])
        for loc in range(10, 13):
            test = root / "Testing" / str(alt)
            if loc < 12:
                _write_folder(test / "query_drone" / f"{loc:04d}", loc, range(1, 4))
                _write_folder(test / "query_satellite" / f"{loc:04d}", loc, [0])
            _write_folder(test / "gallery_satellite" / f"{loc:04d}", loc, [0])
            _write_folder(test / "gallery_drone" / f"{loc:04d}", loc, range(1, 4))
    return str(root)
