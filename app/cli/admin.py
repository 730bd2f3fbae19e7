"""Users, projects, repos and API keys from the shell."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from ..db import db
from ..errors import GitLeagueError, NotFoundError, ValidationFailedError
from ..models import ApiKey, User
from ..services import api_keys as key_svc
from ..services import projects as project_svc
from ..services import repos as repo_svc
from ..services import users as user_svc

SHELL = "cli"


def edge(func: Callable[..., Any]) -> Callable[..., Any]:
    """Commit on success; turn GitLeague errors into a message and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = func(*args, **kwargs)
            db.session.commit()
            return result
        except GitLeagueError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from None

    return wrapper


def _user(email: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == User.normalize_email(email)))
    if user is None:
        raise NotFoundError(f"no user with email {email}")
    return user


users = AppGroup("users", help="Manage users.")
projects = AppGroup("projects", help="Manage projects.")
repos = AppGroup("repos", help="Manage repositories.")
api_keys = AppGroup("api-keys", help="Manage API keys.")
GROUPS = (users, projects, repos, api_keys)


@users.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Reach every project.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@edge
def create_user(email: str, admin: bool, password: str) -> None:
    """Create a user; prints the user id."""
    user = user_svc.create_user(SHELL, email, password, admin=admin)
    click.echo(user.id)
    click.echo(f"created {user.role} {user.email}", err=True)


@projects.command("create")
@click.argument("name")
@click.option("--owner", "owner_email", required=True, help="Email of the commissioner.")
@edge
def create_project(name: str, owner_email: str) -> None:
    """Create a project; prints the project id."""
    if not name.strip() or len(name) > 200:
        raise ValidationFailedError("name: use 1 to 200 characters")
    project = project_svc.create_project(SHELL, name, _user(owner_email))
    click.echo(project.id)


@repos.command("add")
@click.argument("project_id")
@click.option("--name", required=True)
@click.option("--git-url", required=True)
@click.option("--branch", default="main", show_default=True)
@click.option("--sync-method", default=None, help="Default: push_client.")
@click.option("--id", "repo_id", default=None, help="A readable id such as test-repo-1.")
@edge
def add_repo(
    project_id: str,
    name: str,
    git_url: str,
    branch: str,
    sync_method: str | None,
    repo_id: str | None,
) -> None:
    """Register a repository; prints the repo id."""
    project = project_svc.find_project(project_id)
    repo = repo_svc.create_repo(
        SHELL,
        project,
        name=name,
        git_url=git_url,
        branch=branch,
        sync_method=sync_method,
        repo_id=repo_id,
    )
    click.echo(repo.id)


@api_keys.command("create")
@click.option("--user", "email", required=True)
@click.option("--name", required=True)
@click.option("--scopes", required=True, help="Comma-separated, e.g. sync:commits,read:repos")
@edge
def create_key(email: str, name: str, scopes: str) -> None:
    """Create an API key; prints the key (shown only once)."""
    wanted = [s.strip() for s in scopes.split(",") if s.strip()]
    key, raw = key_svc.create(SHELL, _user(email), name, wanted)
    click.echo(raw)
    click.echo(f"created key {key.id} {key.masked}; copy it now, it is shown only once", err=True)


@api_keys.command("revoke")
@click.argument("key_id", type=int)
@edge
def revoke_key(key_id: int) -> None:
    """Revoke an API key by id."""
    key = db.session.get(ApiKey, key_id)
    if key is None:
        raise NotFoundError(f"no API key with id {key_id}")
    key_svc.revoke(SHELL, key)
    click.echo(f"revoked {key.masked}", err=True)
