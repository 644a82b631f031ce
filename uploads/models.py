"""Folders, files and link files: the virtual filesystem over object storage.

A path is the storage key (``home/alice/uploads/a.dcm``); '' is the root. Grants and the public flag on a
folder apply to everything beneath it (they are checked against the ancestors' rows at read time, see
selectors.py), so granting, publishing or moving a tree never rewrites its descendants' permission rows
(CUBE materialises them on every row, one bulk upsert per grant).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models


class DeletionStatus(models.TextChoices):
    INACTIVE = "inactive"
    PENDING = "pending"
    FAILED = "failed"


class AsyncDeletable(models.Model):
    deletion_status = models.CharField(max_length=16, choices=DeletionStatus.choices,
                                       default=DeletionStatus.INACTIVE, db_index=True)
    deletion_requested_at = models.DateTimeField(null=True, blank=True)
    deletion_error = models.TextField(blank=True, default="")

    class Meta:
        abstract = True


class Permission(models.TextChoices):
    READ = "r"
    WRITE = "w"


class ChrisFolder(AsyncDeletable):
    path = models.CharField(max_length=1024, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="folders")
    public = models.BooleanField(default=False, db_index=True)
    creation_date = models.DateTimeField(auto_now_add=True)
    shared_users = models.ManyToManyField(settings.AUTH_USER_MODEL, through="FolderUserPermission",
                                          related_name="shared_folders")
    shared_groups = models.ManyToManyField(Group, through="FolderGroupPermission", related_name="shared_folders")

    class Meta:
        ordering = ("path",)

    def __str__(self) -> str:
        return self.path or "/"

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class ChrisFile(models.Model):
    fname = models.CharField(max_length=1024, unique=True)
    size = models.BigIntegerField(default=0)
    md5 = models.CharField(max_length=32, blank=True, default="")
    parent_folder = models.ForeignKey(ChrisFolder, on_delete=models.CASCADE, related_name="files")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="files")
    public = models.BooleanField(default=False, db_index=True)
    creation_date = models.DateTimeField(auto_now_add=True, db_index=True)
    shared_users = models.ManyToManyField(settings.AUTH_USER_MODEL, through="FileUserPermission",
                                          related_name="shared_files")
    shared_groups = models.ManyToManyField(Group, through="FileGroupPermission", related_name="shared_files")

    class Meta:
        ordering = ("id",)
        indexes = [models.Index(fields=["parent_folder", "id"]), models.Index(fields=["owner", "id"])]

    def __str__(self) -> str:
        return self.fname

    @property
    def name(self) -> str:
        return self.fname.rsplit("/", 1)[-1]


class ChrisLinkFile(models.Model):
    """A ``.chrislink``: a named pointer to another path (stored as an object whose content is the path)."""

    fname = models.CharField(max_length=1024, unique=True)
    path = models.CharField(max_length=1024, db_index=True)
    parent_folder = models.ForeignKey(ChrisFolder, on_delete=models.CASCADE, related_name="link_files")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="link_files")
    public = models.BooleanField(default=False, db_index=True)
    creation_date = models.DateTimeField(auto_now_add=True)
    shared_users = models.ManyToManyField(settings.AUTH_USER_MODEL, through="LinkFileUserPermission",
                                          related_name="shared_link_files")
    shared_groups = models.ManyToManyField(Group, through="LinkFileGroupPermission",
                                           related_name="shared_link_files")

    class Meta:
        ordering = ("id",)
        indexes = [models.Index(fields=["parent_folder", "id"])]

    def __str__(self) -> str:
        return self.fname


class _Grant(models.Model):
    permission = models.CharField(max_length=1, choices=Permission.choices, default=Permission.READ)

    class Meta:
        abstract = True


class FolderUserPermission(_Grant):
    folder = models.ForeignKey(ChrisFolder, on_delete=models.CASCADE, related_name="user_permissions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    class Meta:
        unique_together = ("folder", "user")


class FolderGroupPermission(_Grant):
    folder = models.ForeignKey(ChrisFolder, on_delete=models.CASCADE, related_name="group_permissions")
    group = models.ForeignKey(Group, on_delete=models.CASCADE)

    class Meta:
        unique_together = ("folder", "group")


class FileUserPermission(_Grant):
    file = models.ForeignKey(ChrisFile, on_delete=models.CASCADE, related_name="user_permissions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    class Meta:
        unique_together = ("file", "user")


class FileGroupPermission(_Grant):
    file = models.ForeignKey(ChrisFile, on_delete=models.CASCADE, related_name="group_permissions")
    group = models.ForeignKey(Group, on_delete=models.CASCADE)

    class Meta:
        unique_together = ("file", "group")


class LinkFileUserPermission(_Grant):
    link_file = models.ForeignKey(ChrisLinkFile, on_delete=models.CASCADE, related_name="user_permissions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    class Meta:
        unique_together = ("link_file", "user")


class LinkFileGroupPermission(_Grant):
    link_file = models.ForeignKey(ChrisLinkFile, on_delete=models.CASCADE, related_name="group_permissions")
    group = models.ForeignKey(Group, on_delete=models.CASCADE)

    class Meta:
        unique_together = ("link_file", "group")


class FileDownloadToken(models.Model):
    """A one-time download token (a JWT): valid while its row exists and unexpired, deleted on first use."""

    token = models.CharField(max_length=512, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="download_tokens")
    creation_date = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-creation_date", "-id")

    def __str__(self) -> str:
        return f"download token {self.pk} of {self.owner_id}"
