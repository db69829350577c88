from .datasets import (
    DATASETS,
    SUES200,
    CrossViewPairs,
    ImageList,
    Item,
    Location,
    Protocol,
    University1652,
    collate_skipping,
    dataset_class,
    split_train_val,
    validation_protocol,
)
from .sampler import UniqueLocationBatchSampler
from .transforms import PairTransform, eval_transform

__all__ = [
    "DATASETS",
    "SUES200",
    "CrossViewPairs",
    "ImageList",
    "Item",
    "Location",
    "PairTransform",
    "Protocol",
    "UniqueLocationBatchSampler",
    "University1652",
    "collate_skipping",
    "dataset_class",
    "eval_transform",
    "split_train_val",
    "validation_protocol",
]
