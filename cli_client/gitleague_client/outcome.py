"""One repository's outcome in a sync: what is printed, put in ``--json`` and told the server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gitleague_client.errors import ClientError, ExitCode


@dataclass
class RepoResult:
    """The outcome of one repository's sync, as printed and as put in ``--json``."""

    project: str
    path: str
    name: str
    repo_id: str | None = None
    status: str = "failed"  # synced | up_to_date | dry_run | partial | failed
    new_commits: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    batches: int = 0
    first_sha: str | None = None
    head_sha: str | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    hint: str | None = None
    exit_code: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for ``--json``."""
        return {k: v for k, v in self.__dict__.items() if k != "hint" or v}

    @property
    def failed(self) -> bool:
        """True when the repository did not sync completely (failed, or commits rejected)."""
        return self.status in ("failed", "partial")


def fail(result: RepoResult, message: str, hint: str | None, code: int) -> None:
    """Mark ``result`` failed with ``message`` (and the fix, ``hint``)."""
    result.status = "failed"
    result.error = message
    result.hint = hint
    result.exit_code = code


@contextlib.contextmanager
def recorded(result: RepoResult) -> Iterator[None]:
    """Turn a repository's error into its failed result instead of raising it."""
    try:
        yield
    except ClientError as exc:
        fail(result, exc.message, exc.hint, int(exc.exit_code))
    except Exception as exc:  # noqa: BLE001 - one repository's bug must not stop the others
        fail(result, f"unexpected {type(exc).__name__}: {exc}", None, ExitCode.PARTIAL_FAILURE)
