"""``users list``, ``projects list`` and ``repos list``: find a lost id from the shell.

Rows go to stdout as aligned columns (ids first, so ``cut``/``awk`` work) or,
with ``--json``, as one JSON array. Read-only: nothing is written.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from ..db import db, utcnow
from ..models import Project, Repo, User
from ..services import projects as project_svc
from ..services import repos as repo_svc
from .admin import _user, edge


def _emit(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo("(none)", err=True)
        return
    columns = list(rows[0])
    cells = [[("" if r[c] is None else str(r[c])) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _when(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


@click.command("list")
@with_appcontext
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of columns.")
@edge
def list_users(as_json: bool) -> None:
    """Every user: id, email, role, created."""
    rows = db.session.scalars(sa.select(User).order_by(User.id)).all()
    _emit(
        [
            {"id": u.id, "email": u.email, "role": u.role, "created": _when(u.created_at)}
            for u in rows
        ],
        as_json,
    )


@click.command("list")
@with_appcontext
@click.option("--owner", "owner_email", default=None, help="Only this commissioner's projects.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of columns.")
@edge
def list_projects(owner_email: str | None, as_json: bool) -> None:
    """Every project: id, name, owner, number of repos."""
    stmt = (
        sa.select(Project, User.email)
        .join(User, User.id == Project.owner_id)
        .order_by(Project.name, Project.id)
    )
    if owner_email is not None:
        stmt = stmt.where(Project.owner_id == _user(owner_email).id)
    found = db.session.execute(stmt).all()
    counts = project_svc.repo_counts([p.id for p, _ in found])
    _emit(
        [
            {"id": str(p.id), "name": p.name, "owner": email, "repos": counts.get(p.id, 0)}
            for p, email in found
        ],
        as_json,
    )


@click.command("list")
@with_appcontext
@click.argument("project_id", required=False)
@click.option("--sync-method", default=None, help="Only repos on this method.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of columns.")
@edge
def list_repos(project_id: str | None, sync_method: str | None, as_json: bool) -> None:
    """Repos of one project (or of all): id, name, method, status, last sync, commits."""
    stmt = sa.select(Repo).order_by(Repo.project_id, Repo.name, Repo.id)
    if project_id is not None:
        stmt = stmt.where(Repo.project_id == project_svc.find_project(project_id).id)
    if sync_method is not None:
        stmt = stmt.where(Repo.sync_method == sync_method)
    found = db.session.scalars(stmt).all()
    counts = repo_svc.commit_counts([r.id for r in found])
    stale = dt.timedelta(seconds=current_app.config["GITLEAGUE_STALE_AFTER_SECONDS"])
    now = utcnow()
    rows = [
        {
            "id": r.id,
            "name": r.name,
            "project": str(r.project_id),
            "sync_method": r.sync_method,
            "status": r.effective_status(now, stale),
            "last_sync": _when(r.last_sync_at),
            "commits": counts.get(r.id, 0),
        }
        for r in found
    ]
    if project_id is not None:
        for row in rows:
            del row["project"]
    _emit(rows, as_json)


def attach(users: click.Group, projects: click.Group, repos: click.Group) -> None:
    """Add the ``list`` commands to the admin groups."""
    users.add_command(list_users)
    projects.add_command(list_projects)
    repos.add_command(list_repos)
