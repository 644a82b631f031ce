"""The same workflow with the container runner: pl-dircopy then pl-simpledsapp in real containers
(podman's Docker API, or a dockerd named by DOCKER_HOST), from the locally built plugin image."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.feeds.test_e2e_local import plugin_id, sign_up, wait_status


@pytest.mark.django_db(transaction=True)
def test_dircopy_and_simpledsapp_in_containers(server: Any, container_engine: tuple[str, str]) -> None:
    from django.contrib.auth.models import User

    from plugins.models import Plugin
    from plugins.services import compute_resource_create
    from uploads.models import ChrisFile
    from uploads.services import file_store

    base_url, _image = container_engine
    cr = compute_resource_create(name="containers", runner="docker", runner_options={"base_url": base_url},
                                 description="podman on this host")
    for plugin in Plugin.objects.all():
        plugin.compute_resources.add(cr)
    c = sign_up(server.url, "alice")
    alice = User.objects.get(username="alice")
    payload = b"DICM" * 5000
    file_store(owner=alice, path="home/alice/uploads/study/img.dcm", chunks=[payload])
    r = c.post(f"/api/v1/plugins/{plugin_id(c, 'pl-dircopy')}/instances/",
               {"dir": "home/alice/uploads/study", "compute_resource_name": "containers"})
    assert r.status_code == 201, r.text
    fs = wait_status(c, r.json()["url"], {"finishedSuccessfully", "finishedWithError"}, timeout=60)
    assert fs["status"] == "finishedSuccessfully", (fs, c.get(fs["logs"]).json())
    assert fs["compute_resource_name"] == "containers"
    out = ChrisFile.objects.get(fname=f"{fs['output_path']}/home_alice_uploads_study/img.dcm")
    assert out.size == len(payload)
    r = c.post(f"/api/v1/plugins/{plugin_id(c, 'pl-simpledsapp')}/instances/",
               {"previous_id": fs["id"], "prefix": "c_", "compute_resource_name": "containers"})
    ds = wait_status(c, r.json()["url"], {"finishedSuccessfully", "finishedWithError"}, timeout=60)
    assert ds["status"] == "finishedSuccessfully", (ds, c.get(ds["logs"]).json())
    assert ChrisFile.objects.filter(fname__startswith=ds["output_path"] + "/", fname__endswith="/c_img.dcm").exists()
    # A sleeping container is stopped when its run is cancelled.
    r = c.post(f"/api/v1/plugins/{plugin_id(c, 'pl-simpledsapp')}/instances/",
               {"previous_id": ds["id"], "sleepLength": "60", "compute_resource_name": "containers"})
    sleeper = wait_status(c, r.json()["url"], {"started"}, timeout=60)
    assert c.put(sleeper["url"], {"status": "cancelled"}).status_code == 200
    import docker

    client = docker.DockerClient(base_url=base_url)
    import time

    deadline = time.monotonic() + 30
    while client.containers.list(filters={"label": f"org.chrisproject.instance={sleeper['id']}"}):
        assert time.monotonic() < deadline, "the cancelled run's container is still running"
        time.sleep(0.3)
    assert requests.get(server.url + "/api/v1/", timeout=10).status_code == 200
