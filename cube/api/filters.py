"""Filter helpers shared by the apps' search endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time, handed to the lookup as its UTC instant. Python accepts UTC offsets up
    to 23:59 and PostgreSQL only up to 15:59, so an offset such as +18:00 must never reach the database
    (it was a 500); the instant it names is what the filter compares anyway."""

    default_error_messages = {"out_of_range": "Enter a date and time between the years 1 and 9999 in UTC."}

    def to_python(self, value: Any) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["out_of_range"], code="out_of_range") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


def date_range(field: str) -> tuple[UtcIsoDateTimeFilter, UtcIsoDateTimeFilter]:
    """CUBE's ``min_<x>``/``max_<x>`` pair for a datetime field:
    ``min_creation_date, max_creation_date = date_range("creation_date")``."""
    return (UtcIsoDateTimeFilter(field_name=field, lookup_expr="gte"),
            UtcIsoDateTimeFilter(field_name=field, lookup_expr="lte"))
