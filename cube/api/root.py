"""The API home page's document links: one table of every top-level collection, both client generations.

A relation is listed once its URL exists (the app that serves it is installed), so the root never
advertises a link that 404s, and a new app's collections appear by adding a row here.
"""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch
from rest_framework.reverse import reverse

from cube.api.negotiation import is_plain_json

# rel → (url name, url kwargs). Current (CUBE 6) relations first, then the classic (CUBE 2-5) ones.
ROOT_LINKS: dict[str, tuple[str, dict[str, Any]]] = {
    "chrisinstance": ("chrisinstance-detail", {"pk": 1}),
    "public_feeds": ("publicfeed-list", {}),
    "compute_resources": ("computeresource-list", {}),
    "plugin_metas": ("pluginmeta-list", {}),
    "plugins": ("plugin-list", {}),
    "plugin_instances": ("allplugininstance-list", {}),
    "pipelines": ("pipeline-list", {}),
    "workflows": ("allworkflow-list", {}),
    "tags": ("tag-list", {}),
    "pipelinesourcefiles": ("pipelinesourcefile-list", {}),
    "userfiles": ("userfile-list", {}),
    "pacs": ("pacs-list", {}),
    "pacsqueries": ("allpacsquery-list", {}),
    "pacsfiles": ("pacsfile-list", {}),
    "pacsseries": ("pacsseries-list", {}),
    "filebrowser": ("chrisfolder-list", {}),
    "download_tokens": ("filedownloadtoken-list", {}),
    "groups": ("group-list", {}),
    # classic generation
    "files": ("allfeedfile-list", {}),
    "pipeline_instances": ("allpipelineinstance-list", {}),
    "uploadedfiles": ("uploadedfile-list", {}),
    "servicefiles": ("servicefile-list", {}),
}


# Plain-JSON clients read collection_links into a strict record, and the two that do (chrs and aiochris) map
# `userfiles` and `uploadedfiles` onto one field and refuse a root that carries both. Both upload through that
# field with classic `<user>/uploads/...` paths, which the uploadedfiles endpoint serves, so a JSON root names
# only that relation. Collection+JSON clients look links up by rel in a list and get both generations'.
JSON_OMITS = frozenset({"userfiles"})


def root_links(request: Any) -> dict[str, str]:
    links: dict[str, str] = {}
    omit = JSON_OMITS if is_plain_json(request) else frozenset()
    for rel, (name, kwargs) in ROOT_LINKS.items():
        if rel in omit:
            continue
        try:
            links[rel] = reverse(name, kwargs=kwargs or None, request=request)
        except NoReverseMatch:
            continue
    user = request.user
    if user.is_authenticated:
        links["user"] = reverse("user-detail", kwargs={"pk": user.pk}, request=request)
        if user.is_staff:
            links["admin"] = reverse("admin-plugin-list", request=request)
    return links
