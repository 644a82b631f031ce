"""Validating a pipeline's ``plugin_tree`` into node specs, every problem a 400 naming the node.

A tree is a list of nodes ``{title, previous (a title, or None for the root), plugin_id | plugin_name +
plugin_version, plugin_parameter_defaults: [{name, default}], cpu_limit, memory_limit, number_of_workers,
gpu_limit}``. Classic clients send ``previous_index`` (a list index) instead of ``previous``; both are read.
A ts node's ``plugininstances`` default names the titles of its parents (previous among them), which makes
the pipeline a DAG rather than a tree; it must not have a cycle.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from rest_framework.exceptions import ValidationError

from cube.api.ids import parse_id
from cube.api.parsers import json_list
from plugins.descriptors import parse_cpu, parse_memory
from plugins.models import ParameterType, Plugin, PluginParameter, PluginType

FIELD = "plugin_tree"
MAX_TITLE = 100
MAX_STRING = 600
TS_PARENTS = "plugininstances"
PATH_TYPES = (ParameterType.PATH, ParameterType.UNEXTPATH)
TRUE = {"true", "1", "yes", "on"}
FALSE = {"false", "0", "no", "off"}


@dataclass
class NodeSpec:
    title: str
    previous: str | None
    plugin: Plugin
    defaults: dict[str, Any]  # parameter name → typed value (ts 'plugininstances': list of parent titles)
    cpu_limit: int
    memory_limit: int
    number_of_workers: int
    gpu_limit: int
    parents: list[str] = field(default_factory=list)  # ts: every parent title, previous included


def fail(message: str) -> ValidationError:
    return ValidationError({FIELD: [message]})


def load_tree(raw: Any) -> list[Any]:
    """The tree as a list: a JSON string (the API form) or an already decoded list (files, JSON bodies)."""
    raw = json_list(raw, FIELD, "Must be a JSON list of nodes.")
    if not raw:
        raise fail("Must contain at least one node.")
    return raw


def coerce_default(param: PluginParameter, value: Any) -> Any:
    """value as the parameter's type; ValueError(message) if it is not one."""
    if value is None:
        raise ValueError("a default value is required (null given)")
    ptype = param.type
    if ptype in PATH_TYPES:
        raise ValueError(f"it is a {ptype} parameter, and pipelines carry no defaults for input paths")
    if ptype == ParameterType.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower() if isinstance(value, (str, int)) else None
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValueError(f"{value!r} is not a boolean")
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise ValueError(f"{value!r} is not a valid {ptype}")
    if ptype == ParameterType.INTEGER:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value)):
            number = int(value)
            if abs(number) > 2147483647:
                raise ValueError(f"{value!r} is out of range")
            return number
        raise ValueError(f"{value!r} is not an integer")
    if ptype == ParameterType.FLOAT:
        try:
            real = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a float") from None
        if not math.isfinite(real):
            raise ValueError(f"{value!r} is not a finite float")
        return real
    text = str(value)
    if len(text) > MAX_STRING:
        raise ValueError(f"at most {MAX_STRING} characters")
    return text


def _plugin(node: dict[str, Any], where: str, cache: dict[Any, Plugin]) -> Plugin:
    if node.get("plugin_id") not in (None, ""):
        key: Any = parse_id(node["plugin_id"])
        if key is None:
            raise fail(f"{where}: plugin_id must be an integer.")
        lookup: dict[str, Any] = {"pk": key}
        missing = f"{where}: there is no plugin with id {key}."
    else:
        name, version = node.get("plugin_name"), node.get("plugin_version")
        if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
            raise fail(f"{where}: give plugin_id, or plugin_name and plugin_version.")
        key = (name, version)
        lookup = {"meta__name": name, "version": version}
        missing = f"{where}: there is no plugin {name} version {version}."
    if key not in cache:
        plugin = Plugin.objects.select_related("meta").prefetch_related("parameters").filter(**lookup).first()
        if plugin is None:
            raise fail(missing)
        cache[key] = plugin
    plugin = cache[key]
    if plugin.meta.type == PluginType.FS:
        raise fail(f"{where}: {plugin.meta.name} is an fs plugin; fs plugins start feeds and cannot be in a "
                   "pipeline.")
    return plugin


def _defaults(node: dict[str, Any], plugin: Plugin, where: str) -> dict[str, Any]:
    raw = node.get("plugin_parameter_defaults")
    if raw in (None, ""):
        return {}
    if isinstance(raw, dict):  # the YAML form: {name: default}
        raw = [{"name": k, "default": v} for k, v in raw.items()]
    if not isinstance(raw, list):
        raise fail(f"{where}: plugin_parameter_defaults must be a list of {{name, default}} objects.")
    params = {p.name: p for p in plugin.parameters.all()}
    out: dict[str, Any] = {}
    for item in raw:
        if not isinstance(item, dict) or "name" not in item or "default" not in item:
            raise fail(f"{where}: each parameter default must be an object with 'name' and 'default'.")
        name = item["name"]
        param = params.get(name) if isinstance(name, str) else None
        if param is None:
            raise fail(f"{where}: {plugin.meta.name} v{plugin.version} has no parameter {name!r}.")
        if name in out:
            raise fail(f"{where}: parameter {name!r} is given twice.")
        if plugin.meta.type == PluginType.TS and name == TS_PARENTS:
            out[name] = _parent_titles(item["default"], where)
            continue
        try:
            out[name] = coerce_default(param, item["default"])
        except ValueError as exc:
            raise fail(f"{where}: invalid default for parameter {name!r}: {exc}.") from None
    return out


def _parent_titles(value: Any, where: str) -> list[str]:
    if isinstance(value, list):
        titles = [str(t).strip() for t in value]
    elif isinstance(value, str):
        titles = [t.strip() for t in value.split(",")] if value.strip() else []
    else:
        raise fail(f"{where}: {TS_PARENTS} must be a comma-separated list of node titles.")
    if any(not t for t in titles) or len(set(titles)) != len(titles):
        raise fail(f"{where}: {TS_PARENTS} must list distinct, non-empty node titles.")
    return titles


def _resource(node: dict[str, Any], name: str, low: int, high: int, parse: Any, where: str) -> int:
    raw = node.get(name)
    if raw in (None, ""):
        return low
    try:
        value = parse(raw)
    except (TypeError, ValueError) as exc:
        raise fail(f"{where}: invalid {name}: {exc}.") from None
    if value is None or not (low <= value <= high):
        raise fail(f"{where}: {name} must be between {low} and {high} for this plugin.")
    return int(value)


def parse_millicores(value: Any) -> int | None:
    """A piping's CPU limit. Unlike a run's, a bare integer is millicores: that is how pipings are shown
    (``cpu_limit: 1000``), so a pipeline's JSON form posts back unchanged; '1000m' and '0.5' (cores) work too."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return parse_cpu(value)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not re.fullmatch(r"\s*\d+\s*", str(value)):
        raise ValueError(f"{value!r} is not a non-negative integer")
    return int(value)


def _previous(node: dict[str, Any], nodes: list[Any], where: str) -> str | None:
    if "previous" in node:
        prev = node["previous"]
        if prev is not None and not isinstance(prev, str):
            raise fail(f"{where}: previous must be the title of another node, or null for the root.")
        return prev or None
    if "previous_index" in node:
        ix = node["previous_index"]
        if ix is None:
            return None
        if isinstance(ix, bool) or not isinstance(ix, int) or not (0 <= ix < len(nodes)):
            raise fail(f"{where}: previous_index must be the index of another node, or null for the root.")
        other = nodes[ix]
        return other.get("title") if isinstance(other, dict) else None
    return None


def parse_tree(raw: Any) -> list[NodeSpec]:
    """The validated nodes, parents before children. Raises a 400 ValidationError on any problem."""
    nodes = load_tree(raw)
    cache: dict[Any, Plugin] = {}
    specs: list[NodeSpec] = []
    for ix, node in enumerate(nodes):
        where = f"node {ix}"
        if not isinstance(node, dict):
            raise fail(f"{where}: each node must be a JSON object.")
        title = node.get("title")
        if not isinstance(title, str) or not title.strip():
            raise fail(f"{where}: every node needs a non-empty title.")
        if len(title) > MAX_TITLE:
            raise fail(f"{where}: a title has at most {MAX_TITLE} characters.")
        where = f"node {ix} ({title!r})"
        previous = _previous(node, nodes, where)
        plugin = _plugin(node, where, cache)
        defaults = _defaults(node, plugin, where)
        specs.append(NodeSpec(
            title=title, previous=previous, plugin=plugin, defaults=defaults,
            cpu_limit=_resource(node, "cpu_limit", plugin.min_cpu_limit, plugin.max_cpu_limit, parse_millicores,
                                where),
            memory_limit=_resource(node, "memory_limit", plugin.min_memory_limit, plugin.max_memory_limit,
                                   parse_memory, where),
            number_of_workers=_resource(node, "number_of_workers", plugin.min_number_of_workers,
                                        plugin.max_number_of_workers, _int, where),
            gpu_limit=_resource(node, "gpu_limit", plugin.min_gpu_limit, plugin.max_gpu_limit, _int, where)))
    return _check_graph(specs)


def _check_graph(specs: list[NodeSpec]) -> list[NodeSpec]:
    by_title: dict[str, NodeSpec] = {}
    for spec in specs:
        if spec.title in by_title:
            raise fail(f"The title {spec.title!r} is used by more than one node; titles must be unique.")
        by_title[spec.title] = spec
    roots = [s for s in specs if s.previous is None]
    if len(roots) != 1:
        names = ", ".join(repr(s.title) for s in roots)
        raise fail(f"A pipeline has exactly one root (a node whose previous is null); found {len(roots)}"
                   + (f": {names}." if roots else "."))
    for spec in specs:
        if spec.previous is not None and spec.previous not in by_title:
            raise fail(f"Node {spec.title!r}: previous {spec.previous!r} is not the title of a node.")
        if spec.previous == spec.title:
            raise fail(f"Node {spec.title!r} cannot be its own previous.")
        if spec.plugin.meta.type == PluginType.TS and TS_PARENTS in spec.defaults:
            parents = spec.defaults[TS_PARENTS]
            for title in parents:
                if title not in by_title or title == spec.title:
                    raise fail(f"Node {spec.title!r}: {TS_PARENTS} names {title!r}, which is not another node.")
            if parents and spec.previous not in parents:
                raise fail(f"Node {spec.title!r}: {TS_PARENTS} must include its previous node.")
            spec.parents = list(parents)
        else:
            spec.parents = [spec.previous] if spec.previous else []
    # Order parents first along the tree edges; a node never reached sits on a cycle of previous links.
    children: dict[str, list[NodeSpec]] = {}
    for spec in specs:
        if spec.previous is not None:
            children.setdefault(spec.previous, []).append(spec)
    ordered: list[NodeSpec] = []
    queue = [roots[0]]
    while queue:
        spec = queue.pop(0)
        ordered.append(spec)
        queue.extend(children.get(spec.title, []))
    if len(ordered) != len(specs):
        stray = sorted({s.title for s in specs} - {s.title for s in ordered})
        raise fail(f"Nodes {stray} are not connected to the root (their previous links form a cycle).")
    _check_acyclic(ordered)
    return ordered


def _check_acyclic(specs: list[NodeSpec]) -> None:
    """The ts parent links added to the tree must keep it a DAG (Kahn's algorithm)."""
    indegree = {s.title: len(set(s.parents)) for s in specs}
    dependants: dict[str, list[str]] = {}
    for spec in specs:
        for parent in set(spec.parents):
            dependants.setdefault(parent, []).append(spec.title)
    ready = [t for t, n in indegree.items() if n == 0]
    seen = 0
    while ready:
        title = ready.pop()
        seen += 1
        for child in dependants.get(title, []):
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    if seen != len(specs):
        cyclic = sorted(t for t, n in indegree.items() if n > 0)
        raise fail(f"The {TS_PARENTS} links form a cycle through {cyclic}; a pipeline must be acyclic.")
