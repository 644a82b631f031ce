"""URL map: /api/v1/ (the REST API), /chris-admin/ (HTML admin and its REST API), /schema/ (OpenAPI)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from cube.api.errors_pages import not_found
from pacs.urls import admin_urlpatterns as pacs_admin_urlpatterns
from plugins.urls import admin_urlpatterns

api_v1 = [
    path("", include("cube.core.urls")),
    path("", include("cube.users.urls")),
    path("", include("uploads.urls")),
    path("", include("plugins.urls")),
    path("", include("feeds.urls")),
    path("", include("pacs.urls")),
    path("auth/", include("rest_framework.urls", namespace="rest_framework")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("chris-admin/api/v1/pacs/", include(pacs_admin_urlpatterns)),
    path("chris-admin/api/v1/", include(admin_urlpatterns)),
    # Anything else under the admin REST API is its 404, not the HTML admin's login page or CSRF 403.
    re_path(r"^chris-admin/api/", csrf_exempt(not_found)),
    path("chris-admin/", admin.site.urls),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("schema/swagger-ui/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("schema/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

handler404 = "cube.api.errors_pages.not_found"
handler500 = "cube.api.errors_pages.server_error"
