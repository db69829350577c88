"""Errors with stable codes, so the Node CLI and users can match on them.

Every message names the thing at fault (a path, a key, a config entry) and says what to do.
"""


class GeolocError(Exception):
    """Base class: ``code`` is stable across releases, the message is for humans."""

    code = "GEOLOC_ERR"

    def __init__(self, message: str):
        super().__init__(f"{self.code}: {message}")


class DatasetLayoutError(GeolocError):
    code = "GEOLOC_ERR_DATASET_LAYOUT"


class CheckpointKeysError(GeolocError):
    code = "GEOLOC_ERR_CHECKPOINT_KEYS"


class CheckpointFormatError(GeolocError):
    code = "GEOLOC_ERR_CHECKPOINT_FORMAT"


class CheckpointMissingError(GeolocError):
    code = "GEOLOC_ERR_CHECKPOINT_MISSING"


class ConfigError(GeolocError):
    code = "GEOLOC_ERR_CONFIG"


class InputShapeError(GeolocError):
    code = "GEOLOC_ERR_INPUT_SHAPE"


class ExportError(GeolocError):
    code = "GEOLOC_ERR_EXPORT"


def format_key_diff(missing, unexpected, shape_mismatch=(), limit: int = 20) -> str:
    """Readable summary of a state-dict mismatch, truncated so huge diffs stay legible."""

    def section(title, items):
        items = sorted(items)
        if not items:
            return []
        shown = [f"    {k}" for k in items[:limit]]
        if len(items) > limit:
            shown.append(f"    ... and {len(items) - limit} more")
        return [f"  {title} ({len(items)}):", *shown]

    lines = section("missing in checkpoint", missing)
    lines += section("unexpected in checkpoint", unexpected)
    lines += section("shape mismatch (key: checkpoint vs model)", shape_mismatch)
    return "\n".join(lines)
