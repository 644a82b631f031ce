"""Serializer fields for item hyperlinks that are not plain model relations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import NoReverseMatch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse


@extend_schema_field(OpenApiTypes.URI)
class ItemLinkField(serializers.Field):
    """A computed hyperlink: rendered as an item link in Collection+JSON, as a URL string in JSON."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        return instance


class ReverseLinkField(ItemLinkField):
    """A link to the URL named ``view_name``, with kwargs taken from the object.

    ``kwargs`` maps URL kwarg → attribute path on the object (dotted); a missing value gives no link.
    """

    def __init__(self, view_name: str, kwargs: dict[str, str] | None = None,
                 when: Callable[[Any], bool] | None = None, optional: bool = False, **extra: Any) -> None:
        # optional: the target app may not be installed (yet); then there is no link rather than an error.
        self.optional = optional
        self.view_name = view_name
        self.url_kwargs = kwargs or {"pk": "pk"}
        self.when = when
        super().__init__(**extra)

    def to_representation(self, obj: Any) -> str | None:
        if self.when is not None and not self.when(obj):
            return None
        kwargs = {}
        for key, attr in self.url_kwargs.items():
            value: Any = obj
            for part in attr.split("."):
                value = getattr(value, part, None)
                if value is None:
                    return None
            kwargs[key] = value
        try:
            return reverse(self.view_name, kwargs=kwargs, request=self.context.get("request"))
        except NoReverseMatch:
            if self.optional:
                return None
            raise


class CachedFieldsMixin:
    """Builds a ModelSerializer's fields once per class and copies them per use.

    Model introspection in ModelSerializer.get_fields costs more than the rest of a list request; the
    result depends only on the class for serializers whose fields do not vary with the instance or the
    request (the read-only catalogue, feeds, runs), so it is computed once. Only for such serializers.
    """

    def get_fields(self) -> Any:
        import copy

        cls = type(self)
        cached = cls.__dict__.get("_cube_cached_fields")
        if cached is None:
            cached = super().get_fields()  # type: ignore[misc]
            cls._cube_cached_fields = cached  # type: ignore[attr-defined]
        return copy.deepcopy(cached)
