"""``flask --app wsgi league rebuild [PROJECT_ID]`` and ``league alias set|list|remove``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..db import db
from ..services import league_rules, projects, rollup
from .admin import SHELL, edge

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


alias = AppGroup("alias", help="Merge emails into one person in a project's league.")
league.add_command(alias)


@alias.command("set")
@click.argument("project_id")
@click.argument("emails", nargs=-1, required=True)
@click.option("--name", help="The name shown for the person.")
@edge
def set_alias(project_id: str, emails: tuple[str, ...], name: str | None) -> None:
    """Make EMAILS one person (keyed by the first), shown as --name."""
    group = league_rules.set_alias(SHELL, projects.find_project(project_id), list(emails), name)
    click.echo(f"{group.person_email}: {', '.join(group.emails)}", err=True)


@alias.command("list")
@click.argument("project_id")
@edge
def list_aliases(project_id: str) -> None:
    """Print each alias group: person email, name, emails."""
    for group in league_rules.aliases(projects.find_project(project_id)):
        click.echo(f"{group.person_email}\t{group.name or ''}\t{' '.join(group.emails)}")


@alias.command("remove")
@click.argument("project_id")
@click.argument("email")
@edge
def remove_alias(project_id: str, email: str) -> None:
    """Undo the alias group holding EMAIL."""
    league_rules.remove_alias(SHELL, projects.find_project(project_id), email)
    click.echo(f"removed the alias group of {email}", err=True)


GROUPS = [league]
