"""PACS nodes: registered by staff through the admin API, the Django admin and `manage.py pacs_node`;
listed to pacs_users without side effects; each with a folder pacs_users can read; C-ECHO checks."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import CJ, cj_items, cj_links, json_of

ADMIN_URL = "/chris-admin/api/v1/pacs/"
JSON = "application/json"


@pytest.fixture
def people(make_user: Any) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    bob = make_user("bobby")
    bob.groups.remove(Group.objects.get(name="pacs_users"))
    return {"chris": get_user_model().objects.get(username="chris"), "alice": make_user("alice"), "bob": bob}


def as_user(api: Any, user: Any) -> Any:
    api.force_authenticate(user)
    return api


def test_staff_register_change_and_remove_nodes(api: Any, people: dict[str, Any]) -> None:
    from django.contrib.auth.models import Group

    from pacs.models import PACS
    from uploads.models import ChrisFolder, FolderGroupPermission

    client = as_user(api, people["alice"])
    assert client.post(ADMIN_URL, {"identifier": "X", "aet": "X", "host": "h", "port": 1}, format="json",
                       HTTP_ACCEPT=JSON).status_code == 403
    client = as_user(api, people["chris"])
    r = client.post(ADMIN_URL, {"identifier": "MINICHRISORTHANC", "aet": "ORTHANC", "host": "pacs.example.org",
                                "port": "4242"}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 201, r.content
    node = json_of(r)
    assert node["folder_path"] == "SERVICES/PACS/MINICHRISORTHANC" and node["retrieve_method"] == "move"
    assert node["port"] == 4242 and node["active"] is True
    group = Group.objects.get(name="pacs_users")
    for path in ("SERVICES/PACS", "SERVICES/PACS/MINICHRISORTHANC"):
        folder = ChrisFolder.objects.get(path=path)
        assert folder.owner.username == "chris"
        assert FolderGroupPermission.objects.filter(folder=folder, group=group, permission="r").exists()

    # Every problem comes back in one 400, by field.
    r = client.post(ADMIN_URL, {"identifier": "bad/name", "aet": "A" * 17, "host": "", "port": 70000},
                    format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 400
    assert set(json_of(r)) == {"identifier", "aet", "host", "port"}
    r = client.post(ADMIN_URL, {"identifier": "MINICHRISORTHANC", "aet": "B", "host": "h", "port": 1},
                    format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "already exists" in json_of(r)["identifier"][0]
    r = client.post(ADMIN_URL, {"identifier": "X", "aet": "B", "host": "h", "port": 1, "retrieve_method": "push"},
                    format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "retrieve_method" in json_of(r)

    # Collection+JSON template with the admin fields; a rename moves the folder.
    r = client.get(ADMIN_URL)
    template = {d["name"] for d in json_of(r)["collection"]["template"]["data"]}
    assert {"identifier", "aet", "host", "port", "retrieve_method"} <= template
    detail = f"{ADMIN_URL}{node['id']}/"
    r = client.put(detail, {"identifier": "RENAMED", "retrieve_method": "get", "active": "false"}, format="json",
                   HTTP_ACCEPT=JSON)
    assert r.status_code == 200, r.content
    assert json_of(r)["folder_path"] == "SERVICES/PACS/RENAMED" and json_of(r)["active"] is False
    assert not ChrisFolder.objects.filter(path="SERVICES/PACS/MINICHRISORTHANC").exists()

    # A node with registered series is not removed (its data is); one without is, with its folder.
    from pacs.models import PACSSeries
    from uploads.services import folder_get_or_create

    pacs = PACS.objects.get(pk=node["id"])
    series_folder = folder_get_or_create(path="SERVICES/PACS/RENAMED/p/s/x", owner=people["chris"])
    series = PACSSeries.objects.create(pacs=pacs, folder=series_folder, PatientID="p", StudyInstanceUID="1.2",
                                       SeriesInstanceUID="1.2.3")
    r = client.delete(detail, HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "1 registered series" in r.content.decode()
    series.delete()
    series_folder.delete()
    ChrisFolder.objects.filter(path__startswith="SERVICES/PACS/RENAMED/").delete()
    assert client.delete(detail).status_code == 204
    assert not PACS.objects.exists() and not ChrisFolder.objects.filter(path="SERVICES/PACS/RENAMED").exists()


def test_pacs_users_list_nodes_without_side_effects(api: Any, people: dict[str, Any]) -> None:
    from pacs.models import PACS
    from pacs.services.nodes import pacs_create
    from uploads.selectors import can_read_path

    a = pacs_create(identifier="ALPHA", aet="ALPHA", host="10.0.0.1", port=104)
    pacs_create(identifier="BETA", aet="BETA", host="10.0.0.2", port=104, active=False)
    client = as_user(api, people["alice"])
    r = client.get("/api/v1/pacs/", HTTP_ACCEPT=CJ)
    assert r.status_code == 200
    items = {i["identifier"]: i for i in cj_items(r)}
    assert set(items) == {"ALPHA", "BETA"}
    assert items["ALPHA"]["links"]["query_list"].endswith(f"/api/v1/pacs/{a.id}/queries/")
    assert items["ALPHA"]["links"]["series_list"].endswith(f"/api/v1/pacs/{a.id}/series/")
    assert items["ALPHA"]["folder_path"] == "SERVICES/PACS/ALPHA"
    queries = json_of(r)["collection"]["queries"][0]
    assert queries["href"].endswith("/api/v1/pacs/search/")
    assert {"id", "identifier", "active"} <= {d["name"] for d in queries["data"]}
    assert PACS.objects.count() == 2  # a GET registers nothing (CUBE re-synced with pfdcm here)
    r = client.get("/api/v1/pacs/search/?active=false", HTTP_ACCEPT=JSON)
    assert [p["identifier"] for p in json_of(r)["results"]] == ["BETA"]
    assert json_of(client.get(f"/api/v1/pacs/{a.id}/", HTTP_ACCEPT=JSON))["aet"] == "ALPHA"
    root = cj_links(client.get("/api/v1/", HTTP_ACCEPT=CJ))
    assert root["pacs"].endswith("/api/v1/pacs/") and root["pacsfiles"].endswith("/api/v1/pacs/files/")
    assert root["pacsseries"].endswith("/api/v1/pacs/series/")
    assert root["pacsqueries"].endswith("/api/v1/pacs/queries/")
    assert root["servicefiles"].endswith("/api/v1/servicefiles/")

    # The node folders: pacs_users read them (so pl-dircopy can take a series folder); others do not.
    assert can_read_path(people["alice"], "SERVICES/PACS/ALPHA")
    assert not can_read_path(people["bob"], "SERVICES/PACS/ALPHA")
    assert as_user(api, people["bob"]).get("/api/v1/pacs/", HTTP_ACCEPT=JSON).status_code == 403
    api.force_authenticate(None)
    assert api.get("/api/v1/pacs/", HTTP_ACCEPT=JSON).status_code == 401


def test_management_command_and_echo(db: Any, people: dict[str, Any], pacs_server: Any) -> None:
    from pacs.models import PACS

    orthanc = pacs_server.orthanc
    out = io.StringIO()
    call_command("pacs_node", "add", "ORTHANC", "--aet", orthanc.aet, "--host", orthanc.host, "--port",
                 str(orthanc.dicom_port), "--calling-aet", "CUBEAPI", stdout=out)
    assert "added ORTHANC" in out.getvalue()
    node = PACS.objects.get(identifier="ORTHANC")
    assert node.folder is not None and node.folder.path == "SERVICES/PACS/ORTHANC"
    out = io.StringIO()
    call_command("pacs_node", "echo", "ORTHANC", stdout=out)
    assert "answered C-ECHO" in out.getvalue()
    call_command("pacs_node", "change", "ORTHANC", "--retrieve-method", "get", "--inactive", stdout=io.StringIO())
    node.refresh_from_db()
    assert node.retrieve_method == "get" and not node.active
    out = io.StringIO()
    call_command("pacs_node", "list", stdout=out)
    assert f"ORTHANC\t{orthanc.aet}@{orthanc.host}:{orthanc.dicom_port}\tget\tinactive" in out.getvalue()

    from tests.support.orthanc import free_port

    call_command("pacs_node", "change", "ORTHANC", "--port", str(free_port()), stdout=io.StringIO())
    with pytest.raises(CommandError, match="could not connect"):
        call_command("pacs_node", "echo", "ORTHANC", stdout=io.StringIO())
    with pytest.raises(CommandError, match="aet"):
        call_command("pacs_node", "add", "OTHER", "--host", "h", "--port", "1", stdout=io.StringIO())
    call_command("pacs_node", "remove", "ORTHANC", stdout=io.StringIO())
    assert not PACS.objects.exists()
    with pytest.raises(CommandError, match="no PACS named"):
        call_command("pacs_node", "remove", "ORTHANC", stdout=io.StringIO())


def test_django_admin_creates_through_the_service_and_echoes(client: Any, people: dict[str, Any],
                                                             pacs_server: Any) -> None:
    from django.contrib.messages import get_messages

    from pacs.models import PACS

    orthanc = pacs_server.orthanc
    client.force_login(people["chris"])
    r = client.post("/chris-admin/pacs/pacs/add/", {
        "identifier": "ORTHANC", "aet": orthanc.aet, "host": orthanc.host, "port": orthanc.dicom_port,
        "retrieve_method": "move", "calling_aet": "CUBEAPI", "active": "on", "description": ""})
    assert r.status_code == 302, r.content.decode()[:2000]
    node = PACS.objects.get(identifier="ORTHANC")
    assert node.folder is not None and node.folder.path == "SERVICES/PACS/ORTHANC"
    r = client.post("/chris-admin/pacs/pacs/add/", {"identifier": "BAD", "aet": "x" * 17, "host": "h", "port": 1,
                                                    "retrieve_method": "move"})
    assert r.status_code == 200 and not PACS.objects.filter(identifier="BAD").exists()
    r = client.post("/chris-admin/pacs/pacs/", {"action": "echo_selected", "_selected_action": [node.pk]})
    texts = [str(m) for m in get_messages(r.wsgi_request)]
    assert any("ORTHANC" in t and "answered C-ECHO" in t for t in texts), texts
