"""Text of the migration commands, exactly as the migration guide shows it.

Shared by ``flask migrate-sync`` and ``scripts/migrate_repos_to_push.py``.
Every function returns lines; :func:`symbols` picks the guide's emoji, or
plain ASCII when the output stream cannot encode them.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from typing import Any, TextIO

from ..services.dashboard import Progress, SuccessRate, SyncAge
from ..services.migration_report import MigrationReport, Outcome, RepoResult
from ..sync_methods.registry import SyncMethodRegistry

EMOJI = {
    "status": "📊",
    "repo": "📦",
    "ok": "✓",
    "fail": "✗",
    "warn": "⚠",
    "skip": "⏭",
    "clock": "🕒",
    "rate": "📈",
    "project": "📁",
    "plugin": "🔌",
}
ASCII = {
    "status": "#",
    "repo": "*",
    "ok": "OK",
    "fail": "X",
    "warn": "!",
    "skip": "-",
    "clock": "#",
    "rate": "#",
    "project": "#",
    "plugin": "*",
}


def symbols(stream: TextIO | Any) -> dict[str, str]:
    """The guide's emoji when ``stream`` can encode them, else plain ASCII."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        codecs.lookup(encoding)
        "".join(EMOJI.values()).encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return ASCII
    return EMOJI


def _rows(pairs: Iterable[tuple[str, Any]]) -> list[str]:
    pairs = list(pairs)
    width = max(len(label) + 1 for label, _ in pairs) + 1
    return [f"   {label + ':':<{width}}{value}" for label, value in pairs]


def status_lines(progress: Progress, sym: dict[str, str]) -> list[str]:
    """The guide's ``--status`` block."""
    pairs: list[tuple[str, Any]] = [(m.label, m.count) for m in progress.methods]
    pairs += [("Total", progress.total), ("Progress", f"{progress.migrated_percentage}% migrated")]
    return [f"{sym['status']} Migration Status:", *_rows(pairs)]


def health_lines(
    ages: list[SyncAge], rates: list[SuccessRate], stale_hours: float, sym: dict[str, str]
) -> list[str]:
    """Figures 2 and 3 of the guide's dashboard, for ``flask migrate-sync status``."""
    counts = [(s, sum(1 for a in ages if a.status == s)) for s in ("Recent", "Stale", "Never")]
    lines = [f"{sym['clock']} Last Sync (stale after {stale_hours:g} h):", *_rows(counts)]
    for age in ages:
        if age.status == "Stale":
            lines.append(
                f"   - {age.repo_id} ({age.name}): last sync {age.last_sync_at:%Y-%m-%d %H:%M}"
            )
    lines.append(f"{sym['rate']} Sync Success Rate:")
    if not rates:
        lines.append("   (no finished syncs yet)")
    for rate in rates:
        lines.append(f"   {rate.repo_id}: {rate.successful}/{rate.total_syncs} ({rate.rate}%)")
    return lines


def _repo_block(result: RepoResult, report: MigrationReport, sym: dict[str, str]) -> list[str]:
    lines = [
        f"{sym['repo']} Repository: {result.name}",
        f"   Current: {result.source}",
        f"   Target:  {result.target}",
    ]
    if result.outcome is Outcome.PLANNED:
        lines.append("   [DRY RUN] Changes that would be made:")
        lines += [f"   - {change}" for change in result.changes]
    elif result.outcome is Outcome.MIGRATED:
        done = "Rolled back" if report.action == "rollback" else "Migrated"
        lines.append(f"   {sym['ok']} {done} successfully")
    else:
        lines.append(f"   {sym['fail']} Failed: {result.message}")
    lines += [f"   {sym['warn']} {note}" for note in result.notes]
    return lines


def report_lines(report: MigrationReport, sym: dict[str, str]) -> list[str]:
    """Repo blocks, one ``✗ <id>: reason`` line per refusal, skips, then the summary."""
    blocks: list[list[str]] = []
    for result in report.results:
        if result.outcome in (Outcome.SKIPPED, Outcome.ALREADY_ON_TARGET):
            continue
        if result.name is not None and result.outcome in (
            Outcome.PLANNED,
            Outcome.MIGRATED,
            Outcome.FAILED,
        ):
            blocks.append(_repo_block(result, report, sym))
        else:
            blocks.append([f"{sym['fail']} {result.repo_id}: {result.message}"])
    if report.skipped:
        blocks.append(
            [f"{sym['skip']} Skipped (active): {len(report.skipped)}"]
            + [f"   - {r.repo_id} ({r.name}): {r.message}" for r in report.skipped]
        )
    if report.unchanged:
        blocks.append(
            [f"{sym['skip']} Already there, nothing to do: {len(report.unchanged)}"]
            + [f"   - {r.repo_id} ({r.name}): {r.message}" for r in report.unchanged]
        )
    summary = _summary(report, sym)
    if summary:
        blocks.append([summary])
    out: list[str] = []
    for i, block in enumerate(blocks):
        out += ([""] if i else []) + block
    return out


def _summary(report: MigrationReport, sym: dict[str, str]) -> str | None:
    total, done = len(report.counted), len(report.succeeded)
    noun = "rollbacks" if report.action == "rollback" else "migrations"
    if report.dry_run:
        if not report.failed:
            return None
        return f"{sym['fail']} {len(report.failed)}/{total} {noun} would fail"
    if not total and report.unchanged:
        return f"{sym['ok']} Nothing to do"
    return f"{sym['ok']} {done}/{total} {noun} completed"


def methods_lines(registry: SyncMethodRegistry, sym: dict[str, str]) -> list[str]:
    """Registered sync methods with their origin, then the refused plugins and why."""
    lines = [f"{sym['plugin']} Sync methods:"]
    for method in registry:
        traits = ["server-scheduled" if method.server_scheduled else "client-driven"]
        if method.accepts_push:
            traits.append("accepts push")
        lines.append(
            f"   {method.name:<16} {method.label}  [{registry.origin(method.name)}; "
            f"{', '.join(traits)}]"
        )
        if method.description:
            lines.append(f"   {'':<16} {method.description}")
    if registry.errors:
        lines.append(f"{sym['fail']} Refused plugins:")
        lines += [f"   {name}: {why}" for name, why in sorted(registry.errors.items())]
    return lines


def project_lines(project: Any, repos: list[dict[str, Any]], sym: dict[str, str]) -> list[str]:
    """``list_repos_by_project.py``: id, name, sync method, status, last sync."""
    lines = [f"{sym['project']} Project: {project.name} ({project.id})"]
    if not repos:
        return [*lines, "   (no repositories)"]
    head = ("ID", "NAME", "SYNC METHOD", "STATUS", "LAST SYNC")
    rows = [head] + [
        (r["id"], r["name"], r["sync_method"], r["sync_status"], r["last_sync_at"] or "never")
        for r in repos
    ]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    for row in rows:
        cells = [f"{str(cell):<{widths[i]}}" for i, cell in enumerate(row)]
        lines.append(("   " + "  ".join(cells)).rstrip())
    return lines
