from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from rest_framework import serializers

from cube.api.fields import ReverseLinkField

USERNAME_RE = re.compile(r"^[\w.@+-]{4,32}$")
RESERVED = {"chris", "PUBLIC", "SHARED", "SERVICES", "PIPELINES", "home"}


class UserSerializer(serializers.HyperlinkedModelSerializer):
    password = serializers.CharField(write_only=True, min_length=8, max_length=128, style={"input_type": "password"})
    email = serializers.EmailField(required=True)
    groups = ReverseLinkField("user-group-list")

    class Meta:
        model = get_user_model()
        fields = ("url", "id", "username", "email", "password", "is_staff", "groups")
        read_only_fields = ("is_staff",)
        extra_kwargs = {"url": {"view_name": "user-detail"}}

    def validate_username(self, value: str) -> str:
        if self.instance is not None and value != self.instance.username:
            raise serializers.ValidationError("The username cannot be changed.")
        if self.instance is None:
            if not USERNAME_RE.match(value):
                raise serializers.ValidationError(
                    "Usernames are 4 to 32 characters: letters, digits and . @ + - _ (no '/' or ',').")
            if value in RESERVED or value.lower() in {r.lower() for r in RESERVED}:
                raise serializers.ValidationError("This username is reserved.")
            if get_user_model().objects.filter(username__iexact=value).exists():
                raise serializers.ValidationError("A user with that username already exists.")
        return value

    def validate_email(self, value: str) -> str:
        qs = get_user_model().objects.filter(email__iexact=value)
        if self.instance is not None:
            qs = qs.exclude(pk=self.instance.pk)
        if qs.exists():
            raise serializers.ValidationError("This email is already registered.")
        return value

    def validate_password(self, value: str) -> str:
        validate_password(value)
        return value

    def get_fields(self) -> Any:
        fields = super().get_fields()
        if self.instance is not None:
            fields["username"].required = False
            fields["email"].required = False
            fields["password"].required = False
        return fields


class GroupSerializer(serializers.HyperlinkedModelSerializer):
    users = ReverseLinkField("group-user-list")

    class Meta:
        model = Group
        fields = ("url", "id", "name", "users")
        extra_kwargs = {"url": {"view_name": "group-detail"}}


class GroupUserSerializer(serializers.Serializer):
    """A membership row: CUBE exposes memberships as their own resources (/groups/users/<pk>/)."""

    url = serializers.SerializerMethodField()
    id = serializers.IntegerField(read_only=True)
    group_id = serializers.IntegerField(read_only=True)
    group_name = serializers.CharField(source="group.name", read_only=True)
    user_id = serializers.IntegerField(read_only=True)
    user_username = serializers.CharField(source="user.username", read_only=True)
    username = serializers.CharField(write_only=True)
    group = ReverseLinkField("group-detail", kwargs={"pk": "group_id"})
    user = ReverseLinkField("user-detail", kwargs={"pk": "user_id"})

    def get_url(self, obj: Any) -> str:
        from rest_framework.reverse import reverse

        return reverse("groupuser-detail", kwargs={"pk": obj.pk}, request=self.context.get("request"))
