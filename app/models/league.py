"""The league rollup: commits summed per project, author and UTC day.

These tables are derived from ``commits`` and can be rebuilt from it at any
time (``flask --app wsgi league rebuild``), so rules that change how commits
are counted can be applied to history later. Ingest keeps them exact in the
transaction that stores the commits (app/services/rollup.py).

An author is the raw pair (name, email) as git recorded it, cut to
``KEY_LENGTH`` characters so the pair fits a b-tree key; merging authors into
people (``.mailmap``, aliases) happens when reading, never here.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db import JSONType, UTCDateTime, db

#: Characters of author name and email kept in rollup keys.
KEY_LENGTH = 200

#: Author keys compare byte-wise on PostgreSQL: they are grouped and sorted
#: on every read and upsert, and a locale collation makes that several times
#: slower for nothing (people are ordered in Python).
KeyText = sa.String(KEY_LENGTH).with_variant(sa.String(KEY_LENGTH, collation="C"), "postgresql")

_BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _project_fk() -> Mapped[uuid.UUID]:
    return mapped_column(
        sa.Uuid(), sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )


class _Counters:
    """What is summed: merges apart, and no line counts for merges (as git shows none)."""

    commits: Mapped[int] = mapped_column(sa.Integer())
    merges: Mapped[int] = mapped_column(sa.Integer())
    additions: Mapped[int] = mapped_column(_BigInt)
    deletions: Mapped[int] = mapped_column(_BigInt)
    files_changed: Mapped[int] = mapped_column(_BigInt)
    first_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LeagueCommit(db.Model):  # type: ignore[name-defined]
    """A sha counted in its project's rollup: a fork and its upstream count it once."""

    __tablename__ = "league_commits"

    project_id: Mapped[uuid.UUID] = _project_fk()
    sha: Mapped[str] = mapped_column(sa.String(64), primary_key=True)


class LeagueDay(_Counters, db.Model):  # type: ignore[name-defined]
    """One author's commits in a project on one UTC day, each sha once."""

    __tablename__ = "league_days"

    project_id: Mapped[uuid.UUID] = _project_fk()
    day: Mapped[dt.date] = mapped_column(sa.Date(), primary_key=True)
    author_email: Mapped[str] = mapped_column(KeyText, primary_key=True)
    author_name: Mapped[str] = mapped_column(KeyText, primary_key=True)

    # Periods read a range of days (the key); a contributor's page reads one
    # author's days.
    __table_args__ = (
        sa.Index("ix_league_days_author", "project_id", "author_email", "author_name", "day"),
    )


class LeagueTotal(_Counters, db.Model):  # type: ignore[name-defined]
    """One author's whole history in a project, so the all-time table reads one row each."""

    __tablename__ = "league_totals"

    project_id: Mapped[uuid.UUID] = _project_fk()
    author_email: Mapped[str] = mapped_column(KeyText, primary_key=True)
    author_name: Mapped[str] = mapped_column(KeyText, primary_key=True)
    active_days: Mapped[int] = mapped_column(sa.Integer())


class LeagueRepoDay(_Counters, db.Model):  # type: ignore[name-defined]
    """One author's commits in one repo on one UTC day (a shared sha counts in each repo)."""

    __tablename__ = "league_repo_days"

    # Day before author: periods read a range of days (all time reads
    # league_repo_totals instead).
    repo_id: Mapped[str] = mapped_column(
        sa.ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(sa.Date(), primary_key=True)
    author_email: Mapped[str] = mapped_column(KeyText, primary_key=True)
    author_name: Mapped[str] = mapped_column(KeyText, primary_key=True)


class RepoMailmap(db.Model):  # type: ignore[name-defined]
    """The ``.mailmap`` at a repo's synced head, as its sync uploaded it."""

    __tablename__ = "repo_mailmaps"

    repo_id: Mapped[str] = mapped_column(
        sa.ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[str] = mapped_column(sa.Text())
    #: The blob id, so clients upload only a changed file.
    blob_sha: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LeagueAlias(db.Model):  # type: ignore[name-defined]
    """An email (after ``.mailmap``) that the owner merged into a person."""

    __tablename__ = "league_aliases"

    project_id: Mapped[uuid.UUID] = _project_fk()
    #: Lower case, like ``person_email``.
    email: Mapped[str] = mapped_column(sa.String(254), primary_key=True)
    person_email: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str | None] = mapped_column(sa.String(KEY_LENGTH))


class LeagueSettings(db.Model):  # type: ignore[name-defined]
    """How a project's league counts; a project without a row has the defaults."""

    __tablename__ = "league_settings"

    project_id: Mapped[uuid.UUID] = _project_fk()
    include_bots: Mapped[bool] = mapped_column(sa.Boolean(), default=False)
    #: Lower-case emails counted as bots besides the built-in patterns.
    bot_emails: Mapped[list[str]] = mapped_column(JSONType, default=list)


class LeagueRepoTotal(_Counters, db.Model):  # type: ignore[name-defined]
    """One author's whole history in one repo (a repo's all-time table, "repos" counts)."""

    __tablename__ = "league_repo_totals"

    repo_id: Mapped[str] = mapped_column(
        sa.ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True
    )
    author_email: Mapped[str] = mapped_column(KeyText, primary_key=True)
    author_name: Mapped[str] = mapped_column(KeyText, primary_key=True)
    active_days: Mapped[int] = mapped_column(sa.Integer())
