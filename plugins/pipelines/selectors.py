"""Who sees and changes pipelines. Read: an unlocked pipeline is anyone's, a locked one (a draft) only its
owner's and the superuser's. Write (edit, unlock, delete, change a piping's resources or defaults): the
owner or the superuser. Everything below a pipeline is decided by its pipeline."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from rest_framework.exceptions import PermissionDenied

from cube.api.permissions import is_superuser
from plugins.models import DEFAULT_PIPING_MODELS, Pipeline, PipelineSourceFileMeta, PluginPiping
from uploads.models import ChrisFile


def _readable(user: Any, prefix: str = "") -> Q:
    if is_superuser(user):
        return Q()
    unlocked = Q(**{f"{prefix}locked": False})
    if user.is_authenticated:
        return unlocked | Q(**{f"{prefix}owner": user})
    return unlocked


def visible_pipelines(user: Any) -> QuerySet:
    return Pipeline.objects.filter(_readable(user)).select_related("owner").order_by("-creation_date", "-id")


def access_pipeline_by_id(user: Any, pipeline_id: Any, write: bool = False) -> Pipeline:
    pipeline = Pipeline.objects.select_related("owner").filter(pk=pipeline_id).first()
    if pipeline is None:
        raise Http404("Not found.")
    if is_superuser(user) or (user.is_authenticated and pipeline.owner_id == user.id):
        return pipeline
    if pipeline.locked:
        raise Http404("Not found.")  # a draft's existence is not disclosed
    if write:
        raise PermissionDenied("Only the pipeline's owner may change it.")
    return pipeline


PIPING_RELATED = ("plugin__meta", "pipeline", "previous")


def access_piping_by_id(user: Any, piping_id: Any, write: bool = False) -> PluginPiping:
    piping = PluginPiping.objects.select_related(*PIPING_RELATED).filter(pk=piping_id).first()
    if piping is None:
        raise Http404("Not found.")
    access_pipeline_by_id(user, piping.pipeline_id, write)
    return piping


def access_default_by_id(user: Any, param_type: str, default_id: Any, write: bool = False) -> Any:
    model = DEFAULT_PIPING_MODELS[param_type]
    row = model.objects.select_related(  # type: ignore[attr-defined]
        "plugin_param", "plugin_piping__plugin__meta").filter(pk=default_id).first()
    if row is None:
        raise Http404("Not found.")
    access_pipeline_by_id(user, row.plugin_piping.pipeline_id, write)
    return row


def pipeline_pipings(pipeline: Pipeline) -> QuerySet:
    return PluginPiping.objects.filter(pipeline=pipeline).select_related(*PIPING_RELATED).order_by("id")


def pipeline_defaults(pipeline: Pipeline) -> list[Any]:
    """Every default of the pipeline, of all four types (one query per type), in piping then parameter order."""
    rows: list[Any] = []
    for model in DEFAULT_PIPING_MODELS.values():
        rows.extend(model.objects.filter(plugin_piping__pipeline=pipeline).select_related(  # type: ignore[attr-defined]
            "plugin_param", "plugin_piping__plugin__meta"))
    rows.sort(key=lambda r: (r.plugin_piping_id, r.plugin_param_id))
    return rows


def source_files(user: Any) -> QuerySet:
    """The source files of the pipelines the user can see. CUBE shows every one to anyone, so a draft
    (locked) pipeline's file disclosed the draft; here it is as visible as its pipeline (and stored
    public only once the pipeline is unlocked)."""
    return ChrisFile.objects.filter(_readable(user, "pipeline_meta__pipeline__"), pipeline_meta__isnull=False
                                    ).select_related("owner", "pipeline_meta__pipeline",
                                                     "pipeline_meta__uploader").order_by("-id")


def source_file_by_id(user: Any, file_id: Any) -> ChrisFile:
    row = source_files(user).filter(pk=file_id).first()
    if row is None:
        raise Http404("Not found.")
    return row


def source_file_meta(pipeline: Pipeline) -> PipelineSourceFileMeta | None:
    return PipelineSourceFileMeta.objects.filter(pipeline=pipeline).select_related("source_file").first()
