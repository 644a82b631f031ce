"""Shared fixtures: a bootstrapped system (superuser chris, groups, folders, compute resource `host`),
users, API clients for both media types, and a per-test storage root."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

CJ = "application/vnd.collection+json"
ADMIN_PASSWORD = "chris1234"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture
def storage_root(tmp_path: Any, settings: Any) -> Iterator[str]:
    from cube.storage import reset_storage_cache

    root = tmp_path / "storage"
    root.mkdir()
    settings.CUBE_STORAGE = {"BACKEND": "cube.storage.filesystem.FilesystemStorage",
                             "OPTIONS": {"root": str(root)}}
    reset_storage_cache()
    yield str(root)
    reset_storage_cache()


@pytest.fixture
def system(db: Any, storage_root: str) -> Any:
    """The bootstrapped system; returns the superuser."""
    from cube.core.services import system_setup
    from plugins.services import compute_resource_ensure_default

    admin = system_setup(admin_password=ADMIN_PASSWORD)
    compute_resource_ensure_default()
    return admin


@pytest.fixture
def make_user(system: Any) -> Any:
    from cube.users.services import user_create

    def make(username: str = "alice", password: str = "alice-pass-1234", email: str | None = None) -> Any:
        return user_create(username=username, password=password, email=email or f"{username}@example.org")

    return make


@pytest.fixture
def signed_in_alice(api: Any, make_user: Any) -> Any:
    """alice, signed in on ``api``, with the built-in plugins registered (for requests that name them)."""
    from django.core.management import call_command

    call_command("register_plugins", "--builtins", "--compute-names", "host")
    user = make_user("alice")
    api.force_authenticate(user)
    return user


@pytest.fixture
def api(system: Any) -> Any:
    from rest_framework.test import APIClient

    return APIClient()


def json_of(response: Any) -> Any:
    import json

    return json.loads(response.content)


def cj_items(response: Any) -> list[dict[str, Any]]:
    """Collection+JSON items as plain dicts: data fields plus 'href' and a 'links' rel→href map."""
    body = json_of(response)
    out = []
    for item in body["collection"]["items"]:
        row = {d["name"]: d["value"] for d in item["data"]}
        row["href"] = item.get("href")
        row["links"] = {link["rel"]: link["href"] for link in item.get("links", [])}
        out.append(row)
    return out


def cj_links(response: Any) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in json_of(response)["collection"]["links"]}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # PBKDF2's million iterations are the point in production and a minute of CPU in the suite; the
    # Basic-auth benchmark measures the real hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def container_engine() -> Iterator[tuple[str, str]]:
    """(docker base_url, plugin image): a dockerd named by DOCKER_HOST, else podman's API service."""
    from tests.runners.harness import unavailable
    from tests.support import podman

    if os.environ.get("DOCKER_HOST"):
        env = dict(os.environ)
        try:
            image = podman.ensure_plugin_image(env, engine="docker")
        except podman.PodmanUnavailableError as exc:
            unavailable(f"dockerd at DOCKER_HOST: {exc}")
        yield os.environ["DOCKER_HOST"], image
        return
    try:
        env = podman.podman_env()
        image = podman.ensure_plugin_image(env)
        service = podman.PodmanService(env).start()
    except (podman.PodmanUnavailableError, OSError) as exc:
        unavailable(f"podman: {exc}")
    try:
        yield service.docker_base_url, image
    finally:
        service.stop()


# One Swift all-in-one per test session, shared by every package that needs it.
from tests.support.swift_aio import swift_aio  # noqa: E402,F401
