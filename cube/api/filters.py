"""Filter helpers shared by the apps' search endpoints."""

from __future__ import annotations

import django_filters


def date_range(field: str) -> tuple[django_filters.IsoDateTimeFilter, django_filters.IsoDateTimeFilter]:
    """CUBE's ``min_<x>``/``max_<x>`` pair for a datetime field:
    ``min_creation_date, max_creation_date = date_range("creation_date")``."""
    return (django_filters.IsoDateTimeFilter(field_name=field, lookup_expr="gte"),
            django_filters.IsoDateTimeFilter(field_name=field, lookup_expr="lte"))
