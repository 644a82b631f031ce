from __future__ import annotations

from django.db import models

MAX_INT = 2147483647


class PluginType(models.TextChoices):
    DS = "ds"
    FS = "fs"
    TS = "ts"


class ParameterType(models.TextChoices):
    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    PATH = "path"
    UNEXTPATH = "unextpath"


class ComputeResource(models.Model):
    """Where jobs run. ``runner`` names an entry of settings.CUBE_RUNNERS (local, docker, ...);
    ``runner_options`` override that runner's options for this resource."""

    name = models.CharField(max_length=100, unique=True)
    compute_url = models.CharField(max_length=300, blank=True, default="")
    compute_auth_url = models.CharField(max_length=350, blank=True, default="")
    compute_innetwork = models.BooleanField(default=True)
    description = models.CharField(max_length=600, blank=True, default="")
    max_job_exec_seconds = models.IntegerField(default=-1)  # -1: no limit
    runner = models.CharField(max_length=32, default="local")
    runner_options = models.JSONField(default=dict, blank=True)
    creation_date = models.DateTimeField(auto_now_add=True)
    modification_date = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.name


class PluginMeta(models.Model):
    name = models.CharField(max_length=100, unique=True)
    title = models.CharField(max_length=400, blank=True, default="")
    stars = models.IntegerField(default=0)
    public_repo = models.URLField(max_length=300, blank=True, default="")
    license = models.CharField(max_length=50, blank=True, default="")
    type = models.CharField(max_length=4, choices=PluginType.choices, default=PluginType.DS)
    icon = models.URLField(max_length=300, blank=True, default="")
    category = models.CharField(max_length=100, blank=True, default="")
    authors = models.CharField(max_length=200, blank=True, default="")
    documentation = models.CharField(max_length=800, blank=True, default="")
    creation_date = models.DateTimeField(auto_now_add=True)
    modification_date = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("type", "-creation_date")

    def __str__(self) -> str:
        return self.name


class Plugin(models.Model):
    meta = models.ForeignKey(PluginMeta, on_delete=models.CASCADE, related_name="plugins")
    version = models.CharField(max_length=10)
    dock_image = models.CharField(max_length=500)
    execshell = models.CharField(max_length=50)
    selfpath = models.CharField(max_length=512)
    selfexec = models.CharField(max_length=50)
    description = models.CharField(max_length=2000, blank=True, default="")
    min_gpu_limit = models.IntegerField(default=0)
    max_gpu_limit = models.IntegerField(default=0)
    min_number_of_workers = models.IntegerField(default=1)
    max_number_of_workers = models.IntegerField(default=MAX_INT)
    min_cpu_limit = models.IntegerField(default=1000)      # millicores
    max_cpu_limit = models.IntegerField(default=MAX_INT)
    min_memory_limit = models.IntegerField(default=200)    # MiB
    max_memory_limit = models.IntegerField(default=MAX_INT)
    creation_date = models.DateTimeField(auto_now_add=True, db_index=True)
    compute_resources = models.ManyToManyField(ComputeResource, related_name="plugins")

    class Meta:
        ordering = ("meta", "-creation_date")
        constraints = [
            models.UniqueConstraint(fields=("meta", "version"), name="plugin_unique_meta_version"),
            models.UniqueConstraint(fields=("meta", "dock_image"), name="plugin_unique_meta_image"),
        ]

    def __str__(self) -> str:
        return f"{self.meta.name} v{self.version}"


class PluginParameter(models.Model):
    plugin = models.ForeignKey(Plugin, on_delete=models.CASCADE, related_name="parameters")
    name = models.CharField(max_length=50)
    flag = models.CharField(max_length=52)
    short_flag = models.CharField(max_length=52, blank=True, default="")
    action = models.CharField(max_length=20, default="store")
    optional = models.BooleanField(default=False)
    type = models.CharField(max_length=10, choices=ParameterType.choices, default=ParameterType.STRING)
    help = models.TextField(blank=True, default="")
    ui_exposed = models.BooleanField(default=True)
    default = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ("plugin", "id")
        constraints = [models.UniqueConstraint(fields=("plugin", "name"), name="parameter_unique_name")]

    def __str__(self) -> str:
        return self.name
