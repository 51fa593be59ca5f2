"""The configuration's JSON form: which keys each part takes, and their types.

Reading is strict: an unknown key, or a key that belongs to another kind of
layer, schedule or loss, is a ``ConfigError`` naming its path, so a typo never
silently falls back to a default. Writing emits only the keys that apply, so
``from_dict(to_dict(c)) == c`` and stored specs stay short.
"""

import math
import types
import typing
from dataclasses import fields, is_dataclass
from typing import Any

from core.errors import ConfigError

LAYER_KEYS = {
    "dense": ("type", "units", "activation", "init"),
    "batch_norm": ("type", "momentum", "epsilon", "activation"),
    "dropout": ("type", "rate"),
}
ACTIVATION_KEYS = {"leaky_relu": ("negative_slope",), "elu": ("alpha",)}
SCHEDULE_KEYS = {
    "constant": (),
    "step": ("step_size", "gamma"),
    "exponential": ("gamma",),
    "cosine": ("t_max", "min_lr", "restarts", "t_mult"),
    "reduce_on_plateau": (
        "metric",
        "factor",
        "patience",
        "threshold",
        "cooldown",
        "min_lr",
    ),
}
LOSS_KEYS = {
    "mse": (),
    "mae": (),
    "huber": ("delta",),
    "cross_entropy": ("label_smoothing", "class_weights"),
    "binary_cross_entropy": (),
}
_LOSS_OPTION_TYPES = {
    "delta": float,
    "label_smoothing": float,
    "class_weights": tuple[float, ...] | None,
}


def unknown_name(path: str, value: Any, allowed: typing.Iterable[str]) -> ConfigError:
    """Build the error for a name outside a fixed set, listing the set."""
    choices = ", ".join(sorted(allowed))
    return ConfigError(path, f"{path} {value!r} is not known; use one of: {choices}")


def require_object(raw: Any, path: str) -> dict[str, Any]:
    """Return ``raw`` if it is a JSON object, else raise naming ``path``."""
    if not isinstance(raw, dict):
        where = path or "the configuration"
        raise ConfigError(path, f"{where} must be a JSON object, got {raw!r}")
    return raw


def parse_dataclass(
    cls: type, raw: Any, path: str, exclude: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    """Check ``raw`` against the fields of ``cls`` and return parsed values."""
    require_object(raw, path)
    hints = typing.get_type_hints(cls)
    names = [f.name for f in fields(cls) if f.name not in exclude]
    allowed = _allowed_keys(cls.__name__, raw, path) or names
    for key in raw:
        if key not in allowed:
            kind = _kind(cls.__name__, raw)
            where = f"{path} ({kind})" if kind else path or "the top level"
            raise ConfigError(
                _join(path, key),
                f"{_join(path, key)} is not a setting here; "
                f"{where} takes: {', '.join(allowed)}",
            )
    return {
        name: _parse_value(hints[name], raw[name], _join(path, name))
        for name in names
        if name in raw
    }


def parse_loss(raw: Any) -> tuple[str, dict[str, Any]]:
    """Split ``"loss"`` (a name, or an object with ``name`` and options)."""
    if isinstance(raw, str):
        return raw, {}
    require_object(raw, "loss")
    name = raw.get("name")
    if not isinstance(name, str):
        raise ConfigError("loss.name", f"loss.name must be a string, got {name!r}")
    if name not in LOSS_KEYS:
        raise unknown_name("loss", name, LOSS_KEYS)
    allowed = ("name",) + LOSS_KEYS[name]
    options = {}
    for key, value in raw.items():
        if key not in allowed:
            raise ConfigError(
                f"loss.{key}",
                f"loss.{key} is not a setting of {name}; "
                f"it takes: {', '.join(allowed)}",
            )
        if key != "name":
            options[key] = _parse_value(_LOSS_OPTION_TYPES[key], value, f"loss.{key}")
    return name, options


def to_plain(config: Any) -> Any:
    """Write a configuration dataclass as JSON values, keys that apply only."""
    if isinstance(config, tuple):
        return [to_plain(item) for item in config]
    if not is_dataclass(config):
        return config
    name = type(config).__name__
    keys = _allowed_keys(name, _kind_source(config), "") or [
        f.name for f in fields(config)
    ]
    plain = {key: to_plain(getattr(config, key)) for key in keys}
    if name == "FitConfig":
        plain["loss"] = _plain_loss(config)
        del plain["loss_options"]
    return plain


def _plain_loss(config: Any) -> str | dict[str, Any]:
    defaults = type(config.loss_options)()
    changed = {
        key: to_plain(getattr(config.loss_options, key))
        for key in LOSS_KEYS.get(config.loss, ())
        if getattr(config.loss_options, key) != getattr(defaults, key)
    }
    return {"name": config.loss, **changed} if changed else config.loss


def _kind_source(config: Any) -> dict[str, Any]:
    return {
        "type": getattr(config, "type", None),
        "activation": getattr(config, "activation", None),
        "name": getattr(config, "name", None),
    }


def _allowed_keys(cls_name: str, raw: dict[str, Any], path: str) -> list[str] | None:
    if cls_name == "LayerConfig":
        kind = raw.get("type", "dense")
        if kind not in LAYER_KEYS:
            raise unknown_name(_join(path, "type"), kind, LAYER_KEYS)
        keys = LAYER_KEYS[kind]
        if "activation" in keys:
            keys += ACTIVATION_KEYS.get(raw.get("activation", "linear"), ())
        return list(keys)
    if cls_name == "ScheduleConfig":
        kind = raw.get("name", "constant")
        if kind not in SCHEDULE_KEYS:
            raise unknown_name(_join(path, "name"), kind, SCHEDULE_KEYS)
        return ["name", *SCHEDULE_KEYS[kind], "warmup_epochs"]
    return None


def _kind(cls_name: str, raw: dict[str, Any]) -> str:
    if cls_name == "LayerConfig":
        return f"a {raw.get('type', 'dense')} layer"
    if cls_name == "ScheduleConfig":
        return f"schedule {raw.get('name', 'constant')!r}"
    return ""


def _parse_value(hint: Any, value: Any, path: str) -> Any:
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        if value is None:
            return None
        hint = next(arg for arg in args if arg is not type(None))
        args = typing.get_args(hint)
    if is_dataclass(hint):
        return hint(**parse_dataclass(hint, value, path))
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, list):
            raise ConfigError(path, f"{path} must be a list, got {value!r}")
        return tuple(
            _parse_value(args[0], item, f"{path}[{i}]") for i, item in enumerate(value)
        )
    return _parse_scalar(hint, value, path)


def _parse_scalar(hint: type, value: Any, path: str) -> Any:
    if hint is bool and isinstance(value, bool):
        return value
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is str and isinstance(value, str):
        return value
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ConfigError(path, f"{path} must be a finite number, got {value!r}")
        return float(value)
    expected = {bool: "true or false", int: "an integer", float: "a number"}
    wanted = expected.get(hint, "a string")
    raise ConfigError(path, f"{path} must be {wanted}, got {value!r}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
