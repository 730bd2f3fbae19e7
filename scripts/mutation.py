"""Mutation testing of GitLeague's critical modules: do the tests notice a broken check?

Each mutant is one small change to one module (a comparison flipped, ``and``
swapped for ``or``, a constant off by one, a ``raise`` or a call removed, a
regex anchor dropped...). The module's tests run against it with ``-x``; a
failing run kills the mutant, a passing one lets it survive. Known
equivalent mutants (no behaviour can tell them apart) are listed with a
reason in tests/mutation/equivalent.txt and left out of the score.

Everything runs in a temporary copy of the tree: the checkout is never
edited, and the copy is restored after every mutant and deleted at the end,
Ctrl-C included. Usage: ``scripts/mutation.sh --help``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutants import Module, Mutant, apply, find_mutants  # noqa: E402 (a sibling script)

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT = ROOT / "tests" / "mutation" / "equivalent.txt"


MODULES = (
    Module("app/services/auth.py", ("tests/test_guard_auth.py", "tests/test_auth.py")),
    Module("app/api/security.py", ("tests/test_guard_auth.py", "tests/test_auth.py")),
    Module(
        "app/schemas/commit_wire.py",
        ("tests/test_guard_wire.py", "tests/test_commit_schemas.py", "tests/test_ingest.py"),
    ),
    Module(
        "app/services/ingest.py",
        ("tests/test_guard_ingest.py", "tests/test_guard_negotiation.py", "tests/test_ingest.py"),
        pg=True,
    ),
    Module(
        "cli_client/gitleague_client/incremental.py",
        ("cli_client/tests/test_guard_incremental.py", "tests/test_guard_negotiation.py"),
    ),
    Module(
        "app/services/credentials.py",
        ("tests/test_guard_credentials.py", "tests/test_credentials.py"),
        pg=True,
    ),
    Module(
        "app/services/remote_url.py",
        ("tests/test_guard_urls.py", "tests/test_security_urls.py", "tests/test_pull_sync.py"),
        only=(
            "check_remote_url",
            "is_global",
            "authority",
            "origin",
            "user_info_problem",
            "_is_local_path",
        ),
    ),
    Module(
        "app/services/rollup.py",
        (
            "tests/test_guard_rollup.py",
            "tests/test_rollup.py",
            "tests/test_ingest_shallow.py",
            "tests/test_league.py",
        ),
        pg=True,
    ),
    Module("cli_client/gitleague_client/urls.py", ("cli_client/tests/test_guard_urls.py",)),
    # Line counts equal to git's (the copy runs them as pure Python: its tests
    # switch linediff.BY_NUMBERS to run the compiled path's source too).
    Module(
        "cli_client/gitleague_client/linetrim.py",
        ("cli_client/tests/test_linediff.py", "cli_client/tests/test_extract.py"),
    ),
    Module(
        "cli_client/gitleague_client/linediff.py",
        ("cli_client/tests/test_linediff.py", "cli_client/tests/test_extract.py"),
    ),
    # Which files changed, which are binary, which commits: equal to git's.
    Module(
        "cli_client/gitleague_client/treediff.py",
        ("cli_client/tests/test_extract_modes.py", "cli_client/tests/test_extract.py"),
    ),
    Module(
        "cli_client/gitleague_client/attributes.py",
        ("cli_client/tests/test_extract_attributes.py",),
    ),
    Module(
        "cli_client/gitleague_client/walk.py",
        ("cli_client/tests/test_extract_walk.py", "cli_client/tests/test_extract.py"),
    ),
    Module(
        "cli_client/gitleague_client/objects.py",
        ("cli_client/tests/test_objects.py", "cli_client/tests/test_extract.py"),
    ),
)


def load_equivalent() -> dict[str, tuple[str, str]]:
    """Mutant id -> (module path, reason), from tests/mutation/equivalent.txt."""
    out: dict[str, tuple[str, str]] = {}
    for raw in EQUIVALENT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        ident, _, rest = line.partition(" ")
        reason = rest.partition(" -- ")[2].strip()
        if not reason:
            raise SystemExit(f"{EQUIVALENT}: no reason given for {ident} (write '... -- reason')")
        out[ident] = (rest.split(":")[0], reason)
    return out


def copy_tree(dest: Path) -> None:
    """The checkout's files (tracked and new, as they are on disk) under ``dest``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def _env(copy: Path, database: str) -> dict[str, str]:
    env = dict(os.environ, GITLEAGUE_TEST_DATABASES=database, PYTHONDONTWRITEBYTECODE="1")
    # Ahead of the editable installs, which point at the checkout.
    env["PYTHONPATH"] = os.pathsep.join([str(copy), str(copy / "cli_client")])
    return env


def check_imports(copy: Path) -> None:
    """Refuse to run if the tests would import the checkout instead of the copy."""
    probe = "import app, gitleague_client; print(app.__file__); print(gitleague_client.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=copy, env=_env(copy, "sqlite"),
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    if not all(Path(p).resolve().is_relative_to(copy.resolve()) for p in out):
        raise SystemExit(f"the copy's packages are not the ones imported: {out}")


def run_tests(
    copy: Path, tests: tuple[str, ...], database: str, timeout: float
) -> tuple[str, float]:
    """``passed``, ``failed`` or ``timeout`` for the tests run in ``copy``; and seconds taken."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd, cwd=copy, env=_env(copy, database), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        code = None
    finally:
        if proc.poll() is None:  # timeout or Ctrl-C: stop pytest and whatever it started
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    elapsed = time.monotonic() - start
    if code is None:
        return "timeout", elapsed
    return ("passed" if code == 0 else "failed"), elapsed


def mutate_module(copy: Path, module: Module, mutants: list[Mutant], log: bool) -> None:
    """Run each mutant of ``module`` in ``copy``; the file is restored after each."""
    target = copy / module.path
    original = target.read_text()
    baseline, took = run_tests(copy, module.tests, "sqlite", timeout=1800)
    if baseline != "passed":
        raise SystemExit(f"{module.path}: its tests fail without any mutant ({module.tests})")
    timeout = took * 3 + 30
    pg_timeout: float | None = None
    try:
        for n, mutant in enumerate(mutants, 1):
            target.write_text(apply(original, mutant))
            outcome, _ = run_tests(copy, module.tests, "sqlite", timeout)
            if outcome == "passed" and module.pg:
                if pg_timeout is None:
                    target.write_text(original)
                    pg_base, pg_took = run_tests(copy, module.tests, "postgresql", timeout=1800)
                    if pg_base != "passed":
                        raise SystemExit(f"{module.path}: its tests fail on PostgreSQL unmutated")
                    pg_timeout = pg_took * 3 + 30
                    target.write_text(apply(original, mutant))
                outcome, _ = run_tests(copy, module.tests, "postgresql", pg_timeout)
                mutant.detail = "SQLite and PostgreSQL" if outcome == "passed" else "PostgreSQL"
            mutant.status = "survived" if outcome == "passed" else "killed"
            if log:
                print(f"  [{n}/{len(mutants)}] {mutant.status:8} {mutant.ident} "
                      f"{module.path}:{mutant.line} {mutant.what}", flush=True)  # fmt: skip
    finally:
        target.write_text(original)


def report(results: dict[str, list[Mutant]]) -> int:
    """Per-module figures and the survivors; exit status 1 when any survived."""
    print(f"\n{'module':48} {'tried':>5} {'killed':>6} {'surv.':>5} {'equiv.':>6} {'score':>6}")
    survivors: list[Mutant] = []
    for path, mutants in results.items():
        tried = [m for m in mutants if m.status in ("killed", "survived")]
        killed = sum(m.status == "killed" for m in tried)
        equiv = sum(m.status == "equivalent" for m in mutants)
        survivors += [m for m in tried if m.status == "survived"]
        score = f"{100 * killed / len(tried):.0f}%" if tried else "-"
        print(f"{path:48} {len(tried):5} {killed:6} {len(tried) - killed:5} {equiv:6} {score:>6}")
    if survivors:
        print("\nsurvivors (a test should fail; or list them in tests/mutation/equivalent.txt):")
        for m in survivors:
            print(f"  {m.ident} {m.module}:{m.line} [{m.scope}] {m.what}")
    return 1 if survivors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="paths or name fragments (default: all)")
    parser.add_argument("--sample", type=int, help="at most N random mutants per module")
    parser.add_argument("--seed", type=int, default=14, help="seed of --sample")
    parser.add_argument("--id", action="append", default=[], help="only these mutant ids")
    parser.add_argument("--list", action="store_true", help="list mutants, run nothing")
    parser.add_argument("--quiet", action="store_true", help="no line per mutant")
    args = parser.parse_args(argv)
    chosen = [m for m in MODULES if not args.modules or any(a in m.path for a in args.modules)]
    if not chosen:
        parser.error(f"no module matches {args.modules}; known: {[m.path for m in MODULES]}")
    equivalent = load_equivalent()
    plan: dict[Module, list[Mutant]] = {}
    for module in chosen:
        mutants = find_mutants(module, (ROOT / module.path).read_text())
        for m in mutants:
            if m.ident in equivalent:
                m.status = "equivalent"
        if args.id:
            mutants = [m for m in mutants if m.ident in args.id]
        todo = [m for m in mutants if m.status == "pending"]
        if args.sample and len(todo) > args.sample:
            keep = set(map(id, random.Random(args.seed).sample(todo, args.sample)))
            mutants = [m for m in mutants if m.status != "pending" or id(m) in keep]
        plan[module] = mutants
        found = {m.ident for m in mutants}
        for ident, (path, _) in equivalent.items():
            if path == module.path and ident not in found and not args.id:
                print(f"warning: {ident} in {EQUIVALENT.name} is no longer a mutant of {path}")
    if args.list:
        for mutants in plan.values():
            for m in mutants:
                note = (
                    f"  (equivalent: {equivalent[m.ident][1]})" if m.status == "equivalent" else ""
                )
                print(f"{m.ident} {m.module}:{m.line} [{m.scope}] {m.what}{note}")
        return 0
    with tempfile.TemporaryDirectory(prefix="gitleague-mutation-") as tmp:
        copy = Path(tmp)
        copy_tree(copy)
        check_imports(copy)
        for module, mutants in plan.items():
            todo = [m for m in mutants if m.status == "pending"]
            print(f"{module.path}: {len(todo)} mutants, tests {' '.join(module.tests)}", flush=True)
            mutate_module(copy, module, todo, log=not args.quiet)
    return report({m.path: plan[m] for m in plan})


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


if __name__ == "__main__":
    # Ctrl-C and kill both end the run through the finally clauses (copy
    # restored and deleted, pytest's process group killed), also when the
    # shell started us in the background with SIGINT ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: the copy is deleted, the checkout was never changed", file=sys.stderr)
        sys.exit(130)
