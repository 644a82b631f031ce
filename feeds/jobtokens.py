"""Job-scoped API tokens for plugins (CUBE hands containers the user's permanent token).

A token names one plugin instance and is signed with SECRET_KEY; it authenticates as the instance's
owner only while that instance is still active, so it dies with the job and cannot outlive it.
"""

from __future__ import annotations

import re
from typing import Any

from django.core import signing
from rest_framework import authentication, exceptions

SALT = "cube.feeds.job-token"
PREFIX = "job."


# What a token looks like in text: the prefix, then signing's URL-safe base64 and ':'-separated fields.
TOKEN_IN_TEXT = re.compile(re.escape(PREFIX) + r"[\w.:-]{16,}")


def mask_job_tokens(text: str) -> str:
    """text with every job token masked. A plugin that prints its environment puts its token in its
    logs, which every reader of the feed may fetch, and the token acts as the run's owner."""
    return TOKEN_IN_TEXT.sub(PREFIX + "<hidden>", text)


def job_token(instance: Any) -> str:
    return PREFIX + signing.dumps({"i": instance.id, "u": instance.owner_id}, salt=SALT, compress=True)


class JobTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token job.<signed>`` while the job runs."""

    def authenticate_header(self, request: Any) -> str:
        # DRF answers 401 (not 403) only when the first authenticator names a scheme.
        return "Token"

    def authenticate(self, request: Any) -> Any:
        auth = authentication.get_authorization_header(request).split()
        if len(auth) != 2 or auth[0].lower() != b"token" or not auth[1].startswith(PREFIX.encode()):
            return None
        from .models import ACTIVE, PluginInstance

        try:
            data = signing.loads(auth[1].decode()[len(PREFIX):], salt=SALT, max_age=7 * 24 * 3600)
        except (signing.BadSignature, UnicodeError):
            raise exceptions.AuthenticationFailed("Invalid job token.") from None
        inst = PluginInstance.objects.select_related("owner").filter(id=data.get("i"), owner_id=data.get("u")).first()
        if inst is None or inst.status not in ACTIVE or not inst.owner.is_active:
            raise exceptions.AuthenticationFailed("This job token has expired: its job is no longer running.")
        return (inst.owner, None)
