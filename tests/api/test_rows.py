"""cube.core.rows answers exactly what the ORM answers (types included), on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from cube.core import rows
from uploads.models import ChrisFile, ChrisFolder
from uploads.services import folder_get_or_create


def _fields(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_get_one_equals_the_orm_with_the_related_row_in_one_query(make_user: Any) -> None:
    alice = make_user("alice")
    folder = folder_get_or_create(path="home/alice/uploads/x", owner=alice)
    made = ChrisFile.objects.create(fname="home/alice/uploads/x/a.dcm", size=7, md5="ab", parent_folder=folder,
                                    owner=alice, public=True)
    expected = ChrisFile.objects.select_related("owner").get(pk=made.pk)
    with CaptureQueriesContext(connection) as queries:
        got = rows.get_one(ChrisFile, "pk", made.pk, related="owner")
        owner = got.owner  # cached like select_related: no second query
    assert len(queries) == 1
    assert _fields(got) == _fields(expected)
    assert isinstance(got.creation_date, dt.datetime) and got.creation_date.tzinfo is not None
    assert got.public is True and isinstance(got.size, int)
    assert _fields(owner) == _fields(expected.owner)
    assert got._state.adding is False and got._state.db == "default"
    assert rows.get_one(ChrisFile, "fname", made.fname).pk == made.pk
    assert rows.get_one(ChrisFile, "pk", made.pk + 1000) is None
    # An id from a URL can be any run of digits: past 64 bits it matches nothing (SQLite's driver would raise).
    for huge in (2**63, -(2**63) - 1, 10**30):
        assert rows.get_one(ChrisFile, "pk", huge, related="owner") is None
        assert rows.exists(ChrisFile, "pk", huge) is False
        assert rows.get_in(ChrisFile, "pk", [huge]) == []
    assert [f.pk for f in rows.get_in(ChrisFile, "pk", [10**30, made.pk])] == [made.pk]


def test_token_lookup_by_its_key(make_user: Any) -> None:
    bob = make_user("bob")
    token = Token.objects.create(user=bob)
    got = rows.get_one(Token, "pk", token.key, related="user")
    assert got.key == token.key and got.user.username == "bob" and got.user.is_active is True
    assert rows.get_one(Token, "pk", "not-a-token", related="user") is None


def test_get_in_and_exists(make_user: Any) -> None:
    alice = make_user("alice")
    folder_get_or_create(path="home/alice/uploads/a/b", owner=alice)
    paths = ["home/alice/uploads", "home/alice/uploads/a/b", "home/alice/nothing"]
    got = {f.path: f for f in rows.get_in(ChrisFolder, "path", paths)}
    expected = {f.path: f for f in ChrisFolder.objects.filter(path__in=paths)}
    assert set(got) == {"home/alice/uploads", "home/alice/uploads/a/b"}
    assert {p: _fields(f) for p, f in got.items()} == {p: _fields(f) for p, f in expected.items()}
    assert rows.get_in(ChrisFolder, "path", []) == []
    assert rows.exists(ChrisFolder, "path", "home/alice/uploads/a") is True
    assert rows.exists(ChrisFolder, "path", "home/alice/uploads/zzz") is False


def test_insert_fills_defaults_and_reads_back_as_the_orm_would(make_user: Any) -> None:
    alice = make_user("alice")
    folder = folder_get_or_create(path="home/alice/uploads", owner=alice)
    before = dt.datetime.now(dt.UTC)
    obj = rows.insert(ChrisFile(fname="home/alice/uploads/n.txt", size=3, md5="00", parent_folder=folder,
                                owner=alice))
    assert obj.pk is not None and obj._state.adding is False
    stored = ChrisFile.objects.get(pk=obj.pk)
    assert _fields(stored) == _fields(obj)
    assert stored.public is False and stored.creation_date >= before - dt.timedelta(seconds=1)
    assert get_user_model().objects.get(pk=stored.owner_id).username == "alice"


def test_a_refused_insert_leaves_the_callers_transaction_usable(make_user: Any) -> None:
    alice = make_user("alice")
    folder = folder_get_or_create(path="home/alice/uploads", owner=alice)
    rows.insert(ChrisFile(fname="home/alice/uploads/x", parent_folder=folder, owner=alice))
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            rows.insert(ChrisFile(fname="home/alice/uploads/x", parent_folder=folder, owner=alice))
        # PostgreSQL refuses every statement of a transaction whose statement failed, unless in a savepoint
        assert ChrisFile.objects.filter(fname="home/alice/uploads/x").count() == 1
        rows.insert(ChrisFile(fname="home/alice/uploads/y", parent_folder=folder, owner=alice))
    assert rows.exists(ChrisFile, "fname", "home/alice/uploads/y")
