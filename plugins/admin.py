"""Django admin pages for the catalogue."""

from __future__ import annotations

from django.contrib import admin

from .models import ComputeResource, Plugin, PluginMeta, PluginParameter


@admin.register(ComputeResource)
class ComputeResourceAdmin(admin.ModelAdmin):
    list_display = ("name", "runner", "description", "max_job_exec_seconds", "creation_date")
    search_fields = ("name", "description")


@admin.register(PluginMeta)
class PluginMetaAdmin(admin.ModelAdmin):
    list_display = ("name", "type", "title", "category", "authors", "creation_date")
    list_filter = ("type",)
    search_fields = ("name", "title", "category", "authors")


class ParameterInline(admin.TabularInline):
    model = PluginParameter
    extra = 0


@admin.register(Plugin)
class PluginAdmin(admin.ModelAdmin):
    list_display = ("meta", "version", "dock_image", "creation_date")
    list_filter = ("meta__type", "compute_resources")
    search_fields = ("meta__name", "dock_image", "version")
    inlines = (ParameterInline,)
