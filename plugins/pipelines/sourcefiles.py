"""Pipelines from uploaded files: a YAML or JSON document ``{name, authors, category, description, locked,
plugin_tree}``. YAML nodes name their plugin as ``plugin: "<name> v<version>"`` and may give defaults as a
mapping; both forms are read from either type. The file is kept at PIPELINES/<uploader>/<name>, public once
the pipeline is (a draft's file would disclose the draft)."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from django.db import transaction
from rest_framework.exceptions import ValidationError

from plugins.models import Pipeline, PipelineSourceFileMeta, SourceFileType
from uploads.models import ChrisFile
from uploads.paths import LINK_SUFFIX, PathError, normalise

from . import services
from .tree import parse_tree

MAX_BYTES = 1024 * 1024  # a pipeline description, not data: a larger file is a mistake
PLUGIN_REF = re.compile(r"^\s*(?P<name>\S+)\s+v(?P<version>\S+)\s*$")


def parse_document(content: bytes, ftype: str) -> dict[str, Any]:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError({"fname": ["The file is not UTF-8 text."]}) from None
    try:
        doc = yaml.safe_load(text) if ftype == SourceFileType.YAML else json.loads(text)
    except (yaml.YAMLError, ValueError) as exc:
        raise ValidationError({"fname": [f"Invalid {ftype.upper()}: {exc}"]}) from None
    if not isinstance(doc, dict):
        raise ValidationError({"fname": [f"The {ftype.upper()} document must be a mapping with name and "
                                         "plugin_tree."]})
    tree = doc.get("plugin_tree")
    if isinstance(tree, str) and ftype == SourceFileType.JSON:
        try:
            tree = json.loads(tree)
        except ValueError as exc:
            raise ValidationError({"plugin_tree": [f"Invalid JSON: {exc}."]}) from None
    if not isinstance(tree, list):
        raise ValidationError({"plugin_tree": ["The file must have a plugin_tree list of nodes."]})
    for node in tree:
        if isinstance(node, dict) and "plugin" in node and "plugin_id" not in node:
            match = PLUGIN_REF.match(str(node["plugin"]))
            if not match:
                raise ValidationError({"plugin_tree": [f"Node {node.get('title')!r}: plugin must read "
                                                       "'<name> v<version>'."]})
            node.setdefault("plugin_name", match["name"])
            node.setdefault("plugin_version", match["version"])
    doc["plugin_tree"] = tree
    return doc


def _locked(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValidationError({"locked": [f"'{value}' is not a boolean."]})


def source_path(uploader: Any, filename: str) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or name in (".", "..") or "," in name or name.endswith(LINK_SUFFIX):
        raise ValidationError({"fname": [f"{filename!r} cannot be used as a file name."]})
    try:
        return normalise(f"PIPELINES/{uploader.username}/{name}")
    except PathError as exc:
        raise ValidationError({"fname": [str(exc)]}) from None


def free_path(path: str) -> str:
    """path, or the first of path_1, path_2... (before the extension) that is free. python-chrisclient names
    every upload 'fname', so a user's second pipeline file would otherwise always collide."""
    folder, name = path.rsplit("/", 1)
    stem, dot, ext = name.rpartition(".") if "." in name.lstrip(".") else (name, "", "")
    taken = set(ChrisFile.objects.filter(fname__startswith=f"{folder}/{stem}").values_list("fname", flat=True))
    candidate, n = path, 0
    while candidate in taken:
        n += 1
        candidate = f"{folder}/{stem}_{n}{dot}{ext}"
    return candidate


def sourcefile_create(*, uploader: Any, filename: str, content: bytes, ftype: str) -> ChrisFile:
    """Create the pipeline the file describes, store the file and link the two; all or nothing."""
    from cube.storage import get_storage
    from uploads.services import file_store

    if ftype not in SourceFileType.values:
        raise ValidationError({"type": [f"Must be one of: {', '.join(SourceFileType.values)}."]})
    if len(content) > MAX_BYTES:
        raise ValidationError({"fname": [f"A pipeline file has at most {MAX_BYTES} bytes."]})
    path = free_path(source_path(uploader, filename))
    doc = parse_document(content, ftype)
    fields = services.clean_text(doc, required=True)
    nodes = parse_tree(doc["plugin_tree"])
    stored: ChrisFile | None = None
    try:
        with transaction.atomic():
            pipeline: Pipeline = services.pipeline_create(owner=uploader, nodes=nodes,
                                                          locked=_locked(doc.get("locked")), **fields)
            # A draft's file is its owner's until the pipeline is unlocked (services._unlock publishes it).
            stored = file_store(owner=uploader, path=path, chunks=[content], public=not pipeline.locked)
            PipelineSourceFileMeta.objects.create(type=ftype, pipeline=pipeline, source_file=stored,
                                                  uploader=uploader)
    except FileExistsError:
        raise ValidationError({"fname": [f"{path} already exists."]}) from None
    except BaseException:
        if stored is not None:
            get_storage().delete(path)  # the row went with the rollback; the bytes must follow
        raise
    return stored
