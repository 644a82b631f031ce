"""Exceptions raised by the DICOM layer; every message names the peer and says what went wrong."""

from __future__ import annotations


class DicomError(Exception):
    """Base class: a DICOM exchange with a peer failed. ``str(exc)`` is meant for end users."""


class DicomConnectionError(DicomError):
    """The TCP connection to the peer could not be opened (refused, unreachable, timed out)."""


class DicomAssociationError(DicomError):
    """The peer rejected or aborted the association, or stopped answering during it."""


class DicomStatusError(DicomError):
    """The peer answered a DIMSE request with a failure status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
