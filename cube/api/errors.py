"""Every error is a 4xx/5xx in the client's media type: never Django's HTML page."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cube.storage.base import ObjectNotFound, StorageError

log = logging.getLogger(__name__)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})
    response = drf_exception_handler(exc, context)
    if response is not None:
        return response
    if isinstance(exc, StorageError) and not isinstance(exc, ObjectNotFound):
        # The storage backend (Swift) failed after its retries: nothing was registered, and the client may
        # simply send the request again, so say that instead of a bare 500. The backend's own message can
        # name internal addresses: it goes to the log only. (A registered file whose object is missing,
        # ObjectNotFound, is a real inconsistency and stays a logged 500.)
        log.warning("storage unavailable in %s: %s", context.get("view"), exc)
        return Response({"detail": "The storage is unavailable right now; nothing was stored or changed. "
                                   "Try again in a moment."},
                        status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})
    if isinstance(exc, IntegrityError):
        # A uniqueness race the serializer could not see in advance: a conflict, not a crash.
        return Response({"detail": "The request conflicts with existing data."}, status=status.HTTP_409_CONFLICT)
    log.exception("unhandled error in %s", context.get("view"))
    return Response({"detail": "Internal server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
