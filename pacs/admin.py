"""Django admin pages: PACS nodes (registered, changed and removed through the services, with a C-ECHO
action), and read-mostly views of queries, retrieves and series."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages

from cube.users.admin import StaffAdmin

from .models import PACS, PACSQuery, PACSRetrieve, PACSSeries
from .services import nodes


class PACSForm(forms.ModelForm):
    class Meta:
        model = PACS
        fields = nodes.EDITABLE

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            nodes.node_validate(dict(data), creating=self.instance.pk is None)
        except nodes.NodeError as exc:
            for name, problems in exc.errors.items():
                self.add_error(name if name in self.fields else None, problems)
        return data


@admin.register(PACS)
class PACSAdmin(StaffAdmin):
    form = PACSForm
    list_display = ("identifier", "aet", "host", "port", "retrieve_method", "calling_aet", "active", "folder")
    list_filter = ("active", "retrieve_method")
    search_fields = ("identifier", "aet", "host", "description")
    fields = nodes.EDITABLE
    actions = ("echo_selected",)

    def save_model(self, request: Any, obj: PACS, form: Any, change: bool) -> None:
        # Through the services: a new node gets its folder and the pacs_users grant, a renamed one moves it.
        values = {name: form.cleaned_data.get(name) for name in nodes.EDITABLE if name in form.cleaned_data}
        if change:
            saved = nodes.pacs_update(pacs=PACS.objects.get(pk=obj.pk), **values)
        else:
            saved = nodes.pacs_create(**values)
        obj.pk, obj.folder_id = saved.pk, saved.folder_id

    def delete_model(self, request: Any, obj: PACS) -> None:
        try:
            nodes.pacs_delete(pacs=obj)
        except nodes.NodeError as exc:
            self.message_user(request, str(exc), messages.ERROR)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    @admin.action(description="C-ECHO the selected PACS (does it answer?)")
    def echo_selected(self, request: Any, queryset: Any) -> None:
        for pacs in queryset:
            report = nodes.pacs_echo(pacs=pacs)
            level = messages.SUCCESS if report.ok else messages.ERROR
            detail = f" in {report.rtt_ms:.1f} ms" if report.ok else ""
            self.message_user(request, f"{pacs.identifier}: {report.message}{detail}", level)


@admin.register(PACSQuery)
class PACSQueryAdmin(StaffAdmin):
    list_display = ("title", "pacs", "owner", "status", "execute", "creation_date")
    list_filter = ("status", "pacs")
    search_fields = ("title", "description", "owner__username")
    readonly_fields = ("result", "result_json", "status", "status_message", "end_date")


@admin.register(PACSRetrieve)
class PACSRetrieveAdmin(StaffAdmin):
    list_display = ("id", "pacs_query", "owner", "status", "received", "expected", "creation_date")
    list_filter = ("status",)
    search_fields = ("=id", "pacs_query__title", "owner__username")
    readonly_fields = ("status", "status_message", "expected", "received", "series", "start_date", "end_date")


@admin.register(PACSSeries)
class PACSSeriesAdmin(StaffAdmin):
    list_display = ("PatientID", "PatientName", "StudyDate", "Modality", "SeriesDescription", "ndicom", "pacs")
    list_filter = ("pacs", "Modality")
    search_fields = ("PatientID", "PatientName", "AccessionNumber", "StudyInstanceUID", "SeriesInstanceUID",
                     "StudyDescription", "SeriesDescription")
    readonly_fields = ("folder", "ndicom")
