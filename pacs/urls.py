"""CUBE's PACS URLs (and names, which the API root and serializers reverse), the classic /pacsfiles/ and
/servicefiles/, and the admin API's /chris-admin/api/v1/pacs/ (``admin_urlpatterns``)."""

from __future__ import annotations

from typing import Any

from django.urls import path

from . import sse, views

urlpatterns: list[Any] = [
    path("pacs/", views.PacsList.as_view(), name="pacs-list"),
    path("pacs/search/", views.PacsListSearch.as_view(), name="pacs-list-query-search"),
    path("pacs/sse/", sse.PacsProgressStream.as_view(), name="pacs-sse"),
    path("pacs/<int:pk>/", views.PacsDetail.as_view(), name="pacs-detail"),
    path("pacs/<int:pk>/echo/", views.PacsEcho.as_view(), name="pacs-echo"),
    path("pacs/<int:pk>/series/", views.PacsSpecificSeriesList.as_view(), name="pacs-specific-series-list"),
    path("pacs/<int:pk>/queries/", views.PacsQueryList.as_view(), name="pacsquery-list"),
    path("pacs/queries/", views.AllPacsQueryList.as_view(), name="allpacsquery-list"),
    path("pacs/queries/search/", views.AllPacsQueryListSearch.as_view(), name="allpacsquery-list-query-search"),
    path("pacs/queries/<int:pk>/", views.PacsQueryDetail.as_view(), name="pacsquery-detail"),
    path("pacs/queries/<int:pk>/retrieves/", views.PacsRetrieveList.as_view(), name="pacsretrieve-list"),
    path("pacs/queries/<int:pk>/retrieves/search/", views.PacsRetrieveListSearch.as_view(),
         name="pacsretrieve-list-query-search"),
    path("pacs/queries/retrieves/<int:pk>/", views.PacsRetrieveDetail.as_view(), name="pacsretrieve-detail"),
    path("pacs/series/", views.PacsSeriesList.as_view(), name="pacsseries-list"),
    path("pacs/series/search/", views.PacsSeriesListSearch.as_view(), name="pacsseries-list-query-search"),
    path("pacs/series/<int:pk>/", views.PacsSeriesDetail.as_view(), name="pacsseries-detail"),
    path("pacs/files/", views.PacsFileList.as_view(), name="pacsfile-list"),
    path("pacs/files/search/", views.PacsFileListSearch.as_view(), name="pacsfile-list-query-search"),
    path("pacs/files/<int:pk>/", views.PacsFileDetail.as_view(), name="pacsfile-detail"),
    path("pacs/files/<int:pk>/<path:name>", views.PacsFileResource.as_view(), name="pacsfile-resource"),
    # classic generation (CUBE 2-5)
    path("pacsfiles/", views.ClassicPacsFileList.as_view(), name="classicpacsfile-list"),
    path("pacsfiles/search/", views.ClassicPacsFileListSearch.as_view(), name="classicpacsfile-list-query-search"),
    path("pacsfiles/<int:pk>/", views.ClassicPacsFileDetail.as_view(), name="classicpacsfile-detail"),
    path("pacsfiles/<int:pk>/<path:name>", views.ClassicPacsFileResource.as_view(),
         name="classicpacsfile-resource"),
    path("servicefiles/", views.ServiceFileList.as_view(), name="servicefile-list"),
    path("servicefiles/search/", views.ServiceFileListSearch.as_view(), name="servicefile-list-query-search"),
    path("servicefiles/<int:pk>/", views.ServiceFileDetail.as_view(), name="servicefile-detail"),
    path("servicefiles/<int:pk>/<path:name>", views.ServiceFileResource.as_view(), name="servicefile-resource"),
]

admin_urlpatterns: list[Any] = [
    path("", views.AdminPacsList.as_view(), name="admin-pacs-list"),
    path("<int:pk>/", views.AdminPacsDetail.as_view(), name="admin-pacs-detail"),
]
