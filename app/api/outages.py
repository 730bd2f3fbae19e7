"""Outages become clean, retryable answers: 503 with ``Retry-After``.

A database that is down, a transaction PostgreSQL rolled back to break a
deadlock or a serialization conflict, a SQLite file that is locked or cannot
be opened: none of these is the client's fault or a bug, and
the same request may well succeed a moment later. Other database errors
stay 500s: they are bugs.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from ..errors import DatabaseBusyError, DatabaseUnavailableError, ServiceUnavailableError

log = logging.getLogger(__name__)

BUSY_RETRY_AFTER = 1
DOWN_RETRY_AFTER = 5


def database_error(error: sa.exc.SQLAlchemyError) -> ServiceUnavailableError | None:
    """The retryable outage ``error`` stands for, or None when it is a bug."""
    if isinstance(error, sa.exc.TimeoutError):  # no pooled connection came free in time
        return DatabaseBusyError("the database is busy; retry", retry_after=BUSY_RETRY_AFTER)
    if not isinstance(error, sa.exc.DBAPIError):
        return None
    orig = error.orig
    sqlstate = str(getattr(orig, "sqlstate", "") or "")
    # Class 40: PostgreSQL rolled the transaction back (40001 serialization
    # failure, 40P01 deadlock); SQLite says "locked" when busy_timeout ran out.
    if sqlstate.startswith("40") or "database is locked" in str(orig):
        return DatabaseBusyError(
            "the database rolled this request back to resolve a conflict; retry",
            retry_after=BUSY_RETRY_AFTER,
        )
    if error.connection_invalidated or isinstance(
        error, (sa.exc.OperationalError, sa.exc.InterfaceError)
    ):
        return DatabaseUnavailableError(
            "the database is unavailable; retry later", retry_after=DOWN_RETRY_AFTER
        )
    return None


def outage(error: sa.exc.SQLAlchemyError) -> ServiceUnavailableError:
    """The 503 for a database outage; any other database error is raised again (a 500)."""
    translated = database_error(error)
    if translated is None:
        raise error
    log.warning("%s: %s", translated.code, error)
    return translated
