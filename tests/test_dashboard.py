"""The guide's three dashboard queries, run as written, agree with app.services.dashboard."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from app.db import db
from app.models import Repo
from app.services import dashboard, sync_runs
from tests.migration_helpers import build_world

# Copied from the migration guide, "Monitoring & Metrics", unchanged.
GUIDE_PROGRESS = """
SELECT
  sync_method,
  COUNT(*) as count,
  ROUND(COUNT(*) * 100.0 / SUM(COUNT(*)) OVER (), 1) as percentage
FROM repos
GROUP BY sync_method;
"""
GUIDE_LAST_SYNC = """
SELECT
  name,
  sync_method,
  last_sync_at,
  CASE WHEN last_sync_at < NOW() - INTERVAL '1 day'
    THEN 'Stale'
    ELSE 'Recent'
  END as status
FROM repos
ORDER BY last_sync_at DESC;
"""
GUIDE_SUCCESS = """
SELECT
  repo_id,
  COUNT(*) as total_syncs,
  SUM(CASE WHEN action = 'sync_commits' AND details LIKE '%errors: 0%'
    THEN 1 ELSE 0 END) as successful
FROM audit_logs
WHERE action = 'sync_commits'
GROUP BY repo_id;
"""


@pytest.fixture
def world(app: Any, seed: Any) -> Any:
    world = build_world(app, seed)
    with app.app_context():
        repos = {r.id: r for r in db.session.scalars(sa.select(Repo))}
        # Runs of every kind: clean, with rejected items, failed, still running.
        plan = {
            "abc123": ["succeeded", "succeeded", "failed"],
            "push-01": ["succeeded", ("succeeded", 2)],
            "push-02": ["failed"],
            "def456": ["running"],
        }
        for repo_id, runs in plan.items():
            for spec in runs:
                status, rejected = spec if isinstance(spec, tuple) else (spec, 0)
                run = sync_runs.open_run(repos[repo_id], method="push_client", actor="test")
                run.rejected = rejected
                db.session.flush()
                if status != "running":
                    sync_runs.finish_run(
                        repos[repo_id],
                        run,
                        status=status,
                        actor="test",
                        error="boom" if status == "failed" else None,
                    )
        repos["legacy-12"].last_sync_at = None
        db.session.commit()
    return world


def test_progress_agrees_with_the_guide_query(app, world):
    with app.app_context():
        guide = {
            row.sync_method: (row.count, float(row.percentage))
            for row in db.session.execute(sa.text(GUIDE_PROGRESS))
        }
        ours = dashboard.progress(source="pull_celery", target="push_client")
    assert guide == {"pull_celery": (12, 85.7), "push_client": (2, 14.3)}
    assert {m.sync_method: (m.count, m.percentage) for m in ours.methods} == guide
    assert (ours.total, ours.migrated_percentage) == (14, 14.3)


def test_success_rate_agrees_with_the_guide_query(app, world):
    with app.app_context():
        guide = {
            row.repo_id: (row.total_syncs, row.successful)
            for row in db.session.execute(sa.text(GUIDE_SUCCESS))
        }
        ours = {r.repo_id: (r.total_syncs, r.successful) for r in dashboard.success_rates()}
    assert guide == {"abc123": (3, 2), "push-01": (2, 1), "push-02": (1, 0)}
    assert ours == guide


def test_last_sync_agrees_with_the_guide_query(app, world, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the guide's NOW() - INTERVAL '1 day' is PostgreSQL syntax")
    with app.app_context():
        guide = [(r.name, r.status) for r in db.session.execute(sa.text(GUIDE_LAST_SYNC))]
        ours = dashboard.last_sync_times(stale_after=dt.timedelta(days=1))
    # The guide's CASE calls a never-synced repo (NULL) Recent; we say Never.
    assert {n for n, s in guide if s == "Stale"} == {a.name for a in ours if a.status == "Stale"}
    assert {n for n, s in guide if s == "Recent"} == {
        a.name for a in ours if a.status in ("Recent", "Never")
    }
    assert [a.name for a in ours if a.status == "Never"] == ["Legacy 12"]
    synced = [n for n, _ in guide if n != "Legacy 12"]  # PostgreSQL sorts NULL first in DESC
    assert synced == [a.name for a in ours if a.status != "Never"]


def test_percentages_round_like_postgresql():
    assert dashboard.percentage(1, 8) == 12.5
    assert dashboard.percentage(1, 16) == 6.3  # 6.25 rounds half away from zero
    assert dashboard.percentage(0, 0) == 0.0


def test_status_command_and_api_show_the_same_figures(app, world, client, seed, runner):
    result = runner.invoke(args=["migrate-sync", "status"])
    assert result.exit_code == 0, result.output
    assert "   PULL_CELERY (legacy): 12\n" in result.output
    assert "   abc123: 2/3 (66.7%)\n" in result.output
    assert "   Never:  1\n" in result.output
    owner = world.owner
    body = client.get("/api/v1/migration/status", headers=owner.headers()).json
    assert body["progress"]["total"] == 14
    assert body["progress"]["migrated_percentage"] == 14.3
    assert {r["repo_id"]: r["rate"] for r in body["success_rates"]} == {
        "abc123": 66.7,
        "push-01": 50.0,
        "push-02": 0.0,
    }
    counts = body["last_sync"]["counts"]
    assert counts["Never"] == 1 and sum(counts.values()) == 14
    assert f"   Recent: {counts['Recent']}\n" in result.output


def test_api_status_is_scoped_to_what_the_caller_reaches(app, world, client, seed):
    stranger = seed.actor("stranger@example.org")
    seed.repo(seed.project(stranger), sync_method="pull_celery")
    mine = client.get("/api/v1/migration/status", headers=stranger.headers()).json
    assert mine["progress"]["total"] == 1
    assert mine["progress"]["methods"][0] == {
        "sync_method": "pull_celery",
        "label": "PULL_CELERY (legacy)",
        "count": 1,
        "percentage": 100.0,
    }
    admin = seed.actor("admin@example.org", admin=True)
    everything = client.get("/api/v1/migration/status", headers=admin.headers(use_jwt=True)).json
    assert everything["progress"]["total"] == 15
    no_scope = seed.key(stranger, ("sync:commits",))
    denied = client.get("/api/v1/migration/status", headers={"Authorization": f"Bearer {no_scope}"})
    assert denied.status_code == 403
    assert client.get("/api/v1/migration/status").status_code == 401
