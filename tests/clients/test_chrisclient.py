"""python-chrisclient 2.15 (Collection+JSON, the CUBE 6 generation), as a script of its user would drive it:
every root relation it resolves, an upload, a pl-dircopy run to the end, the outputs, tags and pipelines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import run_script

SCRIPT = r'''
import json, sys, time
from chrisclient import client

url, path = sys.argv[1], sys.argv[2]
cl = client.Client(url, "chris", "chris1234")
cl.set_urls()
upload = cl.upload_file("home/chris/uploads/pc/hello.txt", path)
plugin = cl.get_plugins({"name_exact": "pl-dircopy"})["data"][0]
inst = cl.create_plugin_instance(plugin["id"], {"dir": "home/chris/uploads/pc"})
deadline = time.time() + 60
while True:
    status = cl.get_plugin_instance_by_id(inst["id"])["status"]
    if status in ("finishedSuccessfully", "finishedWithError", "cancelled") or time.time() > deadline:
        break
    time.sleep(0.2)
feed = cl.get_feed_by_id(inst["feed_id"])
tag = cl.create_tag({"name": "pc-tag", "color": "blue"})
print(json.dumps({
    "links": {k: v for k, v in vars(cl).items() if k.endswith("_url")},
    "upload": upload, "status": status, "feed": feed,
    "tags": cl.get_tags()["data"], "tag": tag,
    "pipelines": cl.get_pipelines()["total"],
    "user_files": [f["fname"] for f in cl.get_user_files({"fname": "home/chris/uploads/pc"})["data"]],
}))
'''


@pytest.mark.django_db(transaction=True)
def test_python_chrisclient_session(server: Any, clients: Path, tmp_path: Path) -> None:
    hello = tmp_path / "hello.txt"
    hello.write_bytes(b"hello from python-chrisclient\n")
    out = run_script(clients, SCRIPT, f"{server.url}/api/v1/", str(hello))
    # set_urls reads every relation of the CUBE 6 root; an empty one would be a link it could not find.
    assert all(out["links"][name] for name in ("plugins_url", "pipelines_url", "workflows_url", "tags_url",
                                               "user_files_url", "pacs_queries_url", "file_browser_url",
                                               "download_tokens_url", "groups_url", "user_url", "admin_url"))
    assert out["upload"]["fname"] == "home/chris/uploads/pc/hello.txt"
    assert out["status"] == "finishedSuccessfully"
    assert out["feed"]["owner_username"] == "chris"
    assert out["user_files"] == ["home/chris/uploads/pc/hello.txt"]
    assert out["tag"]["name"] == "pc-tag" and [t["name"] for t in out["tags"]] == ["pc-tag"]
    assert out["pipelines"] == 0
