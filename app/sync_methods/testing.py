"""Contract tests every sync method must pass, runnable against your own plugin.

GitLeague runs them over every registered method (``tests/test_plugins.py``).
A plugin author runs them the same way, in their own test suite::

    import pytest
    from app.sync_methods.testing import CONTRACT_CHECKS, contract_app

    @pytest.mark.parametrize("check", CONTRACT_CHECKS, ids=lambda c: c.__name__)
    def test_my_method_meets_the_contract(check, tmp_path):
        check(contract_app(tmp_path), "my_method")

Each check takes an app (any database: :func:`contract_app` makes a
migrated SQLite one) and the name of an installed method, builds the data it
needs, and fails with an ``AssertionError`` that says what is wrong.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..db import db
from .base import PlannedChange, SyncMethod, TransitionContext
from .registry import check_method, get_registry

STORED_STATUSES = {"never", "healthy", "failing", "needs_credentials"}
Check = Callable[[Any, str], None]


def contract_app(tmp_path: Path, **config: Any) -> Any:
    """A GitLeague app on a fresh, migrated SQLite database under ``tmp_path``."""
    from flask_migrate import upgrade

    from .. import create_app

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp_path) / 'contract.sqlite3'}",
            "SECRET_KEY": "contract-secret-0123456789abcdef0123456789",
            "JWT_SECRET_KEY": "contract-jwt-secret-0123456789abcdef01234567",
            **config,
        }
    )
    with app.app_context():
        upgrade()
    return app


def _method(app: Any, name: str) -> SyncMethod:
    registry = get_registry(app)
    assert name in registry, (
        f"sync method {name!r} is not registered; refused plugins: {registry.errors}"
    )
    return registry.get(name)


def _other(app: Any, name: str) -> str:
    others = [m.name for m in get_registry(app) if m.name != name]
    assert others, "the contract needs a second registered method to move between"
    return "push_client" if "push_client" in others else others[0]


def _repo(method: str, *, with_history: bool = True) -> Any:
    """A repo on ``method`` with stored commits and a resume sha (inside an app context)."""
    from ..models import Project, Repo, User
    from ..services import repos

    tag = uuid.uuid4().hex[:10]
    user = User(email=f"contract-{tag}@example.org", role="commissioner", password_hash="x")
    db.session.add(user)
    db.session.flush()
    project = Project(name=f"contract {tag}", owner_id=user.id)
    db.session.add(project)
    db.session.flush()
    repo = repos.create_repo(
        "contract-test",
        project,
        name=f"contract {tag}",
        git_url=f"https://example.org/contract/{tag}.git",
        sync_method=method,
    )
    if with_history:
        repo.last_ingested_sha = add_commits(repo.id, 3, tag)[-1]
    db.session.commit()
    return db.session.get(Repo, repo.id)


def add_commits(repo_id: str, count: int, tag: str) -> list[str]:
    """Store ``count`` chained commits for ``repo_id`` (no commit); returns their shas."""
    import datetime as dt
    import hashlib

    from ..models import Commit

    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    shas: list[str] = []
    for i in range(count):
        when = start + dt.timedelta(minutes=i)
        sha = hashlib.sha1(f"{tag}:{i}".encode()).hexdigest()
        db.session.add(
            Commit(
                repo_id=repo_id,
                sha=sha,
                parents=shas[-1:],
                author_name="A",
                author_email="a@example.org",
                authored_at=when,
                author_tz_offset=0,
                committer_name="A",
                committer_email="a@example.org",
                committed_at=when,
                committer_tz_offset=0,
                message="m",
                additions=1,
                deletions=0,
                files_changed=1,
                is_merge=False,
            )
        )
        shas.append(sha)
    db.session.flush()
    return shas


def _row(repo: Any) -> dict[str, Any]:
    table = type(repo).__table__
    row = db.session.execute(sa.select(table).where(table.c.id == repo.id)).one()
    return dict(row._mapping)


def _commit_count(repo_id: str) -> int:
    from ..models import Commit

    return int(
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Commit).where(Commit.repo_id == repo_id)
        )
        or 0
    )


def check_declaration(app: Any, name: str) -> None:
    """Name, label and flags are declared as the registry requires."""
    method = _method(app, name)
    problem = check_method(type(method), name)
    assert problem is None, problem
    assert method.label.strip(), "label must not be empty"
    assert isinstance(method.description, str)
    assert isinstance(method.server_scheduled, bool)
    assert isinstance(method.accepts_push, bool)


def check_state_hooks(app: Any, name: str) -> None:
    """initial_status, missing_requirements and active_reason answer in the right types."""
    method = _method(app, name)
    with app.app_context():
        repo = _repo(name)
        assert method.initial_status(repo) in STORED_STATUSES
        missing = method.missing_requirements(repo)
        assert isinstance(missing, list) and all(isinstance(m, str) for m in missing)
        reason = method.active_reason(repo, context=TransitionContext("contract-test"))
        assert reason is None, f"a fresh, idle repo must not be active (got {reason!r})"
        db.session.rollback()


def check_plans_change_nothing(app: Any, name: str) -> None:
    """plan_leave and plan_enter return PlannedChange lists and write nothing."""
    method, other = _method(app, name), _other(app, name)
    context = TransitionContext("contract-test", dry_run=True)
    with app.app_context():
        for repo, plan in (
            (_repo(name), lambda r: method.plan_leave(r, target=other, context=context)),
            (_repo(other), lambda r: method.plan_enter(r, source=other, context=context)),
        ):
            before = _row(repo)
            changes = plan(repo)
            assert isinstance(changes, list)
            assert all(isinstance(c, PlannedChange) for c in changes), changes
            assert not db.session.is_modified(repo), "planning changed the repo"
            assert not (db.session.new or db.session.deleted), "planning added or deleted rows"
            db.session.commit()
            assert _row(repo) == before


def check_round_trip_keeps_history(app: Any, name: str) -> None:
    """Dry-run writes nothing; into the method and back keeps commits and last_ingested_sha."""
    from ..services import migration

    other = _other(app, name)
    with app.app_context():
        repo = _repo(other)
        repo_id, sha, commits = repo.id, repo.last_ingested_sha, _commit_count(repo.id)
        before = _row(repo)
        dry = migration.migrate("contract-test", target=name, repo_ids=[repo_id], dry_run=True)
        assert dry.ok, dry.to_dict()
        assert _row(db.session.get(type(repo), repo_id)) == before
        there = migration.migrate("contract-test", target=name, repo_ids=[repo_id])
        assert there.ok, there.to_dict()
        back = migration.rollback("contract-test", repo_ids=[repo_id])
        assert back.ok, back.to_dict()
        repo = db.session.get(type(repo), repo_id)
        assert repo is not None
        assert repo.sync_method == other
        assert repo.last_ingested_sha == sha, "a transition changed last_ingested_sha"
        assert _commit_count(repo_id) == commits, "a transition changed the stored commits"
        db.session.rollback()


#: Every check, in a stable order (parametrize over this list).
CONTRACT_CHECKS: list[Check] = [
    check_declaration,
    check_state_hooks,
    check_plans_change_nothing,
    check_round_trip_keeps_history,
]
