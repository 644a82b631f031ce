"""Plugin catalogue services: registration from descriptors, compute resources."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction

from .descriptors import DescriptorError, parse_descriptor
from .models import ComputeResource, Plugin, PluginMeta, PluginParameter


def compute_resources_by_names(names: Sequence[str]) -> list[ComputeResource]:
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        raise DescriptorError({"compute_names": ["At least one compute resource name is required."]})
    found = {cr.name: cr for cr in ComputeResource.objects.filter(name__in=names)}
    missing = [n for n in names if n not in found]
    if missing:
        raise DescriptorError({"compute_names": [f"Unknown compute resource(s): {', '.join(missing)}."]})
    return [found[n] for n in names]


@transaction.atomic
def plugin_register(*, descriptor: Any, compute_names: Sequence[str], existing_ok: bool = False) -> Plugin:
    """Register a plugin version from its descriptor on the named compute resources.

    With existing_ok, registering a name+version that exists only adds the compute resources (so `make run`
    can register the built-in plugins on every start); otherwise it is an error, as in CUBE.
    """
    spec = parse_descriptor(descriptor)
    resources = compute_resources_by_names(compute_names)
    meta = PluginMeta.objects.filter(name=spec.meta["name"]).first()
    if meta is not None:
        if meta.type != spec.meta["type"]:
            raise DescriptorError({"type": [f"plugin '{meta.name}' is already registered as type {meta.type}"]})
        existing = Plugin.objects.filter(meta=meta, version=spec.plugin["version"]).first()
        if existing is not None:
            if not existing_ok:
                raise DescriptorError({"version": [
                    f"{meta.name} version {existing.version} is already registered (id {existing.id})."]})
            existing.compute_resources.add(*resources)
            return existing
        if Plugin.objects.filter(meta=meta, dock_image=spec.plugin["dock_image"]).exists():
            raise DescriptorError({"dock_image": [
                f"another version of {meta.name} already uses the image {spec.plugin['dock_image']}"]})
        for key, value in spec.meta.items():
            setattr(meta, key, value)
        meta.save()
    else:
        meta = PluginMeta.objects.create(**spec.meta)
    plugin = Plugin.objects.create(meta=meta, **spec.plugin)
    plugin.compute_resources.add(*resources)
    PluginParameter.objects.bulk_create([
        PluginParameter(plugin=plugin, name=p.name, flag=p.flag, short_flag=p.short_flag, action=p.action,
                        optional=p.optional, type=p.type, help=p.help, ui_exposed=p.ui_exposed, default=p.default)
        for p in spec.parameters
    ])
    return plugin


@transaction.atomic
def plugin_set_compute_resources(*, plugin: Plugin, compute_names: Sequence[str]) -> Plugin:
    plugin.compute_resources.set(compute_resources_by_names(compute_names))
    return plugin


@transaction.atomic
def plugin_delete(*, plugin: Plugin) -> None:
    """Delete a plugin version, and its meta when no other version remains."""
    meta = plugin.meta
    plugin.delete()
    if not meta.plugins.exists():
        meta.delete()


def descriptor_from_command(command: str | Sequence[str], timeout: float = 60) -> Any:
    """Run an installed plugin with --json and return its descriptor."""
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    try:
        out = subprocess.run([*argv, "--json"], capture_output=True, text=True, timeout=timeout, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise DescriptorError({"command": [f"could not run {' '.join(argv)} --json: {exc}"]}) from exc
    try:
        return json.loads(out.stdout)
    except ValueError as exc:
        raise DescriptorError({"command": [f"{' '.join(argv)} --json did not print JSON: {exc}"]}) from exc


def compute_resource_create(*, name: str, runner: str, description: str = "", runner_options: Any = None,
                            max_job_exec_seconds: int = -1) -> ComputeResource:
    if runner not in settings.CUBE_RUNNERS:
        raise DescriptorError({"runner": [f"unknown runner '{runner}' (known: {', '.join(settings.CUBE_RUNNERS)})"]})
    return ComputeResource.objects.create(name=name, runner=runner, description=description,
                                          runner_options=runner_options or {},
                                          max_job_exec_seconds=max_job_exec_seconds,
                                          compute_url=f"{runner}://")


def compute_resource_ensure_default() -> ComputeResource:
    name = settings.CUBE_DEFAULT_COMPUTE_RESOURCE
    existing = ComputeResource.objects.filter(name=name).first()
    if existing is not None:
        return existing
    return compute_resource_create(name=name, runner=settings.CUBE_DEFAULT_RUNNER,
                                   description="This machine (the embedded default runner)")


@transaction.atomic
def compute_resource_delete(*, compute_resource: ComputeResource) -> None:
    orphans = [p for p in compute_resource.plugins.prefetch_related("compute_resources")
               if p.compute_resources.count() == 1]
    if orphans:
        names = ", ".join(f"{p.meta.name} v{p.version}" for p in orphans[:5])
        raise DescriptorError({"detail": [f"Deleting it would leave plugins with no compute resource: {names}."]})
    compute_resource.delete()
