"""Browser access: CORS for the configured origins (any by default) with the Authorization header and
every method, preflights answered without credentials, readable Allow/Content-Disposition headers; and
hrefs built from the host, port and scheme the client reached (the proxy's X-Forwarded-* only when
configured)."""

from __future__ import annotations

import importlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.urls import clear_script_prefix, set_script_prefix

ORIGIN = "http://ui.example.org:3000"


def preflight(api: Any, url: str, origin: str = ORIGIN, method: str = "GET", headers: str = "authorization") -> Any:
    return api.options(url, HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
                       HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers)


def header_set(response: Any, name: str) -> set[str]:
    return {v.strip().lower() for v in response.get(name, "").split(",") if v.strip()}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/", "/api/v1/userfiles/", "/api/v1/plugins/instances/1/",
                                 "/api/v1/filebrowser/files/1/x.bin", "/chris-admin/api/v1/"])
def test_preflight_needs_no_credentials_and_allows_auth_and_every_method(api: Any, url: str) -> None:
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        r = preflight(api, url, method=method, headers="authorization,content-type,range")
        assert r.status_code == 200, (url, method, r.status_code)
        assert r["Access-Control-Allow-Origin"] in ("*", ORIGIN)
        assert {"authorization", "content-type", "range"} <= header_set(r, "Access-Control-Allow-Headers")
        assert method.lower() in header_set(r, "Access-Control-Allow-Methods")


@pytest.mark.django_db
def test_responses_expose_the_headers_the_ui_reads(api: Any, make_user: Any) -> None:
    r = api.get("/api/v1/users/", HTTP_ORIGIN=ORIGIN)
    assert r.status_code == 200
    assert r["Access-Control-Allow-Origin"] in ("*", ORIGIN)
    exposed = header_set(r, "Access-Control-Expose-Headers")
    assert {"allow", "content-disposition", "content-range", "etag"} <= exposed
    assert "POST" in r["Allow"]  # sign-up is open: what the UI shows a sign-up link for
    # An error carries the CORS headers too, or the browser hides the reason from the page.
    r = api.post("/api/v1/auth-token/", {"username": "nobody", "password": "wrong-password"}, format="json",
                 HTTP_ORIGIN=ORIGIN)
    assert r.status_code == 400 and r["Access-Control-Allow-Origin"] in ("*", ORIGIN)


@pytest.mark.django_db
def test_sign_up_closed_shows_in_allow(api: Any, settings: Any) -> None:
    settings.DISABLE_USER_ACCOUNT_CREATION = True
    r = api.get("/api/v1/users/", HTTP_ORIGIN=ORIGIN)
    assert "POST" not in r.get("Allow", "")


@pytest.mark.django_db
def test_configured_origins_only(api: Any, settings: Any) -> None:
    settings.CORS_ALLOW_ALL_ORIGINS = False
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]
    r = preflight(api, "/api/v1/")
    assert r["Access-Control-Allow-Origin"] == ORIGIN
    r = preflight(api, "/api/v1/", origin="http://evil.example")
    assert "Access-Control-Allow-Origin" not in r
    r = api.get("/api/v1/plugins/", HTTP_ORIGIN="http://evil.example")
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r


@pytest.mark.django_db
def test_the_html_console_is_not_opened_to_other_origins(api: Any) -> None:
    r = api.get("/chris-admin/login/", HTTP_ORIGIN=ORIGIN)
    assert "Access-Control-Allow-Origin" not in r


def test_cors_origins_come_from_the_environment(monkeypatch: Any) -> None:
    from cube.settings.components import cors

    try:
        monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://ui.example.org, http://localhost:3000")
        importlib.reload(cors)
        assert cors.CORS_ALLOW_ALL_ORIGINS is False
        assert cors.CORS_ALLOWED_ORIGINS == ["https://ui.example.org", "http://localhost:3000"]
        monkeypatch.delenv("CORS_ALLOWED_ORIGINS")
        importlib.reload(cors)
        assert cors.CORS_ALLOW_ALL_ORIGINS is True
        assert "Allow" in cors.CORS_EXPOSE_HEADERS
    finally:
        monkeypatch.delenv("CORS_ALLOWED_ORIGINS", raising=False)
        importlib.reload(cors)


def hrefs(doc: Any) -> list[str]:
    """Every href in a Collection+JSON document."""
    out: list[str] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key == "href" and isinstance(value, str):
                out.append(value)
            else:
                out.extend(hrefs(value))
    elif isinstance(doc, list):
        for value in doc:
            out.extend(hrefs(value))
    return out


@pytest.mark.django_db
def test_hrefs_use_the_host_and_port_the_client_reached(api: Any, system: Any) -> None:
    api.force_authenticate(system)
    for host in ("localhost:9000", "127.0.0.1:8123", "cube.example.org"):
        links = hrefs(json.loads(api.get("/api/v1/", HTTP_HOST=host).content))
        assert len(links) > 10
        assert all(h.startswith(f"http://{host}/") for h in links), (host, links)


@pytest.mark.django_db
def test_forwarded_host_and_proto_only_when_configured(api: Any, system: Any, settings: Any) -> None:
    api.force_authenticate(system)
    proxy = {"HTTP_HOST": "127.0.0.1:8000", "HTTP_X_FORWARDED_HOST": "chris.example.org:8443",
             "HTTP_X_FORWARDED_PROTO": "https"}
    # Not configured: a client cannot make the server hand out links to another host.
    links = hrefs(json.loads(api.get("/api/v1/", **proxy).content))
    assert all(h.startswith("http://127.0.0.1:8000/") for h in links)
    settings.USE_X_FORWARDED_HOST = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    for url in ("/api/v1/", "/api/v1/plugins/", "/api/v1/filebrowser/"):
        doc = json.loads(api.get(url, **proxy).content)
        links = hrefs(doc)
        assert links and all(h.startswith("https://chris.example.org:8443/") for h in links), (url, links)


@pytest.mark.parametrize(("env", "expected"), [
    ({}, [False, None]),
    ({"DJANGO_USE_X_FORWARDED_HOST": "true", "DJANGO_SECURE_PROXY_SSL_HEADER": "true"},
     [True, ["HTTP_X_FORWARDED_PROTO", "https"]]),
])
def test_proxy_settings_come_from_the_environment(env: dict[str, str], expected: list[Any], tmp_path: Any) -> None:
    code = ("import json, django; from django.conf import settings; django.setup(); "
            "print(json.dumps([settings.USE_X_FORWARDED_HOST, getattr(settings, 'SECURE_PROXY_SSL_HEADER', None)]))")
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DJANGO_USE_X_FORWARDED_HOST", "DJANGO_SECURE_PROXY_SSL_HEADER")}
    out = subprocess.run([sys.executable, "-c", code], env={**clean, **env, "DJANGO_SETTINGS_MODULE": "cube.settings",
                                                            "CUBE_VAR_DIR": str(tmp_path)},
                         capture_output=True, text=True, check=True, timeout=60, cwd=Path(__file__).parents[2])
    assert json.loads(out.stdout.strip().splitlines()[-1]) == expected


@pytest.mark.django_db
def test_file_links_follow_each_request_host_and_script_prefix(api: Any, make_user: Any) -> None:
    # File links are built from per-process URL templates: nothing of one request may leak into another's.
    alice = make_user("alice")
    api.force_authenticate(alice)
    assert api.post("/api/v1/userfiles/", {"upload_path": "home/alice/uploads/a.txt",
                                           "fname": io.BytesIO(b"abc")}, format="multipart").status_code == 201
    for host, prefix in (("cube.example.org", ""), ("127.0.0.1:8123", "/chris"), ("cube.example.org", "")):
        set_script_prefix(prefix + "/")  # what WSGIHandler does with SCRIPT_NAME (the test client does not)
        try:
            response = api.get("/api/v1/userfiles/", HTTP_HOST=host, HTTP_ACCEPT="application/json")
            cj = api.get("/api/v1/userfiles/", HTTP_HOST=host)
        finally:
            clear_script_prefix()
        assert response.status_code == 200, response.content
        file = next(f for f in response.json()["results"] if f["fname"].endswith("/a.txt"))
        links = [file["url"], file["file_resource"], file["parent_folder"], file["owner"]]
        assert all(h.startswith(f"http://{host}{prefix}/api/v1/") for h in links), (host, prefix, links)
        assert file["file_resource"].endswith(f"/userfiles/{file['id']}/a.txt")
        # The Collection+JSON form adds the search query (it once failed under a script prefix: 404).
        assert cj.status_code == 200, cj.content
        assert cj.json()["collection"]["queries"][0]["href"] == f"http://{host}{prefix}/api/v1/userfiles/search/"
