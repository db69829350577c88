import os

import pytest
import yaml

from training.config import load_config, save_config
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
