"""The audit log: who did what, written in the transaction of the change."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db import BigIntId, JSONType, UTCDateTime, db, utcnow


class AuditLog(db.Model):  # type: ignore[name-defined]
    """One audited action.

        ``details`` is readable text (``received: 120, inserted: 118, ...``) that
        the migration guide's SQL matches with LIKE; ``data`` holds the same facts
        as JSON. ``repo_id`` has no foreign key: entries outlive deleted repos, and
    a later repo with the same id does not inherit them (``repo_uid`` differs).
    """

    __tablename__ = "audit_logs"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(sa.Integer())
    actor: Mapped[str] = mapped_column(sa.String(300))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    repo_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    #: The repo row's :attr:`~app.models.Repo.uid`: who may read the entry, and
    #: whose history it is, follow the row, not the reusable id string.
    repo_uid: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid(), index=True)
    target_type: Mapped[str | None] = mapped_column(sa.String(32))
    target_id: Mapped[str | None] = mapped_column(sa.String(64))
    details: Mapped[str] = mapped_column(sa.Text(), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
