"""Admin console pages for the file registry: folders, files, link files and download tokens, searchable
by path and owner. Rows change only through uploads' services (publishing, async folder deletion), so
these pages are read-only apart from the actions below."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from cube.users.admin import ReadOnlyStaffAdmin

from . import services
from .deletion import folder_delete_request
from .models import ChrisFile, ChrisFolder, ChrisLinkFile, FileDownloadToken
from .paths import SYSTEM_ROOTS


def _set_public(admin_: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any], public: bool) -> None:
    for obj in queryset:
        if isinstance(obj, ChrisFolder):
            services.folder_set_public(folder=obj, public=public)
        else:
            services.file_set_public(file=obj, public=public)
    admin_.message_user(request, f"{queryset.count()} made {'public' if public else 'private'}.", messages.SUCCESS)


def is_layout(path: str) -> bool:
    """The root, the system roots, and a user's home/<user>, feeds and uploads: every account relies on them."""
    parts = path.split("/")
    if path == "" or path in SYSTEM_ROOTS:
        return True
    return parts[0] == "home" and (len(parts) == 2 or (len(parts) == 3 and parts[2] in ("feeds", "uploads")))


@admin.register(ChrisFolder)
class ChrisFolderAdmin(ReadOnlyStaffAdmin):
    list_display = ("path", "owner", "public", "creation_date", "deletion_status")
    list_filter = ("public", "deletion_status")
    search_fields = ("path", "owner__username")
    list_select_related = ("owner",)
    actions = ("make_public", "make_private", "delete_folders")
    fields = ("path", "parent", "owner", "public", "creation_date", "deletion_status", "deletion_requested_at",
              "deletion_error")
    readonly_fields = fields

    @admin.action(description="Make the selected folders (and everything beneath) public")
    def make_public(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        _set_public(self, request, queryset, True)

    @admin.action(description="Make the selected folders private")
    def make_private(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        _set_public(self, request, queryset, False)

    @admin.action(description="Delete the selected folders and their contents (in the background)")
    def delete_folders(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for folder in queryset:
            if is_layout(folder.path):
                self.message_user(request, f"'{folder.path or '/'}' is part of the system layout and is kept.",
                                  messages.WARNING)
                continue
            folder_delete_request(folder=folder)
            self.message_user(request, f"Deleting '{folder.path}'.", messages.SUCCESS)


@admin.register(ChrisFile)
class ChrisFileAdmin(ReadOnlyStaffAdmin):
    list_display = ("fname", "owner", "human_size", "public", "creation_date")
    list_filter = ("public",)
    search_fields = ("fname", "owner__username", "=md5")
    list_select_related = ("owner",)
    date_hierarchy = "creation_date"
    actions = ("make_public", "make_private")
    exclude = ("shared_users", "shared_groups")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in ChrisFile._meta.fields]

    @admin.display(description="size", ordering="size")
    def human_size(self, obj: ChrisFile) -> str:
        return filesizeformat(obj.size)

    @admin.action(description="Make the selected files public")
    def make_public(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        _set_public(self, request, queryset, True)

    @admin.action(description="Make the selected files private")
    def make_private(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        _set_public(self, request, queryset, False)


@admin.register(ChrisLinkFile)
class ChrisLinkFileAdmin(ReadOnlyStaffAdmin):
    list_display = ("fname", "path", "owner", "public", "creation_date")
    list_filter = ("public",)
    search_fields = ("fname", "path", "owner__username")
    list_select_related = ("owner",)
    exclude = ("shared_users", "shared_groups")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in ChrisLinkFile._meta.fields]


@admin.register(FileDownloadToken)
class FileDownloadTokenAdmin(ReadOnlyStaffAdmin):
    list_display = ("id", "owner", "creation_date")
    search_fields = ("owner__username",)
    list_select_related = ("owner",)
    # The token itself is a credential: the console shows who holds one, never its value.
    fields = ("owner", "creation_date")
    readonly_fields = fields

