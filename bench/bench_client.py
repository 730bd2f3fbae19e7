"""Benchmark ``gitleague-client sync`` end to end against a real local server.

    python bench/bench_client.py [--commits 20000] [--runs 3] [--noop-runs 5] [--repos 20]

(a) No new commits: 20 configured repositories (local bare remotes, each already
    synced once) against gunicorn on SQLite; the wall time of the whole
    ``gitleague-client sync`` process, with fetch (the default) and with
    ``--no-fetch``, median of ``--noop-runs``; ``--version`` shows the start-up floor.
(b) First sync: the 20,000-commit history of bench/bench_extract.py (built once,
    cached in bench/out/) fetched, extracted and uploaded through gunicorn on
    PostgreSQL (a fresh database per run); commits/s end to end, the client's peak
    RSS, and the ratio to ``git log --numstat --no-renames`` timed in the same run.
    Median of ``--runs``; ``--commits 2000`` for a quick run. ``path`` is an existing
    clone (made by git), as for most users; ``--clone`` lets the client clone it.
    ``--workers N`` sets ``extract_workers`` (else the config leaves it to the client's
    default). CPU time is the client's and its worker processes'; memory is the client
    process's own peak RSS and the sum of its workers' peaks (each process's VmHWM,
    sampled from /proc).

``--skip-noop`` / ``--skip-first-sync`` run one half only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import bench_extract  # noqa: E402  (the history generator and git log timing, reused)
from bench_ingest import CONFIG, drop_database, fresh_database  # noqa: E402

from app import create_app  # noqa: E402
from app.db import db  # noqa: E402
from tests.helpers import Seed  # noqa: E402
from tests.server import LiveServer  # noqa: E402

SERVER_WORKERS = 2


def client_command() -> list[str]:
    """The installed console script beside this interpreter, else ``python -m``."""
    script = Path(sys.executable).parent / "gitleague-client"
    return [str(script)] if script.exists() else [sys.executable, "-m", "gitleague_client"]


def client_env() -> dict[str, str]:
    """This environment without git's or GitLeague's variables, as under cron."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITLEAGUE_"))}


# Runs the client and writes its peak memory (MB, JSON): the client process's and the sum
# of its extraction workers' (VmHWM, sampled), and ru_maxrss of RUSAGE_CHILDREN after it
# exits (the largest of them). Linux counts the memory of the process that spawned a child
# into the child's ru_maxrss, so the spawner must be this small interpreter, not the
# benchmark with the app loaded.
LAUNCHER = (
    bench_extract.PEAK_SAMPLER
    + """
import json, resource, sys
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
peak = TreePeak(pid)
peak.start()
_, status = os.waitpid(pid, 0)
memory = peak.stop()
memory["maxrss"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
with open(sys.argv[1], "w") as f:
    json.dump(memory, f)
sys.exit(os.waitstatus_to_exitcode(status))
"""
)


def run_client(*args: str, log: Path, rss: bool = True) -> tuple[float, dict, int]:
    """Run the client to completion; its wall seconds, peak memory (MB) and exit status.

    Without ``rss`` there is no launcher (whose start-up, ~30 ms, would count in the time).
    """
    rss_file = log.with_suffix(".rss")
    launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(rss_file)] if rss else []
    with log.open("wb") as out:
        start = time.perf_counter()
        code = subprocess.call([*launcher, *client_command(), *args], env=client_env(),
                               stdin=subprocess.DEVNULL, stdout=out, stderr=out)  # fmt: skip
        wall = time.perf_counter() - start
    return wall, json.loads(rss_file.read_text()) if rss else {}, code


def run_ok(*args: str, log: Path, rss: bool = True) -> tuple[float, dict]:
    """:func:`run_client` that stops the benchmark when the client fails."""
    wall, rss_mb, code = run_client(*args, log=log, rss=rss)
    if code != 0:
        raise RuntimeError(f"gitleague-client {' '.join(args)} exited {code}:\n{log.read_text()}")
    return wall, rss_mb


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True, env=client_env()).stdout.strip()  # fmt: skip


@contextlib.contextmanager
def server_on(url: str, tmp: Path) -> Iterator[tuple[LiveServer, Seed]]:
    """gunicorn on the database ``url`` and a seeder writing to the same database."""
    app = create_app({**CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    try:
        with LiveServer(url, workers=SERVER_WORKERS).start(tmp) as server:
            yield server, Seed(app)
    finally:
        with app.app_context():
            db.engine.dispose()


def write_config(
    path: Path, server: LiveServer, key: str, projects: list[dict[str, Any]], **extra: Any
) -> Path:
    doc = {"api_url": server.url, "api_key": key, "projects": projects, **extra}
    path.write_text(yaml.safe_dump(doc))
    return path


# -- (a) a sync with no new commits -------------------------------------------------------
def small_remotes(tmp: Path, count: int) -> list[Path]:
    """``count`` bare repositories of 200 generated commits each."""
    gen = bench_extract.load_generator()
    profile = gen.HistoryProfile(files=50, median_lines=40, max_lines=400)
    return [
        gen.generate_history(tmp / "remotes" / f"repo{i:02d}.git", 200, seed=i, profile=profile)
        for i in range(count)
    ]


def timed(runs: int, *args: str, log: Path) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds (user + system) of ``runs`` client runs.

    CPU time hardly moves with the machine's load; wall time does.
    """
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        walls.append(run_ok(*args, log=log, rss=False)[0])
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def bench_noop(repos: int, runs: int, tmp: Path) -> dict[str, Any]:
    """Medians of a sync with nothing new over ``repos`` repositories (SQLite)."""
    tmp.mkdir(parents=True)
    url = fresh_database("sqlite", tmp)
    remotes = small_remotes(tmp, repos)
    with server_on(url, tmp) as (server, seed):
        owner = seed.actor("bench@example.org")
        projects = []
        for p in range(2):  # two projects: one repo listing each, as the client does
            project_id = seed.project(owner, f"Project {p}")
            mine = remotes[p::2]
            for remote in mine:
                seed.repo(project_id, name=remote.stem, git_url=str(remote))
            projects.append({"name": f"Project {p}", "project_id": project_id, "repos": [
                {"path": str(tmp / "clones" / r.name), "git_url": str(r)} for r in mine]})  # fmt: skip
        config = write_config(tmp / "noop.yaml", server, owner.key, projects)
        log = tmp / "noop.log"
        first, _ = run_ok("sync", "--config", str(config), log=log)  # clones and uploads all
        fetch, fetch_cpu = timed(runs, "sync", "--config", str(config), log=log)
        run_ok("sync", "--config", str(config), "--json", log=log)
        totals = json.loads(log.read_text())["totals"]
        if (totals["repos"], totals["failed"], totals["new_commits"]) != (repos, 0, 0):
            raise RuntimeError(f"expected {repos} repos with nothing new: {totals}")
        no_fetch, no_fetch_cpu = timed(runs, "sync", "--config", str(config), "--no-fetch", log=log)
        version, version_cpu = timed(runs, "--version", log=log)
    return {
        "repos": repos,
        "runs": runs,
        "first_sync_s": first,
        "noop_s": statistics.median(fetch),
        "noop_runs_s": fetch,
        "noop_cpu_s": statistics.median(fetch_cpu),
        "noop_no_fetch_s": statistics.median(no_fetch),
        "noop_no_fetch_cpu_s": statistics.median(no_fetch_cpu),
        "version_s": statistics.median(version),
        "version_cpu_s": statistics.median(version_cpu),
        "totals": totals,
    }


# -- (b) first sync of a large history ----------------------------------------------------
def history(commits: int, seed: int, cache: Path) -> Path:
    """bench_extract's cached history; its builder rewrites os.environ, so put it back."""
    saved = dict(os.environ)
    try:
        return bench_extract.build_repo(commits, seed, cache)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def first_sync_run(
    remote: Path, total: int, tmp: Path, from_scratch: bool, workers: int | None
) -> dict[str, float]:
    """One first sync (fetch, extract, upload) on a fresh PostgreSQL database.

    ``path`` is a clone made by git (hard links, instant) unless ``from_scratch``: then
    the client clones it itself, with dulwich.
    """
    git_wall, git_cpu, _ = bench_extract.time_git(remote)
    url = fresh_database("postgresql", tmp)
    try:
        with server_on(url, tmp) as (server, seed):
            owner = seed.actor("bench@example.org")
            project_id = seed.project(owner, "Bench")
            repo_id = seed.repo(project_id, name="history", git_url=str(remote))
            clone = tmp / "clone.git"
            shutil.rmtree(clone, ignore_errors=True)
            if not from_scratch:  # the usual case: path is the user's existing clone
                git(tmp, "clone", "-q", "--bare", "--local", str(remote), str(clone))
            config = write_config(tmp / "first.yaml", server, owner.key, [
                {"name": "Bench", "project_id": project_id,
                 "repos": [{"path": str(clone), "git_url": str(remote)}]}],
                **({"extract_workers": workers} if workers else {}))  # fmt: skip
            log = tmp / "first.log"
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall, memory = run_ok("sync", "--config", str(config), "--json", log=log)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            totals = json.loads(log.read_text())["totals"]
            stored = _commit_count(server, owner.key, repo_id)
            if (totals["inserted"], stored) != (total, total):
                raise RuntimeError(f"expected {total} commits, got {totals} / {stored} stored")
    finally:
        drop_database(url)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "client_mb": memory["root"], "workers_mb": memory["worker"],
            "helpers_mb": memory["helper"], "maxrss_mb": memory["maxrss"],
            "worker_count": memory["workers"], "git_wall": git_wall, "git_cpu": git_cpu,
            "batches": totals["batches"]}  # fmt: skip


def _commit_count(server: LiveServer, key: str, repo_id: str) -> int:
    import requests

    resp = requests.get(f"{server.url}/api/v1/repos/{repo_id}",
                        headers={"Authorization": f"Bearer {key}"}, timeout=30)  # fmt: skip
    resp.raise_for_status()
    return int(resp.json()["commit_count"])


def bench_first_sync(
    commits: int,
    runs: int,
    seed: int,
    cache: Path,
    tmp: Path,
    from_scratch: bool,
    workers: int | None,
) -> dict:
    tmp.mkdir(parents=True)
    remote = history(commits, seed, cache)
    total = int(git(remote, "rev-list", "--count", "main"))
    results = [first_sync_run(remote, total, tmp, from_scratch, workers) for _ in range(runs)]
    med = {k: statistics.median(r[k] for r in results) for k in results[0]}
    peaks = {k: max(r[k] for r in results) for k in results[0] if k.endswith("_mb")}
    return {"commits": total, "runs": runs, "from_scratch": from_scratch, **med, **peaks,
            "workers": workers or "the client's default", "cpus": [r["cpu"] for r in results],
            "walls": [r["wall"] for r in results], "git_walls": [r["git_wall"] for r in results]}  # fmt: skip


def report(noop: dict | None, first: dict | None) -> None:
    print(f"machine:   {bench_extract.machine()}")
    print(f"date:      {time.strftime('%Y-%m-%d')}; load average {os.getloadavg()[0]:.1f}")
    if noop:
        print(f"(a) no new commits, {noop['repos']} repos, gunicorn on SQLite, "
              f"median of {noop['runs']}:")  # fmt: skip
        print(f"    sync (with fetch):  {noop['noop_s']:.2f} s "
              f"(runs: {', '.join(f'{s:.2f}' for s in noop['noop_runs_s'])})")  # fmt: skip
        print(f"    sync --no-fetch:    {noop['noop_no_fetch_s']:.2f} s")
        print(f"    --version (start):  {noop['version_s']:.2f} s")
        print(f"    CPU (user+sys): sync {noop['noop_cpu_s']:.2f} s, --no-fetch "
              f"{noop['noop_no_fetch_cpu_s']:.2f} s, --version {noop['version_cpu_s']:.2f} s")  # fmt: skip
        print(f"    first sync of all:  {noop['first_sync_s']:.2f} s")
    if first:
        n, wall, git_wall = first["commits"], first["wall"], first["git_wall"]
        how = "cloned by the client" if first["from_scratch"] else "into an existing clone"
        print(f"(b) first sync of {n} commits ({how}), extract_workers: {first['workers']} "
              f"({first['worker_count']:.0f} worker processes seen), gunicorn ({SERVER_WORKERS} "
              f"workers) on PostgreSQL, median of {first['runs']}:")  # fmt: skip
        print(f"    client:   {wall:.1f} s wall, {first['cpu']:.1f} s CPU, {n / wall:.0f} commits/s "
              f"({first['batches']} batches; runs {', '.join(f'{w:.1f}' for w in first['walls'])} s "
              f"wall, {', '.join(f'{c:.1f}' for c in first['cpus'])} s CPU)")  # fmt: skip
        print(f"    git log --numstat --no-renames: {git_wall:.1f} s wall, "
              f"{first['git_cpu']:.1f} s CPU")  # fmt: skip
        print(
            f"    ratio:    {wall / git_wall:.2f}x wall, {first['cpu'] / first['git_cpu']:.2f}x CPU"
        )
        total_mb = first["client_mb"] + first["workers_mb"] + first["helpers_mb"]
        print(f"    peak RSS: {total_mb:.0f} MB in all = client process {first['client_mb']:.0f} MB"
              f" + {first['worker_count']:.0f} workers {first['workers_mb']:.0f} MB (sum of each "
              f"worker's peak) + multiprocessing's resource tracker {first['helpers_mb']:.0f} MB"
              f" (largest single process, ru_maxrss: {first['maxrss_mb']:.0f} MB)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--noop-runs", type=int, default=5)
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--skip-noop", action="store_true")
    parser.add_argument("--skip-first-sync", action="store_true")
    parser.add_argument("--clone", action="store_true", help="(b): the client clones too")
    parser.add_argument("--workers", type=int, default=None,
                        help="(b): extract_workers (default: the client's default)")  # fmt: skip
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    noop = first = None
    with tempfile.TemporaryDirectory(prefix="bench-client-") as tmp:
        if not args.skip_noop:
            noop = bench_noop(args.repos, args.noop_runs, Path(tmp) / "noop")
        if not args.skip_first_sync:
            first = bench_first_sync(args.commits, args.runs, args.seed, args.cache,
                                     Path(tmp) / "first", args.clone, args.workers)  # fmt: skip
    report(noop, first)


if __name__ == "__main__":
    main()
