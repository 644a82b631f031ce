"""Token and Basic authentication as the ChRIS clients use them.

Basic auth is sent on every request by pfurl and httpie scripts. Verifying a PBKDF2 password costs about
0.3 s of CPU, so CUBE manages ~5 requests/s per core. We remember a successful verification for a short
time under an HMAC of (username, password) keyed with SECRET_KEY, bound to the user's current password
hash: a changed password (or deactivated user) invalidates it at once, a wrong password is always
verified in full, and the cache never holds the password or anything it can be recovered from.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from cube.core import rows


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>``, keyword in any case (the chrs CLI sends ``token``)."""

    def authenticate(self, request: Any) -> Any:
        auth = authentication.get_authorization_header(request).split()
        if not auth or auth[0].lower() != self.keyword.lower().encode():
            return None
        if len(auth) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected 'Token <key>'.")
        try:
            token = auth[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token header.") from None
        return self.authenticate_credentials(token)

    def authenticate_credentials(self, key: str) -> Any:
        # DRF's own lookup compiles a select_related query per request: on every file download that was
        # a fifth of the server's CPU. Same query, same checks, same messages.
        token = rows.get_one(Token, "pk", key, related="user")
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return (token.user, token)


def _cache_key(username: str, password: str) -> str:
    mac = hmac.new(settings.SECRET_KEY.encode(), f"{username}\0{password}".encode(), hashlib.sha256)
    return "cube:basic:" + mac.hexdigest()


def _hash_fingerprint(password_hash: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), password_hash.encode(), hashlib.sha256).hexdigest()


class CachedBasicAuthentication(authentication.BasicAuthentication):
    def authenticate_credentials(self, userid: str, password: str, request: Any = None) -> Any:
        if "\x00" in userid:  # no username has one, and PostgreSQL refuses to compare it (a 500)
            raise exceptions.AuthenticationFailed("Invalid username/password.")
        ttl = settings.CUBE_BASIC_AUTH_CACHE_SECONDS
        if ttl <= 0:
            return super().authenticate_credentials(userid, password, request)
        cache = caches["default"]
        key = _cache_key(userid, password)
        hit = cache.get(key)
        if hit is not None:
            user_id, fingerprint = hit
            user = rows.get_one(get_user_model(), "pk", user_id)
            if user is not None and user.is_active and user.get_username() == userid and hmac.compare_digest(
                    fingerprint, _hash_fingerprint(user.password)):
                return (user, None)
            cache.delete(key)
        user, auth = super().authenticate_credentials(userid, password, request)
        cache.set(key, (user.pk, _hash_fingerprint(user.password)), ttl)
        return (user, auth)
