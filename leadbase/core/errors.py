"""Errors that services raise and both the UI and the API turn into a clear 4xx message."""

from __future__ import annotations


class ApplicationError(Exception):
    """A request that cannot be carried out as asked; `message` tells the person what to fix."""

    status = 400

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, str] = fields or {}


class ValidationFailed(ApplicationError):
    """Input that is malformed; `fields` maps each bad field to what is wrong with it."""

    status = 422


class NotFound(ApplicationError):
    status = 404


class PermissionDenied(ApplicationError):
    status = 403
