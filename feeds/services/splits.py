"""Splitting a run's output (CUBE's ``splits``): one pl-topologicalcopy child per comma-separated
regular expression, each copying the parent's files that match, created through instance_create."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from rest_framework.exceptions import ValidationError

from plugins.models import Plugin

from ..models import PluginInstance, PluginInstanceSplit
from .instances import instance_create

SPLITTER = "pl-topologicalcopy"


def instance_split(*, user: Any, instance: PluginInstance, data: Any) -> PluginInstanceSplit:
    if not hasattr(data, "get"):
        raise ValidationError({"detail": ["The request body must be an object: {filter, compute_resource_name}."]})
    raw = data.get("filter", "")
    if not isinstance(raw, str) or len(raw) > 600:
        raise ValidationError({"filter": ["A string of at most 600 characters."]})
    regexes = [r.strip() for r in raw.split(",")] if raw.strip() else [""]
    for regex in regexes:
        try:
            re.compile(regex)
        except re.error as exc:
            raise ValidationError({"filter": [f"Invalid regular expression {regex!r}: {exc}"]}) from None
    plugin = Plugin.objects.select_related("meta").filter(meta__name=SPLITTER).order_by("-id").first()
    if plugin is None:
        raise ValidationError({"detail": [f"Splitting needs the plugin {SPLITTER}, which is not registered."]})
    with transaction.atomic():
        created = []
        for regex in regexes:
            child = instance_create(user=user, plugin=plugin, data={
                "previous_id": instance.id, "plugininstances": str(instance.id), "filter": regex,
                "compute_resource_name": data.get("compute_resource_name")})
            created.append(child.id)
        return PluginInstanceSplit.objects.create(
            plugin_inst=instance, filter=",".join(regexes), created_plugin_inst_ids=",".join(map(str, created)))
