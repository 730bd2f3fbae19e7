"""The league: tables of contributors, a contributor's page, weekly activity."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from ..services.league import SORTS
from ..services.league_periods import PERIODS
from .common import EARLIEST, LATEST, PageArgs, StrictSchema, Text, check_sha, page_of


class UTCDay(fields.Field):
    """A UTC day: ``2024-02-01``, or a time at midnight UTC (``2024-02-01T00:00:00Z``)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dt.date:
        text = str(value)
        try:
            if len(text) == 10:
                day = dt.date.fromisoformat(text)
            else:
                when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
                if when.tzinfo is None:
                    raise ma.ValidationError("give a date, or a time with its UTC offset")
                when = when.astimezone(dt.timezone.utc)
                if when.time() != dt.time(0):
                    raise ma.ValidationError(
                        "the league counts whole UTC days: give a date or a time at 00:00:00Z"
                    )
                day = when.date()
        except ValueError:
            raise ma.ValidationError("not a date (YYYY-MM-DD) or an ISO 8601 time") from None
        except OverflowError:  # 9999-12-31T23:59:59-23:59 is past year 9999 in UTC
            raise ma.ValidationError("must be between 1970-01-01 and 2099-12-31") from None
        if not EARLIEST.date() <= day < LATEST.date():
            raise ma.ValidationError("must be between 1970-01-01 and 2099-12-31")
        return day


class WindowArgs(StrictSchema):
    """``?period=`` (calendar, UTC) or ``?since=&until=`` (days, ``until`` excluded)."""

    class Meta:
        unknown = ma.EXCLUDE

    period = fields.String(
        validate=validate.OneOf(PERIODS),
        metadata={"description": "calendar period holding `on` (default: all time)"},
    )
    on = UTCDay(
        metadata={"description": "a day inside the period (default: today, UTC)", "format": "date"}
    )
    since = UTCDay(metadata={"description": "first day counted: a date or midnight UTC"})
    until = UTCDay(metadata={"description": "first day not counted: a date or midnight UTC"})

    @ma.validates_schema
    def _window(self, data: dict, **_kwargs: object) -> None:
        if data.get("period") and ("since" in data or "until" in data):
            raise ma.ValidationError("use either period or since/until", field_name="period")
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ma.ValidationError("must be later than since", field_name="until")


class LeagueArgs(WindowArgs, PageArgs):  # type: ignore[misc]  # both Metas exclude
    """A table: the window, the ranking and whether bots count."""

    sort = fields.String(load_default="commits", validate=validate.OneOf(SORTS))
    include_bots = fields.Boolean(
        metadata={"description": "count bot accounts (default: the project's setting)"}
    )


class ActivityArgs(WindowArgs, PageArgs):  # type: ignore[misc]
    """Weekly activity: the window and whether bots count."""

    include_bots = fields.Boolean()


class FiguresOut(ma.Schema):
    """Sums over a contributor's commits (a sha shared by repos counts once)."""

    commits = fields.Integer(metadata={"description": "commits other than merges"})
    merges = fields.Integer()
    additions = fields.Integer()
    deletions = fields.Integer()
    lines_changed = fields.Integer(metadata={"description": "additions + deletions"})
    files_changed = fields.Integer()
    active_days = fields.Integer(metadata={"description": "UTC days with a commit"})
    first_commit_at = fields.AwareDateTime(format="iso", allow_none=True)
    last_commit_at = fields.AwareDateTime(format="iso", allow_none=True)


class ContributorOut(FiguresOut):
    """One row of a league table: a person, with the emails merged into them."""

    rank = fields.Integer(metadata={"description": "1 for the first by the chosen ranking"})
    rank_change = fields.Integer(
        allow_none=True,
        metadata={"description": "places gained since the previous period (null: not ranked)"},
    )
    author_name = fields.String(metadata={"description": "mailmap/alias name, else the latest"})
    author_email = fields.String(metadata={"description": "lower case; the person's key"})
    emails = fields.List(fields.String(), metadata={"description": "emails merged, lower case"})
    is_bot = fields.Boolean()
    repos = fields.Integer(metadata={"description": "repositories with commits in the period"})


LeaguePage = page_of(ContributorOut, "LeaguePage")


class WeekOut(ma.Schema):
    """One week (Monday, UTC) of commits."""

    week = fields.Date(metadata={"description": "the Monday"})
    commits = fields.Integer()
    merges = fields.Integer()


class ActivityWeekOut(WeekOut):
    """One week of a project's activity."""

    contributors = fields.Integer(metadata={"description": "people with commits that week"})


ActivityPage = page_of(ActivityWeekOut, "ActivityPage")


class RepoShareOut(FiguresOut):
    """A contributor's figures in one repo."""

    repo_id = fields.String()
    repo_name = fields.String()


class ContributorPageOut(ma.Schema):
    """One contributor: totals, commits per week (every week with commits), per repo."""

    contributor = fields.Nested(ContributorOut)
    weeks = fields.List(fields.Nested(WeekOut))
    repos = fields.List(fields.Nested(RepoShareOut))


class MailmapIn(StrictSchema):
    """The ``.mailmap`` at a synced head."""

    blob_sha = fields.String(required=True, validate=check_sha)
    content = fields.String(required=True, validate=validate.Length(max=1_000_000))


class MailmapOut(ma.Schema):
    """The stored ``.mailmap``; ``blob_sha`` null when there is none."""

    blob_sha = fields.String(allow_none=True)
    content = fields.String(allow_none=True)
    updated_at = fields.AwareDateTime(format="iso", allow_none=True)


class AliasIn(StrictSchema):
    """These emails are one person (keyed by the first), shown as ``name``."""

    emails = fields.List(Text(254), required=True, validate=validate.Length(min=1, max=100))
    name = Text(200, allow_none=True, load_default=None)


class AliasOut(ma.Schema):
    """An alias group."""

    person_email = fields.String()
    name = fields.String(allow_none=True)
    emails = fields.List(fields.String())


AliasPage = page_of(AliasOut, "AliasPage")


class LeagueSettingsIn(StrictSchema):
    """How the project's league counts bots."""

    include_bots = fields.Boolean()
    bot_emails = fields.List(Text(254), validate=validate.Length(max=1000))


class LeagueSettingsOut(ma.Schema):
    """How the project's league counts bots."""

    include_bots = fields.Boolean(metadata={"description": "count bot accounts by default"})
    bot_emails = fields.List(fields.String(), metadata={"description": "more bot emails"})
