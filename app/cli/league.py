"""``flask --app wsgi league rebuild [PROJECT_ID]``: recompute the league rollup."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..db import db
from ..services import projects, rollup
from .admin import edge

league = AppGroup("league", help="The league tables.")


@league.command("rebuild")
@click.argument("project_id", required=False)
@edge
def rebuild(project_id: str | None) -> None:
    """Recompute the rollup of one project (or of every project) from the stored commits."""
    conn = db.session.connection()
    if project_id is None:
        count = rollup.rebuild_all(conn)
    else:
        rollup.rebuild(conn, projects.find_project(project_id).id)
        count = 1
    click.echo(f"rebuilt the league of {count} project(s)", err=True)


GROUPS = [league]
