from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models

from plugins.models import ComputeResource, Plugin, PluginParameter
from uploads.models import AsyncDeletable, ChrisFolder, Permission


class Status(models.TextChoices):
    CREATED = "created"
    WAITING = "waiting"
    SCHEDULED = "scheduled"
    STARTED = "started"
    REGISTERING = "registeringFiles"
    SUCCEEDED = "finishedSuccessfully"
    FAILED = "finishedWithError"
    CANCELLED = "cancelled"


ACTIVE = (Status.CREATED, Status.WAITING, Status.SCHEDULED, Status.STARTED, Status.REGISTERING)
INACTIVE = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)


class Feed(AsyncDeletable):
    name = models.CharField(max_length=200, blank=True, default="", db_index=True)
    public = models.BooleanField(default=False, db_index=True)
    folder = models.OneToOneField(ChrisFolder, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="feed")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feeds")
    creation_date = models.DateTimeField(auto_now_add=True)
    modification_date = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-creation_date", "-id")

    def __str__(self) -> str:
        return self.name or f"feed {self.pk}"


class PluginInstance(AsyncDeletable):
    title = models.CharField(max_length=100, blank=True, default="")
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.CREATED, db_index=True)
    start_date = models.DateTimeField(null=True, blank=True)
    end_date = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=7, blank=True, default="")
    status_message = models.TextField(blank=True, default="")  # why it failed or was cancelled, in words
    job_logs = models.TextField(blank=True, default="")
    size = models.BigIntegerField(default=0)
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="next")
    plugin = models.ForeignKey(Plugin, on_delete=models.CASCADE, related_name="instances")
    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="plugin_instances")
    output_folder = models.OneToOneField(ChrisFolder, null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="plugin_instance")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plugin_instances")
    compute_resource = models.ForeignKey(ComputeResource, null=True, on_delete=models.SET_NULL,
                                         related_name="plugin_instances")
    cpu_limit = models.IntegerField(default=1000)
    memory_limit = models.IntegerField(default=200)
    number_of_workers = models.IntegerField(default=1)
    gpu_limit = models.IntegerField(default=0)
    # The watcher (a worker following the job) stamps this; a stale stamp tells the reconciler that the
    # worker died and someone else must pick the job up.
    heartbeat = models.DateTimeField(null=True, blank=True, db_index=True)
    modification_date = models.DateTimeField(auto_now=True)
    # The workflow (pipeline run) that created this instance; the instance outlives the workflow's row.
    workflow = models.ForeignKey("Workflow", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="plugin_instances")

    class Meta:
        ordering = ("-id",)

    def __str__(self) -> str:
        return f"{self.plugin_id}:{self.pk} {self.status}"


class PluginInstanceParameter(models.Model):
    """One value per parameter per run (CUBE keeps six typed tables; the type is the parameter's)."""

    plugin_inst = models.ForeignKey(PluginInstance, on_delete=models.CASCADE, related_name="parameter_values")
    plugin_param = models.ForeignKey(PluginParameter, on_delete=models.CASCADE, related_name="values")
    value = models.JSONField()

    class Meta:
        ordering = ("id",)
        constraints = [models.UniqueConstraint(fields=("plugin_inst", "plugin_param"), name="one_value_per_param")]


# --- the social side of feeds: tags, the note, comments ---


class Tag(models.Model):
    """A user's label (name and colour) for their feeds; a feed carries it through a Tagging."""

    name = models.CharField(max_length=100)
    color = models.CharField(max_length=20)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tags")
    feeds = models.ManyToManyField(Feed, through="Tagging", related_name="tags")

    class Meta:
        ordering = ("owner", "name", "id")

    def __str__(self) -> str:
        return self.name


class Tagging(models.Model):
    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="taggings")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="taggings")

    class Meta:
        ordering = ("id",)
        constraints = [models.UniqueConstraint(fields=("feed", "tag"), name="one_tagging_per_feed_tag")]

    def __str__(self) -> str:
        return f"{self.tag_id}@{self.feed_id}"


class Note(models.Model):
    """The one note of a feed, created with it."""

    feed = models.OneToOneField(Feed, on_delete=models.CASCADE, related_name="note")
    title = models.CharField(max_length=100, blank=True, default="")
    content = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return self.title or f"note of feed {self.feed_id}"


class Comment(models.Model):
    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="comments")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_comments")
    title = models.CharField(max_length=100, blank=True, default="")
    content = models.TextField(blank=True, default="")
    creation_date = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("creation_date", "id")

    def __str__(self) -> str:
        return self.title or f"comment {self.pk}"


# --- sharing: a feed shared with a user or a group gives them write access to it and to its folder ---


class _FeedShare(models.Model):
    """What the share did to the grantee's grant on the feed's folder, so that revoking the share undoes
    exactly that: the grant's id (a grant deleted, or deleted and made again, through the file browser
    while the share existed is no longer the share's to touch) and the permission the grantee held there
    before the share (null: none, the share made the grant)."""

    folder_grant_pk = models.BigIntegerField(null=True, blank=True)
    prior_folder_permission = models.CharField(max_length=1, choices=Permission.choices, null=True, blank=True)

    class Meta:
        abstract = True


class FeedUserPermission(_FeedShare):
    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="user_permissions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_permissions")

    class Meta:
        ordering = ("id",)
        constraints = [models.UniqueConstraint(fields=("feed", "user"), name="one_share_per_feed_user")]


class FeedGroupPermission(_FeedShare):
    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="group_permissions")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="feed_permissions")

    class Meta:
        ordering = ("id",)
        constraints = [models.UniqueConstraint(fields=("feed", "group"), name="one_share_per_feed_group")]


# --- workflows: a pipeline instantiated as plugin instances under an existing instance ---


class Workflow(models.Model):
    title = models.CharField(max_length=100, blank=True, default="")
    # PROTECT: a pipeline that was run stays, so every workflow can say what it ran.
    pipeline = models.ForeignKey("plugins.Pipeline", on_delete=models.PROTECT, related_name="workflows")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workflows")
    creation_date = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-creation_date", "-id")

    def __str__(self) -> str:
        return self.title or f"workflow {self.pk}"


class PluginInstanceSplit(models.Model):
    """A split of a run's output: one pl-topologicalcopy child per filter regex (CUBE's splits)."""

    plugin_inst = models.ForeignKey(PluginInstance, on_delete=models.CASCADE, related_name="splits")
    filter = models.CharField(max_length=600, blank=True, default="")
    created_plugin_inst_ids = models.CharField(max_length=600, blank=True, default="")
    creation_date = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-creation_date", "-id")
