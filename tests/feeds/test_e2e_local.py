"""The wiki workflow over HTTP with the local runner and a real Celery worker: upload → pl-dircopy →
poll → list outputs → pl-simpledsapp → cancel a sleeping run; and the bad inputs."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

JSON = {"Accept": "application/json"}


class Client:
    def __init__(self, base: str, token: str):
        self.base = base
        self.headers = {**JSON, "Authorization": f"Token {token}"}

    def get(self, path: str, **kw: Any) -> requests.Response:
        return requests.get(self._url(path), headers=self.headers, timeout=30, **kw)

    def post(self, path: str, body: Any) -> requests.Response:
        return requests.post(self._url(path), json=body, headers=self.headers, timeout=30)

    def put(self, path: str, body: Any) -> requests.Response:
        return requests.put(self._url(path), json=body, headers=self.headers, timeout=30)

    def delete(self, path: str) -> requests.Response:
        return requests.delete(self._url(path), headers=self.headers, timeout=30)

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path


def sign_up(base: str, username: str) -> Client:
    r = requests.post(f"{base}/api/v1/users/", json={"username": username, "password": f"{username}-pass-12",
                                                     "email": f"{username}@example.org"}, headers=JSON, timeout=30)
    assert r.status_code == 201, r.text
    r = requests.post(f"{base}/api/v1/auth-token/", json={"username": username, "password": f"{username}-pass-12"},
                      timeout=30)
    return Client(base, r.json()["token"])


def plugin_id(c: Client, name: str) -> int:
    r = c.get(f"/api/v1/plugins/search/?name_exact={name}")
    return r.json()["results"][0]["id"]


def wait_status(c: Client, inst_url: str, statuses: set[str], timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = c.get(inst_url).json()
        if body["status"] in statuses:
            return body
        time.sleep(0.1)
    raise AssertionError(f"{inst_url} stayed {body['status']}: {body}")


@pytest.mark.django_db(transaction=True)
def test_dircopy_then_simpledsapp_then_cancel(server: Any) -> None:
    from django.contrib.auth.models import User

    from uploads.services import file_store

    base = server.url
    c = sign_up(base, "alice")
    alice = User.objects.get(username="alice")
    payload = bytes(range(256)) * 1000
    file_store(owner=alice, path="home/alice/uploads/scan/a.bin", chunks=[payload])
    dircopy = plugin_id(c, "pl-dircopy")
    r = c.post(f"/api/v1/plugins/{dircopy}/instances/", {"dir": "home/alice/uploads/scan", "title": "my scan"})
    assert r.status_code == 201, r.text
    fs = r.json()
    assert fs["status"] in ("scheduled", "started", "registeringFiles", "finishedSuccessfully")
    done = wait_status(c, fs["url"], {"finishedSuccessfully", "finishedWithError"})
    assert done["status"] == "finishedSuccessfully", done
    assert done["size"] == len(payload)
    feed = c.get(done["feed"]).json()
    assert feed["name"] == "my scan" and feed["finished_jobs"] == 1 and feed["owner_username"] == "alice"
    assert done["output_path"] == f"home/alice/feeds/feed_{feed['id']}/pl-dircopy_{fs['id']}/data"
    from uploads.models import ChrisFile

    out = ChrisFile.objects.get(fname=f"{done['output_path']}/home_alice_uploads_scan/a.bin")
    assert out.size == len(payload)
    logs = c.get(done["logs"]).json()["logs"]
    # The full output of the plugin is kept: dircopy names the paths it was given and what it copied.
    assert "dircopy: requested paths: home/alice/uploads/scan" in logs
    assert "1 files linked, 0 copied" in logs
    # The feed is on the API home, with per-status counts.
    home = c.get("/api/v1/").json()
    assert [f["id"] for f in home["results"]] == [feed["id"]]
    # ds run on the fs output, then a sleeping one cancelled while it runs.
    ds = plugin_id(c, "pl-simpledsapp")
    r = c.post(f"/api/v1/plugins/{ds}/instances/", {"previous_id": fs["id"], "prefix": "p_", "dummyInt": "7"})
    assert r.status_code == 201, r.text
    ds_done = wait_status(c, r.json()["url"], {"finishedSuccessfully", "finishedWithError"})
    assert ds_done["status"] == "finishedSuccessfully", ds_done
    assert ChrisFile.objects.filter(fname__startswith=ds_done["output_path"] + "/",
                                    fname__endswith="p_a.bin").count() == 1
    params = c.get(c.get(ds_done["url"]).json()["parameters"]).json()["results"]
    assert {p["param_name"]: p["value"] for p in params} == {"prefix": "p_", "dummyInt": 7}
    r = c.post(f"/api/v1/plugins/{ds}/instances/", {"previous_id": ds_done["id"], "sleepLength": "60"})
    sleeper = r.json()
    wait_status(c, sleeper["url"], {"started"})
    child = c.post(f"/api/v1/plugins/{ds}/instances/", {"previous_id": sleeper["id"]}).json()
    assert child["status"] == "waiting"
    t0 = time.monotonic()
    assert c.put(sleeper["url"], {"status": "cancelled"}).status_code == 200
    assert c.get(sleeper["url"]).json()["status"] == "cancelled"
    assert c.get(child["url"]).json()["status"] == "cancelled"
    # The job itself is stopped promptly (its watcher notices within a heartbeat).
    from cube.runners import JobState
    from feeds.models import PluginInstance
    from feeds.services.jobs import job_id, runner_for

    inst = PluginInstance.objects.get(id=sleeper["id"])
    runner = runner_for(inst.compute_resource)
    deadline = time.monotonic() + 15
    while runner.status(job_id(inst)).state not in (JobState.UNKNOWN, JobState.CANCELLED):
        assert time.monotonic() < deadline, "cancelled job still running"
        time.sleep(0.2)
    assert time.monotonic() - t0 < 15
    bad = c.put(done["url"], {"status": "cancelled"})
    assert bad.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_bad_inputs_are_400(server: Any) -> None:
    base = server.url
    c = sign_up(base, "alice")
    sign_up(base, "bobby")
    dircopy = plugin_id(c, "pl-dircopy")
    ds = plugin_id(c, "pl-simpledsapp")
    for path in ("home/bobby/uploads", "../../etc", "/etc", "home/alice/uploads,home/bobby/uploads",
                 "home/alice/../bobby/uploads", "home/alice/nothing-here", "", "home/alice"):
        r = c.post(f"/api/v1/plugins/{dircopy}/instances/", {"dir": path})
        assert r.status_code == 400, (path, r.text)
        assert "dir" in r.json()
    r = c.post(f"/api/v1/plugins/{ds}/instances/", {"prefix": "x"})
    assert r.status_code == 400 and "previous_id" in r.json()
    fs = c.post(f"/api/v1/plugins/{dircopy}/instances/", {"dir": "home/alice/uploads"}).json()
    r = c.post(f"/api/v1/plugins/{ds}/instances/", {"previous_id": fs["id"], "dummyInt": "seven"})
    assert r.status_code == 400 and "dummyInt" in r.json()
    r = c.post(f"/api/v1/plugins/{ds}/instances/", {"previous_id": fs["id"], "dummyFloat": "nan"})
    assert r.status_code == 400 and "dummyFloat" in r.json()
    # pl-dircopy allows at most 1000m of CPU.
    r = c.post(f"/api/v1/plugins/{dircopy}/instances/", {"dir": "home/alice/uploads", "cpu_limit": "2000m"})
    assert r.status_code == 400 and "cpu_limit" in r.json()
    bob = sign_up(base, "carol")
    r = bob.post(f"/api/v1/plugins/{ds}/instances/", {"previous_id": fs["id"]})
    assert r.status_code == 400 and "previous_id" in r.json()
    assert bob.get(fs["url"]).status_code == 404
    anon = requests.post(f"{base}/api/v1/plugins/{dircopy}/instances/", json={"dir": "home/alice/uploads"},
                         headers=JSON, timeout=30)
    assert anon.status_code == 401


@pytest.mark.django_db(transaction=True)
def test_feed_files_both_generations_public_and_delete(server: Any, storage_root: str) -> None:
    import os

    from django.contrib.auth.models import User

    from uploads.models import ChrisFile, ChrisFolder
    from uploads.services import file_store

    base = server.url
    c = sign_up(base, "alice")
    alice = User.objects.get(username="alice")
    payload = os.urandom(300_000)
    file_store(owner=alice, path="home/alice/uploads/x/scan.dcm", chunks=[payload])
    r = c.post(f"/api/v1/plugins/{plugin_id(c, 'pl-dircopy')}/instances/", {"dir": "home/alice/uploads/x"})
    fs = wait_status(c, r.json()["url"], {"finishedSuccessfully", "finishedWithError"})
    assert fs["status"] == "finishedSuccessfully"
    feed = c.get(fs["feed"]).json()
    # Classic: the feed's and the instance's files, with file_resource downloading the bytes.
    classic = c.get(feed["files"]).json()["results"]
    assert [f["fname"] for f in classic] == [f"alice/feeds/feed_{feed['id']}/pl-dircopy_{fs['id']}/data/"
                                             "home_alice_uploads_x/scan.dcm"]
    assert classic[0]["feed_id"] == feed["id"] and classic[0]["plugin_inst_id"] == fs["id"]
    assert c.get(fs["files"]).json()["count"] == 1
    assert c.get("/api/v1/files/").json()["count"] == 1
    got = requests.get(classic[0]["file_resource"], headers={**c.headers, "Accept": "application/octet-stream"},
                       timeout=30)
    assert got.status_code == 200 and got.content == payload
    # Current: output_folder in the file browser → files → file_resource.
    folder = c.get(fs["output_folder"]).json()
    assert folder["path"] == fs["output_path"]
    # Another user sees nothing until the feed is public; then anyone can read, nobody else can write.
    other = sign_up(base, "bobby")
    assert other.get(fs["url"]).status_code == 404
    assert requests.get(classic[0]["file_resource"], timeout=30).status_code in (401, 403, 404)
    r = c.put(feed["url"], {"public": True, "name": "shared scan"})
    assert r.status_code == 200 and r.json()["public"] is True and r.json()["name"] == "shared scan"
    assert requests.get(classic[0]["file_resource"], timeout=30).content == payload
    anon_public = requests.get(f"{base}/api/v1/publicfeeds/", headers=JSON, timeout=30).json()
    assert [f["id"] for f in anon_public["results"]] == [feed["id"]]
    assert other.put(feed["url"], {"name": "mine"}).status_code == 403
    assert other.delete(feed["url"]).status_code == 403
    r = c.delete(feed["url"])
    assert r.status_code == 202
    deadline = time.monotonic() + 60
    while (still := c.get(feed["url"])).status_code != 404:
        assert time.monotonic() < deadline, f"feed not deleted: {still.json()}"
        time.sleep(0.1)
    prefix = f"home/alice/feeds/feed_{feed['id']}"
    assert not ChrisFile.objects.filter(fname__startswith=prefix).exists()
    assert not ChrisFolder.objects.filter(path__startswith=prefix).exists()
    assert not os.path.exists(os.path.join(storage_root, *prefix.split("/")))


@pytest.mark.django_db(transaction=True)
def test_topologicalcopy_joins_two_branches(server: Any) -> None:
    from django.contrib.auth.models import User

    from uploads.models import ChrisFile
    from uploads.services import file_store

    c = sign_up(server.url, "alice")
    alice = User.objects.get(username="alice")
    file_store(owner=alice, path="home/alice/uploads/in/a.txt", chunks=[b"a"])
    file_store(owner=alice, path="home/alice/uploads/in/b.log", chunks=[b"b"])
    fs = c.post(f"/api/v1/plugins/{plugin_id(c, 'pl-dircopy')}/instances/", {"dir": "home/alice/uploads/in"}).json()
    ds = plugin_id(c, "pl-simpledsapp")
    left = c.post(f"/api/v1/plugins/{ds}/instances/", {"previous_id": fs["id"], "prefix": "L_"}).json()
    right = c.post(f"/api/v1/plugins/{ds}/instances/", {"previous_id": fs["id"], "prefix": "R_"}).json()
    ts = plugin_id(c, "pl-topologicalcopy")
    other_feed = c.post(f"/api/v1/plugins/{plugin_id(c, 'pl-dircopy')}/instances/",
                        {"dir": "home/alice/uploads/in"}).json()
    bad = c.post(f"/api/v1/plugins/{ts}/instances/",
                 {"previous_id": left["id"], "plugininstances": f"{left['id']},{other_feed['id']}"})
    assert bad.status_code == 400 and "plugininstances" in bad.json()
    bad = c.post(f"/api/v1/plugins/{ts}/instances/",
                 {"previous_id": left["id"], "plugininstances": f"{right['id']}"})
    assert bad.status_code == 400 and "plugininstances" in bad.json()
    bad = c.post(f"/api/v1/plugins/{ts}/instances/", {"previous_id": left["id"], "filter": "(unclosed"})
    assert bad.status_code == 400 and "filter" in bad.json()
    r = c.post(f"/api/v1/plugins/{ts}/instances/",
               {"previous_id": left["id"], "plugininstances": f"{left['id']},{right['id']}",
                "filter": r"\.txt$,\.log$", "groupByInstance": True})
    assert r.status_code == 201, r.text
    # It waits for both parents, then runs by itself.
    done = wait_status(c, r.json()["url"], {"finishedSuccessfully", "finishedWithError", "cancelled"}, timeout=60)
    assert done["status"] == "finishedSuccessfully", done
    names = sorted(f.rsplit("/", 1)[-1] for f in ChrisFile.objects.filter(
        fname__startswith=done["output_path"] + "/").values_list("fname", flat=True))
    assert names == ["L_a.txt", "R_b.log"]
