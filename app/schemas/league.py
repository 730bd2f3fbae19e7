"""The league table of a project's contributors."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from .common import Moment, PageArgs, page_of


class LeagueArgs(PageArgs):
    """``?since=&until=`` (authored time, ``until`` excluded) and paging."""

    since = Moment()
    until = Moment()

    @ma.validates_schema
    def _period(self, data: dict, **_kwargs: object) -> None:
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ma.ValidationError("must be later than since", field_name="until")


class ContributorOut(ma.Schema):
    """One row of the league table."""

    rank = fields.Integer(metadata={"description": "1 for the most commits"})
    author_name = fields.String(metadata={"description": "the name on the latest commit"})
    author_email = fields.String(metadata={"description": "lower case; the identity"})
    commits = fields.Integer(metadata={"description": "commits other than merges"})
    merges = fields.Integer()
    additions = fields.Integer()
    deletions = fields.Integer()
    files_changed = fields.Integer()
    repos = fields.Integer(metadata={"description": "repositories of the project with commits"})
    first_commit_at = fields.AwareDateTime(format="iso")
    last_commit_at = fields.AwareDateTime(format="iso")


LeaguePage = page_of(ContributorOut, "LeaguePage")
