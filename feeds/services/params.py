"""Validating the parameters of a plugin run, with CUBE's types and its path access rules."""

from __future__ import annotations

import math
import re
from typing import Any

from rest_framework.exceptions import ValidationError

from plugins.models import ParameterType, Plugin, PluginParameter
from uploads import selectors
from uploads.paths import PathError, normalise

TRUE = {"true", "1", "yes", "on", "t", "y"}
FALSE = {"false", "0", "no", "off", "f", "n", ""}
PATH_ROOTS = ("home", "SERVICES", "PIPELINES")


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        return int(value)
    raise ValueError


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError
    result = float(value)
    if not math.isfinite(result):
        raise ValueError
    return result


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, str)) and str(value).strip().lower() in TRUE | FALSE:
        return str(value).strip().lower() in TRUE
    raise ValueError


def check_paths(user: Any, value: Any) -> str:
    """A comma-separated list of paths the user may read, each normalised; ValueError(msg) otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("A path is required.")
    cleaned = []
    for raw in value.split(","):
        try:
            path = normalise(raw.strip())
        except PathError as exc:
            raise ValueError(str(exc)) from None
        parts = path.split("/")
        if len(parts) < 2 or parts[0] not in PATH_ROOTS:
            raise ValueError(f"'{raw.strip()}': paths must be inside home/, SERVICES/ or PIPELINES/.")
        if parts[0] == "home" and (len(parts) == 2 or (len(parts) == 3 and parts[2] == "feeds")):
            raise ValueError(f"'{path}': a whole home or feeds folder cannot be used as input.")
        if not selectors.can_read_path(user, path):
            # Same message whether it does not exist or is not yours: existence is not disclosed.
            raise ValueError(f"'{path}' does not exist or you do not have permission to read it.")
        cleaned.append(path)
    return ",".join(cleaned)


def validate_parameters(user: Any, plugin: Plugin, data: Any) -> list[tuple[PluginParameter, Any]]:
    """Typed values for every parameter given; required ones must be there. Errors by parameter name."""
    errors: dict[str, list[str]] = {}
    values: list[tuple[PluginParameter, Any]] = []
    for param in plugin.parameters.all():
        if param.name not in data or data.get(param.name) is None:
            if not param.optional:
                errors[param.name] = ["This field is required."]
            continue
        raw = data.get(param.name)
        try:
            if param.type == ParameterType.INTEGER:
                value: Any = _integer(raw)
            elif param.type == ParameterType.FLOAT:
                value = _float(raw)
            elif param.type == ParameterType.BOOLEAN:
                value = _boolean(raw)
            elif param.type in (ParameterType.PATH, ParameterType.UNEXTPATH):
                value = check_paths(user, raw)
            else:
                if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
                    raise ValueError("A string is required.")
                value = str(raw)
                if len(value) > 600:
                    raise ValueError("At most 600 characters.")
        except ValueError as exc:
            errors[param.name] = [str(exc) or f"A valid {param.type} is required."]
            continue
        except TypeError:
            errors[param.name] = [f"A valid {param.type} is required."]
            continue
        values.append((param, value))
    if errors:
        raise ValidationError(errors)
    return values


def render_args(values: list[tuple[PluginParameter, Any]]) -> list[str]:
    """The command-line flags for the stored values (store: flag value; store_true/false: flag or nothing)."""
    args: list[str] = []
    for param, value in values:
        if param.action == "store_true":
            if value:
                args.append(param.flag)
        elif param.action == "store_false":
            if not value:
                args.append(param.flag)
        else:
            args.extend([param.flag, str(value)])
    return args
