"""The client's error root and its documented exit codes.

Specific errors live beside the code that raises them (``config.ConfigError``,
``api.AuthError``, ``fetch.BranchNotFoundError``, ...); all derive from
:class:`ClientError`, which knows the exit code the command line turns it into.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Exit statuses of ``gitleague-client``; documented in the README."""

    OK = 0
    #: Some repositories or commits failed; the others synced.
    PARTIAL_FAILURE = 1
    #: Bad command line (click's own code for usage errors).
    USAGE = 2
    #: repos.yaml is missing, unreadable or invalid; nothing was sent.
    CONFIG = 3
    #: No API key, or the server does not know it ("API key not found").
    AUTH = 4
    #: The server could not be reached ("Connection timeout", "Connection refused",
    #: "Unknown host"), even after retrying.
    UNREACHABLE = 5
    #: The server answered that it is unavailable (502/503/504) for longer than the
    #: retry budget: an outage on the server's side; the next run tries again.
    SERVER_UNAVAILABLE = 6
    #: Stopped by Ctrl-C (128 + SIGINT, as shells report it).
    INTERRUPTED = 130
    #: Stopped by SIGTERM (128 + SIGTERM).
    TERMINATED = 143


class ClientError(Exception):
    """Root of every error the client reports to its user.

    ``hint`` holds the fix (the guide's "Solution"), printed under the message.
    """

    exit_code: ExitCode = ExitCode.PARTIAL_FAILURE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message
