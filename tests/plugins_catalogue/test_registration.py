"""Plugin registration through /chris-admin/api/v1/ and the anonymous catalogue."""

from __future__ import annotations

import io
import json

import pytest

from tests.conftest import cj_items, cj_links, json_of

JSON = "application/json"

DESCRIPTOR = {
    "name": "pl-brainmask", "version": "1.2.0", "dock_image": "example/pl-brainmask:1.2.0",
    "type": "ds", "title": "Brain mask", "category": "MRI", "authors": "Lab <lab@example.org>",
    "public_repo": "https://example.org/pl-brainmask", "license": "MIT", "description": "masks brains",
    "documentation": "", "icon": "", "selfpath": "/usr/local/bin", "selfexec": "brainmask",
    "execshell": "python3", "min_cpu_limit": "500m", "max_cpu_limit": "4000m", "min_memory_limit": "512Mi",
    "max_memory_limit": "8Gi", "min_number_of_workers": 1, "max_number_of_workers": 1,
    "min_gpu_limit": 0, "max_gpu_limit": 0,
    "parameters": [
        {"name": "label", "type": "str", "optional": True, "flag": "--label", "short_flag": "-l",
         "action": "store", "help": "a label", "default": "brain", "ui_exposed": True},
        {"name": "iterations", "type": "int", "optional": True, "flag": "--iterations", "short_flag": "-i",
         "action": "store", "help": "", "default": 3, "ui_exposed": True},
        {"name": "threshold", "type": "float", "optional": True, "flag": "--threshold", "short_flag": "-t",
         "action": "store", "help": "", "default": 0.5, "ui_exposed": True},
        {"name": "verbose", "type": "bool", "optional": True, "flag": "--verbose", "short_flag": "-v",
         "action": "store_true", "help": "", "default": False, "ui_exposed": True},
        {"name": "atlas", "type": "path", "optional": False, "flag": "--atlas", "short_flag": "-a",
         "action": "store", "help": "atlas dir", "default": None, "ui_exposed": True},
    ],
}


def upload(api, descriptor, compute_names="host", accept=JSON):
    raw = descriptor if isinstance(descriptor, bytes) else json.dumps(descriptor).encode()
    f = io.BytesIO(raw)
    f.name = "descriptor.json"
    return api.post("/chris-admin/api/v1/", {"fname": f, "compute_names": compute_names}, format="multipart",
                    HTTP_ACCEPT=accept)


@pytest.mark.django_db
def test_register_a_descriptor_with_every_parameter_type_and_find_it(api, system):
    api.force_authenticate(system)
    r = upload(api, DESCRIPTOR)
    assert r.status_code == 201, r.content
    body = json_of(r)
    assert body["name"] == "pl-brainmask" and body["compute_names"] == "host"
    assert (body["min_cpu_limit"], body["max_cpu_limit"], body["min_memory_limit"], body["max_memory_limit"]) == \
        (500, 4000, 512, 8192)
    api.force_authenticate(None)  # the catalogue is readable anonymously
    r = api.get("/api/v1/plugins/search/?name_exact=pl-brainmask")
    items = cj_items(r)
    assert len(items) == 1 and items[0]["version"] == "1.2.0" and items[0]["type"] == "ds"
    links = items[0]["links"]
    assert set(links) >= {"meta", "parameters", "compute_resources"}
    r = api.get(links["parameters"], HTTP_ACCEPT=JSON)
    params = {p["name"]: p for p in json_of(r)["results"]}
    assert {k: (v["type"], v["default"], v["optional"]) for k, v in params.items()} == {
        "label": ("string", "brain", True), "iterations": ("integer", 3, True),
        "threshold": ("float", 0.5, True), "verbose": ("boolean", False, True),
        "atlas": ("path", None, False)}
    r = api.get(links["compute_resources"], HTTP_ACCEPT=JSON)
    assert [c["name"] for c in json_of(r)["results"]] == ["host"]
    assert "compute_url" not in json_of(r)["results"][0]  # hidden from anonymous callers
    r = api.get("/api/v1/plugins/metas/search/?name_title_category=mri", HTTP_ACCEPT=JSON)
    assert [m["name"] for m in json_of(r)["results"]] == ["pl-brainmask"]


@pytest.mark.django_db
@pytest.mark.parametrize("change, field", [
    ({"version": "v1"}, "version"),
    ({"type": "xs"}, "type"),
    ({"dock_image": ""}, "dock_image"),
    ({"min_cpu_limit": "lots"}, "min_cpu_limit"),
    ({"min_memory_limit": "9Gi", "max_memory_limit": "1Gi"}, "min_memory_limit"),
    ({"parameters": [{"name": "x", "type": "tensor", "flag": "--x", "optional": True, "default": 1}]}, "tensor"),
    ({"parameters": [{"name": "x", "type": "str", "flag": "--x", "optional": True, "default": None}]}, "default"),
    ({"parameters": [{"name": "x", "type": "path", "flag": "--x", "optional": True, "default": "a"}]}, "optional"),
    ({"parameters": [{"name": "x", "type": "int", "flag": "--x", "optional": True, "default": "three"}]}, "integer"),
    ({"parameters": [{"name": "x", "type": "str", "flag": "x", "optional": False}]}, "flag"),
    ({"parameters": [{"name": "previous_id", "type": "str", "flag": "--p", "optional": False}]}, "reserved"),
])
def test_invalid_descriptors_get_a_400_naming_the_problem(api, system, change, field):
    api.force_authenticate(system)
    r = upload(api, {**DESCRIPTOR, **change})
    assert r.status_code == 400, r.content
    assert field in json.dumps(json_of(r)), r.content


@pytest.mark.django_db
def test_registration_refuses_bad_files_unknown_compute_and_duplicates(api, system):
    api.force_authenticate(system)
    assert upload(api, b"{not json").status_code == 400
    assert upload(api, b"[]").status_code == 400
    r = upload(api, DESCRIPTOR, compute_names="nowhere")
    assert r.status_code == 400 and "nowhere" in r.content.decode()
    r = api.post("/chris-admin/api/v1/", {"compute_names": "host"}, format="multipart", HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "fname" in json_of(r)
    assert upload(api, DESCRIPTOR).status_code == 201
    r = upload(api, DESCRIPTOR)
    assert r.status_code == 400 and "already registered" in r.content.decode()
    # The collection+json error document is what python-chrisclient reads.
    r = upload(api, DESCRIPTOR, accept="application/vnd.collection+json")
    assert "already registered" in json.dumps(json_of(r)["collection"]["error"]["message"])


@pytest.mark.django_db
def test_only_staff_register_change_and_delete(api, system, make_user):
    alice = make_user("alice")
    api.force_authenticate(alice)
    assert upload(api, DESCRIPTOR).status_code == 403
    assert api.get("/chris-admin/api/v1/").status_code == 403
    api.force_authenticate(None)
    assert upload(api, DESCRIPTOR).status_code == 401
    api.force_authenticate(system)
    pid = json_of(upload(api, DESCRIPTOR))["id"]
    r = api.post("/chris-admin/api/v1/computeresources/", {"name": "gpu-box", "runner": "docker"}, format="json",
                 HTTP_ACCEPT=JSON)
    assert r.status_code == 201, r.content
    r = api.put(f"/chris-admin/api/v1/{pid}/", {"compute_names": "host,gpu-box"}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 200 and json_of(r)["compute_names"] == "host,gpu-box"
    assert api.put(f"/chris-admin/api/v1/{pid}/", {"compute_names": "mars"}, format="json").status_code == 400
    api.force_authenticate(alice)
    assert api.delete(f"/chris-admin/api/v1/{pid}/").status_code == 403
    api.force_authenticate(system)
    assert api.delete(f"/chris-admin/api/v1/{pid}/").status_code == 204
    assert json_of(api.get("/api/v1/plugins/metas/search/?name_exact=pl-brainmask", HTTP_ACCEPT=JSON))["count"] == 0


@pytest.mark.django_db
def test_plugin_list_json_and_collection_json_shapes(api, system):
    api.force_authenticate(system)
    for i in range(12):
        assert upload(api, {**DESCRIPTOR, "name": f"pl-p{i:02d}", "dock_image": f"x/p{i}:1"}).status_code == 201
    api.force_authenticate(None)
    r = api.get("/api/v1/plugins/", HTTP_ACCEPT=JSON)
    body = json_of(r)
    assert body["count"] == 12 and len(body["results"]) == 10 and body["next"].endswith("limit=10&offset=10")
    assert set(body["collection_links"]) == {"compute_resources", "plugin_metas", "feeds"}
    assert body["queries"][0]["href"].endswith("/api/v1/plugins/search/")
    assert "name_exact" in {d["name"] for d in body["queries"][0]["data"]}
    r = api.get("/api/v1/plugins/?limit=5&offset=10")
    doc = json_of(r)["collection"]
    assert r["Content-Type"].startswith("application/vnd.collection+json")
    assert doc["total"] == 12 and len(doc["items"]) == 2
    assert {link["rel"] for link in doc["links"]} >= {"previous", "compute_resources", "plugin_metas"}
    item = doc["items"][0]
    assert item["href"].startswith("http://testserver/api/v1/plugins/")
    names = {d["name"] for d in item["data"]}
    assert {"name", "version", "dock_image", "min_cpu_limit", "stars", "title"} <= names
    assert "url" not in names and "parameters" not in names
    assert api.get("/api/v1/plugins/?format=json").json()["count"] == 12
    # A Content-Type header on a GET (python-chrisclient sends one) is ignored.
    assert api.get("/api/v1/plugins/", CONTENT_TYPE="application/vnd.collection+json").status_code == 200


@pytest.mark.django_db
def test_plugin_list_queries_do_not_grow_with_page_size(api, system, django_assert_max_num_queries):
    api.force_authenticate(system)
    for i in range(30):
        upload(api, {**DESCRIPTOR, "name": f"pl-q{i:02d}", "dock_image": f"x/q{i}:1"})
    api.force_authenticate(None)
    for limit in (1, 30):
        with django_assert_max_num_queries(3):
            assert api.get(f"/api/v1/plugins/?limit={limit}").status_code == 200
        with django_assert_max_num_queries(3):
            assert api.get(f"/api/v1/plugins/search/?name=pl-q&limit={limit}").status_code == 200


@pytest.mark.django_db
def test_api_root_links_every_collection_that_exists(api, system):
    r = api.get("/api/v1/")
    links = cj_links(r)
    assert {"plugins", "plugin_metas", "compute_resources", "chrisinstance"} <= set(links)
    assert "user" not in links and "admin" not in links
    api.force_authenticate(system)
    links = cj_links(api.get("/api/v1/"))
    assert links["user"].endswith(f"/api/v1/users/{system.id}/")
    assert links["admin"].endswith("/chris-admin/api/v1/")
    for rel, href in links.items():
        assert api.get(href).status_code == 200, rel


@pytest.mark.django_db
def test_management_command_registers_builtins_idempotently(system):
    from django.core.management import call_command

    from plugins.models import Plugin

    call_command("register_plugins", "--builtins", "--compute-names", "host")
    call_command("register_plugins", "--builtins", "--compute-names", "host")
    names = set(Plugin.objects.values_list("meta__name", flat=True))
    assert {"pl-dircopy", "pl-simpledsapp", "pl-topologicalcopy"} <= names
    dircopy = Plugin.objects.get(meta__name="pl-dircopy")
    assert dircopy.meta.type == "fs" and dircopy.parameters.get(name="dir").type == "unextpath"
