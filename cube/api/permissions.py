"""Permission classes shared by the apps. Object-level decisions live in the apps' access selectors."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions


def is_superuser(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_superuser)


class IsStaff(permissions.BasePermission):
    message = "Only administrators may do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class IsStaffOrReadOnly(permissions.BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
