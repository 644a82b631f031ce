"""Collection+JSON rendering of whatever a view returns.

Views return DRF-shaped data (``count/next/previous/results`` or one item) plus the keys
``collection_links``, ``queries`` and ``template`` that CJViewMixin adds. The JSON renderer sends that
as it is (what CUBE's JSON clients expect); this renderer turns it into a Collection+JSON document: item
hyperlinks go to ``links``, scalars to ``data``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from .fields import ItemLinkField

DOC_KEYS = ("collection_links", "queries", "template")
_LINK_FIELDS: dict[type, tuple[str | None, list[str]]] = {}


def link_field_names(serializer: Any) -> tuple[str | None, list[str]]:
    """(the item's own URL field, the names of its other hyperlink fields), computed once per class:
    building a serializer's fields is the most expensive part of rendering a small page."""
    if serializer is None:
        return None, []
    if isinstance(serializer, serializers.ListSerializer):
        serializer = serializer.child
    cached = _LINK_FIELDS.get(type(serializer))
    if cached is not None:
        return cached
    result = _link_field_names(serializer)
    _LINK_FIELDS[type(serializer)] = result
    return result


def _link_field_names(serializer: Any) -> tuple[str | None, list[str]]:
    fields = getattr(serializer, "fields", {})
    id_field = "url" if "url" in fields else None
    related = []
    for name, field in fields.items():
        if name == id_field:
            continue
        if isinstance(field, serializers.ManyRelatedField):
            field = field.child_relation
        if isinstance(field, (serializers.HyperlinkedRelatedField, ItemLinkField)):
            related.append(name)
    return id_field, related


class CollectionJsonRenderer(JSONRenderer):
    media_type = "application/vnd.collection+json"
    format = "collection+json"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        renderer_context = renderer_context or {}
        request = renderer_context.get("request")
        response = renderer_context.get("response")
        view = renderer_context.get("view")
        if data is None or request is None:
            return super().render(data, accepted_media_type, renderer_context)
        doc: dict[str, Any] = {"version": "1.0", "href": request.build_absolute_uri()}
        if response is not None and (response.exception or response.status_code >= 400):
            message = data.get("detail", data) if isinstance(data, dict) else data
            doc["error"] = {"message": message}
            return super().render({"collection": doc}, accepted_media_type, renderer_context)
        if not isinstance(data, dict):
            data = {"results": data} if isinstance(data, list) else {"value": data}
        data = dict(data)
        extras = {k: data.pop(k) for k in DOC_KEYS if k in data}
        links = [{"rel": rel, "href": href} for rel, href in (extras.get("collection_links") or {}).items()]
        if "results" in data:
            for rel in ("next", "previous"):
                if data.get(rel):
                    links.append({"rel": rel, "href": data[rel]})
            rows = data["results"]
            if "count" in data:
                doc["total"] = data["count"]
        elif data:
            rows = [data]
        else:
            rows = []
        serializer = self._serializer(view)
        doc["items"] = [self._item(serializer, row) for row in rows]
        doc["links"] = links
        if "queries" in extras:
            doc["queries"] = extras["queries"]
        if "template" in extras:
            doc["template"] = extras["template"]
        return super().render({"collection": doc}, accepted_media_type, renderer_context)

    @staticmethod
    def _serializer(view: Any) -> Any:
        get_class = getattr(view, "get_serializer_class", None)
        if get_class is None:
            return None
        try:
            cls = get_class()
            if cls in _LINK_FIELDS:
                return cls
            return view.get_serializer()
        except Exception:  # a view whose serializer needs context it lacks: render plainly
            return None

    def _item(self, serializer: Any, row: Any) -> dict[str, Any]:
        if not isinstance(row, dict):
            return {"data": [{"name": "value", "value": row}]}
        id_field, related = _LINK_FIELDS[serializer] if isinstance(serializer, type) else \
            link_field_names(serializer)
        related_set = set(related)
        item: dict[str, Any] = {
            "data": [
                {"name": k, "value": v} for k, v in row.items() if k != id_field and k not in related_set
            ]
        }
        if id_field and id_field in row:
            item["href"] = row[id_field]
        links = []
        for name in related:
            value = row.get(name)
            if value is None:
                continue
            for href in value if isinstance(value, list) else [value]:
                links.append({"rel": name, "href": href})
        if links:
            item["links"] = links
        return item
