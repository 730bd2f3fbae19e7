"""What a migration run did, repo by repo: the value every front end renders."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class Outcome(str, enum.Enum):
    """How one repo of a run ended."""

    PENDING = "pending"
    PLANNED = "planned"  # dry-run: would be migrated
    MIGRATED = "migrated"
    SKIPPED = "skipped"  # --exclude-active: left alone on purpose, not counted
    NOT_FOUND = "not_found"
    ALREADY_ON_TARGET = "already_on_target"
    WRONG_SOURCE = "wrong_source"
    UNKNOWN_METHOD = "unknown_method"
    NOTHING_TO_ROLL_BACK = "nothing_to_roll_back"
    FAILED = "failed"

    @property
    def ok(self) -> bool:
        """Whether this outcome counts as a success."""
        return self in (Outcome.PLANNED, Outcome.MIGRATED)


@dataclass
class RepoResult:
    """One repo: where it was, where it went, what changed or why not."""

    repo_id: str
    outcome: Outcome = Outcome.PENDING
    name: str | None = None
    source: str | None = None
    target: str | None = None
    changes: list[str] = field(default_factory=list)
    kept_sha: str | None = None
    message: str | None = None
    notes: list[str] = field(default_factory=list)
    audit_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``--json`` and the API)."""
        out = asdict(self)
        out["outcome"] = self.outcome.value
        out["ok"] = self.outcome.ok
        return out


@dataclass
class MigrationReport:
    """A whole run: ``migrate`` or ``rollback``, real or dry."""

    action: str
    dry_run: bool
    source: str | None
    target: str | None
    results: list[RepoResult] = field(default_factory=list)

    @property
    def counted(self) -> list[RepoResult]:
        """Repos that count in ``N/M``: all but those skipped or already there.

        A repo already on the target is not a failure: re-running a migration
        (a cron job, a retry after a partial run) must not exit non-zero.
        """
        return [
            r for r in self.results if r.outcome not in (Outcome.SKIPPED, Outcome.ALREADY_ON_TARGET)
        ]

    @property
    def unchanged(self) -> list[RepoResult]:
        """Repos already on the target method: nothing to do, not counted."""
        return [r for r in self.results if r.outcome is Outcome.ALREADY_ON_TARGET]

    @property
    def succeeded(self) -> list[RepoResult]:
        """Repos migrated (or, in a dry-run, that would be)."""
        return [r for r in self.results if r.outcome.ok]

    @property
    def failed(self) -> list[RepoResult]:
        """Counted repos that did not succeed."""
        return [r for r in self.counted if not r.outcome.ok]

    @property
    def skipped(self) -> list[RepoResult]:
        """Repos left alone by ``--exclude-active``, each with its reason."""
        return [r for r in self.results if r.outcome is Outcome.SKIPPED]

    @property
    def ok(self) -> bool:
        """True when no counted repo failed (the exit status follows it)."""
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``--json`` and the API)."""
        return {
            "action": self.action,
            "dry_run": self.dry_run,
            "source": self.source,
            "target": self.target,
            "total": len(self.counted),
            "succeeded": len(self.succeeded),
            "failed": len(self.failed),
            "skipped": len(self.skipped),
            "unchanged": len(self.unchanged),
            "ok": self.ok,
            "results": [r.to_dict() for r in self.results],
        }
