"""Admin console pages for feeds and plugin instances (runs): status, logs and parameters at a glance, and
the actions admins take, each through feeds.services: cancel a run, retry a failed one, delete a feed."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from rest_framework.exceptions import ValidationError

from cube.users.admin import ReadOnlyInline, ReadOnlyStaffAdmin

from .models import ACTIVE, Feed, PluginInstance, PluginInstanceParameter, Status
from .services import deletion, instances

RETRYABLE = (Status.FAILED, Status.CANCELLED)


def instance_retry(instance: PluginInstance) -> PluginInstance:
    """A new run of the same plugin on the same previous run, with the same parameter values and
    resources, created as its owner through instances.instance_create: every value is validated again
    (a path the owner can no longer read is refused). A retried fs run starts a new feed, as any fs run."""
    data: dict[str, Any] = {
        pv.plugin_param.name: pv.value for pv in instance.parameter_values.select_related("plugin_param")}
    data.update(title=instance.title, cpu_limit=f"{instance.cpu_limit}m", memory_limit=f"{instance.memory_limit}Mi",
                number_of_workers=instance.number_of_workers, gpu_limit=instance.gpu_limit)
    if instance.compute_resource is not None:
        data["compute_resource_name"] = instance.compute_resource.name
    if instance.previous_id is not None:
        data["previous_id"] = instance.previous_id
    return instances.instance_create(user=instance.owner, plugin=instance.plugin, data=data)


def _errors(exc: ValidationError) -> str:
    detail = exc.detail
    if isinstance(detail, dict):
        return "; ".join(f"{k}: {' '.join(str(m) for m in v) if isinstance(v, list) else v}"
                         for k, v in detail.items())
    return str(detail)


class ParameterInline(ReadOnlyInline):
    model = PluginInstanceParameter
    fields = ("name", "type", "value")
    readonly_fields = fields

    @admin.display(description="parameter")
    def name(self, obj: PluginInstanceParameter) -> str:
        return obj.plugin_param.name

    @admin.display(description="type")
    def type(self, obj: PluginInstanceParameter) -> str:
        return obj.plugin_param.type

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("plugin_param")


@admin.register(PluginInstance)
class PluginInstanceAdmin(ReadOnlyStaffAdmin):
    list_display = ("id", "plugin_label", "title", "status_badge", "feed_link", "owner", "compute_resource",
                    "start_date", "end_date")
    list_filter = ("status", "plugin__meta__type", "compute_resource", "deletion_status")
    search_fields = ("=id", "title", "plugin__meta__name", "feed__name", "owner__username", "status_message")
    list_select_related = ("plugin__meta", "feed", "owner", "compute_resource")
    date_hierarchy = "start_date"
    actions = ("cancel_runs", "retry_runs")
    inlines = (ParameterInline,)
    fields = ("plugin", "title", "status", "status_message", "error_code", "feed", "previous", "owner",
              "compute_resource", "output_folder", "start_date", "end_date", "size", "cpu_limit", "memory_limit",
              "number_of_workers", "gpu_limit", "summary", "logs", "deletion_status", "deletion_error")
    readonly_fields = fields

    @admin.display(description="plugin", ordering="plugin__meta__name")
    def plugin_label(self, obj: PluginInstance) -> str:
        return f"{obj.plugin.meta.name} v{obj.plugin.version}"

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: PluginInstance) -> str:
        colour = {Status.SUCCEEDED: "#2e7d32", Status.FAILED: "#c62828", Status.CANCELLED: "#6d6d6d"}.get(
            Status(obj.status), "#1565c0")
        return format_html('<b style="color:{}">{}</b>', colour, obj.status)

    @admin.display(description="feed", ordering="feed__name")
    def feed_link(self, obj: PluginInstance) -> str:
        return format_html('<a href="../feed/{}/change/">{} ({})</a>', obj.feed_id, obj.feed, obj.feed_id)

    @admin.display(description="job logs")
    def logs(self, obj: PluginInstance) -> str:
        # The full output the watcher kept (the API's plugins/instances/<id>/logs/ serves the same text).
        return format_html('<pre style="max-height:40em;overflow:auto;white-space:pre-wrap">{}</pre>',
                           obj.job_logs or "(no output recorded)")

    @admin.action(description="Cancel the selected runs (and what waits on them)")
    def cancel_runs(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        done = 0
        for inst in queryset.filter(status__in=ACTIVE):
            with transaction.atomic():
                instances.instance_cancel(instance=inst, reason=f"Cancelled by the administrator "
                                                                f"{request.user.get_username()}.")
            done += 1
        skipped = queryset.count() - done
        self.message_user(request, f"Cancelled {done} run(s)" + (
            f"; {skipped} had already ended." if skipped else "."), messages.SUCCESS)

    @admin.action(description="Retry the selected failed or cancelled runs")
    def retry_runs(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for inst in queryset.select_related("plugin__meta", "owner", "compute_resource"):
            if inst.status not in RETRYABLE:
                self.message_user(request, f"Run {inst.id} is {inst.status}: only failed or cancelled runs are "
                                           "retried.", messages.WARNING)
                continue
            try:
                new = instance_retry(inst)
            except ValidationError as exc:
                self.message_user(request, f"Run {inst.id} could not be retried: {_errors(exc)}", messages.ERROR)
                continue
            self.message_user(request, f"Run {inst.id} retried as run {new.id} ({new.status}).", messages.SUCCESS)


@admin.register(Feed)
class FeedAdmin(ReadOnlyStaffAdmin):
    list_display = ("id", "name", "owner", "public", "run_count", "creation_date", "deletion_status")
    list_filter = ("public", "deletion_status")
    search_fields = ("=id", "name", "owner__username")
    list_select_related = ("owner", "folder")
    date_hierarchy = "creation_date"
    actions = ("delete_feeds",)
    fields = ("name", "owner", "public", "folder", "creation_date", "modification_date", "deletion_status",
              "deletion_requested_at", "deletion_error")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(n_runs=Count("plugin_instances", distinct=True))

    @admin.display(description="runs", ordering="n_runs")
    def run_count(self, obj: Any) -> int:
        return obj.n_runs

    @admin.action(description="Delete the selected feeds, their runs and files (in the background)")
    def delete_feeds(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        n = 0
        for feed in queryset:
            with transaction.atomic():
                deletion.feed_request_delete(feed=feed)
            n += 1
        self.message_user(request, f"Deleting {n} feed(s).", messages.SUCCESS)
