"""Admin console pages for the catalogue: compute resources, plugin metas, and plugins, whose "add" page
registers plugins from the descriptor files they print with --json (plugins.services.plugin_register)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import RequestContext, Template
from django.urls import reverse

from cube.users.admin import ReadOnlyInline, ReadOnlyStaffAdmin, StaffAdmin

from . import services
from .admin_api import MAX_DESCRIPTOR_BYTES
from .descriptors import DescriptorError
from .models import ComputeResource, Plugin, PluginMeta, PluginParameter


@admin.register(ComputeResource)
class ComputeResourceAdmin(StaffAdmin):
    list_display = ("name", "runner", "description", "plugin_count", "max_job_exec_seconds", "creation_date")
    list_filter = ("runner",)
    search_fields = ("name", "description", "runner")
    fields = ("name", "runner", "runner_options", "description", "max_job_exec_seconds", "compute_url",
              "compute_innetwork")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(n_plugins=Count("plugins", distinct=True))

    @admin.display(description="plugins", ordering="n_plugins")
    def plugin_count(self, obj: Any) -> int:
        return obj.n_plugins

    def delete_model(self, request: HttpRequest, obj: ComputeResource) -> None:
        self.delete_queryset(request, ComputeResource.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        # Through the service: it refuses to leave a plugin with nowhere to run.
        for cr in queryset:
            try:
                services.compute_resource_delete(compute_resource=cr)
            except DescriptorError as exc:
                self.message_user(request, f"{cr.name}: {exc}", messages.ERROR)


@admin.register(PluginMeta)
class PluginMetaAdmin(ReadOnlyStaffAdmin):
    list_display = ("name", "type", "title", "category", "authors", "version_count", "creation_date")
    list_filter = ("type", "category")
    search_fields = ("name", "title", "category", "authors")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(n_versions=Count("plugins", distinct=True))

    @admin.display(description="versions", ordering="n_versions")
    def version_count(self, obj: Any) -> int:
        return obj.n_versions


class ParameterInline(ReadOnlyInline):
    model = PluginParameter
    fields = ("name", "type", "flag", "action", "optional", "default", "ui_exposed", "help")
    readonly_fields = fields


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, (list, tuple)) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class DescriptorUploadForm(forms.Form):
    descriptors = MultipleFileField(
        label="Descriptor files",
        help_text="The JSON each plugin prints with --json (for example: docker run --rm IMAGE CMD --json). "
                  "Several files register several plugins.")
    compute_resources = forms.ModelMultipleChoiceField(
        queryset=ComputeResource.objects.order_by("name"), help_text="Where the plugins may run.")


PAGE = Template("""{% extends "admin/base_site.html" %}
{% block title %}Add plugins from descriptor files | {{ site_title }}{% endblock %}
{% block breadcrumbs %}<div class="breadcrumbs"><a href="{% url 'admin:index' %}">Home</a>
&rsaquo; <a href="{% url 'admin:app_list' app_label='plugins' %}">Plugins</a>
&rsaquo; <a href="{% url 'admin:plugins_plugin_changelist' %}">Plugins</a>
&rsaquo; Add plugins from descriptor files</div>{% endblock %}
{% block content %}<h1>Add plugins from descriptor files</h1>
<form method="post" enctype="multipart/form-data" id="descriptor-form">{% csrf_token %}
{% if form.non_field_errors %}<ul class="errorlist">{% for e in form.non_field_errors %}<li>{{ e }}</li>
{% endfor %}</ul>{% endif %}
<fieldset class="module aligned">{% for field in form %}<div class="form-row">{{ field.errors }}
{{ field.label_tag }} {{ field }}<div class="help">{{ field.help_text }}</div></div>{% endfor %}</fieldset>
<div class="submit-row"><input type="submit" class="default" value="Register"></div></form>{% endblock %}""")


def read_descriptor(upload: Any) -> Any:
    if upload.size > MAX_DESCRIPTOR_BYTES:
        raise DescriptorError({"fname": ["The descriptor file is larger than 1 MiB."]})
    try:
        return json.loads(upload.read())
    except (ValueError, UnicodeDecodeError) as exc:
        raise DescriptorError({"fname": [f"not valid JSON: {exc}"]}) from None


@admin.register(Plugin)
class PluginAdmin(StaffAdmin):
    list_display = ("name", "version", "plugin_type", "dock_image", "compute_resource_names", "creation_date")
    list_filter = ("meta__type", "compute_resources")
    search_fields = ("meta__name", "meta__title", "dock_image", "version")
    list_select_related = ("meta",)
    inlines = (ParameterInline,)
    fields = ("meta", "version", "dock_image", "execshell", "selfpath", "selfexec", "description",
              "min_cpu_limit", "max_cpu_limit", "min_memory_limit", "max_memory_limit", "min_number_of_workers",
              "max_number_of_workers", "min_gpu_limit", "max_gpu_limit", "compute_resources", "creation_date")
    # A registered version is what its descriptor said; only where it may run can change.
    readonly_fields = tuple(f for f in fields if f != "compute_resources")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).prefetch_related("compute_resources")

    @admin.display(description="name", ordering="meta__name")
    def name(self, obj: Plugin) -> str:
        return obj.meta.name

    @admin.display(description="type", ordering="meta__type")
    def plugin_type(self, obj: Plugin) -> str:
        return obj.meta.type

    @admin.display(description="compute resources")
    def compute_resource_names(self, obj: Plugin) -> str:
        return ", ".join(sorted(cr.name for cr in obj.compute_resources.all()))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        names = [cr.name for cr in form.cleaned_data["compute_resources"]]
        services.plugin_set_compute_resources(plugin=form.instance, compute_names=names)

    def delete_model(self, request: HttpRequest, obj: Plugin) -> None:
        services.plugin_delete(plugin=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for plugin in queryset.select_related("meta"):
            services.plugin_delete(plugin=plugin)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        """"Add plugin" is registration from descriptor files, each in its own transaction: one bad file
        does not stop the others, and its errors are shown by field."""
        form = DescriptorUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            names = [cr.name for cr in form.cleaned_data["compute_resources"]]
            failed = False
            for upload in form.cleaned_data["descriptors"]:
                try:
                    with transaction.atomic():
                        plugin = services.plugin_register(descriptor=read_descriptor(upload), compute_names=names)
                except DescriptorError as exc:
                    failed = True
                    details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
                    form.add_error(None, f"{upload.name}: {details}")
                    continue
                self.message_user(request, f"Registered {plugin.meta.name} v{plugin.version} on "
                                           f"{', '.join(names)}.", messages.SUCCESS)
            if not failed:
                return HttpResponseRedirect(reverse("admin:plugins_plugin_changelist"))
        context = {**self.admin_site.each_context(request), "form": form, "title": "Add plugins",
                   "opts": self.model._meta}
        return HttpResponse(PAGE.render(RequestContext(request, context)))
