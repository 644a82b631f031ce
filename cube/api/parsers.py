"""Request bodies: Collection+JSON templates and plain JSON (which may itself carry a template)."""

from __future__ import annotations

import json
from typing import Any

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser


def unwrap_template(data: Any) -> Any:
    """``{"template": {"data": [{"name": n, "value": v}, ...]}}`` → ``{n: v, ...}``; anything else as is."""
    if isinstance(data, dict) and set(data) == {"template"}:
        template = data["template"]
        items = template.get("data") if isinstance(template, dict) else None
        if not isinstance(items, list):
            raise ParseError("Collection+JSON template must be {'template': {'data': [{name, value}, ...]}}")
        result: dict[str, Any] = {}
        for entry in items:
            if not isinstance(entry, dict) or "name" not in entry or not isinstance(entry["name"], str):
                raise ParseError("each template data entry needs a string 'name' and a 'value'")
            result[entry["name"]] = entry.get("value")
        return result
    return data


def json_list(raw: Any, field: str, not_a_list: str) -> list[Any]:
    """A field whose value is a list, sent JSON-encoded in a string (forms and Collection+JSON templates, as
    CUBE's clients send plugin_tree and nodes_info) or as the list itself (a plain JSON body). Anything
    else is a 400 naming the field."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ValidationError({field: [f"Invalid JSON: {exc}."]}) from None
    if not isinstance(raw, list):
        raise ValidationError({field: [not_a_list]})
    return raw


class CollectionJsonParser(JSONParser):
    media_type = "application/vnd.collection+json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return unwrap_template(super().parse(stream, media_type, parser_context))


class TemplateAwareJSONParser(JSONParser):
    """Plain JSON; several clients post a CJ template with Content-Type application/json."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return unwrap_template(super().parse(stream, media_type, parser_context))
