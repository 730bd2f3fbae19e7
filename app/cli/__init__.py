"""Admin CLI: ``flask --app wsgi users|projects|repos|api-keys|migrate-sync|sync ...``.

Commands print ids and keys alone on stdout and messages on stderr, so
scripts can capture them. Each command is a thin shell over a service.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import click
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from . import admin, league, listing, migrate, sync


def _database_errors_as_messages(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise click.ClickException(
                f"database error: {reason} (is DATABASE_URL right, and has "
                "`flask --app wsgi db upgrade` been run?)"
            ) from None

    return wrapper


def _guard(commands: Iterable[click.Command]) -> None:
    # The edge of every command: an unreachable or unmigrated database is one
    # readable line and exit status 1, never a traceback.
    for command in commands:
        if isinstance(command, click.Group):
            _guard(command.commands.values())
        elif command.callback is not None and not getattr(command, "_gl_guarded", False):
            command.callback = _database_errors_as_messages(command.callback)
            command._gl_guarded = True  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    """Register the command groups."""
    listing.attach(admin.users, admin.projects, admin.repos)
    groups = [*admin.GROUPS, migrate.migrate_sync, *sync.GROUPS, *league.GROUPS]
    _guard(groups)
    for group in groups:
        app.cli.add_command(group)
