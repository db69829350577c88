"""YAML configs with ``_base_`` inheritance and ``key.path=value`` command-line overrides.

A loaded config has every key of base.yaml and each value checked (config_schema.py).
"""

import copy
import os
from typing import Any, Dict, Iterable, Mapping, Tuple

import yaml

from .config_schema import check_config
from .errors import ConfigError

Config = Dict[str, Any]
CONFIG_DIR = os.path.join(os.path.dirname(__file__), "configs")
BASE_CONFIG = os.path.join(CONFIG_DIR, "base.yaml")


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """One line: where PyYAML found the problem (1-based line and column) and what it is."""
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return " ".join(str(exc).split())
    return f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"


def _read_yaml(path: str) -> Config:
    if not os.path.isfile(path):
        raise ConfigError(f"config file {path} does not exist; see {CONFIG_DIR} for the shipped ones")
    # Bytes, so that PyYAML reports a file that is not UTF-8 as a YAMLError too.
    with open(path, "rb") as fh:
        try:
            data = yaml.safe_load(fh) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML at {_yaml_problem(exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level")
    return data


def _merge(base: Config, update: Mapping[str, Any], reference: Mapping[str, Any], where: str) -> Config:
    """Recursive merge that refuses keys absent from the reference (base.yaml)."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        path = f"{where}{key}"
        if key not in reference:
            raise ConfigError(f"unknown config key '{path}'; known keys here: {sorted(reference)}")
        if isinstance(reference[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"config key '{path}' must be a mapping")
            out[key] = _merge(out.get(key, {}), value, reference[key], f"{path}.")
        else:
            out[key] = value
    return out


def _load_chain(path: str, reference: Config, inheriting: Tuple[str, ...] = ()) -> Config:
    """``path`` merged onto its ``_base_`` chain; ``inheriting`` are the files that named it."""
    chain = (*inheriting, os.path.abspath(path))
    if chain[-1] in inheriting:
        raise ConfigError(f"config file {path} inherits from itself through _base_: {' -> '.join(chain)}")
    data = _read_yaml(path)
    parent = data.pop("_base_", None)
    if parent is None:
        base = copy.deepcopy(reference)
    elif isinstance(parent, str):
        base = _load_chain(os.path.join(os.path.dirname(chain[-1]), parent), reference, chain)
    else:
        raise ConfigError(f"_base_ in {path} must be a config file name (relative to its folder); got {parent!r}")
    return _merge(base, data, reference, "")


def parse_value(text: str) -> Any:
    """YAML scalar parsing, plus floats like ``1e-4`` that YAML 1.1 leaves as strings."""
    value = yaml.safe_load(text)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def apply_overrides(cfg: Config, overrides: Iterable[str]) -> Config:
    cfg = copy.deepcopy(cfg)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override '{item}' is not of the form key.path=value")
        dotted, text = item.split("=", 1)
        try:
            value = parse_value(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"override '{item}' is not valid YAML at {_yaml_problem(exc)}") from None
        node = cfg
        keys = dotted.split(".")
        for depth, key in enumerate(keys):
            if not isinstance(node, dict) or key not in node:
                raise ConfigError(f"unknown config key '{'.'.join(keys[: depth + 1])}' in override '{item}'")
            if depth == len(keys) - 1:
                if isinstance(node[key], dict):
                    raise ConfigError(f"override '{item}' sets a whole section; set its keys one by one")
                node[key] = value
            else:
                node = node[key]
    return cfg


def load_config(path: str = None, overrides: Iterable[str] = ()) -> Config:
    reference = _read_yaml(BASE_CONFIG)
    cfg = _load_chain(path, reference) if path else copy.deepcopy(reference)
    cfg = apply_overrides(cfg, overrides)
    check_config(cfg)
    return cfg


def save_config(cfg: Config, run_dir: str, name: str = "config.yaml") -> str:
    os.makedirs(run_dir, exist_ok=True)
    path = os.path.join(run_dir, name)
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(cfg, fh, sort_keys=False)
    return path
