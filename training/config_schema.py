"""The type and range of every config key, checked once when a config is loaded.

``configs/base.yaml`` says which keys exist and their defaults; ``SCHEMA`` below, which mirrors
it key for key, says what each value may be. A wrong value stops the command at load with
GEOLOC_ERR_CONFIG naming the key, instead of a traceback (or a silent no-op) deep in training.
"""

import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from .errors import ConfigError

# InfoNCE contrasts each pair with the other pairs of its batch: one pair has nothing to contrast.
MIN_PAIRS_PER_BATCH = 2
# numpy's seed range (random and torch accept it as well).
MAX_SEED = 2**32 - 1
# torchvision's ColorJitter shifts hue by at most half the colour wheel.
MAX_HUE = 0.5


class Rule(ABC):
    """What one config value may be: ``accepts`` decides, ``describe`` says it in the error."""

    @abstractmethod
    def accepts(self, value: Any) -> bool: ...

    @abstractmethod
    def describe(self) -> str: ...


def _is_number(value: Any) -> bool:
    # bool is an int subclass, but `train.epochs=true` is a mistake, not 1.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class Number(Rule):
    """A finite int or float within [low, high], either end optionally open."""

    low: float
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    integer: bool = False

    def accepts(self, value: Any) -> bool:
        if not _is_number(value) or (self.integer and not isinstance(value, int)) or not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def describe(self) -> str:
        kind = "an integer" if self.integer else "a finite number"
        if math.isinf(self.high):
            return f"{kind} {'>' if self.low_open else '>='} {self.low}"
        return f"{kind} in {'(' if self.low_open else '['}{self.low}, {self.high}{')' if self.high_open else ']'}"


@dataclass(frozen=True)
class Flag(Rule):
    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)

    def describe(self) -> str:
        return "true or false"


@dataclass(frozen=True)
class Text(Rule):
    """A non-empty string, optionally matching ``pattern`` (then described by ``meaning``)."""

    pattern: Optional[str] = None
    meaning: str = "a non-empty string"

    def accepts(self, value: Any) -> bool:
        if not isinstance(value, str) or not value:
            return False
        return self.pattern is None or re.fullmatch(self.pattern, value) is not None

    def describe(self) -> str:
        return self.meaning


@dataclass(frozen=True)
class Nullable(Rule):
    rule: Rule

    def accepts(self, value: Any) -> bool:
        return value is None or self.rule.accepts(value)

    def describe(self) -> str:
        return f"null or {self.rule.describe()}"


@dataclass(frozen=True)
class ListOf(Rule):
    """A non-empty list of ``item`` values, of exactly ``length`` items when given."""

    item: Rule
    length: Optional[int] = None

    def accepts(self, value: Any) -> bool:
        if not isinstance(value, list) or not value or (self.length is not None and len(value) != self.length):
            return False
        return all(self.item.accepts(v) for v in value)

    def describe(self) -> str:
        count = "one or more" if self.length is None else str(self.length)
        return f"a list of {count} values, each {self.item.describe()}"


@dataclass(frozen=True)
class Either(Rule):
    first: Rule
    second: Rule

    def accepts(self, value: Any) -> bool:
        return self.first.accepts(value) or self.second.accepts(value)

    def describe(self) -> str:
        return f"{self.first.describe()}, or {self.second.describe()}"


POSITIVE_INT = Number(1, integer=True)
COUNT = Number(0, integer=True)
POSITIVE = Number(0, low_open=True)
NON_NEGATIVE = Number(0)
PROBABILITY = Number(0, 1)
FRACTION = Number(0, 1, high_open=True)
TEXT = Text()
ALTITUDES = ListOf(POSITIVE_INT)

SCHEMA: Mapping[str, Any] = {
    "run": {
        "dir": TEXT,
        "seed": Number(0, MAX_SEED, integer=True),
        "device": Text(r"auto|cpu|cuda(:\d+)?", "auto, cpu, cuda or cuda:N"),
        "threads": COUNT,
    },
    "model": {
        # Names (backbone, descriptor) are checked against their registries when the model is built.
        "backbone": TEXT,
        "img_size": Either(POSITIVE_INT, ListOf(POSITIVE_INT, length=2)),
        "dim": Nullable(POSITIVE_INT),
        "descriptor": TEXT,
        "drop_path": FRACTION,
        "weights": Nullable(TEXT),
    },
    "data": {
        "dataset": TEXT,
        "root": TEXT,
        "altitudes": ALTITUDES,
        "val_fraction": FRACTION,
        "pairs_per_location": Nullable(POSITIVE_INT),
        "val_drones_per_location": Nullable(POSITIVE_INT),
        "num_workers": COUNT,
        "augment": {
            "hflip": PROBABILITY,
            "sat_rot90": Flag(),
            "color_jitter": NON_NEGATIVE,
            "hue": Number(0, MAX_HUE),
            "blur_sharpen": PROBABILITY,
            "erasing": PROBABILITY,
        },
    },
    "train": {
        "epochs": POSITIVE_INT,
        "batch_size": Number(MIN_PAIRS_PER_BATCH, integer=True),
        "lr": POSITIVE,
        "backbone_lr_scale": NON_NEGATIVE,  # 0 freezes the backbone
        "weight_decay": NON_NEGATIVE,
        "warmup_epochs": NON_NEGATIVE,
        "min_lr_ratio": PROBABILITY,
        "grad_clip": NON_NEGATIVE,  # 0 disables clipping
        "amp": Flag(),
        "max_steps": Nullable(POSITIVE_INT),
        "time_limit_minutes": Nullable(POSITIVE),
        "eval_every": POSITIVE_INT,
        "resume": Nullable(TEXT),
    },
    "loss": {
        "label_smoothing": PROBABILITY,
        "temperature": POSITIVE,
        "temperature_min": POSITIVE,
        "temperature_max": POSITIVE,
        "srs_weight": NON_NEGATIVE,  # 0 disables SRS
    },
    "eval": {
        "batch_size": POSITIVE_INT,
        "dataset": Nullable(TEXT),
        "root": Nullable(TEXT),
        "altitudes": ALTITUDES,
        "output": Nullable(TEXT),
    },
    "export": {
        # The opsets torch can write depend on its version; the exporter reports those it cannot.
        "opset": POSITIVE_INT,
        "out": Nullable(TEXT),
        "version": Nullable(TEXT),
        "training_data": Nullable(TEXT),
    },
}


def check_config(cfg: Mapping[str, Any]) -> None:
    """Raise ConfigError for the first value outside its rule, or keys that contradict each other.

    ``cfg`` is merged onto base.yaml, so every key is present and no unknown key is.
    """
    _check_section(cfg, SCHEMA, "")
    loss = cfg["loss"]
    if not loss["temperature_min"] <= loss["temperature"] <= loss["temperature_max"]:
        raise ConfigError(
            f"loss.temperature must lie in [loss.temperature_min, loss.temperature_max] = "
            f"[{loss['temperature_min']}, {loss['temperature_max']}]; got {loss['temperature']}"
        )


def _check_section(values: Mapping[str, Any], schema: Mapping[str, Any], where: str) -> None:
    for key, rule in schema.items():
        path = f"{where}{key}"
        if isinstance(rule, Mapping):
            _check_section(values[key], rule, f"{path}.")
        elif not rule.accepts(values[key]):
            raise ConfigError(f"{path} must be {rule.describe()}; got {values[key]!r}")
