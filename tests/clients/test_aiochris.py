"""aiochris 0.10 (plain JSON, strict dataclasses): log in, upload, run pl-dircopy and then pl-simpledsapp
after it, wait, read the feed and its note, rename the feed. Every response goes through aiochris's
deserialisers, which reject a missing or mistyped field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import run_script

SCRIPT = r'''
import asyncio, json, sys
from aiochris import ChrisClient

async def main(url, path):
    async with await ChrisClient.from_login(url=url, username="chris", password="chris1234") as chris:
        uploaded = await chris.upload_file(path, "aio/hello.txt")
        dircopy = await chris.search_plugins(name_exact="pl-dircopy").get_only()
        first = await dircopy.create_instance(dir=uploaded.fname.rsplit("/", 1)[0])
        _, first = await first.wait(interval=0.2, timeout=60.0)
        ds = await chris.search_plugins(name_exact="pl-simpledsapp").get_only()
        second = await ds.create_instance(previous=first, title="after dircopy")
        _, second = await second.wait(interval=0.2, timeout=60.0)
        feed = await first.get_feed()
        feed = await feed.set(name="renamed by aiochris")
        note = await feed.get_note()
        found = [p.name async for p in chris.search_plugins(name="pl-")]
        mine = [f.id async for f in chris.search_feeds(name="renamed")]
        return {"fname": uploaded.fname, "first": first.status.name, "second": second.status.name,
                "previous_id": second.previous_id, "feed_name": feed.name, "note_title": note.title,
                "plugins": sorted(found), "feeds": mine, "feed_id": feed.id, "owner": list(feed.owner),
                "user": (await chris.user()).url}

print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2]))))
'''


@pytest.mark.django_db(transaction=True)
def test_aiochris_session(server: Any, clients: Path, tmp_path: Path) -> None:
    hello = tmp_path / "hello.txt"
    hello.write_bytes(b"hello from aiochris\n")
    out = run_script(clients, SCRIPT, f"{server.url}/api/v1/", str(hello))
    # aiochris posts classic upload paths (<user>/uploads/...) to the uploadedfiles relation.
    assert out["fname"] == "chris/uploads/aio/hello.txt"
    assert out["first"] == "finishedSuccessfully" and out["second"] == "finishedSuccessfully"
    assert out["feed_name"] == "renamed by aiochris" and out["feeds"] == [out["feed_id"]]
    assert out["note_title"] == ""
    assert out["owner"] == [out["user"]]  # a list of user URLs, as aiochris's Feed declares it
    assert {"pl-dircopy", "pl-simpledsapp", "pl-topologicalcopy"} <= set(out["plugins"])
