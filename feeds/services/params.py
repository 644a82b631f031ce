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


def resolve_path(user: Any, raw: str) -> str:
    """A path as the current generation names it. Classic clients send ``<user>/uploads/x``; the wiki-era
    workflows send paths relative to the user's uploads (``/DICOM/dataset1``). Both map into home/<user>;
    nothing can leave the tree (normalise refuses '..' and empty components)."""
    try:
        path = normalise(raw.strip().lstrip("/"))
    except PathError as exc:
        raise ValueError(str(exc)) from None
    first = path.split("/", 1)[0]
    if first in PATH_ROOTS or not user.is_authenticated:
        return path
    if first == user.username and "/" in path:
        return f"home/{path}"
    return f"home/{user.username}/uploads/{path}"


def check_paths(user: Any, value: Any) -> str:
    """A comma-separated list of paths the user may read, each normalised; ValueError(msg) otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("A path is required.")
    cleaned = []
    for raw in value.split(","):
        path = resolve_path(user, raw)
        parts = path.split("/")
        if len(parts) < 2 or parts[0] not in PATH_ROOTS:
            raise ValueError(f"'{raw.strip()}': paths must be inside home/, SERVICES/ or PIPELINES/.")
        if parts[0] == "home" and (len(parts) == 2 or (len(parts) == 3 and parts[2] == "feeds")):
            raise ValueError(f"'{path}': a whole home or feeds folder cannot be used as input.")
        if not selectors.can_read_path(user, path):
            # Same message whether it does not exist or is not yours: existence is not disclosed.
            raise ValueError(f"'{raw.strip()}' does not exist or you do not have permission to read it.")
        cleaned.append(path)
    return ",".join(cleaned)


def check_topology(plugin: Plugin, previous_id: int | None, feed_id: int | None,
                   values: list[tuple[PluginParameter, Any]]) -> None:
    """A ts plugin's 'plugininstances' lists runs of the same feed, previous among them, and its
    'filter' has at most one regex per listed run, each valid."""
    from ..models import PluginInstance

    given = {p.name: v for p, v in values}
    raw_ids = str(given.get("plugininstances") or "").strip()
    if raw_ids:
        try:
            ids = [int(x) for x in raw_ids.split(",")]
        except ValueError:
            raise ValidationError({"plugininstances": ["A comma-separated list of plugin instance ids."]}) from None
        found = set(PluginInstance.objects.filter(id__in=ids, feed_id=feed_id).values_list("id", flat=True))
        if missing := [i for i in ids if i not in found]:
            raise ValidationError({"plugininstances": [f"Not plugin instances of this feed: {missing}."]})
        if previous_id not in ids:
            raise ValidationError({"plugininstances": ["The list must include previous_id."]})
    else:
        ids = [previous_id] if previous_id else []
    regexes = [r for r in str(given.get("filter") or "").split(",")] if given.get("filter") else []
    if len(regexes) > max(1, len(ids)):
        raise ValidationError({"filter": ["At most one regular expression per listed plugin instance."]})
    for regex in regexes:
        try:
            re.compile(regex.strip())
        except re.error as exc:
            raise ValidationError({"filter": [f"Invalid regular expression {regex!r}: {exc}"]}) from None


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
