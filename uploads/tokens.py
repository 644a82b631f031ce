"""One-time download tokens, as CUBE: a JWT (HS512, SECRET_KEY, 10 minutes) that is also stored, so that
it can be used once: the first request that presents it deletes its row.

Browsers cannot send an Authorization header on a plain link, so the UI mints a token and appends
``?download_token=<jwt>`` to a file's URL. Every file-download view accepts it through
DownloadTokenAuthentication.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework import authentication, exceptions

from .models import FileDownloadToken

ALGORITHM = "HS512"
LIFETIME = dt.timedelta(minutes=10)
QUERY_PARAM = "download_token"


def download_token_create(*, owner: Any) -> FileDownloadToken:
    now = dt.datetime.now(dt.UTC)
    payload = {"user": owner.get_username(), "nonce": secrets.token_hex(16), "exp": now + LIFETIME}
    token = jwt.encode(payload, settings.SECRET_KEY, algorithm=ALGORITHM)
    return FileDownloadToken.objects.create(owner=owner, token=token)


def download_token_consume(token: str) -> Any:
    """The user the token was minted for; the token is deleted. AuthenticationFailed if it is not (or no
    longer) valid. The delete is the claim: of two concurrent uses, only one deletes the row."""
    try:
        payload = jwt.decode(token, settings.SECRET_KEY, algorithms=[ALGORITHM])
    except jwt.ExpiredSignatureError:
        FileDownloadToken.objects.filter(token=token).delete()
        raise exceptions.AuthenticationFailed("This download token has expired.") from None
    except jwt.InvalidTokenError:
        raise exceptions.AuthenticationFailed("Invalid download token.") from None
    username = payload.get("user")
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise exceptions.AuthenticationFailed("Invalid download token.")
    deleted, _ = FileDownloadToken.objects.filter(token=token, owner=user).delete()
    if not deleted:
        raise exceptions.AuthenticationFailed("This download token has already been used.")
    return user


class DownloadTokenAuthentication(authentication.BaseAuthentication):
    """``?download_token=<jwt>`` on a file-download URL; other authentication still applies without it."""

    def authenticate(self, request: Any) -> tuple[Any, None] | None:
        token = request.query_params.get(QUERY_PARAM)
        if not token:
            return None
        return download_token_consume(token), None

    def authenticate_header(self, request: Any) -> str:
        return "Token"
