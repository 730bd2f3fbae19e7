"""Web UI page times on a large project (server time, in process).

    python bench/bench_web.py [--commits 500000] [--runs 5]

Fills a fresh PostgreSQL database with one project of 5 repos and
``--commits`` commits by 200 authors over three years (INSERT ... SELECT
from generate_series), then times pages through Flask's test client: the
league table (month, all time), the repositories page and one repository's
page, one contributor's page. The rows go in with raw SQL, so the league
rollup is then rebuilt once (what ``flask league rebuild`` does). The
reference, measured in the same run, is the API's league query
``GET /api/v1/projects/<id>/contributors`` for the same period. Prints
medians over ``--runs``, SQL statements per page and the machine's load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.db import db  # noqa: E402
from app.services import rollup  # noqa: E402
from bench.bench_ingest import CONFIG, PG_ADMIN, fresh_database  # noqa: E402
from tests.helpers import Seed  # noqa: E402
from tests.web.helpers import login  # noqa: E402

FILL = """
INSERT INTO commits (repo_id, sha, parents, author_name, author_email, authored_at,
    author_tz_offset, committer_name, committer_email, committed_at, committer_tz_offset,
    message, additions, deletions, files_changed, is_merge)
SELECT CAST(:repo AS text), md5(CAST(:repo AS text) || g::text), '[]'::jsonb, 'Author ' || (g % 200),
    'author' || (g % 200) || '@example.org', now() - (g % 1095) * interval '1 day',
    0, 'C', 'c@example.org', now() - (g % 1095) * interval '1 day', 0,
    'commit ' || g, g % 50, g % 7, 1 + g % 3, false
FROM generate_series(1, CAST(:n AS integer)) AS g
"""


def drop(url: str) -> None:
    """Drop the benchmark database."""
    name = sa.make_url(url).database
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


STATEMENTS = [0]


def count_statements(*_args) -> None:
    """SQLAlchemy ``before_cursor_execute`` hook: one more statement."""
    STATEMENTS[0] += 1


def timed(client, url: str, runs: int, headers=None) -> tuple[float, int]:
    """Median milliseconds over ``runs`` loads, and SQL statements per load."""
    samples = []
    for _ in range(runs + 1):  # the first warms caches and is dropped
        STATEMENTS[0] = 0
        start = time.perf_counter()
        resp = client.get(url, headers=headers)
        samples.append(time.perf_counter() - start)
        assert resp.status_code == 200, (url, resp.status_code)
    return statistics.median(samples[1:]) * 1000, STATEMENTS[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database (for profiling)")
    args = parser.parse_args()
    url = fresh_database("postgresql", Path(tempfile.mkdtemp()))
    app = create_app({**CONFIG, "SQLALCHEMY_DATABASE_URI": url,
                      "GITLEAGUE_LOGIN_RATE_LIMIT": "1000 per minute"})  # fmt: skip
    seed = Seed(app)
    owner = seed.actor("owner@example.org")
    project = seed.project(owner, "Big")
    repos = [seed.repo(project, repo_id=f"big-{i}") for i in range(5)]
    with app.app_context():
        for repo in repos:
            db.session.execute(sa.text(FILL), {"repo": repo, "n": args.commits // len(repos)})
        db.session.commit()
        rollup.rebuild(db.session.connection(), uuid.UUID(project))
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        sa.event.listen(db.engine, "before_cursor_execute", count_statements)
    client = app.test_client()
    login(client, "owner@example.org")
    api = {"Authorization": f"Bearer {owner.key}"}
    rows = {
        "API contributors, month (reference)": timed(
            client, f"/api/v1/projects/{project}/contributors?period=month", args.runs, api),
        "API contributors, all time": timed(
            client, f"/api/v1/projects/{project}/contributors?period=all", args.runs, api),
        "league page, month (+ previous month, activity)": timed(
            client, f"/projects/{project}/league?period=month", args.runs),
        "league page, all time": timed(client, f"/projects/{project}/league?period=all", args.runs),
        "repositories page": timed(client, f"/projects/{project}/repos", args.runs),
        "repository page": timed(client, f"/repos/{repos[0]}", args.runs),
        "contributor page": timed(
            client, f"/projects/{project}/league/author7@example.org", args.runs),
    }  # fmt: skip
    with app.app_context():
        db.engine.dispose()
    if args.keep:
        print(f"kept {url} (project {project}, owner key {owner.key})")
    else:
        drop(url)
    ref = next(iter(rows.values()))[0]
    load = " ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"{args.commits} commits, PostgreSQL, median of {args.runs} (ms), load {load}")
    print("| page | median | vs reference | SQL statements |")
    for name, (ms, statements) in rows.items():
        print(f"| {name} | {ms:.0f} ms | {ms / ref:.2f}x | {statements} |")


if __name__ == "__main__":
    main()
