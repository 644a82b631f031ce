from __future__ import annotations

from django.conf import settings
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


# --- pipelines: a named tree (a DAG for ts nodes) of plugin pipings with default parameter values ---


class Pipeline(models.Model):
    """A reusable tree of plugins. ``locked`` = a private draft (owner and superuser only, editable);
    unlocking publishes it to everyone and freezes its defaults and resources for good."""

    name = models.CharField(max_length=100, unique=True)
    locked = models.BooleanField(default=True)
    authors = models.CharField(max_length=200, blank=True, default="")
    category = models.CharField(max_length=100, blank=True, default="")
    description = models.CharField(max_length=2000, blank=True, default="")
    # SET_NULL as CUBE: a published pipeline outlives the account that wrote it.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="pipelines")
    plugins = models.ManyToManyField(Plugin, through="PluginPiping", related_name="pipelines")
    creation_date = models.DateTimeField(auto_now_add=True, db_index=True)
    modification_date = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("category", "name")

    def __str__(self) -> str:
        return self.name


class PluginPiping(models.Model):
    """A node of a pipeline: one plugin with its resources; ``previous`` is the tree edge (None: the root)."""

    title = models.CharField(max_length=100)
    plugin = models.ForeignKey(Plugin, on_delete=models.CASCADE, related_name="pipings")
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="plugin_pipings")
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="next")
    cpu_limit = models.IntegerField(default=1000)       # millicores
    memory_limit = models.IntegerField(default=200)     # MiB
    number_of_workers = models.IntegerField(default=1)
    gpu_limit = models.IntegerField(default=0)

    class Meta:
        ordering = ("pipeline", "id")
        constraints = [models.UniqueConstraint(fields=("pipeline", "title"), name="piping_unique_title")]

    def __str__(self) -> str:
        return f"{self.pipeline_id}:{self.title}"


class _DefaultPipingParameter(models.Model):
    """A piping's default for one plugin parameter. One table per type, as CUBE (its URLs name the type);
    there is deliberately no path/unextpath table: a pipeline cannot carry a default input path."""

    class Meta:
        abstract = True
        ordering = ("plugin_piping", "id")


class DefaultPipingStrParameter(_DefaultPipingParameter):
    value = models.CharField(max_length=600, null=True, blank=True)
    plugin_piping = models.ForeignKey(PluginPiping, on_delete=models.CASCADE, related_name="string_param")
    plugin_param = models.ForeignKey(PluginParameter, on_delete=models.CASCADE, related_name="string_piping_defaults")

    class Meta(_DefaultPipingParameter.Meta):
        constraints = [models.UniqueConstraint(fields=("plugin_piping", "plugin_param"),
                                               name="piping_str_default_unique")]


class DefaultPipingIntParameter(_DefaultPipingParameter):
    value = models.IntegerField(null=True, blank=True)
    plugin_piping = models.ForeignKey(PluginPiping, on_delete=models.CASCADE, related_name="integer_param")
    plugin_param = models.ForeignKey(PluginParameter, on_delete=models.CASCADE,
                                     related_name="integer_piping_defaults")

    class Meta(_DefaultPipingParameter.Meta):
        constraints = [models.UniqueConstraint(fields=("plugin_piping", "plugin_param"),
                                               name="piping_int_default_unique")]


class DefaultPipingFloatParameter(_DefaultPipingParameter):
    value = models.FloatField(null=True, blank=True)
    plugin_piping = models.ForeignKey(PluginPiping, on_delete=models.CASCADE, related_name="float_param")
    plugin_param = models.ForeignKey(PluginParameter, on_delete=models.CASCADE, related_name="float_piping_defaults")

    class Meta(_DefaultPipingParameter.Meta):
        constraints = [models.UniqueConstraint(fields=("plugin_piping", "plugin_param"),
                                               name="piping_float_default_unique")]


class DefaultPipingBoolParameter(_DefaultPipingParameter):
    value = models.BooleanField(null=True, blank=True)
    plugin_piping = models.ForeignKey(PluginPiping, on_delete=models.CASCADE, related_name="boolean_param")
    plugin_param = models.ForeignKey(PluginParameter, on_delete=models.CASCADE,
                                     related_name="boolean_piping_defaults")

    class Meta(_DefaultPipingParameter.Meta):
        constraints = [models.UniqueConstraint(fields=("plugin_piping", "plugin_param"),
                                               name="piping_bool_default_unique")]


# parameter type → the model holding a piping's defaults of that type (path types have none)
DEFAULT_PIPING_MODELS: dict[str, type[models.Model]] = {
    ParameterType.STRING: DefaultPipingStrParameter,
    ParameterType.INTEGER: DefaultPipingIntParameter,
    ParameterType.FLOAT: DefaultPipingFloatParameter,
    ParameterType.BOOLEAN: DefaultPipingBoolParameter,
}


class SourceFileType(models.TextChoices):
    YAML = "yaml"
    JSON = "json"


class PipelineSourceFileMeta(models.Model):
    """The file a pipeline was created from (stored public under PIPELINES/<uploader>/)."""

    type = models.CharField(max_length=8, choices=SourceFileType.choices, default=SourceFileType.YAML)
    pipeline = models.OneToOneField(Pipeline, on_delete=models.CASCADE, related_name="source_file_meta")
    source_file = models.OneToOneField("uploads.ChrisFile", on_delete=models.CASCADE, related_name="pipeline_meta")
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                 related_name="pipeline_source_files")
    creation_date = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-creation_date", "-id")

    def __str__(self) -> str:
        return f"source of pipeline {self.pipeline_id}"
