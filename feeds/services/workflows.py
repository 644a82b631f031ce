"""Workflows: a pipeline run as plugin instances grafted under an existing instance.

Each piping becomes a run through instances.instance_create (the same validation, feed, output folder
and scheduling as a run posted by hand), parents before children. A ts piping's ``plugininstances``
default holds piping ids; it is rewritten to the ids of the runs just created for those pipings. The
runs then go through the job engine as any other: the first waits for (or starts after) the previous
instance, the others wait for their parents.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from django.db import transaction
from rest_framework.exceptions import ValidationError

from cube.api.ids import parse_id
from cube.api.parsers import json_list
from plugins.models import DEFAULT_PIPING_MODELS, Pipeline, PluginPiping, PluginType

from ..models import ACTIVE, PluginInstance, Workflow
from .instances import instance_cancel, instance_create

TS_PARENTS = "plugininstances"


def _millicores(value: Any) -> Any:
    """A number in nodes_info is millicores, as the pipeline's own listings give it (python-chrisclient
    copies ``plugin_piping_cpu_limit`` into nodes_info); a string keeps its unit ('2000m', '2')."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{int(value)}m"
    return value


def _fail(message: str, field: str = "nodes_info") -> ValidationError:
    return ValidationError({field: [message]})


def _parse_nodes_info(raw: Any, pipings: dict[int, PluginPiping]) -> dict[int, dict[str, Any]]:
    """nodes_info (a JSON string, or a list from a JSON body) → piping id → that node's overrides. Keys
    other than CUBE's are ignored (python-chrisclient sends ``previous_piping_id``)."""
    if raw in (None, ""):
        return {}
    raw = json_list(raw, "nodes_info", "Must be a JSON list of objects, one per piping.")
    nodes: dict[int, dict[str, Any]] = {}
    for node in raw:
        if not isinstance(node, dict):
            raise _fail("Each node must be an object with a piping_id.")
        given = node.get("piping_id")
        pid = parse_id(given)
        if pid is None:
            raise _fail(f"piping_id {str(given)[:40]!r} is not an integer.")
        if pid not in pipings:
            raise _fail(f"Piping {pid} is not a piping of this pipeline.")
        if pid in nodes:
            raise _fail(f"Piping {pid} is given twice.")
        defaults = node.get("plugin_parameter_defaults", [])
        if not isinstance(defaults, list) or not all(
                isinstance(d, dict) and isinstance(d.get("name"), str) and "default" in d for d in defaults):
            raise _fail(f"Piping {pid}: plugin_parameter_defaults must be a list of {{name, default}}.")
        names = {p.name for p in pipings[pid].plugin.parameters.all()}
        if bad := [d["name"] for d in defaults if d["name"] not in names]:
            raise _fail(f"Piping {pid}: no parameter(s) {bad} in {pipings[pid].plugin.meta.name}.")
        nodes[pid] = node
    return nodes


def _piping_defaults(pipeline: Pipeline) -> dict[int, dict[str, Any]]:
    """piping id → parameter name → the pipeline's default (None defaults are left out)."""
    out: dict[int, dict[str, Any]] = {}
    for model in DEFAULT_PIPING_MODELS.values():
        rows = model.objects.filter(plugin_piping__pipeline=pipeline).values_list(  # type: ignore[attr-defined]
            "plugin_piping_id", "plugin_param__name", "value")
        for piping_id, name, value in rows:
            if value is not None:
                out.setdefault(piping_id, {})[name] = value
    return out


def _ts_parents(value: Any) -> list[int]:
    return [int(x) for x in str(value or "").split(",") if x.strip().isdigit()]


def creation_order(pipings: dict[int, PluginPiping], defaults: dict[int, dict[str, Any]]) -> list[PluginPiping]:
    """Breadth-first from the root, but never a ts piping before every parent it reads from."""
    children: dict[int | None, list[int]] = {}
    for p in sorted(pipings.values(), key=lambda p: p.id):
        children.setdefault(p.previous_id, []).append(p.id)
    needs = {pid: {x for x in _ts_parents(defaults.get(pid, {}).get(TS_PARENTS)) if x in pipings}
             if pipings[pid].plugin.meta.type == PluginType.TS else set() for pid in pipings}
    order: list[PluginPiping] = []
    done: set[int] = set()
    queue = deque(children.get(None, []))
    waiting: list[int] = []
    while queue or waiting:
        if not queue:
            ready = [pid for pid in waiting if needs[pid] <= done]
            if not ready:
                raise _fail("The pipeline's ts pipings read from pipings that never come before them.")
            waiting = [pid for pid in waiting if pid not in ready]
            queue.extend(ready)
            continue
        pid = queue.popleft()
        if not needs[pid] <= done:
            waiting.append(pid)
            continue
        order.append(pipings[pid])
        done.add(pid)
        queue.extend(children.get(pid, []))
        ready = [w for w in waiting if needs[w] <= done]
        waiting = [w for w in waiting if w not in ready]
        queue.extend(ready)
    if len(order) != len(pipings):
        raise _fail("The pipeline is not a tree under one root.")
    return order


def _node_errors(piping: PluginPiping, exc: ValidationError) -> ValidationError:
    detail = exc.detail
    if isinstance(detail, dict):
        text = "; ".join(f"{k}: {' '.join(str(m) for m in v) if isinstance(v, list) else v}"
                         for k, v in detail.items())
    else:
        text = " ".join(str(m) for m in detail) if isinstance(detail, list) else str(detail)
    return _fail(f"Piping {piping.id} ('{piping.title}'): {text}")


def workflow_create(*, user: Any, pipeline: Pipeline, data: Any) -> Workflow:
    """Create the workflow and one run per piping; all or nothing."""
    from .. import selectors

    if not hasattr(data, "get"):
        raise _fail("The request body must be an object of fields.", "detail")
    raw_prev = data.get("previous_plugin_inst_id")
    if raw_prev in (None, ""):
        raise _fail("This field is required.", "previous_plugin_inst_id")
    try:
        prev_id = int(raw_prev)
    except (TypeError, ValueError):
        raise _fail("A valid integer is required.", "previous_plugin_inst_id") from None
    previous = selectors.writable_instance(user, prev_id)
    if previous is None:
        raise _fail(f"No plugin instance {prev_id} you can add to.", "previous_plugin_inst_id")
    title = data.get("title") or pipeline.name
    if not isinstance(title, str) or len(title) > 100:
        raise _fail("At most 100 characters.", "title")
    pipings = {p.id: p for p in PluginPiping.objects.filter(pipeline=pipeline).select_related("plugin__meta")
               .prefetch_related("plugin__parameters")}
    if not pipings:
        raise _fail("The pipeline has no pipings.", "pipeline")
    nodes = _parse_nodes_info(data.get("nodes_info"), pipings)
    defaults = _piping_defaults(pipeline)
    order = creation_order(pipings, defaults)
    with transaction.atomic():
        workflow = Workflow.objects.create(title=title, pipeline=pipeline, owner=user)
        created: dict[int, PluginInstance] = {}
        for piping in order:
            node = nodes.get(piping.id, {})
            values = dict(defaults.get(piping.id, {}))
            values.update({d["name"]: d["default"] for d in node.get("plugin_parameter_defaults", [])})
            if piping.plugin.meta.type == PluginType.TS and values.get(TS_PARENTS) not in (None, ""):
                try:
                    values[TS_PARENTS] = ",".join(str(created[i].id) for i in _ts_parents(values[TS_PARENTS]))
                except KeyError as exc:
                    raise _fail(f"Piping {piping.id}: {TS_PARENTS} names piping {exc} of no earlier node.") from None
            parent = created[piping.previous_id] if piping.previous_id else previous
            run: dict[str, Any] = {
                **values, "previous_id": parent.id, "title": node.get("title") or piping.title,
                "compute_resource_name": node.get("compute_resource_name"),
                "cpu_limit": _millicores(node.get("cpu_limit")) or f"{piping.cpu_limit}m",
                "memory_limit": node.get("memory_limit") or f"{piping.memory_limit}Mi",
                "number_of_workers": node.get("number_of_workers") or piping.number_of_workers,
                "gpu_limit": node.get("gpu_limit") if node.get("gpu_limit") is not None else piping.gpu_limit,
            }
            try:
                created[piping.id] = instance_create(user=user, plugin=piping.plugin, data=run, workflow=workflow)
            except ValidationError as exc:
                raise _node_errors(piping, exc) from None
    return workflow


def workflow_update(*, workflow: Workflow, data: Any) -> Workflow:
    if not hasattr(data, "get"):
        raise _fail("The request body must be an object of fields.", "detail")
    title = data.get("title")
    if title is not None:
        if not isinstance(title, str) or len(title) > 100:
            raise _fail("At most 100 characters.", "title")
        workflow.title = title
        workflow.save(update_fields=["title"])
    return workflow


def workflow_delete(*, workflow: Workflow) -> None:
    """Cancel the workflow's runs that have not finished (finished ones keep their status, unlike CUBE,
    which marks them all cancelled), then delete the row; the runs stay, with no workflow."""
    with transaction.atomic():
        for inst in PluginInstance.objects.filter(workflow=workflow, status__in=ACTIVE).order_by("id"):
            instance_cancel(instance=inst, reason="The workflow was deleted.")
        workflow.delete()
