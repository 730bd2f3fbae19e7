"""A pull reports the shallow-boundary rows it corrected, as a push does (see test_ingest_shallow)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app import jobs
from app.db import db
from app.models import AuditLog, SyncRun
from app.services import migration
from tests.helpers import stored_commits
from tests.pull_helpers import TOKEN, _git, make_bare_repo, numstat
from tests.test_ingest_shallow import extract, push
from tests.test_pull_sync import git, pull, sync  # noqa: F401 (fixtures)


def shallow_pushed_then_pull(app, seed, git, pull, client, tmp_path) -> tuple[str, Any]:  # noqa: F811
    """A repo whose old client pushed a ``--depth 3`` clone, then moved to pull_celery."""
    full = make_bare_repo(pull["root"] / "r.git", 8)
    shallow = tmp_path / "shallow"
    _git("clone", "-q", "--depth", "3", "--bare", f"file://{full}", str(shallow), cwd=tmp_path)
    rid = seed.repo(pull["pid"], git_url=git.url("r.git"))
    commits = extract(shallow)
    assert commits[0]["parents"] == []  # the boundary, as the old client sent it
    push(client, pull["owner"], rid, commits)
    with app.app_context():
        report = migration.migrate("test", target="pull_celery", repo_ids=[rid])
        assert [r.outcome for r in report.results] == ["migrated"], report.results
    result = app.test_cli_runner().invoke(
        args=["repos", "set-credentials", rid], env={"GITLEAGUE_REPO_TOKEN": TOKEN}
    )
    assert result.exit_code == 0, result.output
    return rid, full


def test_sync_run_reports_the_corrected_boundary(app, seed, git, pull, client, tmp_path):  # noqa: F811
    rid, full = shallow_pushed_then_pull(app, seed, git, pull, client, tmp_path)
    result = sync(app, rid)
    assert result.exit_code == 0, result.output
    assert "received: 8, inserted: 5, duplicates: 2, rejected: 0, corrected: 1" in result.output
    assert stored_commits(app, rid) == numstat(full)
    with app.app_context():
        run = db.session.scalars(sa.select(SyncRun).where(SyncRun.repo_id == rid)).one()
        assert (run.method, run.corrected, run.duplicates) == ("pull_celery", 1, 2)
        entry = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "sync_commits", AuditLog.repo_id == rid)
        ).one()
        assert entry.data["corrected"] == 1


def test_the_job_result_carries_corrected(app, seed, git, pull, client, tmp_path):  # noqa: F811
    rid, _ = shallow_pushed_then_pull(app, seed, git, pull, client, tmp_path)
    with app.app_context():
        result = jobs.sync_repo(rid)
    assert result["status"] == "synced"
    assert (result["inserted"], result["corrected"], result["duplicates"]) == (5, 1, 2)
