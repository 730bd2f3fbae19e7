"""Repository credentials: write-only in, state (never the secret) out."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..services.credentials import MAX_TOKEN_CHARS, MAX_USERNAME_CHARS
from .common import StrictSchema


class CredentialsIn(StrictSchema):
    """A personal access token, and optionally the user name it belongs to."""

    token = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=MAX_TOKEN_CHARS)
    )
    username = fields.String(
        load_only=True, allow_none=True, validate=validate.Length(min=1, max=MAX_USERNAME_CHARS)
    )


class CredentialsState(ma.Schema):
    """Whether credentials are stored; the token itself is never returned."""

    repo_id = fields.String(attribute="id")
    has_credentials = fields.Boolean()
    credentials_updated_at = fields.DateTime()
    sync_status = fields.String()


class PullJobOut(ma.Schema):
    """The repo's pull job: queued by this request, or already pending."""

    job_id = fields.String()
    queued = fields.Boolean(metadata={"description": "false: a job was already pending"})
    request_id = fields.String(
        allow_none=True, metadata={"description": "the id the job logs under"}
    )
