"""Request bodies: Collection+JSON templates and plain JSON (which may itself carry a template)."""

from __future__ import annotations

import json
from typing import Any

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser


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


NUL_MESSAGE = "Null characters are not allowed."


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def reject_nul(data: Any) -> Any:
    """PostgreSQL stores no NUL character in text or jsonb, so a body carrying one could only fail later, at
    whichever query first sent it (a 500): it is a 400 naming the field here, once for every endpoint."""
    if hasattr(data, "lists"):  # a QueryDict: a form field may be repeated
        bad = [k for k, values in data.lists() if _has_nul(k) or _has_nul(values)]
    elif isinstance(data, dict):
        bad = [k for k, v in data.items() if _has_nul(k) or _has_nul(v)]
    else:
        bad = ["detail"] if _has_nul(data) else []
    if bad:
        raise ValidationError({str(k).replace("\x00", "\\0"): [NUL_MESSAGE] for k in bad})
    return data


class _CubeJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # json raises it, not ValueError, on arrays nested thousands deep
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
        return reject_nul(unwrap_template(data))


class CollectionJsonParser(_CubeJSONParser):
    media_type = "application/vnd.collection+json"


class TemplateAwareJSONParser(_CubeJSONParser):
    """Plain JSON; several clients post a CJ template with Content-Type application/json."""


class CubeFormParser(FormParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return reject_nul(super().parse(stream, media_type, parser_context))


class CubeMultiPartParser(MultiPartParser):
    """The fields only: the files' bytes may hold anything, and Django drops unprintable file-name characters."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        reject_nul(parsed.data)
        return parsed
