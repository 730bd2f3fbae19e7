"""League benchmark: the contributors table at 50,000 and 500,000 commits.

    python bench/bench_league.py [--sizes 50000,500000] [--db postgresql,sqlite] [--runs 7]

For each database and size: a fresh migrated database, one project of 10
repos, commits by 2,000 authors with a long tail (author k writes in
proportion to 1/k) over the last three years, 10% of them also stored in a
second repo (forks), all pushed through the HTTP API (gunicorn, 4 workers)
in batches of 1,000. Then (after ``ANALYZE``, unless ``--no-analyze``)
``GET /api/v1/projects/<id>/contributors`` for all time, the last 30 days
and this calendar month, each the median of ``--runs`` calls.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.db import db  # noqa: E402
from bench.bench_ingest import CONFIG, drop_database, encode, fresh_database, send_all  # noqa: E402
from tests.helpers import Seed  # noqa: E402
from tests.server import LiveServer  # noqa: E402

REPOS = 10
AUTHORS = 2000
SPAN_DAYS = 3 * 365


def commits_for(total: int, seed: int = 1) -> dict[int, list[dict[str, Any]]]:
    """``total`` commits spread over REPOS repos (10% also in a fork), oldest first per repo."""
    rng = random.Random(seed)
    weights = [1 / k for k in range(1, AUTHORS + 1)]
    authors = rng.choices(range(AUTHORS), weights=weights, k=total)
    now = dt.datetime.now(dt.timezone.utc)
    per_repo: dict[int, list[dict[str, Any]]] = {r: [] for r in range(REPOS)}
    for i, author in enumerate(authors):
        when = now - dt.timedelta(seconds=rng.randrange(SPAN_DAYS * 86400))
        repo = rng.randrange(REPOS)
        commit = {
            "sha": hashlib.sha1(f"league-{seed}-{i}".encode()).hexdigest(),
            "parents": [],
            "author_name": f"Author {author}",
            "author_email": f"author{author}@example.org",
            "authored_at": when.isoformat(),
            "committer_name": f"Author {author}",
            "committer_email": f"author{author}@example.org",
            "committed_at": when.isoformat(),
            "message": "work\n",
            "additions": rng.randrange(200),
            "deletions": rng.randrange(100),
            "files_changed": rng.randrange(1, 10),
            "is_merge": False,
        }
        per_repo[repo].append(commit)
        if rng.random() < 0.10:  # also in a fork of that repo
            per_repo[(repo + 1) % REPOS].append(commit)
    for commits in per_repo.values():
        commits.sort(key=lambda c: c["authored_at"])
    return per_repo


def timed(url: str, key: str, runs: int) -> float:
    """Median seconds of ``runs`` GETs (after one warm-up)."""
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {key}"
        assert http.get(url, timeout=120).status_code == 200
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            resp = http.get(url, timeout=120)
            times.append(time.perf_counter() - start)
            assert resp.status_code == 200, resp.text[:300]
    return statistics.median(times)


def one(kind: str, total: int, runs: int, tmp: Path, analyze: bool) -> dict[str, float]:
    url = fresh_database(kind, tmp)
    try:
        app = create_app({**CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        seed = Seed(app)
        owner = seed.actor()
        project = seed.project(owner)
        repo_ids = [seed.repo(project) for _ in range(REPOS)]
        with app.app_context():
            db.engine.dispose()
        per_repo = commits_for(total)
        stored = sum(len(c) for c in per_repo.values())
        with LiveServer(url, workers=4).start(tmp) as server:
            start = time.perf_counter()
            with ThreadPoolExecutor(4) as pool:
                jobs = [
                    pool.submit(
                        send_all, server.url, owner.key, repo_ids[r], encode(per_repo[r], 1000)
                    )
                    for r in range(REPOS)
                ]
                for job in jobs:
                    job.result()
            ingest = stored / (time.perf_counter() - start)
            if analyze:
                # What autovacuum does on its own shortly after a bulk load;
                # right after one, plans still assume empty tables.
                engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
                with engine.begin() as conn:
                    conn.exec_driver_sql("ANALYZE")
                engine.dispose()
            base = f"{server.url}/api/v1/projects/{project}/contributors"
            today = dt.datetime.now(dt.timezone.utc).date()
            window = f"since={today - dt.timedelta(days=29)}&until={today + dt.timedelta(days=1)}"
            return {
                "all": timed(base, owner.key, runs),
                "30d": timed(f"{base}?{window}", owner.key, runs),
                "month": timed(f"{base}?period=month", owner.key, runs),
                "ingest": ingest,
            }
    finally:
        drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50000,500000")
    parser.add_argument("--db", default="postgresql,sqlite")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="time the tables right after the load, before statistics exist",
    )
    args = parser.parse_args()
    print(f"# {dt.date.today()} {platform.node()} {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmpdir:
        for kind in args.db.split(","):
            for size in (int(s) for s in args.sizes.split(",")):
                r = one(kind, size, args.runs, Path(tmpdir), not args.no_analyze)
                print(
                    f"{kind} {size:,} commits: all time {r['all'] * 1000:.0f} ms, "
                    f"30 days {r['30d'] * 1000:.0f} ms, this month {r['month'] * 1000:.0f} ms "
                    f"[median of {args.runs}]; ingest {r['ingest']:,.0f} stored commits/s",
                    flush=True,
                )


if __name__ == "__main__":
    main()
