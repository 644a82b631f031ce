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
