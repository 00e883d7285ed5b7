"""Domain errors raised by services.

Services raise these; `portal.api.exceptions` turns them into the one JSON error body of the API
and `portal.views.DomainErrorMixin` into form errors or messages for the browser. Nothing else
catches them, so every service error reaches the user the same way.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class. `status` is the HTTP status the API answers with."""

    status = 400
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, details=None):
        super().__init__(str(message))
        self.message = message
        self.code = code or self.default_code
        self.field = field
        # Structured details for the API's `details` (e.g. the matches of a duplicate warning);
        # without them, `field` gives `{field: [message]}`.
        self.details = details


class InvalidInput(DomainError):
    """The caller sent something that cannot be accepted (400)."""

    status = 400
    default_code = "invalid"


class PermissionDenied(DomainError):
    """The caller may see the object but not do this to it (403)."""

    status = 403
    default_code = "permission_denied"


class NotFound(DomainError):
    """The object does not exist for this caller (404). Also used to hide what may not be seen."""

    status = 404
    default_code = "not_found"


class Conflict(DomainError):
    """The object's state does not allow this now (409): a lost race or a refused transition."""

    status = 409
    default_code = "conflict"


class TooManyRequests(DomainError):
    """The caller sent too many of these; `retry_after` seconds until it may again (429)."""

    status = 429
    default_code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None, field: str | None = None):
        super().__init__(message, code=code, field=field)
        self.retry_after = int(retry_after)
