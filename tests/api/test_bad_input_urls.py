"""URLs under the admin REST API that name nothing: the API's 404 in the client's media type, not the HTML
admin's login page or its CSRF 403 (the HTML admin shares the /chris-admin/ prefix)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import CJ, json_of


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/chris-admin/api/v1/-1/", "/chris-admin/api/v1/%F2%8A%9D%BA/",
                                  "/chris-admin/api/v1/pacs/0.9/", "/chris-admin/api/v1/computeresources/x/",
                                  "/chris-admin/api/v1/nosuch/", "/chris-admin/api/v2/"])
def test_unknown_admin_api_urls_are_json_404s_for_every_method(api: Any, system: Any, path: str) -> None:
    for user in (system, None):
        api.force_authenticate(user)
        for method in ("get", "put", "post", "delete"):
            r = getattr(api, method)(path, HTTP_ACCEPT="application/json")
            assert r.status_code == 404, (method, path, r.status_code)
            assert r["Content-Type"].startswith("application/json") and "detail" in json_of(r)
            r = getattr(api, method)(path, HTTP_ACCEPT=CJ)
            assert r.status_code == 404 and r["Content-Type"].startswith(CJ), (method, path)


@pytest.mark.django_db
def test_the_html_admin_is_still_served(api: Any, system: Any) -> None:
    r = api.get("/chris-admin/")
    assert r.status_code == 302 and "/chris-admin/login/" in r["Location"]
    assert api.get("/chris-admin/login/").status_code == 200
