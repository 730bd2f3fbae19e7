"""Commits, unique per repository by SHA."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db import JSONType, UTCDateTime, db


class Commit(db.Model):  # type: ignore[name-defined]
    """One commit of one repo.

    Times are stored in UTC beside the author's original UTC offset in
    minutes, so they sort and filter correctly and still print as git does.
    """

    __tablename__ = "commits"

    # (repo, sha) is the identity and the primary key: deduplication needs
    # that index anyway, and a surrogate id would cost a second b-tree
    # insert on every ingested row (migration 0003).
    repo_id: Mapped[str] = mapped_column(
        sa.ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True
    )
    sha: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    parents: Mapped[list[str]] = mapped_column(JSONType)
    author_name: Mapped[str] = mapped_column(sa.Text())
    author_email: Mapped[str] = mapped_column(sa.Text())
    authored_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    author_tz_offset: Mapped[int] = mapped_column(sa.SmallInteger())
    committer_name: Mapped[str] = mapped_column(sa.Text())
    committer_email: Mapped[str] = mapped_column(sa.Text())
    committed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    committer_tz_offset: Mapped[int] = mapped_column(sa.SmallInteger())
    message: Mapped[str] = mapped_column(sa.Text())
    additions: Mapped[int] = mapped_column(sa.Integer())
    deletions: Mapped[int] = mapped_column(sa.Integer())
    files_changed: Mapped[int] = mapped_column(sa.Integer())
    is_merge: Mapped[bool] = mapped_column(sa.Boolean())

    # Newest-first listing. Author filters and per-author totals scan one
    # repo's rows through the primary key's repo_id prefix instead of
    # keeping an author index up to date on every insert.
    __table_args__ = (sa.Index("ix_commits_repo_id_committed_at", "repo_id", "committed_at"),)
