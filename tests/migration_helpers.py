"""The migration guide's world (12 pull + 2 push repos) and script runners."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.db import db, utcnow
from app.models import Repo
from app.sync_methods.testing import add_commits

ROOT = Path(__file__).resolve().parent.parent
CREDENTIALS = b"gAAAAAB-not-a-real-fernet-token"
#: The guide's sha "abc123def456", completed to a full commit id.
GUIDE_SHA = "abc123def456" + "0" * 28

#: id, name, project ("main" or "b"), sync method
PULL_REPOS = [
    ("abc123", "Frontend", "main"),
    ("def456", "Backend API", "main"),
    ("my-app", "My App", "main"),
    ("test-repo-1", "Test Repo 1", "main"),
    ("test-repo-2", "Test Repo 2", "main"),
    ("repo-1", "Repo 1", "b"),
    ("repo-2", "Repo 2", "b"),
    ("repo-3", "Repo 3", "b"),
    ("repo-4", "Repo 4", "main"),
    ("repo-5", "Repo 5", "main"),
    ("legacy-11", "Legacy 11", "main"),
    ("legacy-12", "Legacy 12", "main"),
]
PUSH_REPOS = [("push-01", "Push One", "main"), ("push-02", "Push Two", "main")]


@dataclass
class World:
    """Ids of what :func:`build_world` made."""

    owner: Any
    project: str
    project_b: str
    commits: dict[str, int]


def build_world(app: Any, seed: Any) -> World:
    """12 pull repos with credentials, commits and a resume sha; 2 push repos."""
    owner = seed.actor("commissioner@example.org")
    main, other = seed.project(owner, "My Project"), seed.project(owner, "Project B")
    projects = {"main": main, "b": other}
    for rid, name, where in PULL_REPOS:
        seed.repo(projects[where], name=name, repo_id=rid, sync_method="pull_celery")
    for rid, name, where in PUSH_REPOS:
        seed.repo(projects[where], name=name, repo_id=rid, sync_method="push_client")
    counts = {}
    with app.app_context():
        for n, (rid, _name, _where) in enumerate(PULL_REPOS + PUSH_REPOS):
            shas = add_commits(rid, 3 + n, rid)
            counts[rid] = len(shas)
            repo = db.session.get(Repo, rid)
            repo.last_ingested_sha = GUIDE_SHA if rid == "my-app" else shas[-1]
            repo.sync_status = "healthy"
            # Half synced an hour ago, half three days ago.
            repo.last_sync_at = utcnow() - dt.timedelta(hours=1 if n % 2 else 72)
            if repo.sync_method == "pull_celery":
                repo.credentials_encrypted = CREDENTIALS
                repo.credentials_updated_at = utcnow()
        db.session.commit()
    return World(owner, main, other, counts)


def run_script(database_url: str, script: str, *args: str, encoding: str = "utf-8") -> Any:
    """Run ``python scripts/<script> ARGS`` as a user would, against ``database_url``."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DATABASE_URL": database_url,
        "PYTHONIOENCODING": encoding,
    }
    return subprocess.run(
        [sys.executable, f"scripts/{script}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding=encoding,
        errors="replace",
        timeout=120,
        check=False,
    )


def migrate_script(database_url: str, *args: str, **kw: Any) -> Any:
    """``python scripts/migrate_repos_to_push.py ARGS``."""
    return run_script(database_url, "migrate_repos_to_push.py", *args, **kw)


def snapshot(app: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ordered, to compare before and after."""
    with app.app_context():
        out = {}
        for table in db.metadata.sorted_tables:
            stmt = sa.select(table).order_by(*table.primary_key.columns)
            out[table.name] = [tuple(row) for row in db.session.execute(stmt)]
        out["alembic_version"] = list(
            db.session.execute(sa.text("SELECT version_num FROM alembic_version"))
        )
        db.session.rollback()
        return out


def repo_state(app: Any, repo_id: str) -> dict[str, Any]:
    """The columns the guide makes promises about."""
    with app.app_context():
        repo = db.session.get(Repo, repo_id)
        from app.models import Commit

        commits = db.session.scalar(
            sa.select(sa.func.count()).select_from(Commit).where(Commit.repo_id == repo_id)
        )
        state = {
            "sync_method": repo.sync_method,
            "sync_status": repo.sync_status,
            "credentials": repo.credentials_encrypted,
            "last_ingested_sha": repo.last_ingested_sha,
            "commits": commits,
        }
        db.session.rollback()
        return state
