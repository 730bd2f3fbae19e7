"""A reused repo id starts a clean history (issue 9, security item 3).

Alice's repo ``secret-proj-x`` is deleted; Bob creates a repo with that id.
He must read none of her audit entries, and his rollback must not use her
migration history. Both databases.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from app.db import db
from app.models import AuditLog, Repo
from tests.conftest import TEST_CONFIG
from tests.helpers import Seed
from tests.test_schema import scratch_url  # noqa: F401 (a fixture)

RID = "secret-proj-x"
INTERNAL = "https://git.internal.example/secret/proj-x.git"


@pytest.fixture
def reused(client: Any, seed: Any) -> dict[str, Any]:
    """Alice's pull repo migrated to push and deleted, then Bob's repo under its id.

    Only admins choose ids (item 7), so an admin makes Bob's repo; Bob owns it.
    """
    alice, bob = seed.actor("alice@example.org"), seed.actor("bob@example.org")
    admin = seed.actor("root@example.org", admin=True)
    seed.repo(seed.project(alice), git_url=INTERNAL, sync_method="pull_celery", repo_id=RID)
    moved = client.post(
        "/api/v1/migration/migrate", json={"repo_ids": [RID]}, headers=alice.headers()
    )
    assert moved.json["ok"] is True, moved.json
    renamed = client.patch(f"/api/v1/repos/{RID}", json={"name": "x"}, headers=alice.headers())
    assert renamed.status_code == 200
    assert client.delete(f"/api/v1/repos/{RID}", headers=alice.headers()).status_code == 204
    made = client.post(
        f"/api/v1/projects/{seed.project(bob)}/repos",
        json={"id": RID, "name": "bob's", "git_url": "https://bob.example/b/r.git"},
        headers=admin.headers(),
    )
    assert made.status_code == 201, made.json
    return {"alice": alice, "bob": bob}


def test_the_new_owner_reads_none_of_the_old_entries(client, reused):
    bob = reused["bob"]
    for query in ("", f"?repo_id={RID}", "?action=migrate_repo_sync_method"):
        page = client.get(f"/api/v1/audit-logs{query}", headers=bob.headers())
        assert page.status_code == 200
        text = json.dumps(page.json)
        assert "alice@example.org" not in text and "git.internal.example" not in text, query
    mine = client.get(f"/api/v1/audit-logs?repo_id={RID}", headers=bob.headers()).json["items"]
    assert [e["action"] for e in mine] == ["repo_created"]
    assert mine[0]["actor"].startswith("root@example.org")


def test_the_old_owner_still_reads_her_own_entries(client, reused):
    alice = reused["alice"]
    items = client.get(f"/api/v1/audit-logs?repo_id={RID}", headers=alice.headers()).json["items"]
    actions = [e["action"] for e in items]
    assert actions[:3] == ["repo_deleted", "repo_updated", "migrate_repo_sync_method"]
    assert all(e["actor"].startswith("alice@example.org") for e in items)


def test_rollback_does_not_use_the_old_repos_history(client, reused, seed):
    bob = reused["bob"]
    back = client.post(
        "/api/v1/migration/rollback", json={"repo_ids": [RID]}, headers=bob.headers()
    )
    result = back.json["results"][0]
    assert result["ok"] is False and result["message"] == "No migration to roll back", result
    assert seed.get_repo(RID).sync_method == "push_client"


def test_admins_still_see_every_entry(client, reused, seed):
    admin = seed.actor("admin2@example.org", admin=True)
    items = client.get(
        f"/api/v1/audit-logs?repo_id={RID}&per_page=100", headers=admin.headers()
    ).json["items"]
    actors = {e["actor"].split(" ")[0] for e in items}
    assert {"alice@example.org", "root@example.org"} <= actors


def test_entries_are_bound_to_the_row(app, reused):
    with app.app_context():
        uids = db.session.execute(
            sa.select(AuditLog.action, AuditLog.repo_uid).where(AuditLog.repo_id == RID)
        ).all()
    by_action: dict[str, set[Any]] = {}
    for action, uid in uids:
        by_action.setdefault(action, set()).add(uid)
    assert None not in {uid for _, uid in uids}
    assert len(by_action["repo_created"]) == 2  # Alice's row and Bob's row


def test_migration_0004_binds_old_entries_to_the_row_they_were_written_for(scratch_url):  # noqa: F811
    """Entries written before today's holder of an id was created stay unbound."""
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": scratch_url})
    with app.app_context():
        upgrade()
    seed = Seed(app)
    alice, bob = seed.actor("alice@example.org"), seed.actor("bob@example.org")
    seed.repo(seed.project(alice), repo_id=RID)
    with app.app_context():
        db.session.execute(sa.delete(Repo).where(Repo.id == RID))
        db.session.commit()
    seed.repo(seed.project(bob), repo_id=RID)
    with app.app_context():
        downgrade(revision="0003")
        upgrade()
        db.session.remove()
        uid = db.session.scalar(sa.select(Repo.uid).where(Repo.id == RID))
        rows = db.session.execute(
            sa.select(AuditLog.repo_uid).where(AuditLog.repo_id == RID).order_by(AuditLog.id)
        ).all()
        db.session.remove()
        db.engine.dispose()
    assert uid is not None and [r[0] for r in rows] == [None, uid]
