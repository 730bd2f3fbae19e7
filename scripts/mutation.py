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
import ast
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT = ROOT / "tests" / "mutation" / "equivalent.txt"


@dataclass(frozen=True)
class Module:
    """A module under mutation and the tests that guard it (guards first: ``-x``)."""

    path: str
    tests: tuple[str, ...]
    pg: bool = False  # re-run SQLite survivors on PostgreSQL
    only: tuple[str, ...] = ()  # top-level functions/classes to mutate (all when empty)


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
    Module("app/services/credentials.py", ("tests/test_credentials.py",), pg=True),
    Module(
        "app/services/git_remote.py",
        ("tests/test_guard_urls.py", "tests/test_pull_sync.py"),
        only=("check_remote_url", "_is_internal"),
    ),
    Module("cli_client/gitleague_client/urls.py", ("cli_client/tests/test_guard_urls.py",)),
)

_FLIP = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt,
    ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}  # fmt: skip
_ARITH = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult,
          ast.Div: ast.Mult, ast.Pow: ast.Mult, ast.Mod: ast.FloorDiv}  # fmt: skip


@dataclass
class Mutant:
    """One change: replace source ``span`` (line/col, as ast gives them) with ``new``."""

    module: str
    line: int
    span: tuple[int, int, int, int]
    new: str
    what: str
    scope: str
    ident: str = ""
    status: str = "pending"
    detail: str = ""


@dataclass
class _Finder(ast.NodeVisitor):
    """Walks a module and proposes mutants; function annotations and docstrings are skipped."""

    module: Module
    found: list[Mutant] = field(default_factory=list)
    scope: str = "<module>"

    def add(self, node: ast.AST, new: ast.AST | str, label: str = "") -> None:
        old = ast.unparse(node)
        text = new if isinstance(new, str) else ast.unparse(new)
        what = label or f"{_short(old)} -> {_short(text)}"
        span = (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        self.found.append(Mutant(self.module.path, span[0], span, text, what, self.scope))  # type: ignore[arg-type]

    def visit_Module(self, node: ast.Module) -> None:  # noqa: N802
        for stmt in _without_docstring(node.body):
            name = getattr(stmt, "name", None)
            if self.module.only and name not in self.module.only:
                continue
            if isinstance(stmt, ast.ImportFrom | ast.Import):
                continue
            self.visit(stmt)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:  # noqa: N802
        outer, self.scope = self.scope, node.name
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        for stmt in _without_docstring(node.body):
            self.visit(stmt)
        self.scope = outer

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815

    def visit_ClassDef(self, node: ast.ClassDef) -> None:  # noqa: N802
        outer, self.scope = self.scope, node.name
        for keyword in node.keywords:
            self.visit(keyword)
        for stmt in _without_docstring(node.body):
            self.visit(stmt)
        self.scope = outer

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:  # noqa: N802
        return  # messages: their wording is not what these tests guard

    def visit_Compare(self, node: ast.Compare) -> None:  # noqa: N802
        for i, op in enumerate(node.ops):
            if type(op) in _FLIP:
                ops = [*node.ops[:i], _FLIP[type(op)](), *node.ops[i + 1 :]]
                self.add(node, ast.Compare(node.left, ops, node.comparators))
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:  # noqa: N802
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        self.add(node, ast.BoolOp(other, node.values))
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:  # noqa: N802
        if isinstance(node.op, ast.Not):
            self.add(
                node, f"({ast.unparse(node.operand)})", f"drop `not` in {_short(ast.unparse(node))}"
            )
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:  # noqa: N802
        if type(node.op) in _ARITH:
            self.add(node, ast.BinOp(node.left, _ARITH[type(node.op)](), node.right))
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:  # noqa: N802
        value = node.value
        if isinstance(value, bool):
            self.add(node, repr(not value))
        elif isinstance(value, int):
            self.add(node, repr(value + 1))
        elif isinstance(value, str):
            for label, changed in _regex_mutations(value):
                self.add(node, repr(changed), f"regex {_short(value)}: {label}")

    def visit_List(self, node: ast.List | ast.Tuple | ast.Set) -> None:  # noqa: N802
        if len(node.elts) >= 2 and all(isinstance(e, ast.Constant) for e in node.elts):
            for i, elt in enumerate(node.elts):
                rest = node.elts[:i] + node.elts[i + 1 :]
                self.add(node, type(node)(elts=rest), f"drop {_short(ast.unparse(elt))} from list")
        self.generic_visit(node)

    visit_Tuple = visit_List  # noqa: N815
    visit_Set = visit_List  # noqa: N815

    def visit_If(self, node: ast.If | ast.While) -> None:  # noqa: N802
        if not isinstance(node.test, ast.Compare | ast.BoolOp | ast.UnaryOp):
            self.add(node.test, f"not ({ast.unparse(node.test)})")
        self.generic_visit(node)

    visit_While = visit_If  # noqa: N815

    def visit_IfExp(self, node: ast.IfExp) -> None:  # noqa: N802
        if not isinstance(node.test, ast.Compare | ast.BoolOp | ast.UnaryOp):
            self.add(node.test, f"not ({ast.unparse(node.test)})")
        self.generic_visit(node)

    def visit_Raise(self, node: ast.Raise) -> None:  # noqa: N802
        self.add(node, "pass", f"remove {_short(ast.unparse(node))}")
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:  # noqa: N802
        if node.value is not None and not (
            isinstance(node.value, ast.Constant) and node.value.value is None
        ):
            self.add(node, "return None", f"{_short(ast.unparse(node))} -> return None")
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:  # noqa: N802
        if isinstance(node.value, ast.Call):
            self.add(node, "pass", f"remove {_short(ast.unparse(node))}")
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:  # noqa: N802
        self.add(node, "pass", f"remove {_short(ast.unparse(node))}")
        self.generic_visit(node)

    def visit_Continue(self, node: ast.Continue | ast.Break) -> None:  # noqa: N802
        self.add(node, "pass", f"remove {ast.unparse(node)}")

    visit_Break = visit_Continue  # noqa: N815


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        if isinstance(first.value.value, str):
            return body[1:]
    return body


def _regex_mutations(value: str) -> Iterator[tuple[str, str]]:
    # Only strings that look like regular expressions: anchors and classes.
    if not (
        value.startswith("^") or value.endswith(("$", "\\Z")) or ("[" in value and "]{" in value)
    ):
        return
    if value.startswith("^"):
        yield "drop ^", value[1:]
    for end in ("\\Z", "$"):
        if value.endswith(end):
            yield f"drop {end}", value[: -len(end)]
            if end == "\\Z":
                yield "\\Z -> $", value[:-2] + "$"


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def find_mutants(module: Module, source: str) -> list[Mutant]:
    """Every mutant of ``module``, each with an id that survives unrelated edits."""
    finder = _Finder(module)
    finder.visit(ast.parse(source))
    seen: Counter[str] = Counter()
    for m in finder.found:
        key = f"{m.module}:{m.scope}:{m.what}"
        seen[key] += 1
        m.ident = hashlib.sha1(f"{key}#{seen[key]}".encode()).hexdigest()[:8]
    return finder.found


def apply(source: str, mutant: Mutant) -> str:
    """``source`` with the mutant's span replaced (ast columns are UTF-8 byte offsets)."""
    lines = source.encode().splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    data = source.encode()
    first, col, last, end_col = mutant.span
    begin, end = starts[first - 1] + col, starts[last - 1] + end_col
    out = (data[:begin] + mutant.new.encode() + data[end:]).decode()
    compile(out, mutant.module, "exec")  # a mutant that does not compile is a bug here
    return out


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


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: the copy is deleted, the checkout was never changed", file=sys.stderr)
        sys.exit(130)
