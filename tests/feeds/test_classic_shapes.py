"""Shapes the classic-generation JSON clients (chrs, aiochris) read strictly: the feed's owner as a list,
the classic files/search/ over feed outputs, and the file browser's subfolders by path."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.conftest import cj_links, json_of


@pytest.fixture
def two_runs(system: Any, make_user: Any, storage_root: str, settings: Any, tmp_path: Any) -> Any:
    """alice's two dircopy runs (two feeds), each with one registered output; bob has a run of his own."""
    from django.core.management import call_command

    from feeds.models import PluginInstance, Status
    from feeds.services.instances import instance_create
    from feeds.services.jobs import job_dirs, register_outputs
    from plugins.models import Plugin
    from tests.feeds.conftest import use_broker

    use_broker("memory://")  # nothing runs the jobs: the test writes their outputs
    settings.CUBE_JOBS_DIR = str(tmp_path / "jobs")
    call_command("register_plugins", "--builtins", "--compute-names", "host")
    dircopy = Plugin.objects.get(meta__name="pl-dircopy")
    runs = []
    for user in (make_user("alice"), make_user("bob")):
        for i in range(2 if user.username == "alice" else 1):
            inst = instance_create(user=user, plugin=dircopy, data={"dir": f"home/{user.username}/uploads"})
            PluginInstance.objects.filter(id=inst.id).update(status=Status.STARTED)
            _, out = job_dirs(inst)
            os.makedirs(os.path.join(out, "sub"))
            with open(os.path.join(out, "sub", f"out{i}.txt"), "w") as fh:
                fh.write(f"{user.username} {i}")
            assert register_outputs(inst) == len(f"{user.username} {i}")  # bytes registered
            inst.refresh_from_db()
            runs.append(inst)
    return runs


def _results(api: Any, url: str) -> list[dict[str, Any]]:
    body = json_of(api.get(url, HTTP_ACCEPT="application/json"))
    return list(body["results"])


@pytest.mark.django_db
def test_feed_owner_is_a_list_in_json_and_one_link_in_collection_json(api: Any, two_runs: Any) -> None:
    first = two_runs[0]
    api.force_authenticate(first.owner)
    feed = json_of(api.get(f"/api/v1/{first.feed_id}/", HTTP_ACCEPT="application/json"))
    assert feed["owner"] == [f"http://testserver/api/v1/users/{first.owner_id}/"]
    item = json_of(api.get(f"/api/v1/{first.feed_id}/"))["collection"]["items"][0]
    assert [link["href"] for link in item["links"] if link["rel"] == "owner"] == feed["owner"]


@pytest.mark.django_db
def test_classic_files_search(api: Any, two_runs: Any) -> None:
    a1, a2, b1 = two_runs
    api.force_authenticate(a1.owner)
    assert len(_results(api, "/api/v1/files/")) == 2
    assert "search" in {q["rel"] for q in json_of(api.get("/api/v1/files/", HTTP_ACCEPT="application/json"))["queries"]}
    for query in (f"fname={a1.output_folder.path}", f"fname={a1.output_folder.path.removeprefix('home/')}",
                  f"plugin_inst_id={a1.id}", f"feed_id={a1.feed_id}"):
        found = _results(api, f"/api/v1/files/search/?{query}")
        assert [f["plugin_inst_id"] for f in found] == [a1.id], query
    # Another user's run or feed finds nothing, whoever names it.
    assert _results(api, f"/api/v1/files/search/?plugin_inst_id={b1.id}") == []
    assert _results(api, f"/api/v1/files/search/?feed_id={b1.feed_id}") == []
    assert _results(api, "/api/v1/files/search/?plugin_inst_id=999999") == []
    assert api.get("/api/v1/files/search/?feed_id=abc", HTTP_ACCEPT="application/json").status_code == 400
    api.force_authenticate(None)
    assert _results(api, f"/api/v1/files/search/?feed_id={a2.feed_id}") == []


@pytest.mark.django_db
def test_file_browser_search_names_subfolders(api: Any, two_runs: Any) -> None:
    a1 = two_runs[0]
    api.force_authenticate(a1.owner)
    feeds_dir = f"home/{a1.owner.username}/feeds"
    found = _results(api, f"/api/v1/filebrowser/search/?path={feeds_dir}")
    assert len(found) == 1 and found[0]["path"] == feeds_dir
    # Compared as sets of names: feed_100 sorts before feed_99 as text.
    assert sorted(json.loads(found[0]["subfolders"])) == sorted(f"feed_{r.feed_id}" for r in two_runs[:2])
    data_dir = a1.output_folder.path
    assert json.loads(_results(api, f"/api/v1/filebrowser/search/?path={data_dir}")[0]["subfolders"]) == ["sub"]
    # Collection+JSON carries it as a data field; the links are unchanged.
    doc = json_of(api.get(f"/api/v1/filebrowser/search/?path={data_dir}"))["collection"]["items"][0]
    assert {"name": "subfolders", "value": '["sub"]'} in doc["data"]
    assert cj_links(api.get("/api/v1/")).get("filebrowser")
    # Someone else's folder: not found, so no subfolder names leak.
    api.force_authenticate(two_runs[2].owner)
    assert _results(api, f"/api/v1/filebrowser/search/?path={data_dir}") == []
