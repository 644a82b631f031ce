"""The admin console at /chris-admin/: every page answers staff and turns everyone else to the login page;
searches filter; and the actions (register plugins from descriptor files, cancel, retry, delete) do what
they say through the services."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

FIXTURES = Path(__file__).resolve().parent.parent / "plugins" / "builtin" / "fixtures"


@pytest.fixture
def world(make_user: Any, system: Any) -> dict[str, Any]:
    """The bootstrapped system with the built-in plugins, a staff member, a user with a feed of two runs."""
    from django.core.management import call_command

    from feeds.services.instances import instance_create
    from plugins.models import Plugin
    from uploads.services import file_store

    call_command("register_plugins", "--builtins", "--compute-names", "host", verbosity=0)
    staff = make_user("stella")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    alice = make_user("alice")
    file_store(owner=alice, path="home/alice/uploads/scan/a.bin", chunks=[b"bytes"])
    dircopy = Plugin.objects.get(meta__name="pl-dircopy")
    ds = Plugin.objects.get(meta__name="pl-simpledsapp")
    fs = instance_create(user=alice, plugin=dircopy, data={"dir": "home/alice/uploads/scan", "title": "scan"})
    run = instance_create(user=alice, plugin=ds, data={"previous_id": fs.id, "prefix": "p_", "dummyInt": "7"})
    return {"staff": staff, "alice": alice, "admin": system, "fs": fs, "run": run, "feed": fs.feed, "ds": ds}


def client_for(user: Any) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def admin_pages() -> list[tuple[str, str, Any]]:
    """(label, URL name prefix, model admin) for every registered model."""
    out = []
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        out.append((f"{model._meta.app_label}.{model._meta.model_name}", prefix, model_admin))
    return sorted(out)


def test_the_console_covers_what_admins_manage() -> None:
    labels = {label for label, _, _ in admin_pages()}
    assert {"auth.user", "auth.group", "plugins.computeresource", "plugins.plugin", "plugins.pluginmeta",
            "feeds.plugininstance", "feeds.feed", "uploads.chrisfolder", "uploads.chrisfile",
            "uploads.chrislinkfile"} <= labels
    for label, _, model_admin in admin_pages():
        assert model_admin.search_fields, f"{label} has no search"
        assert model_admin.list_display != ("__str__",), f"{label} has no list columns"


@pytest.mark.django_db
def test_every_page_answers_staff_and_sends_others_to_login(world: dict[str, Any]) -> None:
    staff, alice, chris = client_for(world["staff"]), client_for(world["alice"]), client_for(world["admin"])
    anon = client_for(None)
    login = reverse("admin:login")
    index = reverse("admin:index")
    assert staff.get(index).status_code == 200
    for who in (anon, alice):
        r = who.get(index)
        assert r.status_code == 302 and r["Location"].startswith(login)
    checked = 0
    for label, prefix, model_admin in admin_pages():
        urls = [reverse(f"{prefix}_changelist"), reverse(f"{prefix}_changelist") + "?q=a"]
        if model_admin.has_add_permission(_request(world["staff"])):
            urls.append(reverse(f"{prefix}_add"))
        obj = model_admin.model._default_manager.order_by("pk").last()
        if obj is not None:
            urls.append(reverse(f"{prefix}_change", args=[obj.pk]))
        for url in urls:
            for c in (staff, chris):
                r = c.get(url)
                # API tokens are the superuser's to see: each one signs in as its user.
                want = 403 if c is staff and label == "authtoken.tokenproxy" else 200
                assert r.status_code == want, (label, url, r.status_code)
            for c in (anon, alice):
                r = c.get(url)
                assert r.status_code == 302 and r["Location"].startswith(login), (label, url, r.status_code)
            checked += 1
    assert checked >= 30


def _request(user: Any) -> Any:
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    return request


@pytest.mark.django_db
def test_searches_and_columns(world: dict[str, Any]) -> None:
    staff = client_for(world["staff"])
    url = reverse("admin:feeds_plugininstance_changelist")
    r = staff.get(url, {"q": "pl-simpledsapp"})
    assert r.context["cl"].result_count == 1
    page = r.content.decode()
    assert "pl-simpledsapp v" in page and "scan" in page and "alice" in page
    assert staff.get(url, {"q": "no-such-plugin"}).context["cl"].result_count == 0
    assert staff.get(url, {"status__exact": "scheduled"}).context["cl"].result_count == 1
    r = staff.get(reverse("admin:uploads_chrisfile_changelist"), {"q": "home/alice/uploads/scan"})
    assert r.context["cl"].result_count == 1
    r = staff.get(reverse("admin:auth_user_changelist"), {"q": "alice"})
    assert r.context["cl"].result_count == 1
    r = staff.get(reverse("admin:feeds_feed_changelist"), {"q": "alice"})
    assert [f.id for f in r.context["cl"].result_list] == [world["feed"].id]


@pytest.mark.django_db
def test_a_run_page_shows_status_parameters_and_logs(world: dict[str, Any]) -> None:
    from feeds.models import PluginInstance

    PluginInstance.objects.filter(id=world["run"].id).update(job_logs="copying <a.bin>\ndone\n")
    r = client_for(world["staff"]).get(reverse("admin:feeds_plugininstance_change", args=[world["run"].id]))
    page = r.content.decode()
    assert "copying &lt;a.bin&gt;" in page  # escaped: logs are the plugin's output, not markup
    assert "prefix" in page and "p_" in page and "dummyInt" in page


def _descriptor(name: str) -> bytes:
    d = json.loads((FIXTURES / "pl-simpledsapp.json").read_text())
    d = copy.deepcopy(d)
    d["name"], d["dock_image"] = name, f"example/{name}:1.0"
    return json.dumps(d).encode()


@pytest.mark.django_db
def test_add_plugins_from_descriptor_files(world: dict[str, Any]) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from plugins.models import ComputeResource, Plugin

    staff = client_for(world["staff"])
    url = reverse("admin:plugins_plugin_add")
    page = staff.get(url).content.decode()
    assert 'type="file"' in page and "compute_resources" in page
    host = ComputeResource.objects.get(name="host")
    r = staff.post(url, {"compute_resources": [host.pk], "descriptors": [
        SimpleUploadedFile("a.json", _descriptor("pl-admin-a")),
        SimpleUploadedFile("b.json", _descriptor("pl-admin-b"))]})
    assert r.status_code == 302 and r["Location"] == reverse("admin:plugins_plugin_changelist")
    for name in ("pl-admin-a", "pl-admin-b"):
        plugin = Plugin.objects.get(meta__name=name)
        assert list(plugin.compute_resources.values_list("name", flat=True)) == ["host"]
        assert plugin.parameters.filter(name="prefix").exists()
    # One good file and two bad ones: the good one is registered, each bad one says what is wrong.
    bad = json.loads(_descriptor("pl-admin-c"))
    del bad["dock_image"]
    r = staff.post(url, {"compute_resources": [host.pk], "descriptors": [
        SimpleUploadedFile("good.json", _descriptor("pl-admin-d")),
        SimpleUploadedFile("bad.json", json.dumps(bad).encode()),
        SimpleUploadedFile("junk.json", b"{not json")]})
    assert r.status_code == 200
    page = r.content.decode()
    assert "bad.json: dock_image" in page and "junk.json" in page and "not valid JSON" in page
    assert Plugin.objects.filter(meta__name="pl-admin-d").exists()
    assert not Plugin.objects.filter(meta__name="pl-admin-c").exists()
    # A version registered twice is refused, by field.
    r = staff.post(url, {"compute_resources": [host.pk],
                         "descriptors": [SimpleUploadedFile("a.json", _descriptor("pl-admin-a"))]})
    assert r.status_code == 200 and "already registered" in r.content.decode()
    # Without a compute resource nothing is registered.
    r = staff.post(url, {"descriptors": [SimpleUploadedFile("e.json", _descriptor("pl-admin-e"))]})
    assert r.status_code == 200 and not Plugin.objects.filter(meta__name="pl-admin-e").exists()
    # Anyone else cannot register.
    r = client_for(world["alice"]).post(url, {"compute_resources": [host.pk], "descriptors": [
        SimpleUploadedFile("f.json", _descriptor("pl-admin-f"))]})
    assert r.status_code == 302 and not Plugin.objects.filter(meta__name="pl-admin-f").exists()


def _action(c: Client, changelist: str, action: str, ids: list[int]) -> Any:
    return c.post(reverse(changelist), {"action": action, "_selected_action": [str(i) for i in ids]}, follow=True)


@pytest.mark.django_db
def test_cancel_action_cancels_active_runs_and_their_descendants(world: dict[str, Any]) -> None:
    from feeds.models import PluginInstance

    fs, run = world["fs"], world["run"]
    PluginInstance.objects.filter(id=fs.id).update(status="started")
    PluginInstance.objects.filter(id=run.id).update(status="waiting")
    r = _action(client_for(world["staff"]), "admin:feeds_plugininstance_changelist", "cancel_runs", [fs.id])
    assert "Cancelled 1 run(s)" in r.content.decode()
    rows = dict(PluginInstance.objects.values_list("id", "status"))
    assert rows[fs.id] == "cancelled" and rows[run.id] == "cancelled"
    assert "stella" in PluginInstance.objects.get(id=fs.id).status_message
    r = _action(client_for(world["staff"]), "admin:feeds_plugininstance_changelist", "cancel_runs", [fs.id])
    assert "Cancelled 0 run(s); 1 had already ended." in r.content.decode()


@pytest.mark.django_db
def test_retry_action_reruns_a_failed_run_with_the_same_inputs(world: dict[str, Any]) -> None:
    from feeds.models import PluginInstance

    fs, run = world["fs"], world["run"]
    PluginInstance.objects.filter(id=fs.id).update(status="finishedSuccessfully")
    PluginInstance.objects.filter(id=run.id).update(status="finishedWithError", cpu_limit=2000, memory_limit=300)
    before = set(PluginInstance.objects.values_list("id", flat=True))
    r = _action(client_for(world["staff"]), "admin:feeds_plugininstance_changelist", "retry_runs", [run.id])
    new_ids = set(PluginInstance.objects.values_list("id", flat=True)) - before
    assert len(new_ids) == 1, r.content.decode()
    new = PluginInstance.objects.get(id=new_ids.pop())
    assert f"retried as run {new.id}" in r.content.decode()
    assert (new.plugin_id, new.previous_id, new.feed_id, new.owner_id) == (run.plugin_id, fs.id, fs.feed_id,
                                                                         world["alice"].id)
    assert (new.cpu_limit, new.memory_limit, new.compute_resource_id) == (2000, 300, run.compute_resource_id)
    values = {pv.plugin_param.name: pv.value for pv in new.parameter_values.select_related("plugin_param")}
    assert values == {"prefix": "p_", "dummyInt": 7}
    assert new.status == "scheduled"  # its previous run succeeded: it is queued at once
    # A run that has not failed is not retried.
    r = _action(client_for(world["staff"]), "admin:feeds_plugininstance_changelist", "retry_runs", [fs.id])
    assert "only failed or cancelled runs are retried" in r.content.decode()
    assert PluginInstance.objects.count() == len(before) + 1


@pytest.mark.django_db
def test_retry_refuses_inputs_the_owner_cannot_read(world: dict[str, Any], make_user: Any) -> None:
    from feeds.models import PluginInstance, PluginInstanceParameter

    make_user("bobby")
    fs = world["fs"]
    PluginInstance.objects.filter(id=fs.id).update(status="finishedWithError")
    # As if the run had read a folder it may no longer read: the retry validates every value again.
    PluginInstanceParameter.objects.filter(plugin_inst=fs).update(value="home/bobby/uploads")
    before = PluginInstance.objects.count()
    r = _action(client_for(world["staff"]), "admin:feeds_plugininstance_changelist", "retry_runs", [fs.id])
    assert "could not be retried: dir:" in r.content.decode()
    assert PluginInstance.objects.count() == before


@pytest.mark.django_db
def test_feed_and_folder_deletion_go_through_the_services(world: dict[str, Any]) -> None:
    from feeds.models import Feed
    from uploads.models import ChrisFolder

    staff = client_for(world["staff"])
    _action(staff, "admin:feeds_feed_changelist", "delete_feeds", [world["feed"].id])
    assert Feed.objects.get(id=world["feed"].id).deletion_status == "pending"
    home = ChrisFolder.objects.get(path="home/alice")
    scan = ChrisFolder.objects.get(path="home/alice/uploads/scan")
    r = _action(staff, "admin:uploads_chrisfolder_changelist", "delete_folders", [home.id, scan.id])
    assert "part of the system layout" in r.content.decode()
    assert ChrisFolder.objects.get(id=home.id).deletion_status == "inactive"
    assert ChrisFolder.objects.get(id=scan.id).deletion_status == "pending"
    # The built-in delete is not offered for rows only services may remove.
    r = staff.get(reverse("admin:feeds_feed_changelist"))
    assert "delete_selected" not in r.content.decode()


@pytest.mark.django_db
def test_publishing_a_folder_from_the_console(world: dict[str, Any]) -> None:
    from django.contrib.auth.models import AnonymousUser

    from uploads.models import ChrisFolder
    from uploads.selectors import can_read_path

    scan = ChrisFolder.objects.get(path="home/alice/uploads/scan")
    assert not can_read_path(AnonymousUser(), "home/alice/uploads/scan/a.bin")
    _action(client_for(world["staff"]), "admin:uploads_chrisfolder_changelist", "make_public", [scan.id])
    assert ChrisFolder.objects.get(id=scan.id).public
    assert can_read_path(AnonymousUser(), "home/alice/uploads/scan/a.bin")


@pytest.mark.django_db
def test_a_user_added_in_the_console_gets_the_sign_up_layout(world: dict[str, Any]) -> None:
    from django.contrib.auth.models import User

    from uploads.models import ChrisFile, ChrisFolder

    r = client_for(world["staff"]).post(reverse("admin:auth_user_add"), {
        "username": "newbie", "password1": "a-long-pass-123", "password2": "a-long-pass-123",
        "usable_password": "true"})
    assert r.status_code == 302, r.content.decode()[:2000]
    user = User.objects.get(username="newbie")
    assert user.check_password("a-long-pass-123")
    assert set(user.groups.values_list("name", flat=True)) >= {"all_users"}
    assert ChrisFolder.objects.filter(path__in=["home/newbie/uploads", "home/newbie/feeds"]).count() == 2
    assert ChrisFile.objects.filter(fname="home/newbie/uploads/welcome.txt").exists()
