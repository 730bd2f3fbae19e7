"""The one error tree of the server.

Every error a user can cause or meet is a :class:`GitLeagueError` with a
stable ``code`` and an HTTP ``status``. The API turns them into
``{"error": {"code", "message"}}``; CLI commands into a message and an exit
code. Errors specific to one part live beside the code that raises them but
still derive from these classes.
"""

from __future__ import annotations

from typing import Any


class GitLeagueError(Exception):
    """Root of every error GitLeague reports to a user."""

    code = "error"
    status = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of this error."""
        return {"error": {"code": self.code, "message": self.message, **self.extra}}

    def headers(self) -> dict[str, str]:
        """HTTP headers that go with this error (none by default)."""
        return {}


class ConfigurationError(GitLeagueError):
    """The server's own settings are unusable."""

    code = "configuration_error"
    status = 500


class BadRequestError(GitLeagueError):
    """The request is malformed or names something invalid."""

    code = "bad_request"
    status = 400


class ValidationFailedError(GitLeagueError):
    """The request is well formed but its content is not valid."""

    code = "validation_error"
    status = 422


class AuthenticationError(GitLeagueError):
    """No valid credentials came with the request."""

    code = "unauthorized"
    status = 401


class ApiKeyNotFoundError(AuthenticationError):
    """The API key is malformed, unknown or revoked (the guide's wording)."""

    code = "api_key_not_found"

    def __init__(self) -> None:
        super().__init__("API key not found")


class PermissionDeniedError(GitLeagueError):
    """The caller may see the object but lacks the scope or role to act."""

    code = "forbidden"
    status = 403


class NotFoundError(GitLeagueError):
    """Missing, or outside the caller's reach (the two look the same)."""

    code = "not_found"
    status = 404


class RepositoryNotFoundError(NotFoundError):
    """The guide's wording for a repo the caller cannot see."""

    code = "repository_not_found"

    def __init__(self, repo_id: str | None = None) -> None:
        super().__init__("Repository not found")


class ConflictError(GitLeagueError):
    """The request conflicts with the current state."""

    code = "conflict"
    status = 409


class PayloadTooLargeError(GitLeagueError):
    """The body or a list inside it is over its limit."""

    code = "payload_too_large"
    status = 413


class RateLimitedError(GitLeagueError):
    """Too many attempts; try again later."""

    code = "rate_limited"
    status = 429


class ServiceUnavailableError(GitLeagueError):
    """A service the server needs is down or busy: the same request may be retried."""

    code = "service_unavailable"
    status = 503

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        """``Retry-After``: when a retry makes sense, in seconds."""
        return {"Retry-After": str(self.retry_after)}


class DatabaseUnavailableError(ServiceUnavailableError):
    """The database cannot be reached or opened."""

    code = "database_unavailable"


class DatabaseBusyError(ServiceUnavailableError):
    """The database gave up on this transaction (deadlock, serialization, lock wait)."""

    code = "database_busy"
