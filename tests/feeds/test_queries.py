"""List endpoints of feeds and runs cost a bounded number of queries, whatever the page size (CUBE runs
ten COUNT queries per feed and N+1 queries for related objects)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import json_of


@pytest.fixture
def many_feeds(system: Any, make_user: Any) -> Any:
    from django.core.management import call_command

    from feeds.models import PluginInstance, Status
    from feeds.services.instances import instance_create
    from plugins.models import Plugin

    call_command("register_plugins", "--builtins", "--compute-names", "host")
    alice = make_user("alice")
    dircopy = Plugin.objects.get(meta__name="pl-dircopy")
    for _ in range(12):
        instance_create(user=alice, plugin=dircopy, data={"dir": "home/alice/uploads"})
    PluginInstance.objects.update(status=Status.SUCCEEDED)
    return alice


@pytest.mark.django_db
def test_feed_and_instance_lists_are_bounded_in_queries(api: Any, many_feeds: Any,
                                                        django_assert_max_num_queries: Any) -> None:
    api.force_authenticate(many_feeds)
    for url in ("/api/v1/", "/api/v1/plugins/instances/", "/api/v1/search/?name=dircopy",
                "/api/v1/plugins/instances/search/?status=finishedSuccessfully"):
        for limit in (1, 12):
            with django_assert_max_num_queries(6):
                r = api.get(f"{url}{'&' if '?' in url else '?'}limit={limit}", HTTP_ACCEPT="application/json")
            assert r.status_code == 200 and len(json_of(r)["results"]) == limit, url
    body = json_of(api.get("/api/v1/?limit=1", HTTP_ACCEPT="application/json"))
    assert body["results"][0]["finished_jobs"] == 1 and body["results"][0]["started_jobs"] == 0


@pytest.mark.django_db
def test_date_range_filters(api: Any, many_feeds: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    api.force_authenticate(many_feeds)
    future = (timezone.now() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    past = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    for url, total in (("/api/v1/search/", 12), ("/api/v1/plugins/instances/search/", 12)):
        field = "creation_date" if url == "/api/v1/search/" else "start_date"
        count = {q: json_of(api.get(f"{url}?{q}", HTTP_ACCEPT="application/json"))["count"]
                 for q in (f"min_{field}={future}", f"max_{field}={future}", f"min_{field}={past}")}
        if field == "start_date":  # the runs never started (nothing runs them here): no start date to match
            assert count == {f"min_{field}={future}": 0, f"max_{field}={future}": 0, f"min_{field}={past}": 0}
        else:
            assert count == {f"min_{field}={future}": 0, f"max_{field}={future}": total,
                             f"min_{field}={past}": total}
