"""The admin console at /chris-admin/: users, groups, API tokens and the ChRIS instance, plus what every
page of the console shares (StaffAdmin: staff run the console, as staff run the admin API)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from rest_framework.authtoken.admin import TokenAdmin as DjangoTokenAdmin
from rest_framework.authtoken.models import TokenProxy

from cube.core.models import ChrisInstance

from .services import REQUIRED_GROUPS, user_home_create

admin.site.site_header = "ChRIS administration"
admin.site.site_title = "ChRIS admin"
admin.site.index_title = "Users, plugins, runs, feeds and files"


class StaffAdmin(admin.ModelAdmin):
    """Staff manage everything here, as on the admin REST API: the console does not ask for Django's
    per-model permissions, which ChRIS never grants (it knows only is_staff)."""

    def _staff(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._staff(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._staff(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._staff(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._staff(request)


class ReadOnlyStaffAdmin(StaffAdmin):
    """Rows that only services may write (runs, the file registry): staff look, and act through actions."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown beside their parent (a run's parameters, a plugin's parameters) for staff, never edited."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


User = get_user_model()
for model in (User, Group, TokenProxy):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(User)
class UserAdmin(StaffAdmin, DjangoUserAdmin):
    list_display = ("username", "email", "is_staff", "is_active", "group_names", "feed_count", "date_joined",
                    "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("username", "email", "first_name", "last_name")
    ordering = ("username",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(n_feeds=Count("feeds", distinct=True)).prefetch_related(
            "groups")

    @admin.display(description="groups")
    def group_names(self, obj: Any) -> str:
        return ", ".join(sorted(g.name for g in obj.groups.all()))

    @admin.display(description="feeds", ordering="n_feeds")
    def feed_count(self, obj: Any) -> int:
        return obj.n_feeds

    # Staff manage accounts, but are not the superuser: they may not make anyone one (themselves
    # included), nor change the superuser's account or password (and then sign in as it).
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else (*fields, "is_superuser", "user_permissions")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            # A user added here gets what sign-up gives: the default groups and the home layout.
            obj.groups.add(*[Group.objects.get_or_create(name=name)[0] for name in REQUIRED_GROUPS])
            user_home_create(user=obj)


@admin.register(Group)
class GroupAdmin(StaffAdmin, DjangoGroupAdmin):
    list_display = ("name", "member_count")
    search_fields = ("name", "user__username")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(n_members=Count("user", distinct=True))

    @admin.display(description="members", ordering="n_members")
    def member_count(self, obj: Any) -> int:
        return obj.n_members


@admin.register(TokenProxy)
class TokenAdmin(StaffAdmin, DjangoTokenAdmin):
    """The superuser's only: a token signs in as its user, so reading them is being everyone."""

    search_fields = ("user__username",)

    def _staff(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


@admin.register(ChrisInstance)
class ChrisInstanceAdmin(StaffAdmin):
    list_display = ("name", "uuid", "job_id_prefix", "description", "creation_date")
    readonly_fields = ("uuid", "creation_date")
    search_fields = ("name", "description")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the singleton exists from the first migrate on

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
