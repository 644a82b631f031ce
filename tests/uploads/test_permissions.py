"""The permission matrix: owner, another user, a group member (read or write grant), anonymous and the
superuser, against private, group-shared and public objects, on every file endpoint, read and write.

Expected outcomes follow three rules: whoever may not read an object gets 404 (its existence is not
revealed); whoever may read but not write gets 403; anonymous writes are 401. Creating at a path one
may not write is a 400 naming the path, as CUBE.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.uploads.conftest import upload

WHO = ("alice", "bob", "carol", "anon", "admin")
VIS = ("private", "group-r", "group-w", "public")
_seq = itertools.count()


def make_tree(actors: Any, vis: str) -> dict[str, Any]:
    """home/alice/uploads/<unique>/ with a file, a link file and a sub-folder, made `vis`."""
    from uploads.services import file_store, folder_get_or_create, folder_set_public, link_file_create
    from uploads.sharing import grant_create

    base = f"home/alice/uploads/{vis}-{next(_seq)}"
    folder = folder_get_or_create(path=base, owner=actors.alice)
    sub = folder_get_or_create(path=f"{base}/sub", owner=actors.alice)
    file = file_store(owner=actors.alice, path=f"{base}/f.txt", chunks=[b"bytes"])
    link = link_file_create(owner=actors.alice, fname=f"{base}/l.chrislink", target="home/alice/feeds")
    if vis == "public":
        folder_set_public(folder=folder, public=True)
    elif vis.startswith("group"):
        grant_create(obj=folder, permission=vis[-1], group=actors.lab)
    return {"base": base, "folder": folder.id, "sub": sub.id, "file": file.id, "link": link.id}


def can_read(who: str, vis: str) -> bool:
    return who in ("alice", "admin") or vis == "public" or (who == "carol" and vis.startswith("group"))


def can_write(who: str, vis: str) -> bool:
    return who in ("alice", "admin") or (who == "carol" and vis == "group-w")


def can_admin(who: str, vis: str) -> bool:
    return who in ("alice", "admin")


def expected(who: str, vis: str, ok: int, rule: Any = can_write, auth_required: bool = True) -> int:
    if rule(who, vis):
        return ok
    if who == "anon" and auth_required:
        return 401
    return 403 if can_read(who, vis) else 404


READS = [
    # (url template, needs authentication)
    ("/api/v1/filebrowser/{folder}/", False),
    ("/api/v1/filebrowser/{folder}/children/", False),
    ("/api/v1/filebrowser/{folder}/files/", False),
    ("/api/v1/filebrowser/{folder}/linkfiles/", False),
    ("/api/v1/filebrowser/{folder}/download/", False),
    ("/api/v1/filebrowser/{sub}/", False),
    ("/api/v1/filebrowser/{folder}/grouppermissions/", True),
    ("/api/v1/filebrowser/{folder}/userpermissions/search/", True),
    ("/api/v1/filebrowser/files/{file}/", False),
    ("/api/v1/filebrowser/files/{file}/f.txt", False),
    ("/api/v1/filebrowser/files/{file}/grouppermissions/", True),
    ("/api/v1/filebrowser/linkfiles/{link}/", False),
    ("/api/v1/filebrowser/linkfiles/{link}/l.chrislink", False),
    ("/api/v1/filebrowser/linkfiles/{link}/userpermissions/", True),
    ("/api/v1/userfiles/{file}/", True),
    ("/api/v1/userfiles/{file}/f.txt", False),
    ("/api/v1/uploadedfiles/{file}/", True),
    ("/api/v1/uploadedfiles/{file}/f.txt", False),
]


@pytest.mark.django_db
def test_reads(actors):
    trees = {vis: make_tree(actors, vis) for vis in VIS}
    failures = []
    for (template, auth), vis, who in itertools.product(READS, VIS, WHO):
        url = template.format(**trees[vis])
        want = 401 if who == "anon" and auth else 200 if can_read(who, vis) else 404
        got = actors.client(who).get(url).status_code
        if got != want:
            failures.append(f"{who:5} {vis:8} GET {url}: {got}, expected {want}")
    # Searches answer an empty list instead of 404.
    for vis, who in itertools.product(VIS, WHO):
        r = actors.client(who).get(f"/api/v1/filebrowser/search/?path={trees[vis]['base']}",
                                   HTTP_ACCEPT="application/json")
        if len(r.json()["results"]) != int(can_read(who, vis)):
            failures.append(f"{who} {vis} search: {r.json()['results']}")
    assert failures == [], "\n".join(failures)


def _status(response: Any) -> int:
    return response.status_code


WRITES = {
    # name: (request(client, tree) → response, status when allowed, rule)
    "upload into": (lambda c, t: upload(c, f"{t['base']}/new.txt", b"n"), 201, can_write),
    "create folder in": (lambda c, t: c.post("/api/v1/filebrowser/", {"path": f"{t['base']}/new"}, format="json"),
                         201, can_write),
    "folder public": (lambda c, t: c.put(f"/api/v1/filebrowser/{t['folder']}/", {"public": True}, format="json"),
                      200, can_admin),
    "folder move": (lambda c, t: c.put(f"/api/v1/filebrowser/{t['sub']}/", {"path": f"{t['base']}/moved"},
                                       format="json"), 200, can_write),
    "folder delete": (lambda c, t: c.delete(f"/api/v1/filebrowser/{t['sub']}/"), 202, can_write),
    "folder share": (lambda c, t: c.post(f"/api/v1/filebrowser/{t['folder']}/userpermissions/",
                                         {"username": "bob", "permission": "r"}, format="json"), 201, can_admin),
    "file public": (lambda c, t: c.put(f"/api/v1/filebrowser/files/{t['file']}/", {"public": True},
                                       format="json"), 200, can_admin),
    "file move": (lambda c, t: c.put(f"/api/v1/filebrowser/files/{t['file']}/",
                                     {"new_file_path": f"{t['base']}/g.txt"}, format="json"), 200, can_write),
    "file delete": (lambda c, t: c.delete(f"/api/v1/filebrowser/files/{t['file']}/"), 204, can_write),
    "file share": (lambda c, t: c.post(f"/api/v1/filebrowser/files/{t['file']}/grouppermissions/",
                                       {"grp_name": "pacs_users"}, format="json"), 201, can_admin),
    "userfile rename": (lambda c, t: c.put(f"/api/v1/userfiles/{t['file']}/", {"upload_path": f"{t['base']}/h.txt"},
                                           format="json"), 200, can_write),
    "userfile delete": (lambda c, t: c.delete(f"/api/v1/userfiles/{t['file']}/"), 204, can_write),
    "uploadedfile delete": (lambda c, t: c.delete(f"/api/v1/uploadedfiles/{t['file']}/"), 204, can_write),
    "link delete": (lambda c, t: c.delete(f"/api/v1/filebrowser/linkfiles/{t['link']}/"), 204, can_write),
    "link public": (lambda c, t: c.put(f"/api/v1/filebrowser/linkfiles/{t['link']}/", {"public": True},
                                       format="json"), 200, can_admin),
}


@pytest.mark.django_db
@pytest.mark.parametrize("op", list(WRITES))
def test_writes(actors, op, django_capture_on_commit_callbacks):
    from uploads.models import ChrisFile, ChrisFolder

    request, ok, rule = WRITES[op]
    failures = []
    for vis, who in itertools.product(VIS, WHO):
        tree = make_tree(actors, vis)
        want = expected(who, vis, ok, rule)
        if op in ("upload into", "create folder in") and want in (403, 404):
            want = 400  # creating at a path you may not write names the path, as CUBE
        with django_capture_on_commit_callbacks(execute=False):
            got = _status(request(actors.client(who), tree))
        if got != want:
            failures.append(f"{who:5} {vis:8} {op}: {got}, expected {want}")
        if got >= 400:  # a refused write changed nothing
            assert ChrisFile.objects.filter(pk=tree["file"], fname=f"{tree['base']}/f.txt").exists(), (who, vis, op)
            assert ChrisFolder.objects.get(pk=tree["sub"]).deletion_status == "inactive"
            assert not ChrisFolder.objects.filter(path__in=[f"{tree['base']}/new", f"{tree['base']}/moved"]).exists()
    assert failures == [], "\n".join(failures)
