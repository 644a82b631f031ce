"""Creating, changing and deleting pipelines. Access is checked by the caller (selectors.py); every
write is one transaction, and input problems are 400s naming the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError
from rest_framework.exceptions import ValidationError

from cube.api.ids import parse_id
from plugins.descriptors import parse_memory
from plugins.models import DEFAULT_PIPING_MODELS, ParameterType, Pipeline, PluginPiping, PluginType
from uploads.models import ChrisFile

from .tree import PATH_TYPES, TS_PARENTS, NodeSpec, coerce_default, parse_millicores

TEXT_FIELDS = {"name": 100, "authors": 200, "category": 100, "description": 2000}
UNLOCK_ERROR = "A pipeline can be unlocked only once every plugin parameter in it has a default value."


def clean_text(data: dict[str, Any], required: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, limit in TEXT_FIELDS.items():
        value = data.get(name)
        if value is None:
            if name == "name" and required:
                raise ValidationError({"name": ["This field is required."]})
            continue
        if not isinstance(value, str):
            raise ValidationError({name: ["A string is required."]})
        value = value.strip()
        if name == "name" and not value:
            raise ValidationError({"name": ["This field may not be blank."]})
        if len(value) > limit:
            raise ValidationError({name: [f"At most {limit} characters."]})
        out[name] = value
    return out


def _name_free(name: str, pipeline_id: int | None = None) -> None:
    taken = Pipeline.objects.filter(name=name)
    if pipeline_id is not None:
        taken = taken.exclude(pk=pipeline_id)
    if taken.exists():
        raise ValidationError({"name": [f"A pipeline named {name!r} already exists."]})


def _plugin_default(param: Any) -> Any:
    """The plugin's own default for param, typed for its table (None when it has none usable)."""
    try:
        return coerce_default(param, param.default)
    except ValueError:
        return None


def missing_defaults(pipeline: Pipeline) -> list[str]:
    """'title: parameter' for every default still without a value (what blocks unlocking)."""
    missing = []
    for model in DEFAULT_PIPING_MODELS.values():
        rows = model.objects.filter(plugin_piping__pipeline=pipeline, value__isnull=True)  # type: ignore[attr-defined]
        missing += [f"{t}: {n}" for t, n in rows.values_list("plugin_piping__title", "plugin_param__name")]
    return sorted(missing)


@transaction.atomic
def pipeline_create(*, owner: Any, nodes: list[NodeSpec], name: str, authors: str = "", category: str = "",
                    description: str = "", locked: bool = True) -> Pipeline:
    """A pipeline with one piping per node (nodes ordered parents first, as tree.parse_tree returns them)
    and a default row for every non-path parameter: the node's value, else the plugin's default."""
    _name_free(name)
    pipeline = Pipeline.objects.create(name=name, owner=owner, authors=authors, category=category,
                                       description=description, locked=True)
    pipings: dict[str, PluginPiping] = {}
    rows: dict[str, list[Any]] = {t: [] for t in DEFAULT_PIPING_MODELS}
    ts_rows: list[tuple[Any, NodeSpec]] = []
    for spec in nodes:
        piping = PluginPiping.objects.create(
            title=spec.title, plugin=spec.plugin, pipeline=pipeline,
            previous=pipings[spec.previous] if spec.previous else None, cpu_limit=spec.cpu_limit,
            memory_limit=spec.memory_limit, number_of_workers=spec.number_of_workers, gpu_limit=spec.gpu_limit)
        pipings[spec.title] = piping
        for param in spec.plugin.parameters.all():
            if param.type in PATH_TYPES:
                continue
            row = DEFAULT_PIPING_MODELS[param.type](plugin_piping=piping, plugin_param=param)
            if spec.plugin.meta.type == PluginType.TS and param.name == TS_PARENTS:
                ts_rows.append((row, spec))  # piping ids are known once every piping exists
            else:
                row.value = spec.defaults[param.name] if param.name in spec.defaults else _plugin_default(param)
            rows[param.type].append(row)
    for row, spec in ts_rows:
        # Stored as the parents' piping ids, which a workflow rewrites into its new instances' ids.
        row.value = ",".join(str(pipings[t].id) for t in spec.parents)
    for ptype, model in DEFAULT_PIPING_MODELS.items():
        model.objects.bulk_create(rows[ptype])  # type: ignore[attr-defined]
    if not locked:
        _unlock(pipeline)
    return pipeline


def _unlock(pipeline: Pipeline) -> None:
    missing = missing_defaults(pipeline)
    if missing:
        raise ValidationError({"locked": [f"{UNLOCK_ERROR} Missing: {', '.join(missing[:10])}."]})
    Pipeline.objects.filter(pk=pipeline.pk).update(locked=False)
    pipeline.locked = False
    # Its source file (kept private while it was a draft) is now everyone's, as the pipeline is.
    ChrisFile.objects.filter(pipeline_meta__pipeline=pipeline).update(public=True)


@transaction.atomic
def pipeline_update(*, pipeline: Pipeline, fields: dict[str, str], locked: bool | None = None) -> Pipeline:
    """Change the descriptive fields; ``locked=False`` publishes. A published pipeline is never re-locked
    (workflows of other users may rely on it being immutable)."""
    if "name" in fields:
        _name_free(fields["name"], pipeline.pk)
    for key, value in fields.items():
        setattr(pipeline, key, value)
    if fields:
        pipeline.save(update_fields=[*fields, "modification_date"])
    if locked is True and not pipeline.locked:
        raise ValidationError({"locked": ["A published (unlocked) pipeline cannot be locked again."]})
    if locked is False and pipeline.locked:
        _unlock(pipeline)
    return pipeline


def pipeline_delete(*, pipeline: Pipeline) -> None:
    """Delete the pipeline, then its source file (the file is the pipeline's, not a user's upload)."""
    from uploads.services import file_delete

    from .selectors import source_file_meta

    meta = source_file_meta(pipeline)
    try:
        with transaction.atomic():
            pipeline.delete()
    except ProtectedError:
        raise ValidationError({"detail": ["This pipeline is in use (workflows were run from it)."]}) from None
    if meta is not None:
        file_delete(file=meta.source_file)


def _require_draft(pipeline: Pipeline) -> None:
    if not pipeline.locked:
        raise ValidationError({"detail": ["The pipeline is published (unlocked): its pipings and defaults can "
                                          "no longer change."]})


RESOURCES: dict[str, Callable[[Any], Any]] = {"cpu_limit": parse_millicores, "memory_limit": parse_memory,
                                              "number_of_workers": int, "gpu_limit": int}


@transaction.atomic
def piping_update(*, piping: PluginPiping, data: Any) -> PluginPiping:
    """Change a piping's resources within its plugin's limits (a draft pipeline only)."""
    _require_draft(piping.pipeline)
    plugin = piping.plugin
    changed = []
    for name, parse in RESOURCES.items():
        raw = data.get(name) if hasattr(data, "get") else None
        if raw in (None, ""):
            continue
        low, high = getattr(plugin, f"min_{name}"), getattr(plugin, f"max_{name}")
        try:
            if isinstance(raw, bool):
                raise ValueError("a number is required")
            value = parse(raw)
        except (TypeError, ValueError) as exc:
            raise ValidationError({name: [str(exc) or "Invalid value."]}) from None
        if value is None or not (low <= value <= high):
            raise ValidationError({name: [f"Must be between {low} and {high} for this plugin."]})
        setattr(piping, name, int(value))
        changed.append(name)
    if changed:
        piping.save(update_fields=changed)
    return piping


@transaction.atomic
def default_update(*, row: Any, value: Any) -> Any:
    """Change one default (a draft pipeline only); the value must have the parameter's type."""
    piping = row.plugin_piping
    _require_draft(piping.pipeline)
    param = row.plugin_param
    if param.name == TS_PARENTS and piping.plugin.meta.type == PluginType.TS:
        raise ValidationError({"value": [f"A ts piping's {TS_PARENTS} are the pipeline's edges, fixed when it "
                                         "was created."]})
    try:
        row.value = coerce_default(param, value)
    except ValueError as exc:
        raise ValidationError({"value": [f"Invalid {param.type}: {exc}."]}) from None
    type(row).objects.filter(pk=row.pk).update(value=row.value)
    return row


def tree_from_instance(user: Any, instance_id: Any) -> list[dict[str, Any]]:
    """A plugin_tree (the API's node form) of a ds instance and everything below it in its feed, using each
    run's titles, parameter values and resources. Path values are left out (pipelines carry none)."""
    # feeds depends on plugins, never the reverse at import time: its selector is imported here, when the
    # request needs it, so the plugins app loads without feeds.
    from django.http import Http404

    from feeds.selectors import access_instance_by_id, visible_instances

    field = "plugin_inst_id"
    root_id = parse_id(instance_id)
    if root_id is None:
        raise ValidationError({field: ["A valid integer is required."]})
    try:
        root = access_instance_by_id(user, root_id)
    except Http404:
        raise ValidationError({field: [f"No plugin instance {root_id} you can read."]}) from None
    if root.plugin.meta.type != PluginType.DS:
        raise ValidationError({field: [f"Plugin instance {root.id} is of a {root.plugin.meta.type} plugin; only a "
                                       "ds instance can be the root of a pipeline."]})
    runs = list(visible_instances(user).filter(feed_id=root.feed_id).prefetch_related(
        "parameter_values__plugin_param"))
    children: dict[int, list[Any]] = {}
    for run in runs:
        if run.previous_id is not None:
            children.setdefault(run.previous_id, []).append(run)
    subtree, queue = [], [root]
    while queue:
        run = queue.pop(0)
        subtree.append(run)
        queue.extend(sorted(children.get(run.id, []), key=lambda r: r.id))
    titles = {run.id: run.title or f"{run.plugin.meta.name}_{run.id}" for run in subtree}
    nodes = []
    for run in subtree:
        defaults = []
        for pv in run.parameter_values.all():
            param = pv.plugin_param
            if param.type in (ParameterType.PATH, ParameterType.UNEXTPATH):
                continue
            value = pv.value
            if run.plugin.meta.type == PluginType.TS and param.name == TS_PARENTS and value:
                ids = [int(x) for x in str(value).split(",") if x.strip().isdigit()]
                if any(i not in titles for i in ids):
                    raise ValidationError({field: [f"Plugin instance {run.id} takes input from instances outside "
                                                   f"the subtree of {root.id}."]})
                value = ",".join(titles[i] for i in ids)
            defaults.append({"name": param.name, "default": value})
        nodes.append({"title": titles[run.id], "previous": titles[run.previous_id] if run is not root else None,
                      "plugin_id": run.plugin_id, "plugin_parameter_defaults": defaults,
                      "cpu_limit": run.cpu_limit, "memory_limit": run.memory_limit,
                      "number_of_workers": run.number_of_workers, "gpu_limit": run.gpu_limit})
    return nodes


def pipeline_tree(pipeline: Pipeline) -> list[dict[str, Any]]:
    """The pipeline as plugin_tree nodes (ts parents back as titles): what /json/ returns and POST accepts."""
    from .selectors import pipeline_defaults, pipeline_pipings

    pipings = list(pipeline_pipings(pipeline))
    titles = {p.id: p.title for p in pipings}
    defaults: dict[int, list[dict[str, Any]]] = {}
    for row in pipeline_defaults(pipeline):
        value = row.value
        if row.plugin_param.name == TS_PARENTS and row.plugin_piping.plugin.meta.type == PluginType.TS and value:
            value = ",".join(titles.get(int(x), x) for x in str(value).split(",") if x.strip().isdigit())
        if value is not None:
            defaults.setdefault(row.plugin_piping_id, []).append({"name": row.plugin_param.name, "default": value})
    return [{"title": p.title, "plugin_name": p.plugin.meta.name, "plugin_version": p.plugin.version,
             "previous": titles.get(p.previous_id) if p.previous_id else None,
             "plugin_parameter_defaults": defaults.get(p.id, []), "cpu_limit": p.cpu_limit,
             "memory_limit": p.memory_limit, "number_of_workers": p.number_of_workers, "gpu_limit": p.gpu_limit}
            for p in pipings]
