"""Sync runs: one client sync or one pull job, with its counts."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, db, utcnow


class SyncRunStatus(str, enum.Enum):
    """Life of a sync run."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class SyncRun(db.Model):  # type: ignore[name-defined]
    """The batches of one sync, their totals and how it ended."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    repo_id: Mapped[str] = mapped_column(sa.ForeignKey("repos.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16), default=SyncRunStatus.RUNNING.value)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    received: Mapped[int] = mapped_column(sa.Integer(), default=0)
    inserted: Mapped[int] = mapped_column(sa.Integer(), default=0)
    duplicates: Mapped[int] = mapped_column(sa.Integer(), default=0)
    # Rows stored from a shallow clone's boundary and replaced by the full commit.
    corrected: Mapped[int] = mapped_column(sa.Integer(), default=0, server_default="0")
    rejected: Mapped[int] = mapped_column(sa.Integer(), default=0)
    head_sha: Mapped[str | None] = mapped_column(sa.String(64))
    error: Mapped[str | None] = mapped_column(sa.Text())
    #: The gitleague-client version that opened the run (from its User-Agent), if any.
    client_version: Mapped[str | None] = mapped_column(sa.String(64))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    api_key_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("api_keys.id", ondelete="SET NULL")
    )

    __table_args__ = (
        sa.CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status"),
    )

    @property
    def errors(self) -> int:
        """Rejected items, plus one when the run as a whole failed.

        A run counts as successful exactly when this is zero; the audit
        entry's ``errors: N`` uses the same number, so the guide's query over
        audit_logs and figures from sync_runs agree.
        """
        return self.rejected + (0 if self.status == SyncRunStatus.SUCCEEDED.value else 1)
