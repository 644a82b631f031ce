"""Reading and validating a plugin descriptor (the JSON a ChRIS plugin prints with --json).

Every problem is collected and reported by field name, so the admin sees them all in one 400.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from .models import MAX_INT, ParameterType, PluginType

TYPE_NAMES = {
    "str": ParameterType.STRING, "string": ParameterType.STRING,
    "int": ParameterType.INTEGER, "integer": ParameterType.INTEGER,
    "float": ParameterType.FLOAT,
    "bool": ParameterType.BOOLEAN, "boolean": ParameterType.BOOLEAN,
    "path": ParameterType.PATH, "unextpath": ParameterType.UNEXTPATH,
}
ACTIONS = ("store", "store_true", "store_false")
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
PARAM_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,49}$")
VERSION_RE = re.compile(r"^[0-9.]+$")
FLAG_RE = re.compile(r"^--?[A-Za-z0-9_][A-Za-z0-9_-]*$")
RESERVED_PARAMS = {"title", "compute_resource_name", "previous_id", "cpu_limit", "memory_limit",
                   "number_of_workers", "gpu_limit", "status"}


class DescriptorError(ValueError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class ParameterSpec:
    name: str
    type: str
    optional: bool
    flag: str
    short_flag: str
    action: str
    help: str
    ui_exposed: bool
    default: Any


@dataclass
class PluginSpec:
    meta: dict[str, Any]
    plugin: dict[str, Any]
    parameters: list[ParameterSpec] = field(default_factory=list)


def _finite(value: float, what: str) -> float:
    # float('9' * 400) and JSON's 1e400 are infinity, and int(infinity) an OverflowError (a 500), not a limit.
    if not math.isfinite(value):
        raise ValueError(f"{what} is too large")
    return value


def parse_cpu(value: Any) -> int | None:
    """'1000m' → 1000 millicores, '2' or 2 → 2000; '' / None → None (use the default)."""
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValueError("a CPU limit is a number of millicores like '1000m' or of cores like 2")
    if isinstance(value, (int, float)):
        return int(_finite(value, "a CPU limit") * 1000) if isinstance(value, float) else int(value) * 1000
    text = str(value).strip()
    if text.endswith("m") and text[:-1].isdigit():
        return int(text[:-1])
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return int(_finite(float(text), "a CPU limit") * 1000)
    raise ValueError(f"'{value}' is not a CPU limit (e.g. '1000m' or 2)")


_MEM_UNITS = {"Mi": 1, "Gi": 1024, "Ti": 1024 * 1024, "M": 1, "G": 1000, "Ki": 1 / 1024}


def parse_memory(value: Any) -> int | None:
    """'512Mi' → 512, '1Gi' → 1024 (MiB); a bare number is MiB; '' / None → None."""
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValueError("a memory limit is like '512Mi' or '1Gi'")
    if isinstance(value, (int, float)):
        return int(_finite(value, "a memory limit")) if isinstance(value, float) else int(value)
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|M|G)?", str(value).strip())
    if not m:
        raise ValueError(f"'{value}' is not a memory limit (e.g. '512Mi' or '1Gi')")
    return int(_finite(float(m.group(1)) * _MEM_UNITS[m.group(2) or "Mi"], "a memory limit"))


def _check_default(ptype: str, default: Any) -> str | None:
    checks = {
        ParameterType.STRING: lambda v: isinstance(v, str),
        ParameterType.INTEGER: lambda v: isinstance(v, int) and not isinstance(v, bool),
        ParameterType.FLOAT: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        ParameterType.BOOLEAN: lambda v: isinstance(v, bool),
    }
    check = checks.get(ptype)  # type: ignore[call-overload]
    if check is not None and not check(default):
        return f"default {default!r} is not a valid {ptype}"
    return None


def _parameter(raw: Any, index: int, errors: dict[str, list[str]]) -> ParameterSpec | None:
    where = f"parameters[{index}]"
    if not isinstance(raw, dict):
        errors.setdefault(where, []).append("must be an object")
        return None
    problems: list[str] = []
    name = raw.get("name")
    if not isinstance(name, str) or not PARAM_NAME_RE.match(name):
        problems.append(f"name {name!r} is not a valid parameter name")
    elif name in RESERVED_PARAMS:
        problems.append(f"name '{name}' is reserved by the API")
    ptype = TYPE_NAMES.get(str(raw.get("type")))
    if ptype is None:
        problems.append(f"type {raw.get('type')!r} is not one of str, int, float, bool, path, unextpath")
    flag = raw.get("flag")
    if not isinstance(flag, str) or not FLAG_RE.match(flag):
        problems.append(f"flag {flag!r} must look like --name or -n")
    short_flag = raw.get("short_flag") or flag or ""
    action = raw.get("action", "store")
    if action not in ACTIONS:
        problems.append(f"action {action!r} is not one of {', '.join(ACTIONS)}")
    optional = raw.get("optional", False)
    if not isinstance(optional, bool):
        problems.append("optional must be true or false")
    ui_exposed = raw.get("ui_exposed", True)
    default = raw.get("default")
    if ptype == ParameterType.BOOLEAN and action == "store":
        action = "store_true"  # CUBE's rule: a boolean flag without an explicit action is store_true
    if ptype == ParameterType.BOOLEAN and default is None:
        default = action == "store_false"
    if ptype in (ParameterType.PATH, ParameterType.UNEXTPATH) and optional:
        problems.append(f"a {ptype} parameter cannot be optional")
    if optional and default is None and ptype not in (ParameterType.PATH, ParameterType.UNEXTPATH):
        problems.append("an optional parameter needs a default")
    if not optional and not ui_exposed:
        problems.append("a required parameter must be ui_exposed")
    if optional and default is not None and ptype is not None:
        bad = _check_default(ptype, default)
        if bad:
            problems.append(bad)
    if problems:
        errors.setdefault(f"{where} ({name})" if isinstance(name, str) else where, []).extend(problems)
        return None
    assert isinstance(name, str) and isinstance(flag, str)  # checked above; problems would have returned
    return ParameterSpec(name=name, type=str(ptype), optional=optional, flag=flag, short_flag=short_flag,
                         action=action, help=str(raw.get("help") or ""), ui_exposed=bool(ui_exposed),
                         default=default if optional else None)


def parse_descriptor(raw: Any) -> PluginSpec:
    if not isinstance(raw, dict):
        raise DescriptorError({"descriptor": ["must be a JSON object"]})
    errors: dict[str, list[str]] = {}

    def need(key: str, pattern: re.Pattern[str] | None = None, msg: str = "") -> str:
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            errors.setdefault(key, []).append("This field is required.")
            return ""
        if pattern is not None and not pattern.match(value):
            errors.setdefault(key, []).append(msg or f"{value!r} is not valid")
        return value.strip()

    name = need("name", NAME_RE, "a plugin name is letters, digits, '_', '.' and '-' (at most 100)")
    version = need("version", VERSION_RE, "a version is digits and dots, e.g. 2.1.3")
    if len(version) > 10:
        errors.setdefault("version", []).append("at most 10 characters")
    dock_image = need("dock_image")
    execshell = need("execshell")
    selfpath = need("selfpath")
    selfexec = need("selfexec")
    ptype = raw.get("type")
    if ptype not in PluginType.values:
        errors.setdefault("type", []).append(f"{ptype!r} is not one of ds, fs, ts")
    limits: dict[str, int] = {}
    for key, parser, default in (
        ("min_cpu_limit", parse_cpu, 1000), ("max_cpu_limit", parse_cpu, MAX_INT),
        ("min_memory_limit", parse_memory, 200), ("max_memory_limit", parse_memory, MAX_INT),
    ):
        try:
            parsed = parser(raw.get(key))
        except ValueError as exc:
            errors.setdefault(key, []).append(str(exc))
            parsed = None
        if parsed is not None and parsed > MAX_INT:  # the column is 32-bit: beyond it was a DataError, a 500
            errors.setdefault(key, []).append(f"must be at most {MAX_INT}")
            parsed = None
        limits[key] = default if parsed is None else parsed
    for key, default in (("min_number_of_workers", 1), ("max_number_of_workers", MAX_INT),
                         ("min_gpu_limit", 0), ("max_gpu_limit", 0)):
        value = raw.get(key, default)
        value = default if value in ("", None) else value
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_INT:
            errors.setdefault(key, []).append(f"must be an integer from 0 to {MAX_INT}")
            value = default
        limits[key] = value
    for low, high in (("min_cpu_limit", "max_cpu_limit"), ("min_memory_limit", "max_memory_limit"),
                      ("min_number_of_workers", "max_number_of_workers"), ("min_gpu_limit", "max_gpu_limit")):
        if limits[low] > limits[high]:
            errors.setdefault(low, []).append(f"is greater than {high}")
    params_raw = raw.get("parameters", [])
    params: list[ParameterSpec] = []
    if not isinstance(params_raw, list):
        errors.setdefault("parameters", []).append("must be a list")
    else:
        seen: set[str] = set()
        for i, p in enumerate(params_raw):
            spec = _parameter(p, i, errors)
            if spec is None:
                continue
            if spec.name in seen:
                errors.setdefault("parameters", []).append(f"duplicate parameter name '{spec.name}'")
            seen.add(spec.name)
            params.append(spec)
    if errors:
        raise DescriptorError(errors)
    meta = {k: str(raw.get(k) or "") for k in ("title", "public_repo", "license", "icon", "category",
                                               "authors", "documentation")}
    meta.update(name=name, type=str(ptype))
    plugin = dict(version=version, dock_image=dock_image, execshell=execshell, selfpath=selfpath,
                  selfexec=selfexec, description=str(raw.get("description") or ""), **limits)
    return PluginSpec(meta=meta, plugin=plugin, parameters=params)
