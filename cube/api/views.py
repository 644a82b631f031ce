"""CJViewMixin: views declare their document links, search query and template; nothing else builds them.

    class PluginList(CJViewMixin, generics.ListAPIView):
        cj_links = {"plugin_metas": "pluginmeta-list", "feed": ("feed-detail", {"pk": "feed_pk"})}
        cj_search = "plugin-list-query-search"
        cj_template = ("title", "previous_id")

A link is a URL name (no kwargs), or (URL name, {url kwarg: view kwarg}), or a callable(view) → href or
None. ``cj_search`` names a view whose ``filterset_class`` lists the query's fields.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from django.urls import get_script_prefix, resolve
from rest_framework.response import Response
from rest_framework.reverse import reverse

LinkSpec = str | tuple[str, dict[str, str]] | Callable[[Any], str | None]


_search_fields: dict[str, list[str]] = {}


def _filter_names(url_name: str, kwargs: dict[str, Any]) -> list[str]:
    """The filters of the view named url_name (the same for any kwargs, so found once per process)."""
    names = _search_fields.get(url_name)
    if names is None:
        path, prefix = reverse(url_name, kwargs=kwargs or None), get_script_prefix()
        # reverse() includes the script prefix (a deployment under /chris/), resolve() expects it gone.
        if path.startswith(prefix):
            path = "/" + path[len(prefix):]
        view_class = resolve(path).func.view_class  # type: ignore[attr-defined]
        filterset = getattr(view_class, "filterset_class", None)
        names = _search_fields[url_name] = list(filterset.base_filters) if filterset is not None else []
    return names


def search_query(request: Any, url_name: str, **kwargs: Any) -> dict[str, Any]:
    href = reverse(url_name, kwargs=kwargs or None, request=request)
    return {"href": href, "rel": "search", "data": [{"name": n, "value": ""} for n in _filter_names(url_name, kwargs)]}


class CJViewMixin:
    cj_links: ClassVar[dict[str, LinkSpec]] = {}
    cj_search: str | None = None
    cj_search_kwargs: ClassVar[dict[str, str]] = {}
    cj_template: ClassVar[Sequence[str] | None] = None
    request: Any
    kwargs: dict[str, Any]

    def get_cj_links(self) -> dict[str, str]:
        links: dict[str, str] = {}
        for rel, spec in self.cj_links.items():
            href: str | None
            if callable(spec):
                href = spec(self)
            elif isinstance(spec, tuple):
                name, mapping = spec
                href = reverse(name, kwargs={k: self.kwargs[v] for k, v in mapping.items()}, request=self.request)
            else:
                href = reverse(spec, request=self.request)
            if href:
                links[rel] = href
        return links

    def get_cj_template(self) -> Sequence[str] | None:
        return self.cj_template

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if (
            isinstance(response, Response)
            and request.method == "GET"
            and 200 <= response.status_code < 300
            and isinstance(response.data, dict)
        ):
            data = response.data
            links = self.get_cj_links()
            if links:
                data.setdefault("collection_links", {}).update(links)
            match = getattr(request, "resolver_match", None)
            # A search view inherits its list view's declaration but does not advertise itself.
            if self.cj_search and (match is None or match.url_name != self.cj_search):
                kw = {k: self.kwargs[v] for k, v in self.cj_search_kwargs.items()}
                data["queries"] = [search_query(request, self.cj_search, **kw)]
            template = self.get_cj_template()
            if template:
                data["template"] = {"data": [{"name": name, "value": ""} for name in template]}
        return response
