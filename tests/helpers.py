"""Test data builders and small helpers shared by the test modules."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.db import db
from app.models import Commit, Project, Repo, Role, User
from app.services import api_keys, repos
from app.services.auth import issue_token


@dataclass
class Actor:
    """A user with a key and a JWT, ready to send requests."""

    user_id: int
    email: str
    key: str
    jwt: str

    def headers(self, *, use_jwt: bool = False) -> dict[str, str]:
        """``Authorization`` headers with the key (default) or the JWT."""
        return {"Authorization": f"Bearer {self.jwt if use_jwt else self.key}"}


class Seed:
    """Builds data directly through the services, inside the app."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._n = 0

    def actor(
        self,
        email: str | None = None,
        *,
        admin: bool = False,
        scopes: tuple[str, ...] = (
            "sync:commits",
            "read:repos",
            "write:repos",
            "read:audit",
            "migrate:repos",
        ),
    ) -> Actor:
        """A user with an API key of ``scopes`` and a JWT."""
        self._n += 1
        email = email or f"user{self._n}@example.org"
        with self.app.app_context():
            user = User(email=email, role=(Role.ADMIN if admin else Role.COMMISSIONER).value)
            user.set_password("password123")
            db.session.add(user)
            db.session.flush()
            _, raw = api_keys.create("test", user, "test key", list(scopes))
            cfg = self.app.config
            token = issue_token(
                user,
                secret=cfg["JWT_SECRET_KEY"],
                issuer=cfg["JWT_ISSUER"],
                audience=cfg["JWT_AUDIENCE"],
                ttl=900,
            )
            db.session.commit()
            return Actor(user.id, email, raw, token)

    def key(self, actor: Actor, scopes: tuple[str, ...]) -> str:
        """Another key of ``actor`` with other scopes."""
        with self.app.app_context():
            user = db.session.get(User, actor.user_id)
            _, raw = api_keys.create("test", user, "scoped", list(scopes))
            db.session.commit()
            return raw

    def project(self, owner: Actor, name: str = "My Project") -> str:
        """A project of ``owner``; returns its id."""
        with self.app.app_context():
            project = Project(name=name, owner_id=owner.user_id)
            db.session.add(project)
            db.session.commit()
            return str(project.id)

    def repo(
        self,
        project_id: str,
        *,
        name: str | None = None,
        git_url: str | None = None,
        sync_method: str = "push_client",
        repo_id: str | None = None,
    ) -> str:
        """A repo in ``project_id``; returns its id."""
        self._n += 1
        with self.app.app_context():
            project = db.session.get(Project, __import__("uuid").UUID(project_id))
            repo = repos.create_repo(
                "test",
                project,
                name=name or f"repo {self._n}",
                git_url=git_url or f"https://example.org/org/repo{self._n}.git",
                sync_method=sync_method,
                repo_id=repo_id,
            )
            db.session.commit()
            return repo.id

    def get_repo(self, repo_id: str) -> Repo:
        """A detached copy of a repo row."""
        return detached_repo(self.app, repo_id)


def detached_repo(app: Any, repo_id: str) -> Repo:
    """A repo row read in its own app context, usable after it closes."""
    with app.app_context():
        repo = db.session.get(Repo, repo_id)
        db.session.expunge(repo)
        return repo


def stored_commits(app: Any, repo_id: str) -> dict[str, tuple[int, int, int]]:
    """sha → (additions, deletions, files_changed) of a repo's stored commits."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Commit.sha, Commit.additions, Commit.deletions, Commit.files_changed).where(
                Commit.repo_id == repo_id
            )
        )
        return {sha: (a, d, f) for sha, a, d, f in rows}


def fake_sha(seed: str) -> str:
    """A deterministic 40-hex sha for test commits."""
    return hashlib.sha1(seed.encode()).hexdigest()


def commit_json(
    sha: str,
    parents: list[str] | None = None,
    *,
    when: str = "2024-03-01T12:00:00+05:30",
    **extra: Any,
) -> dict[str, Any]:
    """A valid pushed commit."""
    parents = parents or []
    body = {
        "sha": sha,
        "parents": parents,
        "author_name": "Ada Lovelace",
        "author_email": "ada@example.org",
        "authored_at": when,
        "committer_name": "Ada Lovelace",
        "committer_email": "ada@example.org",
        "committed_at": when,
        "message": f"commit {sha[:7]}\n",
        "additions": 3,
        "deletions": 1,
        "files_changed": 2,
        "is_merge": len(parents) > 1,
    }
    body.update(extra)
    return body


def chain(n: int, prefix: str = "c", start: dt.datetime | None = None) -> list[dict[str, Any]]:
    """``n`` commits, each the child of the previous one, oldest first."""
    start = start or dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    out: list[dict[str, Any]] = []
    for i in range(n):
        sha = fake_sha(f"{prefix}{i}")
        when = (start + dt.timedelta(minutes=i)).isoformat()
        out.append(commit_json(sha, [out[-1]["sha"]] if out else [], when=when))
    return out
