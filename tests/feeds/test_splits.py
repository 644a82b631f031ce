"""Splits (``plugins/instances/<id>/splits/``): one pl-topologicalcopy child per filter regex, through
the run-creation service; the permission matrix and bad input. Also the plugin-instance fields the
strict clients need (summary as a JSON string, a splits link, dates before a run starts)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import CJ, cj_items, json_of
from tests.feeds.social import get, make_feed, make_people, post, post_cj, results


@pytest.fixture
def people(system: Any, make_user: Any) -> dict[str, Any]:
    return make_people(system, make_user)


@pytest.mark.django_db
def test_split_matrix(api: Any, people: Any) -> None:
    from feeds.models import FeedUserPermission, PluginInstanceParameter

    alice, bobby, carol, chris = people["alice"], people["bobby"], people["carol"], people["chris"]
    feed = make_feed(alice)
    root = feed.plugin_instances.get()
    inst = json_of(get(api, alice, f"/api/v1/plugins/instances/{root.id}/"))
    url = inst["splits"]
    assert url.endswith(f"/api/v1/plugins/instances/{root.id}/splits/")
    assert isinstance(inst["summary"], str) and json.loads(inst["summary"]) == {}
    assert inst["start_date"] and inst["end_date"]  # dates even before it starts, as clients require
    r = post(api, alice, url, {"filter": r"\.dcm$,\.txt$"})
    assert r.status_code == 201, r.content
    split = json_of(r)
    ids = [int(i) for i in split["created_plugin_inst_ids"].split(",")]
    assert len(ids) == 2 and split["filter"] == r"\.dcm$,\.txt$"
    values = {(pv.plugin_inst_id, pv.plugin_param.name): pv.value
              for pv in PluginInstanceParameter.objects.filter(plugin_inst_id__in=ids).select_related("plugin_param")}
    assert values[(ids[0], "filter")] == r"\.dcm$" and values[(ids[1], "plugininstances")] == str(root.id)
    children = results(get(api, alice, f"/api/v1/plugins/instances/search/?previous_id={root.id}"))
    assert {c["id"] for c in children} == set(ids)
    assert {c["plugin_name"] for c in children} == {"pl-topologicalcopy"}
    # Collection+JSON: list with template, POST as a template.
    body = json_of(get(api, alice, url, accept=CJ))["collection"]
    assert [d["name"] for d in body["template"]["data"]] == ["filter", "compute_resource_name"]
    assert cj_items(post_cj(api, alice, url, {"filter": ""}))[0]["created_plugin_inst_ids"]
    assert len(results(get(api, alice, url))) == 2
    # Others: a stranger sees nothing; a sharee splits; the superuser reads; anonymous is refused.
    assert get(api, bobby, url).status_code == 404
    assert post(api, bobby, url, {"filter": "x"}).status_code == 404
    assert get(api, bobby, split["url"]).status_code == 404
    FeedUserPermission.objects.create(feed=feed, user=carol)
    assert post(api, carol, url, {"filter": "x"}).status_code == 201
    assert get(api, chris, split["url"]).status_code == 200
    api.force_authenticate(None)
    assert api.post(url, {"filter": "x"}, format="json").status_code == 401
    # A public feed: readable by all, split only by those who may write to it.
    feed.public = True
    feed.save(update_fields=["public"])
    assert get(api, bobby, url).status_code == 200
    assert post(api, bobby, url, {"filter": "x"}).status_code == 403
    # Bad input.
    for body in ({"filter": "(unclosed"}, {"filter": ["x"]}, {"filter": "x" * 601},
                 {"filter": "x", "compute_resource_name": "nowhere"}):
        r = post(api, alice, url, body)
        assert r.status_code == 400, (body, r.content)
    assert post(api, alice, "/api/v1/plugins/instances/999999/splits/", {"filter": "x"}).status_code == 404
    api.force_authenticate(alice)
    assert api.post(url, [1, 2], format="json").status_code == 400
