"""Pipeline source files: a YAML or JSON file creates its pipeline and is kept under PIPELINES/<uploader>/
(public once the pipeline is); the download equals the upload; bad files are 400s that leave nothing behind."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import CJ, cj_items, json_of
from tests.plugins.test_pipelines import plugins, users  # noqa: F401 - fixtures

JSON = "application/json"
URL = "/api/v1/pipelines/sourcefiles/"

YAML_DOC = b"""\
name: Brain pipeline
authors: Ann <ann@example.org>
category: mri
description: two steps and a join
locked: false
plugin_tree:
  - title: first
    plugin: pl-simpledsapp v2.1.0
    previous: null
    plugin_parameter_defaults:
      prefix: "brain-"
      dummyInt: 3
  - title: second
    plugin: pl-simpledsapp v2.1.0
    previous: first
    cpu_limit: 2000m
  - title: join
    plugin: pl-topologicalcopy v1.0.0
    previous: second
    plugin_parameter_defaults:
      plugininstances: second,first
"""

JSON_DOC = json.dumps({
    "name": "Lung pipeline", "authors": "Bob", "category": "ct", "description": "one step",
    "plugin_tree": [{"title": "only", "plugin_name": "pl-simpledsapp", "plugin_version": "2.1.0", "previous": None,
                     "plugin_parameter_defaults": [{"name": "dummyFloat", "default": 0.5}]}],
}, indent=2).encode()


def upload(api: Any, user: Any, name: str, content: bytes, ftype: str | None = None, accept: str = JSON) -> Any:
    api.force_authenticate(user)
    data: dict[str, Any] = {"fname": SimpleUploadedFile(name, content)}
    if ftype is not None:
        data["type"] = ftype
    return api.post(URL, data, format="multipart", HTTP_ACCEPT=accept)


@pytest.mark.django_db
def test_yaml_round_trip(api: Any, plugins: Any, users: Any) -> None:  # noqa: F811
    from plugins.models import Pipeline, PluginPiping

    r = upload(api, users["alice"], "brain.yml", YAML_DOC, "yaml")
    assert r.status_code == 201, r.content
    body = json_of(r)
    assert body["fname"] == "PIPELINES/alice/brain.yml" and body["fsize"] == len(YAML_DOC)
    assert body["type"] == "yaml" and body["ftype"] == "yaml" and body["public"] is True
    assert body["uploader_username"] == "alice" and body["pipeline_name"] == "Brain pipeline"
    pipeline = Pipeline.objects.get(pk=body["pipeline_id"])
    assert (pipeline.locked, pipeline.category, pipeline.owner.username) == (False, "mri", "alice")
    pipings = {p.title: p for p in PluginPiping.objects.filter(pipeline=pipeline)}
    assert pipings["second"].previous_id == pipings["first"].id and pipings["second"].cpu_limit == 2000
    tree = json.loads(json_of(api.get(f"/api/v1/pipelines/{pipeline.id}/json/", HTTP_ACCEPT=JSON))["plugin_tree"])
    first = next(n for n in tree if n["title"] == "first")
    assert {"name": "prefix", "default": "brain-"} in first["plugin_parameter_defaults"]
    # anyone downloads exactly the bytes uploaded, whatever the Accept header
    api.force_authenticate(None)
    for accept in ("application/octet-stream", JSON, "*/*"):
        r = api.get(body["file_resource"], HTTP_ACCEPT=accept)
        assert r.status_code == 200 and b"".join(r.streaming_content) == YAML_DOC
    assert body["file_resource"].endswith(f"/api/v1/pipelines/sourcefiles/{body['id']}/brain.yml")
    # the detail in Collection+JSON, with its links
    item = cj_items(api.get(body["url"]))[0]
    assert item["fname"] == "PIPELINES/alice/brain.yml"
    assert {"file_resource", "pipeline", "parent_folder", "owner"} <= set(item["links"])


@pytest.mark.django_db
def test_json_round_trip_and_type_from_extension(api: Any, plugins: Any, users: Any) -> None:  # noqa: F811
    r = upload(api, users["bob"], "lung.json", JSON_DOC)  # no type: taken from the extension
    assert r.status_code == 201, r.content
    body = json_of(r)
    assert body["type"] == "json" and body["pipeline_name"] == "Lung pipeline"
    r = api.get(body["file_resource"])
    assert b"".join(r.streaming_content) == JSON_DOC
    # locked by default: the pipeline is a draft, and so is its file (CUBE shows it to anyone)
    r = api.get(f"/api/v1/pipelines/{body['pipeline_id']}/", HTTP_ACCEPT=JSON)
    assert r.status_code == 200 and json_of(r)["locked"] is True
    api.force_authenticate(None)
    assert api.get(f"/api/v1/pipelines/{body['pipeline_id']}/", HTTP_ACCEPT=JSON).status_code == 404


@pytest.mark.django_db
def test_collection_json_upload_reply(api: Any, plugins: Any, users: Any) -> None:  # noqa: F811
    r = upload(api, users["alice"], "brain.yaml", YAML_DOC, "yaml", accept=CJ)
    assert r.status_code == 201
    assert cj_items(r)[0]["pipeline_name"] == "Brain pipeline"


@pytest.mark.django_db
def test_bad_files_are_400s_that_leave_nothing(api: Any, plugins: Any, users: Any, storage_root: str) -> None:  # noqa: F811
    import os

    from plugins.models import Pipeline
    from uploads.models import ChrisFile

    bad_plugin = YAML_DOC.replace(b"pl-simpledsapp v2.1.0", b"pl-simpledsapp 2.1.0", 1)
    unknown = YAML_DOC.replace(b"pl-simpledsapp v2.1.0", b"pl-nothing v1", 1)
    fs_node = YAML_DOC.replace(b"pl-simpledsapp v2.1.0", b"pl-dircopy v2.1.3", 1)
    cases = [
        ("a.yml", b"name: [unclosed", "yaml", "fname", "Invalid YAML"),
        ("a.json", b"{nope", "json", "fname", "Invalid JSON"),
        ("a.yml", b"- just a list", "yaml", "fname", "must be a mapping"),
        ("a.yml", b"name: x\n", "yaml", "plugin_tree", "plugin_tree list"),
        ("a.yml", b"plugin_tree: []\n", "yaml", "name", "required"),
        ("a.yml", bad_plugin, "yaml", "plugin_tree", "'<name> v<version>'"),
        ("a.yml", unknown, "yaml", "plugin_tree", "no plugin pl-nothing version 1"),
        ("a.yml", fs_node, "yaml", "plugin_tree", "fs plugin"),
        ("a.yml", YAML_DOC, "xml", "type", "yaml, json"),
        ("a.txt", YAML_DOC, None, "type", "required"),
        ("a.yml", b"\xff\xfe", "yaml", "fname", "UTF-8"),
        ("x.chrislink", YAML_DOC, "yaml", "fname", "cannot be used"),
        ("a,b.yml", YAML_DOC, "yaml", "fname", "cannot be used"),
    ]
    for name, content, ftype, field, message in cases:
        r = upload(api, users["alice"], name, content, ftype)
        assert r.status_code == 400, (name, content[:20], r.content)
        assert any(message in e for e in json_of(r)[field]), (name, json_of(r))
    api.force_authenticate(users["alice"])
    r = api.post(URL, {"type": "yaml"}, format="multipart", HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "fname" in json_of(r)
    r = api.post(URL, {"fname": "not a file", "type": "yaml"}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "fname" in json_of(r)
    assert not Pipeline.objects.exists() and not ChrisFile.objects.filter(fname__startswith="PIPELINES/").exists()
    assert not os.path.exists(os.path.join(storage_root, "PIPELINES", "alice", "a.yml"))
    # a pipeline name already taken
    assert upload(api, users["alice"], "brain.yml", YAML_DOC, "yaml").status_code == 201
    r = upload(api, users["alice"], "brain2.yml", YAML_DOC, "yaml")
    assert r.status_code == 400 and "already exists" in json_of(r)["name"][0]
    assert not os.path.exists(os.path.join(storage_root, "PIPELINES", "alice", "brain2.yml"))
    assert Pipeline.objects.count() == 1


@pytest.mark.django_db
def test_a_taken_file_name_gets_a_suffix(api: Any, plugins: Any, users: Any) -> None:  # noqa: F811
    names = []
    for i in range(3):
        doc = YAML_DOC.replace(b"Brain pipeline", f"Brain {i}".encode())
        r = upload(api, users["alice"], "brain.yml", doc, "yaml")
        assert r.status_code == 201, r.content
        names.append(json_of(r)["fname"])
        assert b"".join(api.get(json_of(r)["file_resource"]).streaming_content) == doc
    # python-chrisclient names every upload 'fname' (no extension)
    for i in range(2):
        r = upload(api, users["alice"], "fname", YAML_DOC.replace(b"Brain pipeline", f"pc {i}".encode()), "yaml")
        names.append(json_of(r)["fname"])
    assert names == ["PIPELINES/alice/brain.yml", "PIPELINES/alice/brain_1.yml", "PIPELINES/alice/brain_2.yml",
                     "PIPELINES/alice/fname", "PIPELINES/alice/fname_1"]


@pytest.mark.django_db
def test_permissions_and_deletion(api: Any, plugins: Any, users: Any, storage_root: str) -> None:  # noqa: F811
    import os

    from uploads.models import ChrisFile

    r = upload(api, None, "brain.yml", YAML_DOC, "yaml")
    assert r.status_code in (401, 403)
    body = json_of(upload(api, users["alice"], "brain.yml", YAML_DOC, "yaml"))
    for user in (None, users["bob"], users["alice"], users["chris"]):
        api.force_authenticate(user)
        assert api.get(URL, HTTP_ACCEPT=JSON).status_code == 200
        assert json_of(api.get(URL, HTTP_ACCEPT=JSON))["count"] == 1
        assert api.get(body["url"], HTTP_ACCEPT=JSON).status_code == 200
    # detail is read-only
    api.force_authenticate(users["alice"])
    assert api.delete(body["url"]).status_code == 405
    assert api.get(f"{URL}999999/", HTTP_ACCEPT=JSON).status_code == 404
    assert api.get(f"{URL}999999/x.yml").status_code == 404
    # deleting the pipeline deletes its file
    api.force_authenticate(users["bob"])
    assert api.delete(f"/api/v1/pipelines/{body['pipeline_id']}/").status_code == 403
    api.force_authenticate(users["alice"])
    assert api.delete(f"/api/v1/pipelines/{body['pipeline_id']}/").status_code == 204
    assert not ChrisFile.objects.filter(pk=body["id"]).exists()
    assert not os.path.exists(os.path.join(storage_root, "PIPELINES", "alice", "brain.yml"))


@pytest.mark.django_db
def test_search(api: Any, plugins: Any, users: Any) -> None:  # noqa: F811
    a = json_of(upload(api, users["alice"], "brain.yml", YAML_DOC, "yaml"))
    b = json_of(upload(api, users["bob"], "lung.json", JSON_DOC, "json"))
    # bob's pipeline is a draft (locked by default): its file is his and the superuser's only.
    api.force_authenticate(None)
    assert {f["id"] for f in json_of(api.get(f"{URL}search/?min_id=0", HTTP_ACCEPT=JSON))["results"]} == {a["id"]}
    api.force_authenticate(users["chris"])

    def ids(query: str) -> set[int]:
        r = api.get(f"{URL}search/?{query}", HTTP_ACCEPT=JSON)
        assert r.status_code == 200
        return {f["id"] for f in json_of(r)["results"]}

    assert ids("uploader_username=alice") == {a["id"]}
    assert ids("fname=PIPELINES/bob/") == {b["id"]}
    assert ids("fname_exact=PIPELINES/alice/brain.yml") == {a["id"]}
    assert ids("fname_icontains=LUNG") == {b["id"]}
    assert ids(f"pipeline_id={a['pipeline_id']}") == {a["id"]}
    assert ids("pipeline_name=lung") == {b["id"]}
    assert ids(f"id={b['id']}") == {b["id"]}
    assert ids("min_creation_date=2000-01-01T00:00:00Z") == {a["id"], b["id"]}
    body = json_of(api.get(URL))["collection"]
    assert body["queries"][0]["href"].endswith("/api/v1/pipelines/sourcefiles/search/")
    assert {d["name"] for d in body["template"]["data"]} == {"fname", "type"}
