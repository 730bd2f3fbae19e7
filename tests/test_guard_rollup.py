"""Guards for the league rollup's upserts (app/services/rollup.py, issue 14), on both databases.

The property test (tests/test_rollup.py) compares the rollup's counters with
``commits``; these pin what it cannot see: how ``first_at``/``last_at``
widen when a later batch holds earlier or later commits, and the order in
which a batch locks the all-time rows (the order that keeps concurrent
batches of one project from deadlocking).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from app.db import db
from app.models import LeagueDay, LeagueRepoDay, LeagueRepoTotal, LeagueTotal
from app.schemas.commit_wire import decode_batch, decode_items
from app.services import ingest
from tests.helpers import commit_json, fake_sha

WAITING = (
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
    "AND datname = current_database()"
)


@pytest.fixture
def owner(seed: Any) -> Any:
    return seed.actor("owner@example.org")


def push(client: Any, owner: Any, repo_id: str, commits: list[dict[str, Any]]) -> None:
    resp = client.post(
        f"/api/v1/repos/{repo_id}/commits", json={"commits": commits}, headers=owner.headers()
    )
    assert resp.status_code == 200, resp.json


def utc(value: str | dt.datetime) -> dt.datetime:
    """An aware UTC time from ISO text or a stored time (SQLite's are naive UTC)."""
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.replace(tzinfo=dt.timezone.utc) if when.tzinfo is None else when


def wait_for_a_lock(probe: sa.Connection) -> None:
    """Until a session of the test database waits for a lock (a minute at most)."""
    for _ in range(600):
        if probe.execute(sa.text(WAITING)).scalar():
            return
        probe.rollback()
        time.sleep(0.1)


def test_first_and_last_widen_in_every_table(app, client, seed, owner):
    """A batch with an earlier and a later commit moves first_at back and last_at on."""
    project = seed.project(owner)
    repo_id = seed.repo(project)
    times = ["2024-05-02T12:00:00", "2024-05-02T08:00:00", "2024-05-02T18:00:00"]
    commits = [commit_json(fake_sha(f"w{i}"), when=f"{t}Z") for i, t in enumerate(times)]
    push(client, owner, repo_id, commits[:1])
    push(client, owner, repo_id, commits[1:])
    with app.app_context():
        pid = uuid.UUID(project)
        for model, where in (
            (LeagueDay, LeagueDay.project_id == pid),
            (LeagueTotal, LeagueTotal.project_id == pid),
            (LeagueRepoDay, LeagueRepoDay.repo_id == repo_id),
            (LeagueRepoTotal, LeagueRepoTotal.repo_id == repo_id),
        ):
            row = db.session.scalars(sa.select(model).where(where)).one()
            got = (row.commits, utc(row.first_at), utc(row.last_at))
            assert got == (3, utc(times[1]), utc(times[2])), model


def test_a_batch_locks_the_all_time_rows_in_key_order(app, client, seed, owner, database_url):
    """Rows are upserted in (email, name) order, whatever the names or the counts.

    Another transaction holds the middle row (a@x, Zed): the batch must hold
    (a@x, Amy) and wait there, with (b@x, Aaron) not reached yet. Sorted by
    name, it would hold Aaron too; sorted by its counts, Zed would come first.
    """
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks: PostgreSQL only (SQLite serialises writers itself)")
    project = seed.project(owner)
    repo_id = seed.repo(project)
    authors = {"Amy": "a@x.org", "Zed": "a@x.org", "Aaron": "b@x.org"}

    def by(name: str, n: int) -> dict[str, Any]:
        return commit_json(fake_sha(f"{name}{n}"), author_name=name, author_email=authors[name])

    push(client, owner, repo_id, [by(name, 0) for name in authors])  # the rows exist
    batch = [by("Amy", 1), by("Amy", 2), by("Zed", 1), by("Aaron", 1)]  # Amy 2, the others 1
    engine = sa.create_engine(database_url)
    pid = uuid.UUID(project)
    rows = "SELECT author_name FROM league_totals WHERE project_id = :p"
    thread = threading.Thread(target=push, args=(app.test_client(), owner, repo_id, batch))
    try:
        with engine.connect() as holder, engine.connect() as probe:
            tx = holder.begin()
            holder.execute(sa.text(f"{rows} AND author_name = 'Zed' FOR UPDATE"), {"p": pid})
            thread.start()
            wait_for_a_lock(probe)  # the batch waits for Zed's row
            free = probe.execute(sa.text(f"{rows} FOR UPDATE SKIP LOCKED"), {"p": pid})
            assert sorted(free.scalars()) == ["Aaron"]
            probe.rollback()
            tx.rollback()
        thread.join(timeout=120)
    finally:
        engine.dispose()
    assert not thread.is_alive()
    with app.app_context():
        totals = db.session.scalars(sa.select(LeagueTotal).where(LeagueTotal.project_id == pid))
        assert {t.author_name: t.commits for t in totals} == {"Amy": 3, "Zed": 2, "Aaron": 2}


def test_shas_another_writer_stores_meanwhile_count_once(app, seed, owner, database_url):
    """The batch's new shas, stored by a concurrent writer after its lookup: duplicates.

    The batch sees no stored sha; its INSERT waits for the other transaction,
    then conflicts on every row and returns none, so nothing is added to the
    rollup twice and the answer counts duplicates (pg_add_totals of no rows).
    """
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks: PostgreSQL only (SQLite serialises writers itself)")
    project = seed.project(owner)
    repo_id = seed.repo(project)
    commits = [commit_json(fake_sha(f"raced{i}")) for i in range(2)]
    stored, go = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def other_writer() -> None:
        with app.app_context():
            batch = decode_batch(json.dumps({"commits": commits}).encode())
            outcome["other"] = ingest.store_commits(repo_id, decode_items(batch.commits)[0])
            stored.set()
            go.wait(timeout=60)
            db.session.commit()

    def batch() -> None:
        resp = app.test_client().post(
            f"/api/v1/repos/{repo_id}/commits", json={"commits": commits}, headers=owner.headers()
        )
        outcome["batch"] = (resp.status_code, resp.json)

    writer, pusher = threading.Thread(target=other_writer), threading.Thread(target=batch)
    engine = sa.create_engine(database_url)
    try:
        writer.start()
        assert stored.wait(timeout=60)
        pusher.start()
        with engine.connect() as probe:
            wait_for_a_lock(probe)  # the batch's INSERT waits for the other writer
        go.set()
        writer.join(timeout=120)
        pusher.join(timeout=120)
    finally:
        go.set()
        engine.dispose()
    assert outcome["other"] == (2, 0)
    assert outcome["batch"] == (
        200, {"received": 2, "inserted": 0, "corrected": 0, "duplicates": 2, "rejected": []}
    )  # fmt: skip
    with app.app_context():
        pid = uuid.UUID(project)
        totals = db.session.scalars(sa.select(LeagueTotal).where(LeagueTotal.project_id == pid))
        assert [t.commits for t in totals] == [2]
