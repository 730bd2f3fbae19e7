"""The league rollup equals a plain aggregate over ``commits`` after any sequence of changes."""

from __future__ import annotations

import collections
import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from app import create_app
from app.db import db
from app.models import (
    Commit,
    LeagueCommit,
    LeagueDay,
    LeagueRepoDay,
    LeagueRepoTotal,
    LeagueTotal,
    Repo,
)
from app.models.league import KEY_LENGTH
from app.services import migration, rollup
from tests.conftest import TEST_CONFIG
from tests.helpers import Seed, commit_json, fake_sha
from tests.test_schema import scratch_url  # noqa: F401 (a fixture)

AUTHORS = [
    ("Ada", "ada@example.org"),
    ("Ada", "ADA@example.org"),  # another key, same person (merged when reading)
    ("Bo", "bo@example.org"),
    ("Éva", "eva@example.org"),
    ("L" * 300, "long@example.org"),  # cut to KEY_LENGTH in the rollup
]
# Around UTC midnights, with offsets that move the UTC day.
TIMES = [
    "2024-02-29T23:59:59Z",
    "2024-03-01T00:00:00Z",
    "2024-03-01T00:30:00+01:00",  # 2024-02-29 23:30 UTC
    "2024-03-01T23:30:00-01:00",  # 2024-03-02 00:30 UTC
    "2024-12-31T23:00:00+00:00",
]
POOL = [
    commit_json(
        fake_sha(f"rollup{i}"),
        [fake_sha("p1"), fake_sha("p2")] if i % 7 == 6 else [],
        when=TIMES[i // len(AUTHORS) % len(TIMES)],  # each author on several days
        author_name=AUTHORS[i % len(AUTHORS)][0],
        author_email=AUTHORS[i % len(AUTHORS)][1],
        additions=i * 3 % 11,
        deletions=i % 4,
        files_changed=i % 3 + 1,
    )
    for i in range(40)
]


def expected_rollup(project_id: uuid.UUID) -> dict[str, Any]:
    """What the rollup must hold, computed in Python from the commits table."""
    rows = db.session.execute(
        sa.select(Commit).join(Repo).where(Repo.project_id == project_id)
    ).scalars()
    shas: set[str] = set()
    days: dict[tuple, list] = collections.defaultdict(lambda: [0, 0, 0, 0, 0])
    repo_days: dict[tuple, list] = collections.defaultdict(lambda: [0, 0, 0, 0, 0])
    for c in rows:
        key = (c.author_email[:KEY_LENGTH], c.author_name[:KEY_LENGTH])
        day = c.authored_at.astimezone(dt.timezone.utc).date()
        figures = (int(not c.is_merge), int(c.is_merge), c.additions, c.deletions, c.files_changed)
        for target in [repo_days[(c.repo_id, *key, day)]] + (
            [] if c.sha in shas else [days[(*key, day)]]
        ):
            for i, value in enumerate(figures):
                target[i] += value
        shas.add(c.sha)
    totals: dict[tuple, list] = collections.defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for (email, name, _day), figures in days.items():
        for i, value in enumerate((*figures, 1)):
            totals[(email, name)][i] += value
    repo_totals: dict[tuple, list] = collections.defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for (repo, email, name, _day), figures in repo_days.items():
        for i, value in enumerate((*figures, 1)):
            repo_totals[(repo, email, name)][i] += value
    return {
        "shas": shas,
        "days": {k: tuple(v) for k, v in days.items()},
        "repo_days": {k: tuple(v) for k, v in repo_days.items()},
        "totals": {k: tuple(v) for k, v in totals.items()},
        "repo_totals": {k: tuple(v) for k, v in repo_totals.items()},
    }


def stored_rollup(project_id: uuid.UUID, repo_ids: list[str]) -> dict[str, Any]:
    """The rollup's rows in the shape of :func:`expected_rollup`."""
    s = db.session

    def figures(r: Any) -> tuple[int, ...]:
        return (r.commits, r.merges, r.additions, r.deletions, r.files_changed)

    return {
        "shas": set(s.scalars(sa.select(LeagueCommit.sha).where(
            LeagueCommit.project_id == project_id))),
        "days": {(r.author_email, r.author_name, r.day): figures(r) for r in s.scalars(
            sa.select(LeagueDay).where(LeagueDay.project_id == project_id))},
        "repo_days": {(r.repo_id, r.author_email, r.author_name, r.day): figures(r)
                      for r in s.scalars(sa.select(LeagueRepoDay).where(
                          LeagueRepoDay.repo_id.in_(repo_ids)))},
        "totals": {(r.author_email, r.author_name): (*figures(r), r.active_days)
                   for r in s.scalars(sa.select(LeagueTotal).where(
                       LeagueTotal.project_id == project_id))},
        "repo_totals": {(r.repo_id, r.author_email, r.author_name): (*figures(r), r.active_days)
                        for r in s.scalars(sa.select(LeagueRepoTotal).where(
                            LeagueRepoTotal.repo_id.in_(repo_ids)))},
    }  # fmt: skip


def check_first_last(project_id: uuid.UUID) -> None:
    """first_at/last_at of each all-time row are the author's first and last commit."""
    for total in db.session.scalars(
        sa.select(LeagueTotal).where(LeagueTotal.project_id == project_id)
    ):
        times = db.session.scalars(
            sa.select(Commit.authored_at).join(Repo).where(
                Repo.project_id == project_id,
                sa.func.substr(Commit.author_email, 1, KEY_LENGTH) == total.author_email,
                sa.func.substr(Commit.author_name, 1, KEY_LENGTH) == total.author_name,
            )
        ).all()  # fmt: skip
        assert (total.first_at, total.last_at) == (min(times), max(times))


def test_rollup_follows_every_change(app: Any, client: Any, seed: Any) -> None:
    """Random pushes, resent and fork-shared commits, repo deletions, migrations, rebuilds."""
    owner = seed.actor("owner@example.org")

    class Rollup(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.project = seed.project(owner, "League")
            self.other = seed.project(owner, "Other")
            self.repos = [seed.repo(self.project) for _ in range(3)]

        @rule(repo=st.integers(0, 2), picks=st.lists(st.integers(0, len(POOL) - 1), max_size=12))
        def push(self, repo: int, picks: list[int]) -> None:
            if repo >= len(self.repos):
                return
            resp = client.post(f"/api/v1/repos/{self.repos[repo]}/commits",
                               json={"commits": [POOL[i] for i in picks]},
                               headers=owner.headers())  # fmt: skip
            assert resp.status_code == 200, resp.json

        @rule(picks=st.lists(st.integers(0, len(POOL) - 1), max_size=5))
        def push_elsewhere(self, picks: list[int]) -> None:
            repo = seed.repo(self.other)
            resp = client.post(f"/api/v1/repos/{repo}/commits",
                               json={"commits": [POOL[i] for i in picks]},
                               headers=owner.headers())  # fmt: skip
            assert resp.status_code == 200, resp.json

        @rule(repo=st.integers(0, 2))
        def delete_repo(self, repo: int) -> None:
            if repo >= len(self.repos):
                return
            resp = client.delete(f"/api/v1/repos/{self.repos.pop(repo)}", headers=owner.headers())
            assert resp.status_code == 204, resp.json

        @rule()
        def add_repo(self) -> None:
            self.repos.append(seed.repo(self.project))

        @rule(repo=st.integers(0, 2))
        def migrate_and_back(self, repo: int) -> None:
            if repo >= len(self.repos):
                return
            with app.app_context():
                services = migration.transition_services(app)
                migration.migrate("test", target="pull_celery", repo_ids=[self.repos[repo]],
                                  services=services)  # fmt: skip
                db.session.commit()
                self.check()
                migration.rollback("test", repo_ids=[self.repos[repo]], services=services)
                db.session.commit()

        @rule()
        def rebuild(self) -> None:
            with app.app_context():
                rollup.rebuild(db.session.connection(), uuid.UUID(self.project))
                db.session.commit()

        @invariant()
        def rollup_is_exact(self) -> None:
            with app.app_context():
                self.check()

        def check(self) -> None:
            pid = uuid.UUID(self.project)
            assert stored_rollup(pid, self.repos) == expected_rollup(pid)
            check_first_last(pid)

    Rollup.TestCase.settings = settings(
        max_examples=12,
        stateful_step_count=8,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    Rollup.TestCase().runTest()


def test_rebuild_command_restores_a_wiped_rollup(app: Any, client: Any, seed: Any, runner: Any):
    owner = seed.actor("owner@example.org")
    project = seed.project(owner)
    repo = seed.repo(project)
    resp = client.post(f"/api/v1/repos/{repo}/commits", json={"commits": POOL[:20]},
                       headers=owner.headers())  # fmt: skip
    assert resp.status_code == 200
    pid = uuid.UUID(project)
    with app.app_context():
        before = stored_rollup(pid, [repo])
        for model in (LeagueTotal, LeagueDay, LeagueCommit):
            db.session.execute(sa.delete(model))
        db.session.execute(sa.delete(LeagueRepoDay))
        db.session.execute(sa.delete(LeagueRepoTotal))
        db.session.commit()
    result = runner.invoke(args=["league", "rebuild", project])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert stored_rollup(pid, [repo]) == before == expected_rollup(pid)
    result = runner.invoke(args=["league", "rebuild"])
    assert result.exit_code == 0 and "1 project" in result.output
    missing = runner.invoke(args=["league", "rebuild", str(uuid.uuid4())])
    assert missing.exit_code == 1 and "Project not found" in missing.output


def as_row(repo_id: str, c: dict[str, Any]) -> dict[str, Any]:
    """A pushed commit as a row of ``commits``."""
    when = dt.datetime.fromisoformat(c["authored_at"].replace("Z", "+00:00"))
    return {**c, "repo_id": repo_id, "authored_at": when, "committed_at": when,
            "author_tz_offset": 0, "committer_tz_offset": 0}  # fmt: skip


def test_the_migration_fills_the_rollup_from_stored_commits(scratch_url: str) -> None:  # noqa: F811
    """0005 builds the rollup of commits stored before it; downgrade and upgrade again."""
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": scratch_url})
    with app.app_context():
        upgrade(revision="0004")
    seed = Seed(app)
    owner = seed.actor()
    project = seed.project(owner)
    upstream, fork = seed.repo(project), seed.repo(project)
    pid = uuid.UUID(project)
    with app.app_context():
        # Stored by the code of 0004, which knew no rollup.
        for repo, commits in ((upstream, POOL[:25]), (fork, POOL[15:])):
            db.session.execute(sa.insert(Commit), [as_row(repo, c) for c in commits])
        db.session.commit()
        db.session.remove()
        upgrade(revision="0005")
        assert stored_rollup(pid, [upstream, fork]) == expected_rollup(pid)
        assert len(expected_rollup(pid)["shas"]) == len(POOL)
        db.session.remove()
        downgrade(revision="0004")
        assert "league_days" not in sa.inspect(db.engine).get_table_names()
        upgrade()
        assert stored_rollup(pid, [upstream, fork]) == expected_rollup(pid)
        db.session.remove()
        db.engine.dispose()


def test_a_fork_pushed_after_its_upstream_adds_nothing(app: Any, client: Any, seed: Any) -> None:
    owner = seed.actor("owner@example.org")
    project = seed.project(owner)
    upstream, fork = seed.repo(project), seed.repo(project)
    for repo in (upstream, fork):
        resp = client.post(f"/api/v1/repos/{repo}/commits", json={"commits": POOL[:10]},
                           headers=owner.headers())  # fmt: skip
        assert resp.json["inserted"] == 10
    pid = uuid.UUID(project)
    with app.app_context():
        stored = stored_rollup(pid, [upstream, fork])
        assert stored == expected_rollup(pid)
        assert sum(f[0] + f[1] for f in stored["totals"].values()) == 10


def test_concurrent_batches_of_one_project_keep_the_rollup_exact(
    app: Any, seed: Any, live_server: Any
) -> None:
    """Writers to the repos of one project, sharing authors, days and some shas, at once."""
    import random
    import threading

    import requests

    owner = seed.actor("owner@example.org")
    project = seed.project(owner)
    repos = [seed.repo(project) for _ in range(4)]
    rng = random.Random(7)
    shared = [commit_json(fake_sha(f"shared{i}"), when=rng.choice(TIMES),
                          author_name="Ada", author_email=rng.choice(["ada@x.org", "bo@x.org"]))
              for i in range(30)]  # fmt: skip
    failures: list[str] = []

    def writer(n: int, repo: str) -> None:
        for b in range(4):
            mine = [commit_json(fake_sha(f"w{n}-{b}-{i}"), when=rng.choice(TIMES),
                                author_name=AUTHORS[i % 5][0], author_email=AUTHORS[i % 5][1])
                    for i in range(40)]  # fmt: skip
            body = {"commits": mine + shared[b * 8 : b * 8 + 12]}
            resp = requests.post(f"{live_server.url}/api/v1/repos/{repo}/commits", json=body,
                                 headers=owner.headers(), timeout=60)  # fmt: skip
            if resp.status_code != 200:
                failures.append(f"{resp.status_code} {resp.text[:200]}")

    threads = [threading.Thread(target=writer, args=(n, r)) for n, r in enumerate(repos * 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    pid = uuid.UUID(project)
    with app.app_context():
        assert stored_rollup(pid, repos) == expected_rollup(pid)
