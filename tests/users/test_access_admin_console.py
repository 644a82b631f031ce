"""Staff are not the superuser: the admin console let any staff member read every user's API token
(and so sign in as anyone, the superuser included), tick is_superuser on their own account, and change
the superuser's password. Finding of the access audit; the superuser keeps all of it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse


@pytest.fixture
def people(make_user: Any, system: Any) -> dict[str, Any]:
    from rest_framework.authtoken.models import Token

    staff = make_user("stella")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    alice = make_user("alice")
    tokens = {u.username: Token.objects.get_or_create(user=u)[0].key for u in (system, alice, staff)}
    return {"staff": staff, "alice": alice, "chris": system, "tokens": tokens}


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.mark.django_db
def test_staff_cannot_take_the_superusers_powers(people: dict[str, Any]) -> None:
    staff, chris = _client(people["staff"]), _client(people["chris"])
    tokens = reverse("admin:authtoken_tokenproxy_changelist")
    r = staff.get(tokens)
    assert r.status_code == 403 and people["tokens"]["chris"] not in r.content.decode()
    assert people["tokens"]["chris"] in chris.get(tokens).content.decode()
    # The superuser's account is the superuser's: staff see it read-only and cannot change its password.
    url = reverse("admin:auth_user_password_change", args=[people["chris"].pk])
    assert staff.get(url).status_code == 403 and chris.get(url).status_code == 200
    url = reverse("admin:auth_user_change", args=[people["chris"].pk])
    assert 'name="email"' not in staff.get(url).content.decode()
    assert 'name="email"' in chris.get(url).content.decode()
    r = staff.post(url, {"username": "chris", "email": "taken@example.org"})
    people["chris"].refresh_from_db()
    assert r.status_code == 403 and people["chris"].email != "taken@example.org"
    # On accounts staff may edit, is_superuser is not a field they can set.
    for user in (people["staff"], people["alice"]):
        page = staff.get(reverse("admin:auth_user_change", args=[user.pk]))
        assert page.status_code == 200 and 'name="is_superuser"' not in page.content.decode()
    assert 'name="is_superuser"' in chris.get(reverse("admin:auth_user_change", args=[people["alice"].pk])).content.decode()
    # A forged POST of the field changes nothing.
    form = {"username": "stella", "email": "stella@example.org", "is_active": "on", "is_staff": "on",
            "is_superuser": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
            "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "00:00:00"}
    staff.post(reverse("admin:auth_user_change", args=[people["staff"].pk]), form)
    people["staff"].refresh_from_db()
    assert people["staff"].is_superuser is False
