"""User services: account creation with the home layout, password and email changes."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from cube.core.services import REQUIRED_GROUPS

WELCOME_TEXT = (
    "Welcome to ChRIS!\n\n"
    "This is your uploads folder: files you upload land here. Run pl-dircopy on a folder to start a feed.\n"
)


def user_home_create(*, user: Any) -> None:
    """Create home/<user>/{uploads,feeds}, the PUBLIC and SHARED link files and uploads/welcome.txt."""
    from uploads.models import ChrisFile
    from uploads.services import file_store, folder_get_or_create, link_file_create

    home = f"home/{user.username}"
    folder_get_or_create(path=f"{home}/uploads", owner=user)
    folder_get_or_create(path=f"{home}/feeds", owner=user)
    link_file_create(owner=user, fname=f"{home}/public.chrislink", target="PUBLIC")
    link_file_create(owner=user, fname=f"{home}/shared.chrislink", target="SHARED")
    welcome = f"{home}/uploads/welcome.txt"
    if not ChrisFile.objects.filter(fname=welcome).exists():
        try:
            file_store(owner=user, path=welcome, chunks=[WELCOME_TEXT.encode()])
        except FileExistsError:
            pass


def user_create(*, username: str, password: str, email: str) -> Any:
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.create_user(username=username, email=email, password=password)
        user.groups.add(*[Group.objects.get_or_create(name=name)[0] for name in REQUIRED_GROUPS])
        user_home_create(user=user)
    return user


def user_update(*, user: Any, email: str | None = None, password: str | None = None) -> Any:
    fields = []
    if email is not None:
        user.email = email
        fields.append("email")
    if password is not None:
        user.set_password(password)
        fields.append("password")
    if fields:
        user.save(update_fields=fields)
    return user
