"""Users, groups and memberships. Thin: validation in serializers, changes in services."""

from __future__ import annotations

from typing import Any

import django_filters
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.http import Http404
from rest_framework import generics, permissions, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import PermissionDenied
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from cube.api.parsers import (
    CollectionJsonParser,
    CubeFormParser,
    CubeMultiPartParser,
    TemplateAwareJSONParser,
)
from cube.api.permissions import IsStaff, is_superuser
from cube.api.views import CJViewMixin

from . import services
from .serializers import GroupSerializer, GroupUserSerializer, UserSerializer

User = get_user_model()
Membership = User.groups.through


class AuthToken(ObtainAuthToken):
    """POST username+password (JSON, form or CJ template) → {"token": ...}; bad credentials → 400."""

    renderer_classes = (JSONRenderer,)
    parser_classes = (TemplateAwareJSONParser, CollectionJsonParser, CubeFormParser, CubeMultiPartParser)


class UserCreate(CJViewMixin, generics.ListCreateAPIView):
    """GET is an empty list with the sign-up template (the UI reads ``Allow`` to see if sign-up is open)."""

    serializer_class = UserSerializer
    cj_template = ("username", "password", "email")

    def get_queryset(self) -> Any:
        return User.objects.none()

    @property
    def allowed_methods(self) -> list[str]:  # type: ignore[override]
        methods = super().allowed_methods
        if settings.DISABLE_USER_ACCOUNT_CREATION:
            methods = [m for m in methods if m != "POST"]
        return methods

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        if settings.DISABLE_USER_ACCOUNT_CREATION:
            raise PermissionDenied("User account creation is disabled on this server.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_create(**{k: serializer.validated_data[k] for k in ("username", "password", "email")})
        out = self.get_serializer(user)
        return Response(out.data, status=status.HTTP_201_CREATED)


def _self_or_admin(request: Any, user_id: Any) -> Any:
    # CUBE lets any signed-in user read any user's email; we show a user only to themself and admins.
    user = User.objects.filter(pk=user_id).first() if str(user_id).isdigit() else None
    if user is None or not (request.user.pk == user.pk or is_superuser(request.user) or request.user.is_staff):
        raise Http404("Not found.")
    return user


class UserDetail(CJViewMixin, generics.RetrieveUpdateAPIView):
    serializer_class = UserSerializer
    permission_classes = (permissions.IsAuthenticated,)
    cj_template = ("email", "password")
    http_method_names = ["get", "put", "head", "options"]

    def get_object(self) -> Any:
        return _self_or_admin(self.request, self.kwargs["pk"])

    def update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        user = self.get_object()
        if request.user.pk != user.pk and not is_superuser(request.user):
            raise PermissionDenied("Only the user themself or the superuser may change an account.")
        serializer = self.get_serializer(user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.user_update(user=user, email=data.get("email"), password=data.get("password"))
        return Response(self.get_serializer(user).data)


class UserGroupList(CJViewMixin, generics.ListAPIView):
    serializer_class = GroupSerializer
    permission_classes = (permissions.IsAuthenticated,)
    cj_links = {"user": ("user-detail", {"pk": "pk"})}

    def get_queryset(self) -> Any:
        return _self_or_admin(self.request, self.kwargs["pk"]).groups.order_by("id")


class GroupFilter(django_filters.FilterSet):
    name_icontains = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Group
        fields = ("id", "name", "name_icontains")


class GroupList(CJViewMixin, generics.ListCreateAPIView):
    serializer_class = GroupSerializer
    permission_classes = (permissions.IsAuthenticated,)
    queryset = Group.objects.order_by("id")
    cj_search = "group-list-query-search"
    cj_template = ("name",)

    def get_permissions(self) -> Any:
        if self.request.method == "POST":
            return [IsStaff()]
        return super().get_permissions()


class GroupListSearch(generics.ListAPIView):
    serializer_class = GroupSerializer
    permission_classes = (permissions.IsAuthenticated,)
    queryset = Group.objects.order_by("id")
    filterset_class = GroupFilter
    filter_backends = (django_filters.rest_framework.DjangoFilterBackend,)


class GroupDetail(CJViewMixin, generics.RetrieveDestroyAPIView):
    serializer_class = GroupSerializer
    permission_classes = (permissions.IsAuthenticated,)
    queryset = Group.objects.all()

    def get_permissions(self) -> Any:
        if self.request.method == "DELETE":
            return [IsStaff()]
        return super().get_permissions()

    def perform_destroy(self, instance: Any) -> None:
        if instance.name in ("all_users", "pacs_users"):
            raise PermissionDenied(f"The group '{instance.name}' is required and cannot be deleted.")
        instance.delete()


class MembershipFilter(django_filters.FilterSet):
    username = django_filters.CharFilter(field_name="user__username")

    class Meta:
        model = Membership
        fields = ("id", "username")


class GroupUserList(CJViewMixin, generics.ListCreateAPIView):
    serializer_class = GroupUserSerializer
    permission_classes = (permissions.IsAuthenticated,)
    cj_links = {"group": ("group-detail", {"pk": "pk"})}
    cj_search = "group-user-list-query-search"
    cj_search_kwargs = {"pk": "pk"}
    cj_template = ("username",)

    def get_permissions(self) -> Any:
        if self.request.method == "POST":
            return [IsStaff()]
        return super().get_permissions()

    def get_queryset(self) -> Any:
        group = generics.get_object_or_404(Group, pk=self.kwargs["pk"])
        return Membership.objects.filter(group=group).select_related("user", "group").order_by("id")

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        group = generics.get_object_or_404(Group, pk=self.kwargs["pk"])
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = User.objects.filter(username=serializer.validated_data["username"]).first()
        if user is None:
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"username": ["No user with this username."]})
        row, _ = Membership.objects.get_or_create(group=group, user=user)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)


class GroupUserListSearch(GroupUserList):
    filterset_class = MembershipFilter
    filter_backends = (django_filters.rest_framework.DjangoFilterBackend,)
    http_method_names = ["get", "head", "options"]


class GroupUserDetail(CJViewMixin, generics.RetrieveDestroyAPIView):
    serializer_class = GroupUserSerializer
    permission_classes = (permissions.IsAuthenticated,)
    queryset = Membership.objects.select_related("user", "group")

    def get_permissions(self) -> Any:
        if self.request.method == "DELETE":
            return [IsStaff()]
        return super().get_permissions()
