from django.urls import path

from . import views

urlpatterns = [
    path("auth-token/", views.AuthToken.as_view(), name="api-token-auth"),
    path("users/", views.UserCreate.as_view(), name="user-create"),
    path("users/<int:pk>/", views.UserDetail.as_view(), name="user-detail"),
    path("users/<int:pk>/groups/", views.UserGroupList.as_view(), name="user-group-list"),
    path("groups/", views.GroupList.as_view(), name="group-list"),
    path("groups/search/", views.GroupListSearch.as_view(), name="group-list-query-search"),
    path("groups/<int:pk>/", views.GroupDetail.as_view(), name="group-detail"),
    path("groups/<int:pk>/users/", views.GroupUserList.as_view(), name="group-user-list"),
    path("groups/<int:pk>/users/search/", views.GroupUserListSearch.as_view(), name="group-user-list-query-search"),
    path("groups/users/<int:pk>/", views.GroupUserDetail.as_view(), name="groupuser-detail"),
]
