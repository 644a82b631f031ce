"""Downloads: Range, ETag/Last-Modified and conditional requests, any Accept, HEAD; one-time download
tokens; a folder as one zip stream."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import zipfile

import jwt
import pytest

from tests.conftest import CJ, cj_items, json_of
from tests.uploads.conftest import upload

DATA = bytes(range(256)) * 40  # 10240 bytes, every offset recognisable


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def stored(actors):
    item = json_of(upload(actors.client("alice"), "home/alice/uploads/d/data.bin", DATA))
    return item


@pytest.mark.django_db
@pytest.mark.parametrize("header,start,end", [
    ("bytes=0-9", 0, 10),
    ("bytes=10-", 10, len(DATA)),
    ("bytes=-5", len(DATA) - 5, len(DATA)),
    ("bytes=100-999999", 100, len(DATA)),  # cut at the end
    ("bytes=10239-10239", 10239, 10240),
])
def test_a_single_range_is_206_with_exactly_those_bytes(actors, stored, header, start, end):
    r = actors.client("alice").get(stored["file_resource"], HTTP_RANGE=header)
    assert r.status_code == 206
    assert body(r) == DATA[start:end]
    assert r["Content-Range"] == f"bytes {start}-{end - 1}/{len(DATA)}"
    assert r["Content-Length"] == str(end - start)


@pytest.mark.django_db
def test_ranges_that_cannot_be_met_are_416_and_others_are_ignored(actors, stored):
    client = actors.client("alice")
    for header in ("bytes=10240-", "bytes=99999-100000", "bytes=-0"):
        r = client.get(stored["file_resource"], HTTP_RANGE=header)
        assert r.status_code == 416, header
        assert r["Content-Range"] == f"bytes */{len(DATA)}"
    for header in ("bytes=0-1,5-6", "items=0-5", "bytes=9-3", "bytes=abc"):
        r = client.get(stored["file_resource"], HTTP_RANGE=header)
        assert r.status_code == 200 and body(r) == DATA, header


@pytest.mark.django_db
def test_etag_last_modified_and_conditional_requests(actors, stored):
    client = actors.client("alice")
    r = client.get(stored["file_resource"], HTTP_ACCEPT="application/octet-stream")
    assert r.status_code == 200 and body(r) == DATA
    etag = r["ETag"]
    assert etag == f'"{hashlib.md5(DATA, usedforsecurity=False).hexdigest()}"'
    assert r["Accept-Ranges"] == "bytes" and r["Content-Type"] == "application/octet-stream"
    assert r["Content-Disposition"] == 'attachment; filename="data.bin"'
    assert client.get(stored["file_resource"], HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(stored["file_resource"], HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
    assert client.get(stored["file_resource"], HTTP_IF_NONE_MATCH='"other"').status_code == 200
    assert client.get(stored["file_resource"], HTTP_IF_MODIFIED_SINCE=r["Last-Modified"]).status_code == 304
    assert client.get(stored["file_resource"],
                      HTTP_IF_MODIFIED_SINCE="Mon, 01 Jan 2001 00:00:00 GMT").status_code == 200
    # If-Range: the range only applies to the version the client has.
    assert client.get(stored["file_resource"], HTTP_RANGE="bytes=0-3", HTTP_IF_RANGE=etag).status_code == 206
    r = client.get(stored["file_resource"], HTTP_RANGE="bytes=0-3", HTTP_IF_RANGE='"stale"')
    assert r.status_code == 200 and body(r) == DATA
    head = client.head(stored["file_resource"])
    assert head.status_code == 200 and head["Content-Length"] == str(len(DATA)) and body(head) == b""


@pytest.mark.django_db
def test_every_file_download_url_serves_the_bytes(actors, stored):
    from uploads.models import ChrisLinkFile

    client = actors.client("alice")
    fid = stored["id"]
    for url in (f"/api/v1/userfiles/{fid}/data.bin", f"/api/v1/uploadedfiles/{fid}/data.bin",
                f"/api/v1/filebrowser/files/{fid}/data.bin", f"/api/v1/filebrowser/files/{fid}/.",
                f"/api/v1/filebrowser/files/{fid}/any/name/at/all"):
        r = client.get(url, HTTP_ACCEPT="*/*")
        assert r.status_code == 200 and body(r) == DATA, url
    link = ChrisLinkFile.objects.get(fname="home/alice/public.chrislink")
    r = client.get(f"/api/v1/filebrowser/linkfiles/{link.id}/public.chrislink")
    assert r.status_code == 200 and body(r) == b"PUBLIC"
    r = client.get(f"/api/v1/filebrowser/files/{fid}/data.bin", HTTP_RANGE="bytes=256-511")
    assert body(r) == DATA[256:512]


@pytest.mark.django_db
def test_backends_without_a_local_path_stream_ranges_too(actors, stored, settings):
    """The chunk-iterator path (Swift's) with a filesystem that keeps its paths to itself."""
    from cube.storage import reset_storage_cache

    settings.CUBE_STORAGE = {"BACKEND": "tests.uploads.helpers.OpaqueFilesystemStorage",
                             "OPTIONS": settings.CUBE_STORAGE["OPTIONS"]}
    reset_storage_cache()
    client = actors.client("alice")
    r = client.get(stored["file_resource"], HTTP_RANGE="bytes=1000-1999")
    assert r.status_code == 206 and r.streaming and body(r) == DATA[1000:2000]
    assert body(client.get(stored["file_resource"])) == DATA


@pytest.mark.django_db
def test_download_tokens_are_jwts_that_work_once(actors, stored, settings):
    alice = actors.client("alice")
    r = alice.post("/api/v1/downloadtokens/", HTTP_ACCEPT=CJ)
    assert r.status_code == 201, r.content
    item = cj_items(r)[0]
    claims = jwt.decode(item["token"], settings.SECRET_KEY, algorithms=["HS512"])
    assert claims["user"] == "alice" and claims["nonce"]
    lifetime = claims["exp"] - dt.datetime.now(dt.UTC).timestamp()
    assert 590 < lifetime <= 600
    assert item["owner_username"] == "alice" and item["href"].endswith(f"/downloadtokens/{item['id']}/")

    anon = actors.client("anon")
    url = stored["file_resource"]
    assert anon.get(url).status_code == 404
    r = anon.get(f"{url}?download_token={item['token']}")
    assert r.status_code == 200 and body(r) == DATA
    r = anon.get(f"{url}?download_token={item['token']}", HTTP_ACCEPT="application/json")
    assert r.status_code in (401, 403) and "used" in json_of(r)["detail"]
    # A token only carries its owner's rights.
    bob_token = json_of(actors.client("bob").post("/api/v1/downloadtokens/", HTTP_ACCEPT="application/json"))
    assert anon.get(f"{url}?download_token={bob_token['token']}").status_code == 404
    forged = jwt.encode({"user": "alice", "nonce": "x", "exp": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)},
                        "not-the-secret-key-" * 4, algorithm="HS512")
    assert anon.get(f"{url}?download_token={forged}").status_code in (401, 403)
    unsaved = jwt.encode({"user": "alice", "nonce": "y", "exp": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)},
                         settings.SECRET_KEY, algorithm="HS512")
    assert anon.get(f"{url}?download_token={unsaved}").status_code in (401, 403)


@pytest.mark.django_db
def test_expired_tokens_are_refused_and_removed(actors, stored, settings):
    from uploads.models import FileDownloadToken

    expired = jwt.encode({"user": "alice", "nonce": "z", "exp": dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)},
                         settings.SECRET_KEY, algorithm="HS512")
    FileDownloadToken.objects.create(owner=actors.alice, token=expired)
    r = actors.client("anon").get(f"{stored['file_resource']}?download_token={expired}",
                                  HTTP_ACCEPT="application/json")
    assert r.status_code in (401, 403) and "expired" in json_of(r)["detail"]
    assert not FileDownloadToken.objects.filter(token=expired).exists()


@pytest.mark.django_db
def test_token_lists_show_your_own_and_the_superuser_sees_all(actors):
    mine = json_of(actors.client("alice").post("/api/v1/downloadtokens/", HTTP_ACCEPT="application/json"))
    theirs = json_of(actors.client("bob").post("/api/v1/downloadtokens/", HTTP_ACCEPT="application/json"))

    def ids(who: str, url: str = "/api/v1/downloadtokens/") -> set[int]:
        return {t["id"] for t in json_of(actors.client(who).get(url, HTTP_ACCEPT="application/json"))["results"]}

    assert ids("alice") == {mine["id"]} and ids("bob") == {theirs["id"]}
    assert ids("admin") >= {mine["id"], theirs["id"]}
    assert ids("alice", f"/api/v1/downloadtokens/search/?id={mine['id']}") == {mine["id"]}
    assert ids("alice", f"/api/v1/downloadtokens/search/?id={theirs['id']}") == set()
    assert actors.client("alice").get(f"/api/v1/downloadtokens/{mine['id']}/").status_code == 200
    assert actors.client("alice").get(f"/api/v1/downloadtokens/{theirs['id']}/").status_code == 404
    assert actors.client("anon").post("/api/v1/downloadtokens/").status_code == 401


@pytest.mark.django_db
def test_a_folder_downloads_as_one_zip_stream(actors):
    client = actors.client("alice")
    files = {"home/alice/uploads/z/a.txt": b"alpha", "home/alice/uploads/z/sub/b.bin": os.urandom(3_000_000),
             "home/alice/uploads/z/sub/deeper/c": b""}
    for path, data in files.items():
        assert upload(client, path, data).status_code == 201
    folder = json_of(client.get("/api/v1/filebrowser/search/?path=home/alice/uploads/z",
                                HTTP_ACCEPT="application/json"))["results"][0]
    r = client.get(f"/api/v1/filebrowser/{folder['id']}/download/")
    assert r.status_code == 200 and r.streaming and r["Content-Type"] == "application/zip"
    chunks = list(r.streaming_content)
    assert len(chunks) > 3  # produced piecewise, not built in memory first
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.testzip() is None
    assert {n: archive.read(n) for n in archive.namelist()} == {p[len("home/alice/uploads/"):]: d
                                                                for p, d in files.items()}
    assert actors.client("bob").get(f"/api/v1/filebrowser/{folder['id']}/download/").status_code == 404
    home = json_of(client.get("/api/v1/filebrowser/search/?path=home", HTTP_ACCEPT="application/json"))
    assert client.get(f"/api/v1/filebrowser/{home['results'][0]['id']}/download/").status_code == 403
