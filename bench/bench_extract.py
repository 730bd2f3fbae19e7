"""Benchmark the push client's commit extraction against ``git log --numstat``.

    python bench/bench_extract.py [--commits 20000] [--runs 3]

Generates (once, cached under bench/out/) a realistic history with
``git fast-import`` -- many files, most commits editing a few lines in one to
three of them, feature branches merged back -- then times
``git log --numstat --no-renames`` and ``gitleague_client.extract.iter_commits``
over it, each in its own process, and prints medians, the ratio and the
extractor's peak memory (the child's maximum resident set size). Also checks
that every commit's counts agree with git's.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from dulwich.repo import Repo
from gitleague_client.extract import iter_commits

start = time.perf_counter()
stats = {}
with Repo(sys.argv[1]) as repo:
    head = repo.refs[b"refs/heads/main"]
    for c in iter_commits(repo, [head]):
        stats[c["sha"]] = (c["additions"], c["deletions"], c["files_changed"], c["is_merge"])
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
if len(sys.argv) > 3:
    with open(sys.argv[3], "w") as f:
        json.dump(stats, f)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                  "maxrss_mb": usage.ru_maxrss / 1024, "commits": len(stats)}))
"""


def load_generator():
    """The tests' history generator (cli_client/tests/conftest.py), reused as is."""
    spec = importlib.util.spec_from_file_location(
        "gitleague_test_conftest", ROOT / "cli_client" / "tests" / "conftest.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


def build_repo(commits: int, seed: int, cache: Path) -> Path:
    gen = load_generator()
    # "Many files, a few-line edits in large files."
    profile = gen.HistoryProfile(files=2000, median_lines=200, max_lines=6000)
    path = cache / f"history-{commits}-s{seed}.git"
    if (path / "refs" / "heads" / "main").exists() or (path / "packed-refs").exists():
        return path
    print(f"generating {commits} commits with git fast-import into {path} ...", flush=True)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(dir=cache))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(HOME=str(tmp), GIT_CONFIG_NOSYSTEM="1")
    os.environ.clear()
    os.environ.update(env)
    built = gen.generate_history(tmp / "repo.git", commits, seed=seed, profile=profile)
    # One pack with git's usual delta chains, as a clone would have.
    subprocess.run(["git", "repack", "-a", "-d", "-q"], cwd=built, check=True)
    built.rename(path)
    tmp.rmdir()
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def time_git(path: Path) -> tuple[float, float, dict]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(
        ["git", "log", "--numstat", "--no-renames", "--format=@@%H %P", "main"],
        cwd=path,
        capture_output=True,
        check=True,
    ).stdout
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stats: dict[str, list] = {}
    current: list = []
    for line in out.split(b"\n"):
        if line.startswith(b"@@"):
            sha, *parents = line[2:].decode().split()
            current = stats.setdefault(sha, [0, 0, 0, len(parents) > 1])
        elif line:
            added, deleted, _ = line.split(b"\t", 2)
            current[2] += 1
            if added != b"-":
                current[0] += int(added)
                current[1] += int(deleted)
    return wall, cpu, stats


def run_extractor(path: Path, dump: Path | None = None) -> dict:
    args = [sys.executable, "-c", CHILD, str(path), str(ROOT / "cli_client")]
    if dump:
        args.append(str(dump))
    out = subprocess.run(args, capture_output=True, check=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def agreement(ours: dict, git: dict) -> tuple[int, list[str]]:
    bad = []
    for sha, (a, d, f, merge) in git.items():
        expected = [0, 0, 0, True] if merge else [a, d, f, False]
        if list(ours[sha]) != expected:
            bad.append(sha)
    return len(git), bad


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, {git}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    path = build_repo(args.commits, args.seed, args.cache)

    git_runs = [time_git(path) for _ in range(args.runs)]
    git_stats = git_runs[0][2]
    dump = args.cache / "last-extract.json"
    ours_runs = [run_extractor(path, dump if i == 0 else None) for i in range(args.runs)]
    total, bad = agreement(json.loads(dump.read_text()), git_stats)

    git_wall = statistics.median(r[0] for r in git_runs)
    git_cpu = statistics.median(r[1] for r in git_runs)
    our_wall = statistics.median(r["wall"] for r in ours_runs)
    our_cpu = statistics.median(r["cpu"] for r in ours_runs)
    peak = max(r["maxrss_mb"] for r in ours_runs)
    print(f"machine:      {machine()}")
    print(f"date:         {time.strftime('%Y-%m-%d')}")
    print(f"history:      {total} commits ({sum(s[3] for s in git_stats.values())} merges), {path}")
    print(f"git log:      {git_wall:.2f} s wall, {git_cpu:.2f} s CPU (median of {args.runs})")
    print(f"extractor:    {our_wall:.2f} s wall, {our_cpu:.2f} s CPU (median of {args.runs})")
    print(f"ratio:        {our_wall / git_wall:.2f}x wall, {our_cpu / git_cpu:.2f}x CPU")
    print(f"commits/s:    {total / our_wall:.0f}")
    print(f"peak memory:  {peak:.0f} MB (max RSS of the extractor process)")
    print(f"agreement:    {100 * (total - len(bad)) / total:.3f}% ({len(bad)} differ)")
    for sha in bad[:10]:
        print(f"  differs: {sha} git={git_stats[sha]} ours={json.loads(dump.read_text())[sha]}")


if __name__ == "__main__":
    main()
