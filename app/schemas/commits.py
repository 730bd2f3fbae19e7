"""Commit schemas: the JSON field names used everywhere."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from .common import (
    Id,
    Moment,
    PageArgs,
    Sha,
    StrictSchema,
    Text,
    check_sha,
    check_time_range,
    page_of,
)

MAX_INT = 2**31 - 1


def iso_with_offset(value: dt.datetime, offset_minutes: int) -> str:
    """``value`` (UTC) printed in its original offset, as git shows it."""
    tz = dt.timezone(dt.timedelta(minutes=offset_minutes))
    return value.astimezone(tz).isoformat()


class CommitIn(StrictSchema):
    """One pushed commit; loads into column values for the commits table."""

    sha = Sha(required=True)
    parents = fields.List(
        fields.String(validate=check_sha), required=True, validate=validate.Length(max=1000)
    )
    author_name = Text(4096, required=True)
    author_email = Text(4096, required=True)
    authored_at = fields.AwareDateTime(format="iso", required=True, validate=check_time_range)
    committer_name = Text(4096, required=True)
    committer_email = Text(4096, required=True)
    committed_at = fields.AwareDateTime(format="iso", required=True, validate=check_time_range)
    message = Text(1_048_576, required=True)
    additions = fields.Integer(required=True, strict=True, validate=validate.Range(0, MAX_INT))
    deletions = fields.Integer(required=True, strict=True, validate=validate.Range(0, MAX_INT))
    files_changed = fields.Integer(required=True, strict=True, validate=validate.Range(0, MAX_INT))
    is_merge = fields.Boolean(required=True, truthy={True}, falsy={False})

    @ma.validates_schema
    def _merge_matches_parents(self, data: dict[str, Any], **_: Any) -> None:
        if "parents" in data and "is_merge" in data:
            if data["is_merge"] != (len(data["parents"]) > 1):
                raise ma.ValidationError("is_merge must be true exactly when there are 2+ parents")

    @ma.post_load
    def _to_columns(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        for when, offset in (
            ("authored_at", "author_tz_offset"),
            ("committed_at", "committer_tz_offset"),
        ):
            value: dt.datetime = data[when]
            data[offset] = int(value.utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
            data[when] = value.astimezone(dt.timezone.utc)
        return data


class CommitOut(ma.Schema):
    """A stored commit, times in their original offsets."""

    sha = fields.String()
    parents = fields.List(fields.String())
    author_name = fields.String()
    author_email = fields.String()
    authored_at = fields.Method("_authored")
    committer_name = fields.String()
    committer_email = fields.String()
    committed_at = fields.Method("_committed")
    message = fields.String()
    additions = fields.Integer()
    deletions = fields.Integer()
    files_changed = fields.Integer()
    is_merge = fields.Boolean()

    def _authored(self, obj: Any) -> str:
        return iso_with_offset(obj.authored_at, obj.author_tz_offset)

    def _committed(self, obj: Any) -> str:
        return iso_with_offset(obj.committed_at, obj.committer_tz_offset)


CommitPage = page_of(CommitOut, "CommitPage")


class CommitListArgs(PageArgs):
    """Filters of the commit list."""

    author = fields.String(validate=validate.Length(max=4096))
    since = Moment()
    until = Moment()


class IngestBatchIn(StrictSchema):
    """A batch of pushed commits. Items are checked one by one by the service."""

    sync_run_id = Id(allow_none=True)
    resume_sha = Sha(allow_none=True)
    commits = fields.List(
        fields.Raw(metadata={"description": "a commit, fields as in CommitOut"}), required=True
    )


class RejectedItem(ma.Schema):
    """An item the server did not store, and why."""

    index = fields.Integer()
    sha = fields.String(allow_none=True)
    error = fields.String()


class IngestResult(ma.Schema):
    """Counts of one batch."""

    received = fields.Integer()
    inserted = fields.Integer()
    corrected = fields.Integer(
        metadata={
            "description": "stored rows without parents (a shallow clone's boundary, "
            "sent by an older client) replaced by the full commit; not in inserted "
            "nor duplicates"
        }
    )
    duplicates = fields.Integer()
    rejected = fields.List(fields.Nested(RejectedItem))


class KnownIn(StrictSchema):
    """Candidate shas a client asks about."""

    shas = fields.List(fields.String(), required=True)


class KnownOut(ma.Schema):
    """The candidates the server has."""

    known = fields.List(fields.String())
