"""Benchmark the push client's commit extraction against ``git log --numstat``.

    python bench/bench_extract.py [--commits 20000] [--runs 3] [--workers N] [--cache-mb M]
                                  [--no-outliers] [--light] [--slowest 5]
                                  [--repo PATH [--ref REF] [--last N]]

Generates (once, cached under bench/out/) a realistic history with
``git fast-import`` -- many files, most commits editing a few lines in one to
three of them, feature branches merged back; then, unless ``--no-outliers``,
the huge edits of outlier_history.py at the tip (a vendored 30,000-line file
replaced, translation updates, a regenerated 20,000-line file); ``--light``
makes the base history one-line edits of small files instead (quick to
generate at 80,000 commits, for memory figures) -- then times
``git log --numstat --no-renames`` and ``gitleague_client.extract.iter_commits``
over it, each in its own process, and prints medians of wall time and of CPU
time (user + system of the extractor process *and* of its worker processes),
the ratios to git, and peak memory: the most all the client's processes held
at once (the sum of their current RSS, sampled every 0.25 s), and each
process's own peak (``VmHWM``: the extractor process, its workers, the
resource tracker), whose sum bounds the first from above (each value read
from /proc). Also checks that every commit's counts agree with git's.

``--repo`` measures an existing repository instead (a real history, e.g. a
clone of a public project): the history of ``--ref`` (default HEAD), or with
``--last N`` only what is not reachable from its first parent N back.

``--workers`` is ``iter_commits``'s ``workers`` (default: the client's default,
``extract_workers`` of repos.yaml); ``--cache-mb`` the object cache of each
process that diffs (default: the client's). ``--slowest N`` then times each
commit alone in one process and compares the N slowest with git's time for
the same commit (``git log -1 --numstat``, median of ``--runs``).
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
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from outlier_history import COMMITS as OUTLIERS  # noqa: E402
from outlier_history import add_outliers, light_history  # noqa: E402

# Ordinary commits after each outlier commit.
_OUTLIER_GAP = 4

# Peak memory of a process tree (Linux): each process's VmHWM, its own high-water mark
# since exec. ru_maxrss would not do: a spawned worker's counts the pages of the
# process that forked it. Sampled every 0.25 s; a peak is never lost, as VmHWM only grows
# (only what a process adds in its last 0.25 s could be missed).
PEAK_SAMPLER = r"""
import os, threading

def _vm_kb(pid):
    # (VmHWM, VmRSS) of a process in KiB: its peak so far, and what it holds now.
    hwm = rss = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
                elif line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
    except OSError:
        pass
    return hwm, rss

def _children(pid):
    found = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return found

class TreePeak(threading.Thread):
    # Peak RSS (KiB) of root and, separately, of each of its descendants; and the
    # peak of the whole tree at once (the sum of what all its processes hold at a
    # sample), which the sum of the processes' own peaks only bounds from above:
    # the parent peaks while it walks, before the workers start.

    def __init__(self, root):
        super().__init__(daemon=True)
        self.root, self.peaks, self.kinds = root, {}, {}
        self.at_once = 0
        self.done = threading.Event()

    def sample(self):
        todo = [self.root]
        now = 0
        while todo:
            pid = todo.pop()
            todo += _children(pid)
            kb, rss = _vm_kb(pid)
            now += rss
            if kb:
                self.peaks[pid] = max(self.peaks.get(pid, 0), kb)
            if pid != self.root and pid not in self.kinds:
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        cmd = f.read()
                except OSError:
                    cmd = b""
                self.kinds[pid] = ("worker" if b"multiprocessing.spawn" in cmd else
                                   "helper" if b"resource_tracker" in cmd else "other")
        self.at_once = max(self.at_once, now)

    def run(self):
        while not self.done.wait(0.25):
            self.sample()

    def stop(self):
        self.done.set()
        self.join()
        self.sample()
        total = {"root": self.peaks.get(self.root, 0), "worker": 0, "helper": 0, "other": 0,
                 "workers": 0}
        for pid, kind in self.kinds.items():
            total[kind] += self.peaks.get(pid, 0)
            total["workers"] += kind == "worker"
        total["at_once"] = self.at_once
        return {k: v / 1024 if k != "workers" else v for k, v in total.items()}
"""

CHILD = PEAK_SAMPLER + (
    r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from dulwich.repo import Repo
from gitleague_client.extract import iter_commits

workers, cache_mb = int(sys.argv[3]), float(sys.argv[4])
peak = TreePeak(os.getpid())
peak.start()
start = time.perf_counter()
# Each commit's counts go straight to the dump file (one JSON line each): held
# in a dict they would add ~16 MB at 80,000 commits to the peak measured.
dump = open(sys.argv[7], "w") if len(sys.argv) > 7 else None
commits = 0
with Repo(sys.argv[1]) as repo:
    head = repo.refs[sys.argv[5].encode()]
    exclude = [sha.encode() for sha in sys.argv[6].split(",") if sha]
    cache = int(cache_mb * 1024 * 1024) or None
    for c in iter_commits(repo, [head], exclude, workers=workers, cache_bytes=cache):
        commits += 1
        if dump:
            counts = [c["sha"], c["additions"], c["deletions"], c["files_changed"], c["is_merge"]]
            dump.write(json.dumps(counts) + "\n")
if dump:
    dump.close()
wall = time.perf_counter() - start
memory = peak.stop()
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers, joined by now
print(json.dumps({"wall": wall, "cpu": me.ru_utime + me.ru_stime,
                  "children_cpu": kids.ru_utime + kids.ru_stime,
                  "maxrss_mb": me.ru_maxrss / 1024, "parent_mb": memory["root"],
                  "workers_mb": memory["worker"], "helpers_mb": memory["helper"],
                  "at_once_mb": memory["at_once"],
                  "worker_count": memory["workers"], "commits": commits}))
"""
)


# Each commit's record made alone, timed: the slowest ones are compared with git.
PER_COMMIT = r"""
import json, sys, time
sys.path.insert(0, sys.argv[2])
from dulwich.repo import Repo
from gitleague_client import extract
from gitleague_client.extract import _Reader

# extract._ordered: an engine from before the streaming walk (a "before" run)
_ordered = getattr(extract, "ordered", None) or extract._ordered

with Repo(sys.argv[1]) as repo:
    head = repo.refs[sys.argv[4].encode()]
    exclude = [sha.encode() for sha in sys.argv[5].split(",") if sha]

    def fresh_reader():
        try:
            return _Reader(repo, attributes_of=head)
        except TypeError:  # an engine from before attributes (a "before" run)
            return _Reader(repo)

    reader = fresh_reader()
    times = []
    for sha in _ordered(reader, [head], exclude):
        sha = sha if len(sha) == 40 else sha.hex().encode()  # binary since the streaming walk
        start = time.process_time()
        record = reader.commit_dict(sha)
        times.append((time.process_time() - start, sha.decode(), record["parents"]))
    times.sort(reverse=True)
    slowest = []
    # One sample each is at the host's mercy: time each of the slowest again,
    # in a fresh reader after its parent's record (as in a run), median of 3.
    for first, sha, parents in times[: int(sys.argv[3])]:
        samples = [first]
        for _ in range(2):
            again = fresh_reader()
            if parents:
                again.commit_dict(parents[0].encode())
            start = time.process_time()
            again.commit_dict(sha.encode())
            samples.append(time.process_time() - start)
            again.store.close()
        slowest.append((sorted(samples)[1], sha))
slowest.sort(reverse=True)
print(json.dumps({"slowest": slowest, "total": sum(t for t, *_ in times)}))
"""


def slowest_commits(
    path: Path, span: Span, count: int, runs: int
) -> list[tuple[str, float, float, float]]:
    """``(sha, ours, git's, git's startup)`` for the ``count`` commits we take longest on.

    CPU times, as wall times of a fraction of a second mean little on a
    shared machine. Ours is the median of three records of the commit made
    after its parent's (as in a run: the first in the run itself, two more in
    a fresh reader); git's the median CPU time of ``git log -1 --numstat`` on
    that commit, and of ``git log -1`` without a diff (process start and
    lookup, included in git's figure).
    """
    args = [sys.executable, "-c", PER_COMMIT, str(path), str(ROOT / "cli_client"), str(count),
            span.ref, ",".join(span.exclude)]  # fmt: skip
    proc = subprocess.run(args, capture_output=True, text=True, check=True)
    found = json.loads(proc.stdout.strip().splitlines()[-1])["slowest"]

    def git_time(*extra: str) -> float:
        cpus = []
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(["git", "log", "-1", "--format=%H", *extra], cwd=path,
                           capture_output=True, check=True)  # fmt: skip
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(sum(getattr(after, f) - getattr(before, f) for f in _CPU_FIELDS))
        return statistics.median(cpus)

    return [
        (sha, ours, git_time("--numstat", "--no-renames", sha), git_time(sha))
        for ours, sha in found
    ]


_CPU_FIELDS = ("ru_utime", "ru_stime")


def load_generator():
    """The tests' history generator (cli_client/tests/conftest.py), reused as is."""
    spec = importlib.util.spec_from_file_location(
        "gitleague_test_conftest", ROOT / "cli_client" / "tests" / "conftest.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


def build_repo(
    commits: int, seed: int, cache: Path, outliers: bool = True, light: bool = False
) -> Path:
    gen = load_generator()
    # "Many files, a few-line edits in large files."
    profile = gen.HistoryProfile(files=2000, median_lines=200, max_lines=6000)
    name = f"history-{commits}-s{seed}{'-light' if light else ''}{'-outliers' if outliers else ''}"
    path = cache / f"{name}.git"
    if (path / "refs" / "heads" / "main").exists() or (path / "packed-refs").exists():
        return path
    print(f"generating {commits} commits with git fast-import into {path} ...", flush=True)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(dir=cache))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(HOME=str(tmp), GIT_CONFIG_NOSYSTEM="1")
    os.environ.clear()
    os.environ.update(env)
    extra = 0
    if outliers:
        extra = OUTLIERS * (1 + _OUTLIER_GAP)
    if light:
        built = tmp / "repo.git"
        light_history(built, commits - extra, seed)
    else:
        built = gen.generate_history(tmp / "repo.git", commits - extra, seed=seed, profile=profile)
    if outliers:
        add_outliers(built, seed, every=_OUTLIER_GAP)
    # One pack with git's usual delta chains, as a clone would have.
    subprocess.run(["git", "repack", "-a", "-d", "-q"], cwd=built, check=True)
    built.rename(path)
    tmp.rmdir()
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    return path


class Span(NamedTuple):
    """The commits measured: those of ``ref`` (a full ref name) not in ``exclude`` (shas)."""

    ref: str
    exclude: tuple[str, ...] = ()


def time_git(path: Path, span: Span) -> tuple[float, float, dict]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(
        [
            "git",
            "log",
            "--numstat",
            "--no-renames",
            "--format=@@%H %P",
            span.ref,
            *(f"^{sha}" for sha in span.exclude),
        ],  # fmt: skip
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


def real_span(path: Path, ref: str, last: int) -> Span:
    """The full name of ``ref`` in ``path``, and with ``last`` the first parent to stop at."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=path, capture_output=True, text=True,
                              check=True).stdout.strip()  # fmt: skip

    full = git("rev-parse", "--symbolic-full-name", ref) or ref
    if full == "HEAD":
        full = git("symbolic-ref", "HEAD")
    if not last:
        return Span(full)
    return Span(full, (git("rev-parse", f"{full}~{last}"),))


def run_extractor(
    path: Path, span: Span, workers: int, cache_mb: float, dump: Path | None = None
) -> dict:
    args = [sys.executable, "-c", CHILD, str(path), str(ROOT / "cli_client"), str(workers),
            str(cache_mb), span.ref, ",".join(span.exclude)]  # fmt: skip
    if dump:
        args.append(str(dump))
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"extractor failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["total_cpu"] = result["cpu"] + result["children_cpu"]
    return result


def default_workers() -> int:
    """The client's default ``extract_workers``."""
    sys.path.insert(0, str(ROOT / "cli_client"))
    from gitleague_client.config import default_extract_workers

    return default_extract_workers()


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
    parser.add_argument("--workers", type=int, default=None,
                        help="extraction processes (default: the client's default)")  # fmt: skip
    parser.add_argument("--cache-mb", type=float, default=0,
                        help="object cache of each process that diffs (default: the client's)")  # fmt: skip
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--light", action="store_true",
                        help="a cheap history of one-line edits (for memory at 80,000 commits)")  # fmt: skip
    parser.add_argument("--no-outliers", action="store_true",
                        help="the history without the outlier commits at its tip")  # fmt: skip
    parser.add_argument("--slowest", type=int, default=5,
                        help="compare this many slowest commits with git (0: skip)")  # fmt: skip
    parser.add_argument("--repo", type=Path,
                        help="measure this repository (a real history) instead of a generated one")  # fmt: skip
    parser.add_argument("--ref", default="HEAD",
                        help="with --repo: the ref whose history is measured")  # fmt: skip
    parser.add_argument("--last", type=int, default=0,
                        help="with --repo: only about the last N commits of --ref (the first "
                             "parent N back and its history are left out)")  # fmt: skip
    args = parser.parse_args()
    workers = args.workers or default_workers()
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.repo:
        path, span = args.repo.resolve(), real_span(args.repo, args.ref, args.last)
    else:
        path = build_repo(
            args.commits, args.seed, args.cache, outliers=not args.no_outliers, light=args.light
        )
        span = Span("refs/heads/main")
    load_before = os.getloadavg()[0]

    git_runs = [time_git(path, span) for _ in range(args.runs)]
    git_stats = git_runs[0][2]
    dump = args.cache / "last-extract.json"
    ours_runs = [
        run_extractor(path, span, workers, args.cache_mb, dump if i == 0 else None)
        for i in range(args.runs)
    ]
    ours = {line[0]: line[1:] for line in map(json.loads, dump.read_text().splitlines())}
    total, bad = agreement(ours, git_stats)

    git_wall = statistics.median(r[0] for r in git_runs)
    git_cpu = statistics.median(r[1] for r in git_runs)
    our_wall = statistics.median(r["wall"] for r in ours_runs)
    our_cpu = statistics.median(r["total_cpu"] for r in ours_runs)
    parent_cpu = statistics.median(r["cpu"] for r in ours_runs)
    parent_mb = max(r["parent_mb"] for r in ours_runs)
    workers_mb = max(r["workers_mb"] for r in ours_runs)
    helpers_mb = max(r["helpers_mb"] for r in ours_runs)
    at_once_mb = max(r["at_once_mb"] for r in ours_runs)
    used = max(r["worker_count"] for r in ours_runs)
    cache = f"{args.cache_mb:g} MiB" if args.cache_mb else "default"
    print(f"machine:      {machine()}")
    print(f"date:         {time.strftime('%Y-%m-%d')}; load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after")  # fmt: skip
    print(f"history:      {total} commits ({sum(s[3] for s in git_stats.values())} merges), {path}")
    print(f"extractor:    workers={workers} ({used} worker processes), cache per process: {cache}")
    print(f"git log:      {git_wall:.2f} s wall, {git_cpu:.2f} s CPU (median of {args.runs})")
    runs = ", ".join(f"{r['wall']:.1f}/{r['total_cpu']:.1f}" for r in ours_runs)
    print(f"extractor:    {our_wall:.2f} s wall, {our_cpu:.2f} s CPU, of which the parent "
          f"{parent_cpu:.2f} s (median of {args.runs}; wall/CPU of each run: {runs} s)")  # fmt: skip
    print(f"ratio:        {our_wall / git_wall:.2f}x wall, {our_cpu / git_cpu:.2f}x CPU")
    print(f"commits/s:    {total / our_wall:.0f}")
    print(f"peak memory:  {at_once_mb:.0f} MB at once (all the client's processes together)")
    print(f"per process:  {parent_mb + workers_mb + helpers_mb:.0f} MB if all peaked at once = parent "
          f"{parent_mb:.0f} MB + workers {workers_mb:.0f} MB (sum of each worker's peak RSS)"
          f" + multiprocessing's resource tracker {helpers_mb:.0f} MB")  # fmt: skip
    print(f"agreement:    {100 * (total - len(bad)) / total:.3f}% ({len(bad)} differ)")
    for sha in bad[:10]:
        print(f"  differs: {sha} git={git_stats[sha]} ours={ours[sha]}")
    if args.slowest:
        print(f"slowest commits, CPU time (ours in one process, median of 3; git log -1 --numstat, median "
              f"of {args.runs}; in brackets git log -1 without the diff):")  # fmt: skip
        for sha, ours, git, startup in slowest_commits(path, span, args.slowest, args.runs):
            stat = git_stats[sha]
            print(f"  {sha[:10]} +{stat[0]}/-{stat[1]} in {stat[2]} files: ours {ours:.3f} s, "
                  f"git {git:.3f} s ({startup:.3f} s): {ours / git:.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
