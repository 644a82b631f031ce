"""Representations with CUBE's fields and link relations. Read-only: the views validate input and call
services, so no serializer writes to the database."""

from __future__ import annotations

import functools
import json
from typing import Any
from urllib.parse import quote

from django.contrib.auth.models import Group
from django.urls import get_script_prefix
from django.urls import reverse as django_reverse
from rest_framework import serializers

from cube.api.fields import CachedFieldsMixin, ItemLinkField

from .models import (
    ChrisFile,
    ChrisFolder,
    ChrisLinkFile,
    FileDownloadToken,
    FileGroupPermission,
    FileUserPermission,
    FolderGroupPermission,
    FolderUserPermission,
    LinkFileGroupPermission,
    LinkFileUserPermission,
)
from .selectors import grantee_by_name, visible_children


def _basename(obj: Any) -> str:
    return str(obj.fname).rsplit("/", 1)[-1] or "file"


_PK = 918273645546372819  # placeholders no real id or name equals
_NAME = "cube-link-name-placeholder"
_SAFE = "/~:@!$&'()*+,;="  # what Django's reverse() leaves unquoted in a path


@functools.cache
def _path_template(view_name: str, with_name: bool, script_prefix: str) -> tuple[str, str]:
    """The path of view_name split around its pk (and name); one reverse() per process and script prefix
    (reverse() reads the prefix itself, so it is part of the key)."""
    kwargs: dict[str, Any] = {"pk": _PK, "name": _NAME} if with_name else {"pk": _PK}
    head, _, tail = django_reverse(view_name, kwargs=kwargs).partition(str(_PK))
    return head, tail


def link_template(request: Any, view_name: str, with_name: bool = False) -> tuple[str, str]:
    """The absolute URL of view_name split around its pk (and name), as DRF's reverse(request=...) makes it:
    only the scheme and host are the request's own. A page of 100 files has 600 links, an upload's reply
    six; reverse() was most of their cost."""
    cache: dict[tuple[str, bool], tuple[str, str]] | None = getattr(request, "_cube_link_templates", None)
    if cache is None:
        cache = {}
        if request is not None:
            request._cube_link_templates = cache
    key = (view_name, with_name)
    if key not in cache:
        head, tail = _path_template(view_name, with_name, get_script_prefix())
        cache[key] = (request.build_absolute_uri(head) if request is not None else head, tail)
    return cache[key]


class PkLinkField(ItemLinkField):
    """A link to ``view_name`` for the object's ``attr`` (an id; None gives no link)."""

    def __init__(self, view_name: str, attr: str = "pk", **kwargs: Any) -> None:
        self.view_name = view_name
        self.attr = attr
        super().__init__(**kwargs)

    def to_representation(self, obj: Any) -> str | None:
        return self.represent(obj, self.context)

    def represent(self, obj: Any, context: dict[str, Any]) -> str | None:
        pk = getattr(obj, self.attr)
        if pk is None:
            return None
        head, tail = link_template(context.get("request"), self.view_name)
        return f"{head}{pk}{tail}"


class FileLinkField(ItemLinkField):
    """The URL that serves a file's bytes: ``<detail>/<basename>`` as CUBE (clients keep the name)."""

    def __init__(self, view_name: str, **kwargs: Any) -> None:
        self.view_name = view_name
        super().__init__(**kwargs)

    def to_representation(self, obj: Any) -> str:
        return self.represent(obj, self.context)

    def represent(self, obj: Any, context: dict[str, Any]) -> str:
        head, tail = link_template(context.get("request"), self.view_name, with_name=True)
        return f"{head}{obj.pk}{tail.replace(_NAME, quote(_basename(obj), safe=_SAFE))}"


class FastRepresentationMixin:
    """Represents objects without DRF's per-field machinery: each readable field becomes one small getter,
    planned once per serializer class, so neither a page of 100 files nor a single upload's reply builds
    or copies field objects. Same output as DRF: None stays None, links and method fields get the object,
    others the attribute at their source. Links read the request from the serializer's context at call
    time (the planned field objects belong to no request)."""

    _readable_fields: Any
    context: dict[str, Any]

    def to_representation(self, instance: Any) -> dict[str, Any]:
        cls = type(self)
        plan = cls.__dict__.get("_cube_plan")
        if plan is None:
            plan = [(field.field_name, _getter(field)) for field in self._readable_fields]
            cls._cube_plan = plan  # type: ignore[attr-defined]
        context = self.context
        return {name: get(instance, self, context) for name, get in plan}


_PLAIN = (serializers.IntegerField, serializers.CharField, serializers.BooleanField, serializers.DateTimeField,
          serializers.ChoiceField, serializers.ReadOnlyField)


def _getter(field: serializers.Field) -> Any:
    represent = getattr(field, "represent", None)
    if represent is not None:  # our link fields
        return lambda obj, ser, ctx: represent(obj, ctx)
    if isinstance(field, serializers.SerializerMethodField):
        method_name = field.method_name
        return lambda obj, ser, ctx: getattr(ser, method_name)(obj)
    if not isinstance(field, _PLAIN) or field.source == "*":
        raise TypeError(f"{type(field).__name__} '{field.field_name}' has no fast representation")
    convert = field.to_representation  # these depend on no context
    attrs = tuple(field.source_attrs)

    def get(obj: Any, ser: Any, ctx: Any) -> Any:
        for attr in attrs:
            obj = getattr(obj, attr)
            if obj is None:
                return None
        return convert(obj)

    return get


class _FileFields(FastRepresentationMixin, CachedFieldsMixin, serializers.ModelSerializer):
    fsize = serializers.IntegerField(source="size", read_only=True)
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    parent_folder = PkLinkField("chrisfolder-detail", "parent_folder_id")
    group_permissions = PkLinkField("filegrouppermission-list")
    user_permissions = PkLinkField("fileuserpermission-list")
    owner = PkLinkField("user-detail", "owner_id")


class FileSerializer(_FileFields):
    """A file in the file browser (any file: uploads, feed outputs, PACS...)."""

    url = PkLinkField("chrisfile-detail")
    file_resource = FileLinkField("chrisfile-resource")

    class Meta:
        model = ChrisFile
        fields = ("url", "id", "creation_date", "fname", "fsize", "size", "public", "owner_username",
                  "file_resource", "parent_folder", "group_permissions", "user_permissions", "owner")


class UserFileSerializer(_FileFields):
    url = PkLinkField("userfile-detail")
    file_resource = FileLinkField("userfile-resource")

    class Meta:
        model = ChrisFile
        fields = FileSerializer.Meta.fields


def classic_fname(fname: str) -> str:
    """home/<user>/uploads/x → <user>/uploads/x: the path the classic (CUBE 2-5) clients know."""
    return fname[len("home/"):] if fname.startswith("home/") else fname


class UploadedFileSerializer(_FileFields):
    url = PkLinkField("uploadedfile-detail")
    file_resource = FileLinkField("uploadedfile-resource")
    fname = serializers.SerializerMethodField()

    class Meta:
        model = ChrisFile
        fields = FileSerializer.Meta.fields

    def get_fname(self, obj: ChrisFile) -> str:
        return classic_fname(obj.fname)


class TargetLinkField(ItemLinkField):
    """A link file's target, when it is a folder (``linked_folder``) or a file (``linked_file``). The list
    view looks all targets of a page up in two queries and passes them in the context."""

    def __init__(self, kind: str, **kwargs: Any) -> None:
        self.kind = kind
        super().__init__(**kwargs)

    def to_representation(self, obj: ChrisLinkFile) -> str | None:
        return self.represent(obj, self.context)

    def represent(self, obj: ChrisLinkFile, context: dict[str, Any]) -> str | None:
        targets = context.get("link_targets")
        if targets is None:
            targets = link_targets([obj])
        pk = targets[self.kind].get(obj.path)
        if pk is None:
            return None
        head, tail = link_template(context.get("request"),
                                   "chrisfolder-detail" if self.kind == "folder" else "chrisfile-detail")
        return f"{head}{pk}{tail}"


def link_targets(links: list[ChrisLinkFile]) -> dict[str, dict[str, int]]:
    paths = {link.path for link in links}
    return {
        "folder": dict(ChrisFolder.objects.filter(path__in=paths).values_list("path", "pk")),
        "file": dict(ChrisFile.objects.filter(fname__in=paths).values_list("fname", "pk")),
    }


class LinkFileSerializer(FastRepresentationMixin, CachedFieldsMixin, serializers.ModelSerializer):
    url = PkLinkField("chrislinkfile-detail")
    fsize = serializers.SerializerMethodField()
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    file_resource = FileLinkField("chrislinkfile-resource")
    linked_folder = TargetLinkField("folder")
    linked_file = TargetLinkField("file")
    parent_folder = PkLinkField("chrisfolder-detail", "parent_folder_id")
    group_permissions = PkLinkField("linkfilegrouppermission-list")
    user_permissions = PkLinkField("linkfileuserpermission-list")
    owner = PkLinkField("user-detail", "owner_id")

    class Meta:
        model = ChrisLinkFile
        fields = ("url", "id", "creation_date", "path", "fname", "fsize", "public", "owner_username",
                  "file_resource", "linked_folder", "linked_file", "parent_folder", "group_permissions",
                  "user_permissions", "owner")

    def get_fsize(self, obj: ChrisLinkFile) -> int:
        return len(obj.path.encode())  # the object's content is the target path


class FolderSerializer(FastRepresentationMixin, CachedFieldsMixin, serializers.ModelSerializer):
    url = PkLinkField("chrisfolder-detail")
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    parent = PkLinkField("chrisfolder-detail", "parent_id")
    children = PkLinkField("chrisfolder-child-list")
    files = PkLinkField("chrisfolder-file-list")
    link_files = PkLinkField("chrisfolder-linkfile-list")
    group_permissions = PkLinkField("foldergrouppermission-list")
    user_permissions = PkLinkField("folderuserpermission-list")
    owner = PkLinkField("user-detail", "owner_id")

    class Meta:
        model = ChrisFolder
        fields: tuple[str, ...] = ("url", "id", "creation_date", "path", "public", "owner_username", "deletion_status",
                  "deletion_requested_at", "deletion_error", "parent", "children", "files", "link_files",
                  "group_permissions", "user_permissions", "owner")


class FolderSearchSerializer(FolderSerializer):
    """A folder found by path, with the names of the sub-folders the user may read as a JSON-encoded list:
    the classic file browser's `subfolders`, which chrs's `ls` navigates by (CUBE 5 served it this way)."""

    subfolders = serializers.SerializerMethodField()

    class Meta(FolderSerializer.Meta):
        fields = (*FolderSerializer.Meta.fields, "subfolders")

    def get_subfolders(self, folder: ChrisFolder) -> str:
        paths = visible_children(self.context["request"].user, folder).values_list("path", flat=True)
        return json.dumps([path.rsplit("/", 1)[-1] for path in paths])


# --- grants ---


def _grant_serializer(model: Any, target: str, target_view: str, target_label: str, grantee: str) -> Any:
    """One serializer per (object kind, grantee kind), with CUBE's field names, e.g. folder_id,
    folder_name, group_id, group_name, folder, group, grp_name."""
    prefix = {"folder": "folder", "file": "file", "link_file": "linkfile"}[target]
    view = f"{prefix}{grantee}permission-detail"
    attrs: dict[str, Any] = {
        "url": serializers.HyperlinkedIdentityField(view_name=view),
        f"{target}_id": serializers.IntegerField(source=f"{target}.id", read_only=True),
        f"{target}_{target_label}": serializers.CharField(source=f"{target}.{target_label}", read_only=True),
        target: serializers.HyperlinkedRelatedField(view_name=target_view, read_only=True),
    }
    if grantee == "group":
        attrs.update({
            "group_id": serializers.IntegerField(source="group.id", read_only=True),
            "group_name": serializers.CharField(source="group.name", read_only=True),
            "group": serializers.HyperlinkedRelatedField(view_name="group-detail", read_only=True),
        })
        names = ("group_id", "group_name", target, "group")
    else:
        attrs.update({
            "user_id": serializers.IntegerField(source="user.id", read_only=True),
            "user_username": serializers.CharField(source="user.username", read_only=True),
            "user": serializers.HyperlinkedRelatedField(view_name="user-detail", read_only=True),
        })
        names = ("user_id", "user_username", target, "user")
    meta = type("Meta", (), {"model": model, "fields": (
        "url", "id", "permission", f"{target}_id", f"{target}_{target_label}", *names)})
    attrs["Meta"] = meta
    name = f"{model.__name__}Serializer"
    return type(name, (CachedFieldsMixin, serializers.ModelSerializer), attrs)


FolderGroupPermissionSerializer = _grant_serializer(FolderGroupPermission, "folder", "chrisfolder-detail", "name",
                                                    "group")
FolderUserPermissionSerializer = _grant_serializer(FolderUserPermission, "folder", "chrisfolder-detail", "name",
                                                   "user")
FileGroupPermissionSerializer = _grant_serializer(FileGroupPermission, "file", "chrisfile-detail", "fname", "group")
FileUserPermissionSerializer = _grant_serializer(FileUserPermission, "file", "chrisfile-detail", "fname", "user")
LinkFileGroupPermissionSerializer = _grant_serializer(LinkFileGroupPermission, "link_file", "chrislinkfile-detail",
                                                      "fname", "group")
LinkFileUserPermissionSerializer = _grant_serializer(LinkFileUserPermission, "link_file", "chrislinkfile-detail",
                                                     "fname", "user")


class GrantInput(serializers.Serializer):
    """POST body of a grant: ``grp_name`` or ``username``, and ``permission`` ('r' default, or 'w')."""

    grp_name = serializers.CharField(required=False)
    username = serializers.CharField(required=False)
    permission = serializers.ChoiceField(choices=("r", "w"), default="r")

    def validate_grp_name(self, value: str) -> Group:
        return grantee_by_name("group", value)  # type: ignore[no-any-return]

    def validate_username(self, value: str) -> Any:
        return grantee_by_name("user", value)


class DownloadTokenSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="filedownloadtoken-detail")
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    owner = serializers.HyperlinkedRelatedField(view_name="user-detail", read_only=True)

    class Meta:
        model = FileDownloadToken
        fields = ("url", "id", "creation_date", "token", "owner_username", "owner")
