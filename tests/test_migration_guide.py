"""The migration guide, typed as written, against 12 pull and 2 push repos.

Every command runs ``python scripts/...`` in a subprocess with only
``DATABASE_URL`` set, as a user would; outputs are compared to the guide's
text, and the database afterwards to the guide's promises (credentials
deleted, last_ingested_sha and every commit kept).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from app.db import db
from app.models import AuditLog
from tests.migration_helpers import (
    CREDENTIALS,
    GUIDE_SHA,
    build_world,
    migrate_script,
    repo_state,
    run_script,
    snapshot,
)


@pytest.fixture
def world(app: Any, seed: Any) -> Any:
    return build_world(app, seed)


def migrated(app: Any) -> dict[str, dict[str, Any]]:
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "migrate_repo_sync_method")
        ).all()
        out = {e.repo_id: e.data for e in entries}
        db.session.rollback()
        return out


def assert_promises_kept(app: Any, world: Any, repo_id: str, before: dict[str, Any]) -> None:
    after = repo_state(app, repo_id)
    assert after["sync_method"] == "push_client"
    assert after["credentials"] is None
    assert after["last_ingested_sha"] == before["last_ingested_sha"]
    assert after["commits"] == before["commits"] == world.commits[repo_id]


def test_phase_1_status(world, database_url):
    result = migrate_script(database_url, "--status")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "📊 Migration Status:\n"
        "   PULL_CELERY (legacy): 12\n"
        "   PUSH_CLIENT (new):    2\n"
        "   Total:                14\n"
        "   Progress:             14.3% migrated\n"
    )


def test_phase_2_dry_run_prints_the_guide_and_writes_nothing(app, world, database_url):
    before = snapshot(app)
    result = migrate_script(database_url, "--dry-run", "my-app")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "📦 Repository: My App\n"
        "   Current: pull_celery\n"
        "   Target:  push_client\n"
        "   [DRY RUN] Changes that would be made:\n"
        "   - Set sync_method to: push_client\n"
        "   - Clear encrypted credentials\n"
        "   - Preserve last_ingested_sha: abc123def456\n"
    )
    assert snapshot(app) == before
    assert repo_state(app, "my-app")["last_ingested_sha"] == GUIDE_SHA


def test_phase_4_option_a_specific_repositories(app, world, database_url):
    before = {rid: repo_state(app, rid) for rid in ("abc123", "def456")}
    result = migrate_script(database_url, "abc123", "def456")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "📦 Repository: Frontend\n"
        "   Current: pull_celery\n"
        "   Target:  push_client\n"
        "   ✓ Migrated successfully\n"
        "\n"
        "📦 Repository: Backend API\n"
        "   Current: pull_celery\n"
        "   Target:  push_client\n"
        "   ✓ Migrated successfully\n"
        "\n"
        "✓ 2/2 migrations completed\n"
    )
    for rid, state in before.items():
        assert_promises_kept(app, world, rid, state)
    entries = migrated(app)
    assert set(entries) == {"abc123", "def456"}
    assert entries["abc123"]["from"] == "pull_celery"
    assert entries["abc123"]["to"] == "push_client"
    assert entries["abc123"]["cleared"] == ["credentials"]
    assert entries["abc123"]["last_ingested_sha"] == before["abc123"]["last_ingested_sha"]
    assert repo_state(app, "my-app")["credentials"] == CREDENTIALS  # others untouched


def test_phase_4_unknown_id_is_one_line_and_counted(app, world, database_url):
    result = migrate_script(database_url, "abc123", "def456", "ghi789")
    assert result.returncode == 1
    assert "\n✗ ghi789: Repository not found\n" in result.stdout
    assert result.stdout.endswith("\n✓ 2/3 migrations completed\n")
    # Re-running is not an error: the repo is reported as already there, exit 0.
    again = migrate_script(database_url, "abc123", "def456", "ghi789")
    assert again.returncode == 1  # ghi789 still does not exist
    assert again.stdout == (
        "✗ ghi789: Repository not found\n\n"
        "⏭ Already there, nothing to do: 2\n"
        "   - abc123 (Frontend): Already on push_client\n"
        "   - def456 (Backend API): Already on push_client\n\n"
        "✓ 0/1 migrations completed\n"
    )
    only_done = migrate_script(database_url, "abc123")
    assert only_done.returncode == 0
    assert only_done.stdout.endswith("✓ Nothing to do\n")


def test_phase_4_option_b_all_and_exclude_active(app, world, database_url):
    # Half the pull repos synced an hour ago: --active-within 2 skips them.
    result = migrate_script(database_url, "--all", "--exclude-active", "--active-within", "2")
    assert result.returncode == 0, result.stderr
    assert len(migrated(app)) == 6
    assert "⏭ Skipped (active): 6" in result.stdout
    assert "synced 1.0 h ago (within --active-within 2 h)" in result.stdout
    assert result.stdout.endswith("✓ 6/6 migrations completed\n")
    rest = migrate_script(database_url, "--all")
    assert rest.returncode == 0
    assert rest.stdout.endswith("✓ 6/6 migrations completed\n")
    status = migrate_script(database_url, "--status")
    assert "   PULL_CELERY (legacy): 0\n   PUSH_CLIENT (new):    14\n" in status.stdout
    assert "Progress:             100.0% migrated" in status.stdout


def test_phase_4_option_c_dry_run_then_migrate(app, world, database_url):
    preview = migrate_script(database_url, "--dry-run", "test-repo-1")
    assert "[DRY RUN]" in preview.stdout and repo_state(app, "test-repo-1")["credentials"]
    done = migrate_script(database_url, "test-repo-1")
    assert done.returncode == 0
    assert done.stdout.endswith("   ✓ Migrated successfully\n\n✓ 1/1 migrations completed\n")


def test_strategy_1_gradual(app, world, database_url):
    week1 = migrate_script(database_url, "test-repo-1", "test-repo-2")
    week2 = migrate_script(database_url, "repo-3", "repo-4", "repo-5")
    week3 = migrate_script(database_url, "--all", "--exclude-active")
    assert [r.returncode for r in (week1, week2, week3)] == [0, 0, 0], [
        (r.stdout, r.stderr) for r in (week1, week2, week3)
    ]
    assert week1.stdout.endswith("✓ 2/2 migrations completed\n")
    assert week2.stdout.endswith("✓ 3/3 migrations completed\n")
    assert week3.stdout.endswith("✓ 7/7 migrations completed\n")
    assert len(migrated(app)) == 12


def test_strategy_2_all_at_once(app, world, database_url):
    before = {rid: repo_state(app, rid) for rid in migrated(app) or ["abc123", "legacy-12"]}
    result = migrate_script(database_url, "--all")
    assert result.returncode == 0
    assert result.stdout.endswith("✓ 12/12 migrations completed\n")
    assert result.stdout.count("✓ Migrated successfully") == 12
    for rid, state in before.items():
        assert_promises_kept(app, world, rid, state)


def test_strategy_3_by_project(app, world, database_url):
    listing = run_script(database_url, "list_repos_by_project.py", world.project_b)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0] == f"📁 Project: Project B ({world.project_b})"
    assert lines[1].split() == ["ID", "NAME", "SYNC", "METHOD", "STATUS", "LAST", "SYNC"]
    assert [line.split()[0] for line in lines[2:]] == ["repo-1", "repo-2", "repo-3"]
    assert all("pull_celery" in line for line in lines[2:])
    ids = run_script(database_url, "list_repos_by_project.py", world.project_b, "--ids")
    assert ids.stdout.split() == ["repo-1", "repo-2", "repo-3"]
    result = migrate_script(database_url, "repo-1", "repo-2", "repo-3")
    assert result.stdout.endswith("✓ 3/3 migrations completed\n")
    missing = run_script(database_url, "list_repos_by_project.py", "not-a-project")
    assert missing.returncode == 1 and "Project not found" in missing.stderr


def test_rollback_plan(app, world, database_url):
    migrate_script(database_url, "abc123", "def456")
    preview = migrate_script(database_url, "--rollback", "abc123", "--dry-run")
    assert preview.returncode == 0
    assert preview.stdout == (
        "📦 Repository: Frontend\n"
        "   Current: push_client\n"
        "   Target:  pull_celery\n"
        "   [DRY RUN] Changes that would be made:\n"
        "   - Set sync_method to: pull_celery\n"
        "   - Set sync_status to: needs_credentials\n"
        f"   - Preserve last_ingested_sha: {repo_state(app, 'abc123')['last_ingested_sha'][:12]}\n"
        "   ⚠ Credentials will need to be set again before pull_celery can sync\n"
    )
    result = migrate_script(database_url, "--rollback", "abc123", "def456")
    assert result.returncode == 0, result.stdout
    assert result.stdout.count("✓ Rolled back successfully") == 2
    assert result.stdout.count("⚠ Credentials must be set again before pull_celery can sync") == 2
    assert result.stdout.endswith("\n✓ 2/2 rollbacks completed\n")
    state = repo_state(app, "abc123")
    assert state["sync_method"] == "pull_celery"
    assert state["sync_status"] == "needs_credentials"
    assert state["commits"] == world.commits["abc123"]
    never = migrate_script(database_url, "--rollback", "legacy-11")
    assert never.returncode == 1
    assert never.stdout.startswith("✗ legacy-11: No migration to roll back\n")


def test_plain_ascii_when_the_terminal_cannot_show_emoji(world, database_url):
    status = migrate_script(database_url, "--status", encoding="ascii")
    assert status.stdout.splitlines()[0] == "# Migration Status:"
    result = migrate_script(database_url, "abc123", "nope", encoding="ascii")
    assert "* Repository: Frontend" in result.stdout
    assert "   OK Migrated successfully" in result.stdout
    assert "X nope: Repository not found" in result.stdout
    assert result.stdout.endswith("OK 1/2 migrations completed\n")
    assert result.stdout.isascii()


def test_json_for_machines(world, database_url):
    result = migrate_script(database_url, "--json", "abc123", "nope")
    body = json.loads(result.stdout)
    assert result.returncode == 1
    assert (body["total"], body["succeeded"], body["failed"]) == (2, 1, 1)
    assert [r["outcome"] for r in body["results"]] == ["migrated", "not_found"]
    status = json.loads(migrate_script(database_url, "--status", "--json").stdout)
    assert status["progress"]["total"] == 14
    assert status["progress"]["migrated_percentage"] == 21.4


def test_wrong_usage_exits_2(world, database_url):
    assert migrate_script(database_url).returncode == 2
    assert migrate_script(database_url, "--rollback").returncode == 2
    assert migrate_script(database_url, "--all", "abc123").returncode == 2
