"""URL map: /api/v1/ (the REST API), /chris-admin/ (HTML admin and its REST API), /schema/ (OpenAPI)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

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
    path("chris-admin/", admin.site.urls),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("schema/swagger-ui/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("schema/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

handler404 = "cube.api.errors_pages.not_found"
handler500 = "cube.api.errors_pages.server_error"
