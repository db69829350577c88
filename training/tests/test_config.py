import os
import re

import pytest
import yaml

from training.config import BASE_CONFIG, load_config, save_config
from training.config_schema import SCHEMA
from training.errors import ConfigError

from .helpers import TINY_CONFIG


def test_base_inheritance_and_overrides(tmp_path):
    cfg = load_config(TINY_CONFIG, ["train.lr=1e-4", "model.img_size=[70,98]", "model.weights=null", "run.dir=x"])
    assert cfg["model"]["backbone"] == "vit_tiny14"  # from tiny.yaml
    assert cfg["loss"]["srs_weight"] == 0.1  # from base.yaml
    assert cfg["train"]["lr"] == pytest.approx(1e-4)  # YAML 1.1 reads "1e-4" as a string; we do not
    assert cfg["model"]["img_size"] == [70, 98] and cfg["model"]["weights"] is None
    path = save_config(cfg, str(tmp_path / "run"))
    with open(path) as fh:
        assert yaml.safe_load(fh) == cfg


def test_unknown_keys_are_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown config key 'train.epoch'"):
        load_config(TINY_CONFIG, ["train.epoch=3"])
    with pytest.raises(ConfigError, match="key.path=value"):
        load_config(TINY_CONFIG, ["train.epochs"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("_base_: " + TINY_CONFIG + "\nmodel:\n  backbone_name: x\n")
    with pytest.raises(ConfigError, match="unknown config key 'model.backbone_name'"):
        load_config(str(bad))


@pytest.mark.parametrize("name", ["tiny", "default", "vits14_u1652", "vitb14_u1652", "sues200"])
def test_shipped_configs_load(name):
    cfg = load_config(os.path.join(os.path.dirname(TINY_CONFIG), f"{name}.yaml"))
    assert cfg["export"]["opset"] == 17


def _leaf_keys(tree, where=""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _leaf_keys(value, f"{where}{key}.")
        else:
            yield f"{where}{key}"


def test_schema_covers_every_key_of_base_yaml():
    with open(BASE_CONFIG) as fh:
        base = yaml.safe_load(fh)
    assert sorted(_leaf_keys(SCHEMA)) == sorted(_leaf_keys(base))


@pytest.mark.parametrize(
    "override",
    [
        "run.dir=5", "run.seed=-1", "run.seed=4294967296", "run.device=gpu", "run.threads=-1",
        "model.img_size=[56]", "model.img_size=0", "model.dim=0", "model.drop_path=1", "model.weights=7",
        "data.altitudes=[]", "data.altitudes=[150,high]", "data.val_fraction=1", "data.pairs_per_location=0",
        "data.val_drones_per_location=-2", "data.num_workers=1.5", "data.augment.hflip=1.5",
        "data.augment.sat_rot90=2", "data.augment.color_jitter=-0.1", "data.augment.hue=0.6",
        "data.augment.blur_sharpen=-1", "data.augment.erasing=2",
        "train.epochs=true", "train.epochs=2.5", "train.batch_size=1", "train.lr=0", "train.lr=inf",
        "train.backbone_lr_scale=-1", "train.weight_decay=-0.05", "train.warmup_epochs=-1", "train.min_lr_ratio=1.5",
        "train.grad_clip=-1", "train.amp=1", "train.max_steps=0", "train.time_limit_minutes=0", "train.eval_every=0",
        "train.resume=''", "loss.label_smoothing=1.1", "loss.temperature=0", "loss.temperature_min=-1",
        "loss.temperature_max=nan", "loss.srs_weight=-0.1", "eval.batch_size=0", "eval.altitudes=150",
        "eval.output=[a]", "export.opset=0", "export.version=1.2",
    ],
)
def test_values_out_of_type_or_range_name_their_key(override):
    key = override.split("=", 1)[0]
    with pytest.raises(ConfigError, match=rf"^GEOLOC_ERR_CONFIG: {re.escape(key)} must be "):
        load_config(TINY_CONFIG, [override])


def test_values_at_the_edges_of_their_range_are_accepted():
    edges = ["train.lr=1", "model.img_size=56", "train.backbone_lr_scale=0", "train.grad_clip=0", "data.val_fraction=0",
             "loss.srs_weight=0", "data.augment.hue=0.5", "run.device=cuda:1", "train.batch_size=2",
             "loss.label_smoothing=1", "train.max_steps=null"]
    cfg = load_config(TINY_CONFIG, edges)
    assert cfg["train"]["lr"] == 1 and cfg["model"]["img_size"] == 56


def test_temperature_must_lie_between_its_bounds():
    bounds = re.escape("loss.temperature must lie in [loss.temperature_min, loss.temperature_max] = [0.1, 1.0]")
    with pytest.raises(ConfigError, match=bounds):
        load_config(TINY_CONFIG, ["loss.temperature_min=0.1", "loss.temperature=0.05"])


def test_config_files_that_cannot_be_read_are_config_errors(tmp_path):
    not_utf8 = tmp_path / "latin1.yaml"
    not_utf8.write_bytes(b"run:\n  dir: caf\xe9\n")
    with pytest.raises(ConfigError, match=f"config file {re.escape(str(not_utf8))} is not valid YAML"):
        load_config(str(not_utf8))
    loop = tmp_path / "loop.yaml"
    loop.write_text("_base_: loop.yaml\n")
    with pytest.raises(ConfigError, match="inherits from itself through _base_"):
        load_config(str(loop))
    not_a_name = tmp_path / "list_base.yaml"
    not_a_name.write_text("_base_: [base.yaml]\n")
    with pytest.raises(ConfigError, match="_base_ in .* must be a config file name"):
        load_config(str(not_a_name))
