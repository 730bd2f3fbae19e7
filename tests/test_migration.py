"""The transition service: audit, one transaction per repo, kills, races, activity."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa

from app import queue as app_queue
from app.db import db
from app.models import AuditLog, Repo, SyncRun
from app.services import migration, sync_runs
from app.sync_methods import SyncMethod, get_registry
from app.sync_methods.pull_celery import QUEUE_NAME, job_id
from tests.migration_helpers import CREDENTIALS, PULL_REPOS, ROOT, build_world, repo_state


@pytest.fixture
def world(app: Any, seed: Any) -> Any:
    return build_world(app, seed)


def entries(app: Any) -> dict[str, list[dict[str, Any]]]:
    with app.app_context():
        out: dict[str, list[dict[str, Any]]] = {}
        stmt = sa.select(AuditLog).where(AuditLog.action == migration.ACTION).order_by(AuditLog.id)
        for e in db.session.scalars(stmt):
            out.setdefault(e.repo_id, []).append({**e.data, "actor": e.actor, "details": e.details})
        db.session.rollback()
        return out


def assert_whole(app: Any, repo_id: str, target: str) -> None:
    """Fully old (pull, credentials, no entry) or fully new (target, none, one entry)."""
    state, audit = repo_state(app, repo_id), entries(app).get(repo_id, [])
    if state["sync_method"] == "pull_celery":
        assert state["credentials"] == CREDENTIALS and audit == []
    else:
        assert state["sync_method"] == target
        assert state["credentials"] is None and len(audit) == 1


class Flaky(SyncMethod):
    """A test method whose enter hook fails for chosen repos."""

    name = "flaky"
    label = "FLAKY (test)"
    accepts_push = True
    fail_for: ClassVar[set[str]] = set()
    interrupt_for: ClassVar[set[str]] = set()

    def enter(self, repo, *, source, context):
        if repo.id in self.interrupt_for:
            raise KeyboardInterrupt  # the process dies here, mid-transaction
        if repo.id in self.fail_for:
            raise RuntimeError("webhook API said no")
        repo.last_error = None


@pytest.fixture
def flaky(app: Any) -> type[Flaky]:
    get_registry(app).register(Flaky(), origin="tests")
    Flaky.fail_for, Flaky.interrupt_for = set(), set()
    return Flaky


def test_audit_entry_records_from_to_who_cleared_and_sha(app, world, runner):
    result = runner.invoke(args=["migrate-sync", "migrate", "abc123"])
    assert result.exit_code == 0, result.output
    (entry,) = entries(app)["abc123"]
    assert entry["from"] == "pull_celery" and entry["to"] == "push_client"
    assert entry["actor"].startswith("cli")
    assert entry["cleared"] == ["credentials"]
    kept = repo_state(app, "abc123")["last_ingested_sha"]
    assert entry["last_ingested_sha"] == kept
    assert entry["details"] == (
        f"from: pull_celery, to: push_client, cleared: credentials, "
        f"last_ingested_sha: {kept}, rollback: false"
    )


def test_a_failing_repo_does_not_stop_the_others(app, world, flaky, runner):
    flaky.fail_for = {"def456"}
    result = runner.invoke(
        args=["migrate-sync", "migrate", "--to", "flaky", "abc123", "def456", "my-app"]
    )
    assert result.exit_code == 1
    assert (
        "📦 Repository: Backend API\n   Current: pull_celery\n   Target:  flaky\n"
        "   ✗ Failed: sync method 'flaky' failed in enter: RuntimeError: webhook API said no\n"
    ) in result.output
    assert result.output.endswith("✓ 2/3 migrations completed\n")
    for repo_id in ("abc123", "def456", "my-app"):
        assert_whole(app, repo_id, "flaky")
    assert repo_state(app, "def456")["sync_method"] == "pull_celery"


def test_killed_run_leaves_whole_repos_and_a_rerun_finishes(app, world, flaky):
    order = sorted(r[0] for r in PULL_REPOS)
    flaky.interrupt_for = {order[4]}
    with app.app_context(), pytest.raises(KeyboardInterrupt):
        migration.migrate("test", target="flaky", all_repos=True)
    with app.app_context():
        db.session.rollback()  # what the database does when the process dies
    for repo_id in order:
        assert_whole(app, repo_id, "flaky")
    assert len(entries(app)) == 4
    flaky.interrupt_for = set()
    with app.app_context():
        report = migration.migrate("test", target="flaky", all_repos=True)
    assert (len(report.succeeded), len(report.failed)) == (8, 0)
    assert all(len(e) == 1 for e in entries(app).values()) and len(entries(app)) == 12


def _pg_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks (SELECT ... FOR UPDATE) are PostgreSQL's")


def _audit_count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(
            sa.text("SELECT count(*) FROM audit_logs WHERE action = 'migrate_repo_sync_method'")
        )


def test_script_killed_with_sigkill_then_rerun(app, world, database_url):
    _pg_only(database_url)
    order = sorted(r[0] for r in PULL_REPOS)
    engine = sa.create_engine(database_url)
    blocker = engine.connect()
    try:
        blocker.begin()
        blocker.execute(sa.text("SELECT id FROM repos WHERE id = :id FOR UPDATE"), {"id": order[5]})
        proc = subprocess.Popen(
            [sys.executable, "scripts/migrate_repos_to_push.py", "--all"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while _audit_count(engine) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)  # it is now waiting for the sixth repo's lock
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        blocker.rollback()
    finally:
        blocker.close()
    assert _audit_count(engine) == 5
    for repo_id in order:
        assert_whole(app, repo_id, "push_client")
    rerun = subprocess.run(
        [sys.executable, "scripts/migrate_repos_to_push.py", "--all"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.endswith("✓ 7/7 migrations completed\n")
    engine.dispose()


def test_migration_waits_for_a_pull_job_holding_the_row(app, world, database_url):
    """A pull job's write and the migration never interleave: the sha it stored is kept."""
    _pg_only(database_url)
    engine = sa.create_engine(database_url)
    new_sha = "f" * 40
    job = engine.connect()
    job.begin()
    job.execute(sa.text("SELECT id FROM repos WHERE id = 'abc123' FOR UPDATE"))
    job.execute(
        sa.text("UPDATE repos SET last_ingested_sha = :s WHERE id = 'abc123'"), {"s": new_sha}
    )
    reports: list[Any] = []

    def run() -> None:
        with app.app_context():
            reports.append(migration.migrate("test", repo_ids=["abc123"]))

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(1.0)
    assert thread.is_alive() and _audit_count(engine) == 0  # waiting for the row
    job.commit()
    job.close()
    thread.join(timeout=30)
    assert reports and reports[0].ok
    assert repo_state(app, "abc123")["last_ingested_sha"] == new_sha
    assert entries(app)["abc123"][0]["last_ingested_sha"] == new_sha
    engine.dispose()


def test_exclude_active_skips_open_push_runs_and_lists_why(app, world, runner):
    with app.app_context():
        run = sync_runs.open_run(db.session.get(Repo, "push-01"), method="push_client", actor="t")
        db.session.commit()
        run_id = run.id
    result = runner.invoke(
        args=[
            "migrate-sync",
            "migrate",
            "--from",
            "push_client",
            "--to",
            "pull_celery",
            "--all",
            "--exclude-active",
        ]
    )
    assert result.exit_code == 0, result.output
    assert (
        f"⏭ Skipped (active): 1\n   - push-01 (Push One): push sync run {run_id} is still open\n"
    ) in result.output
    assert result.output.endswith("✓ 1/1 migrations completed\n")
    assert "Credentials must be set again before pull_celery can sync" in result.output
    assert repo_state(app, "push-02")["sync_status"] == "needs_credentials"
    with app.app_context():
        assert db.session.get(SyncRun, run_id).status == "running"


@pytest.fixture
def redis_url() -> Any:
    from redis import Redis

    url = os.environ.get("GITLEAGUE_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
    conn = Redis.from_url(url)
    try:
        conn.ping()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"Redis is not reachable at {url}: {exc}")
    yield url
    conn.close()


def test_queued_pull_job_counts_as_active_and_is_cancelled(app, world, redis_url, runner):
    from redis import Redis
    from rq import Queue
    from rq.job import Job

    app.config["REDIS_URL"] = redis_url
    conn = Redis.from_url(redis_url)
    queue = Queue(f"{QUEUE_NAME}-{uuid.uuid4().hex[:6]}", connection=conn)
    queue.enqueue("app.sync_methods.pull_celery.job_id", "abc123", job_id=job_id("abc123"))
    try:
        skipped = runner.invoke(args=["migrate-sync", "migrate", "--exclude-active", "abc123"])
        assert "   - abc123 (Frontend): pull job sync_repo-abc123 is queued\n" in skipped.output
        assert repo_state(app, "abc123")["sync_method"] == "pull_celery"
        dry = runner.invoke(args=["migrate-sync", "migrate", "--dry-run", "abc123"])
        assert "   - Cancel queued pull job sync_repo-abc123\n" in dry.output
        done = runner.invoke(args=["migrate-sync", "migrate", "abc123"])
        assert done.exit_code == 0, done.output
        assert Job.fetch(job_id("abc123"), connection=conn).get_status() == "canceled"
        assert entries(app)["abc123"][0]["cleared"] == ["credentials", "queued_job"]
    finally:
        Job.fetch(job_id("abc123"), connection=conn).delete()
        queue.delete(delete_jobs=True)
        conn.close()
        redis = app.extensions.pop(app_queue.REDIS_KEY, None)
        if redis is not None:
            redis.close()
