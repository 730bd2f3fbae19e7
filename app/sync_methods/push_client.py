"""``push_client``: commissioners upload commits with ``gitleague-client``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from ..db import db
from .base import SyncMethod, TransitionContext

if TYPE_CHECKING:
    from ..models import Repo


class PushClientSyncMethod(SyncMethod):
    """Client-driven sync: the token stays on the commissioner's machine."""

    name = "push_client"
    label = "PUSH_CLIENT (new)"
    description = "gitleague-client uploads commits from the commissioner's machine"
    accepts_push = True

    def active_reason(self, repo: Repo, *, context: TransitionContext) -> str | None:
        """Active while a sync run opened by a client has not finished."""
        from ..models import SyncRun, SyncRunStatus

        open_run = db.session.scalar(
            sa.select(SyncRun.id)
            .where(SyncRun.repo_id == repo.id, SyncRun.status == SyncRunStatus.RUNNING.value)
            .limit(1)
        )
        return f"push sync run {open_run} is still open" if open_run else None
