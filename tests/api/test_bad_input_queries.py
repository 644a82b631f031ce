"""Query parameters the database cannot take as they are: a 4xx in the client's media type, never a 500."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import CJ, json_of

# Every search with CUBE's min_/max_creation_date pair (cube.api.filters.date_range).
DATE_SEARCHES = ("/api/v1/search/", "/api/v1/publicfeeds/search/", "/api/v1/plugins/search/",
                 "/api/v1/plugins/metas/search/", "/api/v1/pipelines/search/", "/api/v1/userfiles/search/",
                 "/api/v1/uploadedfiles/search/", "/api/v1/servicefiles/search/", "/api/v1/pacs/queries/search/",
                 "/api/v1/pipelines/sourcefiles/search/")


@pytest.mark.django_db
@pytest.mark.parametrize("url", DATE_SEARCHES)
def test_an_instant_outside_the_calendar_is_a_400_in_both_media_types(api: Any, signed_in_alice: Any, url: str) -> None:
    # A valid ISO date whose UTC instant falls before year 1 or after year 9999.
    for value in ("0001-01-01T00:00:00+18:00", "9999-12-31T23:59:59-18:00"):
        r = api.get(f"{url}?min_creation_date={quote(value)}", HTTP_ACCEPT="application/json")
        assert r.status_code == 400, (url, value, r.content)
        assert "min_creation_date" in json_of(r)
        r = api.get(f"{url}?max_creation_date={quote(value)}")
        assert r.status_code == 400, (url, value, r.content)
        assert r["Content-Type"].startswith(CJ) and json_of(r)["collection"]["error"]["message"]


@pytest.mark.django_db
def test_offsets_beyond_postgresqls_range_still_filter_by_the_instant(api: Any, signed_in_alice: Any) -> None:
    """Python takes UTC offsets up to 23:59, PostgreSQL only up to 15:59: the offset must not reach it."""
    from django.utils import timezone as dj_timezone

    from plugins.models import Plugin

    total = Plugin.objects.count()
    assert total > 0
    now = dj_timezone.now()
    for offset in (timedelta(hours=18, minutes=13), -timedelta(hours=21, minutes=51), timedelta(hours=23, minutes=59)):
        zone = timezone(offset)
        for when, expect_min, expect_max in ((now - timedelta(days=1), total, 0), (now + timedelta(days=1), 0, total)):
            stamp = quote(when.astimezone(zone).isoformat())
            for accept in ("application/json", CJ):
                r = api.get(f"/api/v1/plugins/search/?min_creation_date={stamp}&limit=100", HTTP_ACCEPT=accept)
                assert r.status_code == 200, (offset, r.content)
                r_max = api.get(f"/api/v1/plugins/search/?max_creation_date={stamp}&limit=100",
                                HTTP_ACCEPT="application/json")
                assert r_max.status_code == 200, (offset, r_max.content)
            assert json_of(r_max)["count"] == expect_max, (offset, when)
            r = api.get(f"/api/v1/plugins/search/?min_creation_date={stamp}", HTTP_ACCEPT="application/json")
            assert json_of(r)["count"] == expect_min, (offset, when)


@pytest.mark.django_db
def test_a_format_parameter_that_fails_still_answers_in_the_accepted_media_type(api: Any, signed_in_alice: Any) -> None:
    # DRF renders the 404 of an unknown ?format= (and the 406 of one the Accept header excludes) with its
    # first renderer, Collection+JSON, whatever the client accepts.
    for query, status in (("format=nosuch", 404), ("format=%00", 404), ("format=collection%2Bjson", 406)):
        r = api.get(f"/api/v1/plugins/?{query}", HTTP_ACCEPT="application/json")
        assert r.status_code == status, (query, r.content)
        assert r["Content-Type"].startswith("application/json") and "detail" in json_of(r), query
    r = api.get("/api/v1/plugins/?format=nosuch", HTTP_ACCEPT=CJ)
    assert r.status_code == 404 and r["Content-Type"].startswith(CJ)
    assert json_of(r)["collection"]["error"]["message"]
    # The format parameter still works when it can.
    r = api.get("/api/v1/plugins/?format=json", HTTP_ACCEPT="application/json")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
