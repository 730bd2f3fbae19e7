"""What ``sync`` prints: a line per repository and totals, JSON, or only errors.

Results go to stdout and problems to stderr, so ``--quiet`` under cron leaves only
what needs a person's attention, and ``>> sync.log 2>&1`` keeps both.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from typing import IO, Any

from gitleague_client.sync import NO_NEW_COMMITS, Progress, RepoResult

BAR_WIDTH = 30


class Reporter:
    """Prints sync results in the mode the command line chose."""

    def __init__(
        self,
        *,
        json_mode: bool = False,
        quiet: bool = False,
        dry_run: bool = False,
        batch_size: int = 100,
        out: IO[str] | None = None,
        err: IO[str] | None = None,
    ) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self.dry_run = dry_run
        self.batch_size = batch_size
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    # -- per repository -----------------------------------------------------------------
    def repo_done(self, result: RepoResult) -> None:
        """Print one repository's outcome (nothing in JSON mode: the summary has it)."""
        if self.json_mode:
            return
        label = f"{result.project} / {result.name}"
        if result.status == "failed":
            self._print(f"✗ {label}: {result.error}", self.err)
            self._hint(result.hint)
        elif result.status == "partial":
            self._print(f"✗ {label}: {_counts(result)} ({result.seconds:.1f}s)", self.err)
            self._print(f"    {result.error}", self.err)
        elif not self.quiet:
            self._print(f"{self._mark()} {label}: {self._summary(result)}", self.out)
        if not self.quiet:
            for note in result.notes:
                self._print(f"    note: {note}", self.out)

    def _mark(self) -> str:
        return "[DRY RUN]" if self.dry_run else "✓"

    def _summary(self, r: RepoResult) -> str:
        if r.status == "up_to_date" or r.new_commits == 0:
            return f"{NO_NEW_COMMITS} ({r.seconds:.1f}s)"
        if r.status == "dry_run":
            first = (r.first_sha or "")[:7]
            head = (r.head_sha or "")[:7]
            plural = "batch" if r.batches == 1 else "batches"
            return (
                f"{_n(r.new_commits, 'new commit')} ({first}..{head}) would be sent "
                f"in {r.batches} {plural} of up to {self.batch_size}"
            )
        return f"{_counts(r)} ({r.seconds:.1f}s)"

    @contextlib.contextmanager
    def progress(self, result: RepoResult, total: int) -> Iterator[Progress]:
        """A progress bar on stderr, drawn only when stderr is a terminal."""
        if self.json_mode or self.quiet or not _isatty(self.err) or total < 1:
            yield lambda n: None
            return
        done = 0
        label = f"{result.project} / {result.name}"

        def advance(n: int) -> None:
            nonlocal done
            done += n
            filled = int(BAR_WIDTH * done / total)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            self.err.write(f"\r{label} [{bar}] {done}/{total} commits")
            self.err.flush()

        advance(0)
        try:
            yield advance
        finally:
            self.err.write("\r\033[K")
            self.err.flush()

    # -- the end --------------------------------------------------------------------------
    def summary(self, results: Sequence[RepoResult], seconds: float, exit_code: int) -> None:
        """Totals line, or the one JSON object in ``--json`` mode."""
        totals = totals_of(results)
        if self.json_mode:
            doc = {
                "ok": exit_code == 0,
                "exit_code": exit_code,
                "dry_run": self.dry_run,
                "seconds": round(seconds, 3),
                "totals": totals,
                "repos": [r.as_dict() for r in results],
            }
            self._print(json.dumps(doc, indent=2, sort_keys=True), self.out)
            return
        if self.quiet:
            return
        if self.dry_run:
            line = (
                f"[DRY RUN] {_n(totals['repos'], 'repo')}: {_n(totals['new_commits'], 'new commit')}"
                f" in {_n(totals['batches'], 'batch', 'batches')} would be sent; nothing was changed"
            )
        else:
            line = (
                f"Total: {_n(totals['repos'], 'repo')}, {_n(totals['new_commits'], 'new commit')}, "
                f"{totals['inserted']} inserted, {totals['duplicates']} duplicates, "
                f"{totals['rejected']} rejected"
            )
        if totals["failed"]:
            line += f", {totals['failed']} failed"
        self._print(f"{line} ({seconds:.1f}s)", self.out)

    def fatal(self, message: str, hint: str | None, exit_code: int) -> None:
        """An error that stops the whole command (config, auth, unreachable server)."""
        if self.json_mode:
            doc = {"ok": False, "exit_code": exit_code, "error": message, "hint": hint}
            self._print(json.dumps(doc, indent=2, sort_keys=True), self.out)
            return
        self._print(f"✗ {message}", self.err)
        self._hint(hint)

    def _hint(self, hint: str | None) -> None:
        if hint:
            for line in hint.splitlines():
                self._print(f"    {line}", self.err)

    @staticmethod
    def _print(text: str, stream: IO[str]) -> None:
        stream.write(text + "\n")
        stream.flush()


def totals_of(results: Sequence[RepoResult]) -> dict[str, Any]:
    """Sums over all repositories, as printed and as in ``--json``."""
    return {
        "repos": len(results),
        "failed": sum(r.status in ("failed", "partial") for r in results),
        "new_commits": sum(r.new_commits for r in results),
        "inserted": sum(r.inserted for r in results),
        "duplicates": sum(r.duplicates for r in results),
        "rejected": sum(r.rejected for r in results),
        "batches": sum(r.batches for r in results),
    }


def _n(count: int, noun: str, plural: str | None = None) -> str:
    """ "1 new commit", "2 new commits": the count and its noun, singular or plural."""
    return f"{count} {noun}" if count == 1 else f"{count} {plural or noun + 's'}"


def _counts(r: RepoResult) -> str:
    return (
        f"{_n(r.new_commits, 'new commit')}, {r.inserted} inserted, "
        f"{r.duplicates} duplicates, {r.rejected} rejected"
    )


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
