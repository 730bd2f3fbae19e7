"""Repositories and their sync state."""

from __future__ import annotations

import datetime as dt
import enum
import secrets
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime, db, utcnow

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def new_repo_id() -> str:
    """Six random lowercase base-36 characters."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(6))


class SyncStatus(str, enum.Enum):
    """Health of a repo's sync. ``stale`` is derived, never stored."""

    NEVER = "never"
    HEALTHY = "healthy"
    STALE = "stale"
    FAILING = "failing"
    NEEDS_CREDENTIALS = "needs_credentials"


class Repo(db.Model):  # type: ignore[name-defined]
    """A git repository of a project, synced by one registered sync method."""

    __tablename__ = "repos"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=new_repo_id)
    #: Never reused, unlike ``id`` (a deleted repo's id may be taken again):
    #: audit entries and migration history belong to this row through it.
    #: Nullable only in the schema (migration 0004 could not rebuild the table).
    uid: Mapped[uuid.UUID | None] = mapped_column(
        sa.Uuid(), index=True, unique=True, default=uuid.uuid4
    )
    project_id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid(), sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    git_url: Mapped[str] = mapped_column(sa.String(2048))
    git_url_normalized: Mapped[str] = mapped_column(sa.String(2048))
    branch: Mapped[str] = mapped_column(sa.String(255), default="main")
    sync_method: Mapped[str] = mapped_column(sa.String(64), index=True)
    sync_status: Mapped[str] = mapped_column(sa.String(32), default=SyncStatus.NEVER.value)
    last_ingested_sha: Mapped[str | None] = mapped_column(sa.String(64))
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text())
    credentials_encrypted: Mapped[bytes | None] = mapped_column(sa.LargeBinary())
    credentials_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Seconds between scheduled pulls; None: ``GITLEAGUE_PULL_INTERVAL_SECONDS``.
    pull_interval_seconds: Mapped[int | None] = mapped_column(sa.Integer())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    project = relationship("Project")

    __table_args__ = (
        sa.UniqueConstraint("project_id", "git_url_normalized"),
        sa.CheckConstraint(
            "sync_status IN ('never', 'healthy', 'failing', 'needs_credentials')",
            name="sync_status",
        ),
    )

    def effective_status(self, now: dt.datetime, stale_after: dt.timedelta) -> str:
        """The status users see: healthy turns stale when the last sync is too old."""
        if (
            self.sync_status == SyncStatus.HEALTHY.value
            and self.last_sync_at is not None
            and self.last_sync_at < now - stale_after
        ):
            return SyncStatus.STALE.value
        return self.sync_status

    @property
    def has_credentials(self) -> bool:
        """Whether encrypted credentials are stored."""
        return self.credentials_encrypted is not None
