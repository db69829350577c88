import os
import shutil

import pytest
import torch
from PIL import Image

from training.data import (
    SUES200,
    PairTransform,
    University1652,
    collate_skipping,
    eval_transform,
    split_train_val,
    validation_protocol,
)
from training.errors import DatasetLayoutError
from training.evaluate import embed_items
from training.models import build_spenet
from training.models.registry import IMAGENET_MEAN, IMAGENET_STD

from .helpers import SYNTHETIC_SUES200, SYNTHETIC_U1652

NO_AUG = {"hflip": 0.0, "sat_rot90": False, "color_jitter": 0.0, "hue": 0.0, "blur_sharpen": 0.0, "erasing": 0.0}


def _count_images(folder):
    """Independent count: every file in <folder>/<id>/ and the set of ids."""
    ids = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
    return sum(len(os.listdir(os.path.join(folder, d))) for d in ids), set(ids)


def _assert_protocol_matches_folders(protocol, query_dir, gallery_dir):
    n_query, query_ids = _count_images(query_dir)
    n_gallery, gallery_ids = _count_images(gallery_dir)
    assert (len(protocol.queries), len(protocol.gallery)) == (n_query, n_gallery)
    assert len({i.label for i in protocol.gallery}) == len(gallery_ids)
    return query_ids, gallery_ids


def test_university1652_protocol_counts(u1652_root):
    d2s, s2d = University1652.test_protocols(u1652_root)
    assert (d2s.name, s2d.name) == ("drone->satellite", "satellite->drone")
    assert (len(d2s.queries), len(d2s.gallery)) == (9, 5)  # 3 locations × 3 views vs 3 + 2 distractors
    assert (len(s2d.queries), len(s2d.gallery)) == (3, 15)
    # The same id carries the same label in query and gallery folders.
    assert {q.label for q in d2s.queries} < {g.label for g in d2s.gallery}


def test_sues200_protocol_counts_per_altitude(sues200_root):
    protocols = SUES200.test_protocols(sues200_root, [150, 200])
    assert [p.name for p in protocols] == [
        "150m/drone->satellite", "150m/satellite->drone", "200m/drone->satellite", "200m/satellite->drone",
    ]
    for p in protocols:
        counts = (len(p.queries), len(p.gallery))
        assert counts == ((6, 3) if p.name.endswith("drone->satellite") else (2, 9))


def test_training_pairs_and_validation_split(u1652_root, sues200_root):
    locations = University1652.train_locations(u1652_root)
    assert len(locations) == 6 and all(len(loc.drones) == 4 for loc in locations)
    train, val = split_train_val(locations, 0.34, seed=0)
    assert len(val) == 2 and not {loc.place for loc in train} & {loc.place for loc in val}
    assert split_train_val(locations, 0.34, seed=0) == (train, val)
    protocol = validation_protocol(val, drones_per_location=2)
    assert (len(protocol.queries), len(protocol.gallery)) == (4, 2)

    sues = SUES200.train_locations(sues200_root, [150, 200])
    dataset = SUES200(sues, PairTransform((28, 28), IMAGENET_MEAN, IMAGENET_STD, NO_AUG))
    assert len(dataset) == 2 * 4 * 3
    assert len(set(dataset.pair_places)) == 4  # one place seen from two altitudes stays one location
    _, sues_val = split_train_val(sues, 0.25, seed=0)
    assert len(sues_val) == 2 and len({loc.place for loc in sues_val}) == 1


def test_missing_dataset_names_path_and_layout(tmp_path):
    with pytest.raises(DatasetLayoutError, match="GEOLOC_ERR_DATASET_LAYOUT.*does-not-exist.*University-1652 layout"):
        University1652.train_locations(str(tmp_path / "does-not-exist"))
    (tmp_path / "train" / "drone").mkdir(parents=True)
    with pytest.raises(DatasetLayoutError, match=r"train/drone holds no <id>/<image> folders.*University-1652 layout"):
        University1652.train_locations(str(tmp_path))
    with pytest.raises(DatasetLayoutError, match=r"missing folder .*Testing/150/query_drone.*SUES-200 layout"):
        SUES200.test_protocols(str(tmp_path), [150])


def test_unreadable_image_is_skipped_and_counted(u1652_root, tmp_path, caplog):
    root = tmp_path / "copy"
    shutil.copytree(u1652_root, root)
    bad = root / "train" / "drone" / "0000" / "01.jpeg"
    bad.write_bytes(b"not an image")
    locations = University1652.train_locations(str(root))
    dataset = University1652(locations, PairTransform((28, 28), IMAGENET_MEAN, IMAGENET_STD, NO_AUG))
    batch = collate_skipping([dataset[i] for i in range(len(dataset))])
    assert batch["skipped"] == 1 and batch["drone"].shape == (len(dataset) - 1, 3, 28, 28)
    assert str(bad) in caplog.text

    protocol = validation_protocol(locations)
    model = build_spenet({"backbone": "vit_tiny14", "img_size": [28, 28], "dim": 16})
    descriptors, labels, skipped = embed_items(model, protocol.queries, torch.device("cpu"), batch_size=5)
    assert skipped == 1 and descriptors.shape == (len(protocol.queries) - 1, 16) and len(labels) == len(descriptors)


def test_pair_transform_flips_both_views_and_normalises(u1652_root):
    locations = University1652.train_locations(u1652_root)
    plain = University1652(locations, PairTransform((28, 28), IMAGENET_MEAN, IMAGENET_STD, NO_AUG))
    flipped = University1652(locations, PairTransform((28, 28), IMAGENET_MEAN, IMAGENET_STD, dict(NO_AUG, hflip=1.0)))
    a, b = plain[0], flipped[0]
    assert torch.allclose(b["drone"], a["drone"].flip(-1)) and torch.allclose(b["satellite"], a["satellite"].flip(-1))
    reference = eval_transform((28, 28), IMAGENET_MEAN, IMAGENET_STD)
    with Image.open(locations[0].drones[0]) as img:
        assert torch.allclose(a["drone"], reference(img.convert("RGB")), atol=0.05)


def test_augmentation_and_satellite_resampling():
    aug = {"hflip": 0.5, "sat_rot90": True, "color_jitter": 0.3, "hue": 0.05, "blur_sharpen": 0.5, "erasing": 0.5}
    transform = PairTransform((42, 28), IMAGENET_MEAN, IMAGENET_STD, aug)
    image = Image.new("RGB", (60, 50), (120, 30, 200))
    torch.manual_seed(0)
    views = transform(image, image, resample_satellite=True)
    assert set(views) == {"drone", "satellite", "satellite_resampled"}
    assert all(v.shape == (3, 42, 28) for v in views.values())


@pytest.mark.skipif(not os.path.isdir(SYNTHETIC_U1652), reason=f"synthetic University-1652 not generated at {SYNTHETIC_U1652}")
def test_synthetic_university1652_protocol_counts():
    d2s, s2d = University1652.test_protocols(SYNTHETIC_U1652)
    test = os.path.join(SYNTHETIC_U1652, "test")
    query_ids, gallery_ids = _assert_protocol_matches_folders(d2s, os.path.join(test, "query_drone"), os.path.join(test, "gallery_satellite"))
    assert query_ids < gallery_ids, "gallery_satellite must hold extra distractor locations"
    _assert_protocol_matches_folders(s2d, os.path.join(test, "query_satellite"), os.path.join(test, "gallery_drone"))
    # The real dataset: 37,855 × 951 and 701 × 51,355; the synthetic one follows the same layout.
    assert len(s2d.queries) == len(query_ids)


@pytest.mark.skipif(not os.path.isdir(SYNTHETIC_SUES200), reason=f"synthetic SUES-200 not generated at {SYNTHETIC_SUES200}")
def test_synthetic_sues200_protocol_counts():
    altitudes = sorted(int(a) for a in os.listdir(os.path.join(SYNTHETIC_SUES200, "Testing")))
    protocols = SUES200.test_protocols(SYNTHETIC_SUES200, altitudes)
    assert len(protocols) == 2 * len(altitudes)
    for alt, (d2s, s2d) in zip(altitudes, zip(protocols[::2], protocols[1::2])):
        test = os.path.join(SYNTHETIC_SUES200, "Testing", str(alt))
        # The real dataset per altitude: 4,000 × 200 and 80 × 10,000.
        _assert_protocol_matches_folders(d2s, os.path.join(test, "query_drone"), os.path.join(test, "gallery_satellite"))
        _assert_protocol_matches_folders(s2d, os.path.join(test, "query_satellite"), os.path.join(test, "gallery_drone"))
