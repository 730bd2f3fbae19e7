"""Admin CLI: ``flask --app wsgi users|projects|repos|api-keys ...``.

Commands print ids and keys alone on stdout and messages on stderr, so
scripts can capture them. Each command is a thin shell over a service.
"""

from __future__ import annotations

from flask import Flask

from . import admin, migrate, sync


def init_app(app: Flask) -> None:
    """Register the command groups."""
    for group in admin.GROUPS:
        app.cli.add_command(group)
    app.cli.add_command(migrate.migrate_sync)
    for group in sync.GROUPS:
        app.cli.add_command(group)
