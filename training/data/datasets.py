"""University-1652 and SUES-200: training pairs, validation split and test protocols.

Both benchmarks store one folder per location id holding that location's images, so one
scanner serves both; the two dataset classes differ only in where the folders are.

University-1652::

    train/drone/<id>/*.jpeg         train/satellite/<id>/<id>.jpg
    test/query_drone/<id>/          test/gallery_satellite/<id>/   (extra distractor ids)
    test/query_satellite/<id>/      test/gallery_drone/<id>/

SUES-200 (<alt> in 150, 200, 250, 300)::

    Training/<alt>/drone/<id>/      Training/<alt>/satellite/<id>/
    Testing/<alt>/query_drone/<id>/ Testing/<alt>/gallery_satellite/<id>/
    Testing/<alt>/query_satellite/<id>/  Testing/<alt>/gallery_drone/<id>/
"""

import logging
import os
import random
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
from PIL import Image
from torch.utils.data import Dataset

from ..errors import ConfigError, DatasetLayoutError

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")

U1652_LAYOUT = (
    "University-1652 layout: <root>/train/{drone,satellite}/<id>/<images> and "
    "<root>/test/{query_drone,gallery_satellite,query_satellite,gallery_drone}/<id>/<images>"
)
SUES200_LAYOUT = (
    "SUES-200 layout: <root>/Training/<alt>/{drone,satellite}/<id>/<images> and "
    "<root>/Testing/<alt>/{query_drone,gallery_satellite,query_satellite,gallery_drone}/<id>/<images>, "
    "<alt> in 150, 200, 250, 300"
)


class Location(NamedTuple):
    place: str  # location id; SUES-200 repeats a place once per altitude
    satellite: str
    drones: Tuple[str, ...]


class Item(NamedTuple):
    path: str
    label: int


class Protocol(NamedTuple):
    name: str
    queries: List[Item]
    gallery: List[Item]


def scan_location_folders(folder: str, layout: str) -> Dict[str, List[str]]:
    """``{location id: sorted image paths}`` for ``folder/<id>/<image>``."""
    if not os.path.isdir(folder):
        raise DatasetLayoutError(f"missing folder {folder}; expected the {layout}")
    found: Dict[str, List[str]] = {}
    for entry in sorted(os.listdir(folder)):
        sub = os.path.join(folder, entry)
        if not os.path.isdir(sub):
            continue
        images = sorted(
            os.path.join(sub, name) for name in os.listdir(sub) if name.lower().endswith(IMAGE_EXTENSIONS)
        )
        if images:
            found[entry] = images
    if not found:
        raise DatasetLayoutError(f"{folder} holds no <id>/<image> folders; expected the {layout}")
    return found


def pair_locations(drone_dir: str, satellite_dir: str, layout: str) -> List[Location]:
    """Locations present in both views; each has one satellite image and its drone images."""
    drones = scan_location_folders(drone_dir, layout)
    satellites = scan_location_folders(satellite_dir, layout)
    common = sorted(set(drones) & set(satellites))
    if not common:
        raise DatasetLayoutError(f"no location id appears in both {drone_dir} and {satellite_dir}; expected the {layout}")
    missing = len(set(drones) ^ set(satellites))
    if missing:
        log.warning("%d location ids appear in only one of %s and %s; they are left out", missing, drone_dir, satellite_dir)
    return [Location(i, satellites[i][0], tuple(drones[i])) for i in common]


def items_from_folder(folder: str, layout: str, labels: Dict[str, int]) -> List[Item]:
    """Images of ``folder/<id>/`` labelled by id; ids not seen yet get fresh labels."""
    items = []
    for location_id, paths in scan_location_folders(folder, layout).items():
        label = labels.setdefault(location_id, len(labels))
        items.extend(Item(p, label) for p in paths)
    return items


def split_train_val(locations: Sequence[Location], val_fraction: float, seed: int) -> Tuple[List[Location], List[Location]]:
    """Location-disjoint validation split carved from the training locations (seeded)."""
    if val_fraction <= 0:
        return list(locations), []
    places = sorted({loc.place for loc in locations})
    random.Random(seed).shuffle(places)
    num_val = max(1, int(round(len(places) * val_fraction)))
    if num_val >= len(places):
        raise DatasetLayoutError(f"val_fraction {val_fraction} leaves no training location out of {len(places)}")
    val_places = set(places[:num_val])
    train = [loc for loc in locations if loc.place not in val_places]
    val = [loc for loc in locations if loc.place in val_places]
    return train, val


def validation_protocol(locations: Sequence[Location], drones_per_location: Optional[int] = None) -> Protocol:
    """Drone → satellite among the held-out locations (each satellite image once)."""
    labels: Dict[str, int] = {}
    queries, gallery, seen = [], [], set()
    for loc in locations:
        label = labels.setdefault(loc.place, len(labels))
        drones = loc.drones if drones_per_location is None else loc.drones[:drones_per_location]
        queries.extend(Item(p, label) for p in drones)
        if loc.satellite not in seen:
            seen.add(loc.satellite)
            gallery.append(Item(loc.satellite, label))
    return Protocol("drone->satellite", queries, gallery)


def _test_protocols(test_dir: str, layout: str, prefix: str = "") -> List[Protocol]:
    # Labels are shared by all four folders so a query's id matches the same gallery id.
    labels: Dict[str, int] = {}

    def items(name: str) -> List[Item]:
        return items_from_folder(os.path.join(test_dir, name), layout, labels)

    return [
        Protocol(f"{prefix}drone->satellite", items("query_drone"), items("gallery_satellite")),
        Protocol(f"{prefix}satellite->drone", items("query_satellite"), items("gallery_drone")),
    ]


def load_image(path: str) -> Optional[Image.Image]:
    """RGB image, or None (logged with its path) when the file cannot be decoded."""
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (OSError, ValueError) as exc:
        log.warning("skipping unreadable image %s (%s)", path, exc)
        return None


class CrossViewPairs(Dataset):
    """Every (drone image, its location's satellite image) pair of a set of locations."""

    layout = ""

    def __init__(self, locations: Sequence[Location], transform: Optional[Callable] = None, resample_satellite: bool = False):
        self.locations = list(locations)
        self.transform = transform
        self.resample_satellite = resample_satellite
        place_index = {p: i for i, p in enumerate(sorted({loc.place for loc in self.locations}))}
        self.pairs: List[Tuple[int, str, str]] = [
            (place_index[loc.place], drone, loc.satellite) for loc in self.locations for drone in loc.drones
        ]

    @property
    def pair_places(self) -> List[int]:
        """Location index of every pair, for the batch sampler (one place = one index)."""
        return [pair[0] for pair in self.pairs]

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int):
        location, drone_path, satellite_path = self.pairs[index]
        drone, satellite = load_image(drone_path), load_image(satellite_path)
        if drone is None or satellite is None:
            return None
        views = self.transform(drone, satellite, self.resample_satellite)
        return {**views, "location": location}


class University1652(CrossViewPairs):
    layout = U1652_LAYOUT

    @classmethod
    def train_locations(cls, root: str) -> List[Location]:
        _require_root(root, cls.layout)
        return pair_locations(os.path.join(root, "train", "drone"), os.path.join(root, "train", "satellite"), cls.layout)

    @classmethod
    def test_protocols(cls, root: str, altitudes: Sequence[int] = ()) -> List[Protocol]:
        _require_root(root, cls.layout)
        return _test_protocols(os.path.join(root, "test"), cls.layout)


class SUES200(CrossViewPairs):
    layout = SUES200_LAYOUT

    @classmethod
    def train_locations(cls, root: str, altitudes: Sequence[int]) -> List[Location]:
        _require_root(root, cls.layout)
        locations = []
        for alt in altitudes:
            base = os.path.join(root, "Training", str(alt))
            locations += pair_locations(os.path.join(base, "drone"), os.path.join(base, "satellite"), cls.layout)
        return locations

    @classmethod
    def test_protocols(cls, root: str, altitudes: Sequence[int]) -> List[Protocol]:
        _require_root(root, cls.layout)
        protocols = []
        for alt in altitudes:
            protocols += _test_protocols(os.path.join(root, "Testing", str(alt)), cls.layout, f"{alt}m/")
        return protocols


DATASETS = {"university1652": University1652, "sues200": SUES200}


def dataset_class(name: str):
    try:
        return DATASETS[name]
    except KeyError:
        raise ConfigError(f"unknown dataset '{name}'; choose one of {sorted(DATASETS)}") from None


def _require_root(root: str, layout: str) -> None:
    if not os.path.isdir(root):
        raise DatasetLayoutError(f"dataset folder {root} does not exist; expected the {layout}")


class ImageList(Dataset):
    """Plain image list for embedding; unreadable files yield None and are skipped by collate."""

    def __init__(self, items: Sequence[Item], transform: Callable):
        self.items = list(items)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        image = load_image(self.items[index].path)
        if image is None:
            return None
        return {"image": self.transform(image), "index": index}


def collate_skipping(batch):
    """Default collation of the readable samples; ``skipped`` counts the unreadable ones."""
    kept = [sample for sample in batch if sample is not None]
    out = torch.utils.data.default_collate(kept) if kept else {}
    out["skipped"] = len(batch) - len(kept)
    return out
