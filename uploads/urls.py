"""CUBE's file URLs (names as CUBE's, which the API root and other apps reverse)."""

from __future__ import annotations

from typing import Any

from django.urls import path

from .views import filebrowser as fb
from .views import tokens, userfiles
from .views.grants import GRANT_VIEWS

# Download URLs end in the file's name, which may contain anything (even slashes): the <path:name> routes
# come after every fixed route under the same prefix.
urlpatterns: list[Any] = [
    path("userfiles/", userfiles.UserFileList.as_view(), name="userfile-list"),
    path("userfiles/search/", userfiles.UserFileListSearch.as_view(), name="userfile-list-query-search"),
    path("userfiles/<int:pk>/", userfiles.UserFileDetail.as_view(), name="userfile-detail"),
    path("userfiles/<int:pk>/<path:name>", userfiles.UserFileResource.as_view(), name="userfile-resource"),
    path("uploadedfiles/", userfiles.UploadedFileList.as_view(), name="uploadedfile-list"),
    path("uploadedfiles/search/", userfiles.UploadedFileListSearch.as_view(),
         name="uploadedfile-list-query-search"),
    path("uploadedfiles/<int:pk>/", userfiles.UploadedFileDetail.as_view(), name="uploadedfile-detail"),
    path("uploadedfiles/<int:pk>/<path:name>", userfiles.UploadedFileResource.as_view(),
         name="uploadedfile-resource"),
    path("downloadtokens/", tokens.DownloadTokenList.as_view(), name="filedownloadtoken-list"),
    path("downloadtokens/search/", tokens.DownloadTokenListSearch.as_view(),
         name="filedownloadtoken-list-query-search"),
    path("downloadtokens/<int:pk>/", tokens.DownloadTokenDetail.as_view(), name="filedownloadtoken-detail"),
    path("filebrowser/", fb.FolderList.as_view(), name="chrisfolder-list"),
    path("filebrowser/search/", fb.FolderListSearch.as_view(), name="chrisfolder-list-query-search"),
    path("filebrowser/<int:pk>/", fb.FolderDetail.as_view(), name="chrisfolder-detail"),
    path("filebrowser/<int:pk>/children/", fb.FolderChildList.as_view(), name="chrisfolder-child-list"),
    path("filebrowser/<int:pk>/files/", fb.FolderFileList.as_view(), name="chrisfolder-file-list"),
    path("filebrowser/<int:pk>/linkfiles/", fb.FolderLinkFileList.as_view(), name="chrisfolder-linkfile-list"),
    path("filebrowser/<int:pk>/download/", fb.FolderDownload.as_view(), name="chrisfolder-download"),
    path("filebrowser/files/<int:pk>/", fb.FileDetail.as_view(), name="chrisfile-detail"),
    path("filebrowser/linkfiles/<int:pk>/", fb.LinkFileDetail.as_view(), name="chrislinkfile-detail"),
]

# Grants: <kind>/<pk>/{group,user}permissions/ (+ search/) and <kind>/{group,user}permissions/<pk>/, where
# <kind> is '' for folders, 'files/' and 'linkfiles/'.
for (kind, grantee), (list_view, search_view, detail_view) in GRANT_VIEWS.items():
    segment = {"folder": "", "file": "files/", "linkfile": "linkfiles/"}[kind]
    name = f"{kind}{grantee}permission"
    urlpatterns += [
        path(f"filebrowser/{segment}<int:pk>/{grantee}permissions/", list_view.as_view(), name=f"{name}-list"),
        path(f"filebrowser/{segment}<int:pk>/{grantee}permissions/search/", search_view.as_view(),
             name=f"{name}-list-query-search"),
        path(f"filebrowser/{segment}{grantee}permissions/<int:pk>/", detail_view.as_view(), name=f"{name}-detail"),
    ]

urlpatterns += [
    path("filebrowser/files/<int:pk>/<path:name>", fb.FileResource.as_view(), name="chrisfile-resource"),
    path("filebrowser/linkfiles/<int:pk>/<path:name>", fb.LinkFileResource.as_view(),
         name="chrislinkfile-resource"),
]
