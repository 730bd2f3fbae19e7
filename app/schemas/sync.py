"""Sync runs."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from .common import Sha, StrictSchema, Text


class SyncRunIn(StrictSchema):
    """Opening a run; with ``status`` it is recorded already finished (one request).

    A client sync that found nothing new, or failed before uploading, reports its
    run this way instead of opening it and closing it at once.
    """

    status = fields.String(validate=validate.OneOf(["succeeded", "failed"]))
    head_sha = Sha(allow_none=True)
    error = Text(4000, allow_none=True)


class SyncRunPatch(StrictSchema):
    """Finishing a run."""

    status = fields.String(required=True, validate=validate.OneOf(["succeeded", "failed"]))
    head_sha = Sha(allow_none=True)
    error = Text(4000, allow_none=True)


class SyncRunOut(ma.Schema):
    """A run and its totals."""

    id = fields.Integer()
    repo_id = fields.String()
    method = fields.String()
    status = fields.String()
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
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
    rejected = fields.Integer()
    head_sha = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    client_version = fields.String(
        allow_none=True, metadata={"description": "gitleague-client version that opened it"}
    )
