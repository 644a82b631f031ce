"""What a plugin leaves behind is sanitised before it is registered, and the API token a plugin gets
works for its own job only while that job runs."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.conftest import json_of


@pytest.fixture
def started_run(system: Any, make_user: Any) -> Any:
    from django.core.management import call_command

    from feeds.models import PluginInstance, Status
    from feeds.services.instances import instance_create
    from plugins.models import Plugin
    from tests.feeds.conftest import use_broker

    use_broker("memory://")  # nothing runs the job: the test plays the plugin
    call_command("register_plugins", "--builtins", "--compute-names", "host")
    alice = make_user("alice")
    inst = instance_create(user=alice, plugin=Plugin.objects.get(meta__name="pl-dircopy"),
                           data={"dir": "home/alice/uploads"})
    PluginInstance.objects.filter(id=inst.id).update(status=Status.STARTED)
    inst.refresh_from_db()
    return inst


@pytest.mark.django_db
def test_outputs_lose_commas_and_plugin_made_links(started_run: Any, storage_root: str) -> None:
    from feeds.services.jobs import job_dirs, register_outputs
    from uploads.models import ChrisFile, ChrisLinkFile

    _, out = job_dirs(started_run)
    os.makedirs(os.path.join(out, "a,b"))
    with open(os.path.join(out, "a,b", "x,y.txt"), "w") as fh:
        fh.write("data")
    with open(os.path.join(out, "evil.chrislink"), "w") as fh:
        fh.write("home/bob/private")  # a plugin must not point its user at someone else's data
    os.symlink("/etc/passwd", os.path.join(out, "passwd"))
    assert register_outputs(started_run) == 4
    base = started_run.output_folder.path
    assert list(ChrisFile.objects.filter(fname__startswith=base + "/").values_list("fname", flat=True)) == [
        f"{base}/ab/xy.txt"]
    assert not ChrisLinkFile.objects.filter(fname__startswith=base + "/").exists()
    assert not os.path.exists(os.path.join(storage_root, *base.split("/"), "passwd"))
    assert register_outputs(started_run) == 0  # a second registration (after a crash) adds nothing


@pytest.mark.django_db
def test_job_token_works_only_while_its_job_runs(started_run: Any, api: Any) -> None:
    from rest_framework.authtoken.models import Token

    from feeds.jobtokens import job_token
    from feeds.models import PluginInstance, Status
    from feeds.services.jobs import build_spec, runner_for

    permanent, _ = Token.objects.get_or_create(user=started_run.owner)
    spec = build_spec(started_run, runner_for(started_run.compute_resource))
    token = spec.env["CHRIS_USER_TOKEN"]
    assert token == job_token(started_run) and permanent.key not in spec.env.values()
    assert spec.env["CHRIS_PLG_INST_ID"] == str(started_run.id) and spec.env["CHRIS_USER_USERNAME"] == "alice"
    r = api.get("/api/v1/", HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT="application/json")
    assert r.status_code == 200 and json_of(r)["count"] == 1  # alice's feed
    PluginInstance.objects.filter(id=started_run.id).update(status=Status.SUCCEEDED)
    r = api.get("/api/v1/", HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT="application/json")
    assert r.status_code == 401 and "expired" in json_of(r)["detail"]
    r = api.get("/api/v1/", HTTP_AUTHORIZATION=f"Token {token[:-4]}abcd", HTTP_ACCEPT="application/json")
    assert r.status_code == 401
