"""Fixtures for the PACS API: a real Orthanc loaded with synthetic patients (one per session), our DICOM
listener in-process on a free port, a real Celery worker and a live HTTP server (from the feeds tests),
and HTTP clients for the roles the permission rules know.

Under CI=true a missing Orthanc fails the tests; elsewhere they skip with the reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.conftest import in_ci
from tests.feeds.conftest import server, worker  # noqa: F401 - fixtures used by the tests here
from tests.pacs.dicom.synth import PatientSpec, SeriesSpec, StudySpec, build_all, find_series, sample_patients
from tests.support.orthanc import Orthanc, find_orthanc

OUR_AET = "CUBEAPI"
JSON = {"Accept": "application/json"}


@dataclass
class LoadedOrthanc:
    orthanc: Orthanc
    patients: list[PatientSpec]

    def series(self, description: str) -> tuple[PatientSpec, StudySpec, SeriesSpec]:
        return find_series(self.patients, description)


@pytest.fixture(scope="session")
def pacs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedOrthanc]:
    """Orthanc with the synthetic patients; it knows OUR_AET (the port is set once a listener runs)."""
    if find_orthanc() is None:
        message = "Orthanc is not installed (run .ci/setup-pacs.sh)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    orthanc = Orthanc(tmp_path_factory.mktemp("orthanc-api"), modalities={"cubeapi": (OUR_AET, "127.0.0.1", 9)})
    orthanc.start()
    try:
        patients = sample_patients()
        for blob in build_all(patients):
            assert orthanc.upload(blob)["Status"] in ("Success", "AlreadyStored")
        yield LoadedOrthanc(orthanc, patients)
    finally:
        orthanc.stop()


@pytest.fixture
def dicom_settings(settings: Any, tmp_path: Any) -> Any:
    settings.CUBE_DICOM_AET = OUR_AET
    settings.CUBE_PACS_REGISTRATION_TIMEOUT = 15
    settings.CUBE_DICOM_SPOOL_DIR = str(tmp_path / "dicom-spool")
    return settings


@pytest.fixture
def listener(transactional_db: Any, storage_root: str, dicom_settings: Any, pacs_server: LoadedOrthanc) -> Iterator[Any]:
    """Our storage SCP with the ingest sink, in this process, registered in Orthanc as OUR_AET."""
    from pacs.services.listener import listener_start

    running = listener_start(aet=OUR_AET, port=0, bind="127.0.0.1")
    pacs_server.orthanc.add_modality("cubeapi", OUR_AET, "127.0.0.1", running.port)
    try:
        yield running
    finally:
        running.stop()


class Client:
    """requests against the live server, JSON in and out, with a user's token."""

    def __init__(self, base: str, token: str | None = None, auth: tuple[str, str] | None = None) -> None:
        self.base = base
        self.headers = dict(JSON)
        if token:
            self.headers["Authorization"] = f"Token {token}"
        self.auth = auth

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path

    def get(self, path: str, **kw: Any) -> requests.Response:
        return requests.get(self.url(path), headers={**self.headers, **kw.pop("headers", {})}, auth=self.auth,
                            timeout=60, **kw)

    def post(self, path: str, body: Any = None) -> requests.Response:
        return requests.post(self.url(path), json=body if body is not None else {}, headers=self.headers,
                             auth=self.auth, timeout=60)

    def put(self, path: str, body: Any) -> requests.Response:
        return requests.put(self.url(path), json=body, headers=self.headers, auth=self.auth, timeout=60)

    def delete(self, path: str) -> requests.Response:
        return requests.delete(self.url(path), headers=self.headers, auth=self.auth, timeout=60)


def token_for(base: str, username: str, password: str) -> str:
    r = requests.post(f"{base}/api/v1/auth-token/", json={"username": username, "password": password}, timeout=30)
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def wait_for(fetch: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool],
             timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body = fetch()
    while not done(body):
        if time.monotonic() > deadline:
            raise AssertionError(f"still not done after {timeout} s: {body}")
        time.sleep(0.1)
        body = fetch()
    return body


@dataclass
class Api:
    """The live system: admin (chris), alice (in pacs_users, as every new user), bob (removed from it)."""

    base: str
    admin: Client
    alice: Client
    bob: Client
    anon: Client
    orthanc: LoadedOrthanc


@pytest.fixture
def api_live(server: Any, listener: Any, pacs_server: LoadedOrthanc) -> Api:  # noqa: F811
    from django.contrib.auth.models import Group

    from cube.users.services import user_create

    base = server.url
    alice = user_create(username="alice", password="alice-pass-1234", email="alice@example.org")
    bob = user_create(username="bobby", password="bobby-pass-1234", email="bob@example.org")
    bob.groups.remove(Group.objects.get(name="pacs_users"))
    assert alice.groups.filter(name="pacs_users").exists()
    return Api(base, Client(base, token_for(base, "chris", "chris1234")),
               Client(base, token_for(base, "alice", "alice-pass-1234")),
               Client(base, token_for(base, "bobby", "bobby-pass-1234")), Client(base), pacs_server)


def register_orthanc(api: Api, identifier: str = "ORTHANC", **extra: Any) -> dict[str, Any]:
    orthanc = api.orthanc.orthanc
    r = api.admin.post("/chris-admin/api/v1/pacs/", {"identifier": identifier, "aet": orthanc.aet,
                                                     "host": orthanc.host, "port": orthanc.dicom_port, **extra})
    assert r.status_code == 201, r.text
    return dict(r.json())


def run_query(client: Client, pacs: dict[str, Any], title: str, query: dict[str, Any]) -> dict[str, Any]:
    r = client.post(pacs["query_list"], {"title": title, "query": query})
    assert r.status_code == 201, r.text
    return wait_for(lambda: client.get(r.json()["url"]).json(), lambda b: b["status"] in ("succeeded", "errored"))
