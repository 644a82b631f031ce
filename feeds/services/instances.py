"""Creating, scheduling, cancelling and deleting plugin instances and feeds.

Every status change is a compare-and-set UPDATE (transition()), so concurrent workers and requests can
never both move an instance out of the same state.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from plugins.models import ComputeResource, Plugin, PluginType
from uploads.services import folder_get_or_create

from ..models import ACTIVE, Feed, PluginInstance, PluginInstanceParameter, Status
from .params import check_topology, validate_parameters
from .social import note_create


def transition(instance_id: int, frm: Iterable[str] | str, to: str, **fields: Any) -> bool:
    """Move instance_id from one of ``frm`` to ``to`` atomically; False if it was not in ``frm``."""
    sources = [frm] if isinstance(frm, str) else list(frm)
    updated = PluginInstance.objects.filter(id=instance_id, status__in=sources).update(
        status=to, modification_date=timezone.now(), **fields)
    return updated == 1


DEFAULT_CPU_MILLICORES = 1000
DEFAULT_MEMORY_MB = 1024


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(value, high))


def _limit(data: Any, name: str, low: int, high: int, default: int, parse: Any) -> int:
    raw = data.get(name)
    if raw in (None, ""):
        return default
    try:
        value = parse(raw)
    except (TypeError, ValueError) as exc:
        raise ValidationError({name: [str(exc) or "Invalid value."]}) from None
    if value is None or not (low <= value <= high):
        raise ValidationError({name: [f"Must be between {low} and {high}."]})
    return int(value)


def _compute_resource(plugin: Plugin, name: Any) -> ComputeResource:
    resources = list(plugin.compute_resources.order_by("id"))
    if name in (None, ""):
        if not resources:
            raise ValidationError({"compute_resource_name": ["The plugin is not registered on any compute resource."]})
        return resources[0]
    for cr in resources:
        if cr.name == name:
            return cr
    raise ValidationError({"compute_resource_name": [f"The plugin is not registered on compute resource '{name}'."]})


def _previous(user: Any, plugin: Plugin, previous_id: Any) -> PluginInstance | None:
    from .. import selectors

    if plugin.meta.type == PluginType.FS:
        if previous_id not in (None, ""):
            raise ValidationError({"previous_id": ["An fs plugin starts a new feed: it takes no previous_id."]})
        return None
    if previous_id in (None, ""):
        raise ValidationError({"previous_id": [f"A {plugin.meta.type} plugin needs previous_id."]})
    try:
        pid = int(previous_id)
    except (TypeError, ValueError):
        raise ValidationError({"previous_id": ["A valid integer is required."]}) from None
    previous = selectors.writable_instance(user, pid)
    if previous is None:
        raise ValidationError({"previous_id": [f"No plugin instance {pid} you can add to."]})
    return previous


def output_path(instance: PluginInstance, previous: PluginInstance | None) -> str:
    name = f"{instance.plugin.meta.name}_{instance.id}"
    if previous is None:
        return f"{instance.feed.folder.path}/{name}/data"  # type: ignore[union-attr]
    prev_dir = previous.output_folder.path.rsplit("/", 1)[0]  # type: ignore[union-attr]
    return f"{prev_dir}/{name}/data"


def instance_create(*, user: Any, plugin: Plugin, data: Any, workflow: Any = None) -> PluginInstance:
    """Validate and create a run (and its feed, for fs plugins), then schedule it if it can start.
    ``workflow``: the workflow (pipeline run) this run belongs to, if any."""
    from plugins.descriptors import parse_cpu, parse_memory

    previous = _previous(user, plugin, data.get("previous_id"))
    values = validate_parameters(user, plugin, data)
    if plugin.meta.type == PluginType.TS:
        check_topology(plugin, previous.id if previous else None, previous.feed_id if previous else None, values)
    cr = _compute_resource(plugin, data.get("compute_resource_name"))
    # Defaults: one core and 1 GiB, within the plugin's range. CUBE defaults to the minimum, which for
    # pl-dircopy is 50 millicores: a container limited to 5% of a core takes seconds just to start Python.
    cpu = _limit(data, "cpu_limit", plugin.min_cpu_limit, plugin.max_cpu_limit,
                 _clamp(DEFAULT_CPU_MILLICORES, plugin.min_cpu_limit, plugin.max_cpu_limit), parse_cpu)
    mem = _limit(data, "memory_limit", plugin.min_memory_limit, plugin.max_memory_limit,
                 _clamp(DEFAULT_MEMORY_MB, plugin.min_memory_limit, plugin.max_memory_limit), parse_memory)
    workers = _limit(data, "number_of_workers", plugin.min_number_of_workers, plugin.max_number_of_workers,
                     plugin.min_number_of_workers, int)
    gpus = _limit(data, "gpu_limit", plugin.min_gpu_limit, plugin.max_gpu_limit, plugin.min_gpu_limit, int)
    title = data.get("title") or ""
    if not isinstance(title, str) or len(title) > 100:
        raise ValidationError({"title": ["At most 100 characters."]})
    with transaction.atomic():
        if previous is None:
            feed = Feed.objects.create(name=title or plugin.meta.name, owner=user)
            feed.folder = folder_get_or_create(path=f"home/{user.username}/feeds/feed_{feed.id}", owner=user)
            feed.save(update_fields=["folder"])
            note_create(feed=feed)
        else:
            feed = previous.feed
        instance = PluginInstance.objects.create(
            title=title, plugin=plugin, previous=previous, feed=feed, owner=user, compute_resource=cr,
            cpu_limit=cpu, memory_limit=mem, number_of_workers=workers, gpu_limit=gpus, workflow=workflow)
        # Outputs live under the feed owner's home, even when a sharee runs the plugin (as in CUBE).
        instance.output_folder = folder_get_or_create(path=output_path(instance, previous), owner=feed.owner)
        instance.save(update_fields=["output_folder"])
        PluginInstanceParameter.objects.bulk_create(
            [PluginInstanceParameter(plugin_inst=instance, plugin_param=p, value=v) for p, v in values])
        run_if_ready(instance)
    instance.refresh_from_db()
    return instance


def _parents(instance: PluginInstance) -> list[int]:
    """The instances this one waits for: previous, plus a ts plugin's 'plugininstances' list."""
    ids = [instance.previous_id] if instance.previous_id else []
    if instance.plugin.meta.type == PluginType.TS:
        row = instance.parameter_values.filter(plugin_param__name="plugininstances").first()
        if row and row.value:
            ids += [int(x) for x in str(row.value).split(",") if x.strip().isdigit()]
    return sorted(set(ids))


def run_if_ready(instance: PluginInstance) -> None:
    """created/waiting → scheduled (and enqueue the job), waiting, or cancelled, from the parents' state."""
    parents = list(PluginInstance.objects.filter(id__in=_parents(instance)).values_list("status", flat=True))
    if any(s in (Status.FAILED, Status.CANCELLED) for s in parents):
        transition(instance.id, (Status.CREATED, Status.WAITING), Status.CANCELLED,
                   status_message="An input plugin instance did not finish successfully.", end_date=timezone.now())
    elif all(s == Status.SUCCEEDED for s in parents):
        if transition(instance.id, (Status.CREATED, Status.WAITING), Status.SCHEDULED):
            enqueue_job(instance.id)
    else:
        transition(instance.id, Status.CREATED, Status.WAITING)


def enqueue_job(instance_id: int) -> None:
    from ..tasks import run_job_task

    transaction.on_commit(lambda: run_job_task.apply_async(args=[instance_id], queue=settings.CUBE_QUEUE_JOBS))


def schedule_waiting_children(instance: PluginInstance) -> None:
    """After an instance ends: start (or cancel) whatever was waiting for it."""
    waiting = PluginInstance.objects.filter(status=Status.WAITING, feed_id=instance.feed_id).select_related(
        "plugin__meta")
    for child in waiting:
        if instance.id in _parents(child):
            run_if_ready(child)


def descendant_ids(instance: PluginInstance) -> list[int]:
    """The instance and everything below it: one query for the feed's edges, then a walk in memory."""
    children: dict[int, list[int]] = {}
    for iid, prev in PluginInstance.objects.filter(feed_id=instance.feed_id).values_list("id", "previous_id"):
        if prev is not None:
            children.setdefault(prev, []).append(iid)
    out, stack = [], [instance.id]
    while stack:
        iid = stack.pop()
        out.append(iid)
        stack.extend(children.get(iid, []))
    return out


def instance_cancel(*, instance: PluginInstance, reason: str = "Cancelled by the user.") -> None:
    """Cancel the instance and its active descendants; running jobs are stopped by their watchers."""
    ids = descendant_ids(instance)
    PluginInstance.objects.filter(id__in=ids, status__in=ACTIVE).update(
        status=Status.CANCELLED, status_message=reason, end_date=timezone.now(), modification_date=timezone.now())


def feed_active_instances(feed: Feed) -> Any:
    return PluginInstance.objects.filter(Q(feed=feed) & Q(status__in=ACTIVE))


def feed_update(*, feed: Feed, name: str | None = None, public: bool | None = None) -> Feed:
    """Rename and/or publish a feed. Publishing publishes its folder, so every output beneath it is readable
    anonymously (and a PUBLIC/ link file appears, as in CUBE)."""
    from uploads.services import folder_set_public

    with transaction.atomic():
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = name
        if public is not None and public != feed.public:
            changes["public"] = public
            if feed.folder is not None:
                folder_set_public(folder=feed.folder, public=public)
        if changes:
            Feed.objects.filter(id=feed.id).update(modification_date=timezone.now(), **changes)
    return feed
