"""Mutants of one Python module: where they are, how each changes the source.

Used by scripts/mutation.py. A mutant is one small change found by walking the
module's ``ast``; it is applied to the text by replacing the node's source span,
so everything else (comments, layout, line numbers) stays as it was.
"""

from __future__ import annotations

import ast
import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Module:
    """A module under mutation and the tests that guard it (guards first: ``-x``)."""

    path: str
    tests: tuple[str, ...]
    pg: bool = False  # re-run SQLite survivors on PostgreSQL
    only: tuple[str, ...] = ()  # top-level functions/classes to mutate (all when empty)


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
