"""Ingest benchmark: 100,000 commits in batches of 1,000 through the HTTP API.

    python bench/bench_ingest.py [--commits 100000] [--runs 3] [--db postgresql,sqlite]

For each database: gunicorn (4 workers) serves a fresh migrated database;
one client sends new commits, then the same commits again (all
duplicates); 20 concurrent writers measure batch latency. The reference is
a bulk load of the same rows in the same run: COPY on PostgreSQL,
executemany on SQLite. Prints medians over ``--runs``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.db import db  # noqa: E402
from tests.helpers import Seed, chain  # noqa: E402
from tests.server import LiveServer  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CONFIG = {"SECRET_KEY": "b" * 40, "JWT_SECRET_KEY": "c" * 40}


def fresh_database(kind: str, tmp: Path) -> str:
    """An empty migrated database URL."""
    from flask_migrate import upgrade

    if kind == "sqlite":
        url = f"sqlite:///{tmp}/bench-{uuid.uuid4().hex[:6]}.sqlite3"
    else:
        name = f"gitleague_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        admin.dispose()
    app = create_app({**CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
    return url


def drop_database(url: str) -> None:
    if url.startswith("postgresql"):
        name = sa.engine.make_url(url).database
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def send_all(url: str, key: str, repo_id: str, bodies: list[bytes]) -> list[float]:
    """POST pre-encoded batches one after the other; returns each batch's latency."""
    latencies = []
    with requests.Session() as http:
        http.headers.update({"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        for body in bodies:
            start = time.perf_counter()
            resp = http.post(f"{url}/api/v1/repos/{repo_id}/commits", data=body, timeout=300)
            latencies.append(time.perf_counter() - start)
            if resp.status_code != 200:
                raise RuntimeError(f"{resp.status_code}: {resp.text[:300]}")
    return latencies


def encode(commits: list[dict[str, Any]], size: int) -> list[bytes]:
    return [
        json.dumps({"commits": commits[i : i + size]}).encode()
        for i in range(0, len(commits), size)
    ]


def reference_load(url: str, commits: list[dict[str, Any]]) -> float:
    """Seconds to bulk-load the same rows into a scratch table (COPY / executemany)."""
    rows = [
        (c["sha"], json.dumps(c["parents"]), c["author_name"], c["author_email"],
         c["authored_at"], c["committer_name"], c["committer_email"], c["committed_at"],
         c["message"], c["additions"], c["deletions"], c["files_changed"], c["is_merge"])
        for c in commits
    ]  # fmt: skip
    cols = (
        "sha text, parents text, author_name text, author_email text, authored_at text, "
        "committer_name text, committer_email text, committed_at text, message text, "
        "additions int, deletions int, files_changed int, is_merge boolean"
    )
    if url.startswith("postgresql"):
        import psycopg

        conninfo = url.replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(conninfo) as conn:
            conn.execute(f"CREATE TEMP TABLE ref ({cols}, UNIQUE (sha))")
            start = time.perf_counter()
            with conn.cursor().copy("COPY ref FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            conn.commit()
            return time.perf_counter() - start
    import sqlite3

    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    conn.execute(f"CREATE TEMP TABLE ref ({cols}, UNIQUE (sha))")
    start = time.perf_counter()
    conn.executemany(f"INSERT INTO ref VALUES ({', '.join('?' * 13)})", rows)
    conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def concurrent_p99(url: str, keys_repos: list[tuple[str, str]], per_writer: int) -> float:
    """p99 latency of 1,000-commit batches with one writer per (key, repo)."""
    latencies: list[float] = []
    lock = threading.Lock()

    def writer(i: int, key: str, repo_id: str) -> None:
        bodies = encode(chain(per_writer, prefix=f"w{i}-{uuid.uuid4().hex}"), 1000)
        got = send_all(url, key, repo_id, bodies)
        with lock:
            latencies.extend(got)

    threads = [
        threading.Thread(target=writer, args=(i, k, r)) for i, (k, r) in enumerate(keys_repos)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statistics.quantiles(latencies, n=100)[98]


def one_run(kind: str, total: int, writers: int, tmp: Path) -> dict[str, float]:
    url = fresh_database(kind, tmp)
    try:
        app = create_app({**CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        seed = Seed(app)
        owner = seed.actor()
        project = seed.project(owner)
        repo_id = seed.repo(project)
        writer_repos = [(owner.key, seed.repo(project)) for _ in range(writers)]
        with app.app_context():
            db.engine.dispose()
        commits = chain(total, prefix=uuid.uuid4().hex)
        bodies = encode(commits, 1000)
        with LiveServer(url, workers=4).start(tmp) as server:
            start = time.perf_counter()
            send_all(server.url, owner.key, repo_id, bodies)
            new = total / (time.perf_counter() - start)
            start = time.perf_counter()
            send_all(server.url, owner.key, repo_id, bodies)
            dup = total / (time.perf_counter() - start)
            p99 = concurrent_p99(server.url, writer_repos, per_writer=5000)
        ref = total / reference_load(url, commits)
        return {"new": new, "duplicates": dup, "reference": ref, "p99_20_writers": p99}
    finally:
        drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--db", default="postgresql,sqlite")
    args = parser.parse_args()
    print(
        f"# {dt.date.today()} {platform.node()} {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmpdir:
        for kind in args.db.split(","):
            runs = [
                one_run(kind, args.commits, args.writers, Path(tmpdir)) for _ in range(args.runs)
            ]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(
                f"{kind}: new {med['new']:,.0f} commits/s, duplicates {med['duplicates']:,.0f} "
                f"commits/s, bulk reference {med['reference']:,.0f} rows/s "
                f"(new/ref {med['new'] / med['reference']:.2f}), "
                f"p99 batch with {args.writers} writers {med['p99_20_writers'] * 1000:.0f} ms "
                f"[median of {args.runs}]"
            )


if __name__ == "__main__":
    main()
