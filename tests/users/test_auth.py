"""Sign-up, tokens, Basic auth (and its cache), user detail, as the ChRIS clients use them."""

from __future__ import annotations

import base64
import json

import pytest

from tests.conftest import CJ, cj_items, json_of


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def signup_cj(api, username="bobby", password="bob-pass-1234", email="bob@example.org"):
    body = {"template": {"data": [{"name": "username", "value": username},
                                  {"name": "password", "value": password},
                                  {"name": "email", "value": email}]}}
    return api.post("/api/v1/users/", json.dumps(body), content_type=CJ)


@pytest.mark.django_db
def test_signup_with_a_collection_json_template_creates_the_home_layout(api):
    from uploads.models import ChrisFile, ChrisFolder, ChrisLinkFile

    r = signup_cj(api)
    assert r.status_code == 201, r.content
    assert r["Content-Type"].startswith(CJ)
    item = cj_items(r)[0]
    assert item["username"] == "bobby" and item["email"] == "bob@example.org"
    assert "password" not in item
    assert item["links"]["groups"].endswith(f"/api/v1/users/{item['id']}/groups/")
    folders = set(ChrisFolder.objects.filter(path__startswith="home/bobby").values_list("path", flat=True))
    assert folders == {"home/bobby", "home/bobby/uploads", "home/bobby/feeds"}
    assert ChrisFile.objects.get(fname="home/bobby/uploads/welcome.txt").size > 0
    links = dict(ChrisLinkFile.objects.filter(fname__startswith="home/bobby/").values_list("fname", "path"))
    assert links == {"home/bobby/public.chrislink": "PUBLIC", "home/bobby/shared.chrislink": "SHARED"}
    from django.contrib.auth.models import User

    assert set(User.objects.get(username="bobby").groups.values_list("name", flat=True)) == {"all_users", "pacs_users"}


@pytest.mark.django_db
def test_signup_with_plain_json_and_the_rules_on_usernames_emails_and_passwords(api):
    r = api.post("/api/v1/users/", {"username": "carol", "password": "carol-pass-1", "email": "c@example.org"},
                 format="json", HTTP_ACCEPT="application/json")
    assert r.status_code == 201
    assert json_of(r)["username"] == "carol"
    cases = [
        ({"username": "carol", "password": "x" * 10, "email": "other@example.org"}, "username"),
        ({"username": "dave", "password": "x" * 10, "email": "c@example.org"}, "email"),
        ({"username": "eve/x", "password": "x" * 10, "email": "e@example.org"}, "username"),
        ({"username": "ab", "password": "x" * 10, "email": "e@example.org"}, "username"),
        ({"username": "frank", "password": "short", "email": "f@example.org"}, "password"),
        ({"username": "gina", "password": "x" * 10, "email": "not-an-email"}, "email"),
        ({"username": "chris", "password": "x" * 10, "email": "g@example.org"}, "username"),
    ]
    for body, field in cases:
        r = api.post("/api/v1/users/", body, format="json", HTTP_ACCEPT="application/json")
        assert r.status_code == 400, (body, r.content)
        assert field in json_of(r), (body, r.content)


@pytest.mark.django_db
def test_signup_errors_are_collection_json_error_documents(api):
    signup_cj(api)
    r = signup_cj(api, email="other@example.org")
    assert r.status_code == 400
    body = json_of(r)
    assert "username" in body["collection"]["error"]["message"]


@pytest.mark.django_db
def test_get_users_is_an_empty_list_with_the_signup_template_and_allow_header(api):
    r = api.get("/api/v1/users/")
    assert r.status_code == 200
    body = json_of(r)["collection"]
    assert body["items"] == []
    assert [d["name"] for d in body["template"]["data"]] == ["username", "password", "email"]
    assert "POST" in r["Allow"]


@pytest.mark.django_db
def test_malformed_bodies_are_400_never_500(api):
    for content_type, raw in ((CJ, b"{not json"), ("application/json", b"[1, 2"), (CJ, b'{"template": 3}'),
                              (CJ, b'{"template": {"data": [{"value": 1}]}}'),
                              ("application/json", b'{"username": ["a"], "password": {}}')):
        r = api.post("/api/v1/users/", raw, content_type=content_type)
        assert r.status_code == 400, (raw, r.status_code, r.content)
        assert "error" in json_of(r)["collection"]
        r = api.post("/api/v1/auth-token/", raw, content_type=content_type)
        assert r.status_code == 400, (raw, r.status_code, r.content)


@pytest.mark.django_db
def test_auth_token_json_and_form_wrong_password_invalid_token(api, make_user):
    make_user("alice", "alice-pass-1234")
    r = api.post("/api/v1/auth-token/", {"username": "alice", "password": "alice-pass-1234"}, format="json")
    assert r.status_code == 200
    token = json_of(r)["token"]
    r2 = api.post("/api/v1/auth-token/", {"username": "alice", "password": "alice-pass-1234"})  # multipart form
    assert json_of(r2)["token"] == token
    r3 = api.post("/api/v1/auth-token/", "username=alice&password=alice-pass-1234",
                  content_type="application/x-www-form-urlencoded")
    assert json_of(r3)["token"] == token
    bad = api.post("/api/v1/auth-token/", {"username": "alice", "password": "wrong"}, format="json")
    assert bad.status_code == 400
    assert "non_field_errors" in json_of(bad)
    for keyword in ("Token", "token", "TOKEN"):
        r = api.get("/api/v1/", HTTP_AUTHORIZATION=f"{keyword} {token}")
        assert r.status_code == 200
        assert "user" in {link["rel"] for link in json_of(r)["collection"]["links"]}
    r = api.get("/api/v1/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert r.status_code == 401
    assert json_of(r)["collection"]["error"]["message"]
    r = api.get("/api/v1/", HTTP_AUTHORIZATION="Token not-a-real-token", HTTP_ACCEPT="application/json")
    assert r.status_code == 401 and "detail" in json_of(r)


@pytest.mark.django_db
def test_basic_auth_is_cached_but_a_changed_password_is_seen_at_once(api, make_user, django_assert_max_num_queries):
    user = make_user("alice", "alice-pass-1234")
    header = basic("alice", "alice-pass-1234")
    assert api.get(f"/api/v1/users/{user.id}/", HTTP_AUTHORIZATION=header).status_code == 200
    # The second request must not hash the password again: the only user query is the cache check.
    from django.contrib.auth import hashers

    calls = []
    original = hashers.check_password

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    hashers.check_password = counting
    try:
        assert api.get(f"/api/v1/users/{user.id}/", HTTP_AUTHORIZATION=header).status_code == 200
    finally:
        hashers.check_password = original
    assert calls == []
    assert api.get(f"/api/v1/users/{user.id}/", HTTP_AUTHORIZATION=basic("alice", "wrong-pass-1")).status_code == 401
    r = api.put(f"/api/v1/users/{user.id}/", {"password": "new-pass-5678"}, format="json", HTTP_AUTHORIZATION=header)
    assert r.status_code == 200, r.content
    assert api.get(f"/api/v1/users/{user.id}/", HTTP_AUTHORIZATION=header).status_code == 401
    assert api.get(f"/api/v1/users/{user.id}/",
                   HTTP_AUTHORIZATION=basic("alice", "new-pass-5678")).status_code == 200


@pytest.mark.django_db
def test_user_detail_is_visible_to_the_user_and_admins_only(api, make_user, system):
    alice = make_user("alice")
    bob = make_user("bob")
    api.force_authenticate(bob)
    assert api.get(f"/api/v1/users/{alice.id}/").status_code == 404
    assert api.put(f"/api/v1/users/{alice.id}/", {"email": "x@example.org"}, format="json").status_code == 404
    r = api.get(f"/api/v1/users/{bob.id}/groups/", HTTP_ACCEPT="application/json")
    assert {g["name"] for g in json_of(r)["results"]} == {"all_users", "pacs_users"}
    api.force_authenticate(system)
    r = api.get(f"/api/v1/users/{alice.id}/", HTTP_ACCEPT="application/json")
    assert r.status_code == 200 and json_of(r)["email"] == "alice@example.org"
    api.force_authenticate(None)
    assert api.get(f"/api/v1/users/{alice.id}/").status_code == 401


@pytest.mark.django_db
def test_groups_are_managed_by_staff(api, make_user, system):
    alice = make_user("alice")
    api.force_authenticate(alice)
    assert api.post("/api/v1/groups/", {"name": "radiology"}, format="json").status_code == 403
    api.force_authenticate(system)
    r = api.post("/api/v1/groups/", {"name": "radiology"}, format="json", HTTP_ACCEPT="application/json")
    assert r.status_code == 201, r.content
    gid = json_of(r)["id"]
    r = api.post(f"/api/v1/groups/{gid}/users/", {"username": "alice"}, format="json", HTTP_ACCEPT="application/json")
    assert r.status_code == 201 and json_of(r)["user_username"] == "alice"
    membership = json_of(r)["id"]
    r = api.get(f"/api/v1/groups/{gid}/users/search/?username=alice", HTTP_ACCEPT="application/json")
    assert json_of(r)["count"] == 1
    r = api.get("/api/v1/groups/search/?name_icontains=radio", HTTP_ACCEPT="application/json")
    assert [g["name"] for g in json_of(r)["results"]] == ["radiology"]
    api.force_authenticate(alice)
    assert api.delete(f"/api/v1/groups/users/{membership}/").status_code == 403
    api.force_authenticate(system)
    assert api.delete(f"/api/v1/groups/users/{membership}/").status_code == 204
    assert not alice.groups.filter(name="radiology").exists()
    all_users = json_of(api.get("/api/v1/groups/search/?name=all_users", HTTP_ACCEPT="application/json"))
    assert api.delete(f"/api/v1/groups/{all_users['results'][0]['id']}/").status_code == 403
