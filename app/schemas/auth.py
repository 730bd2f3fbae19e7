"""Login, API keys and the caller."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from .common import StrictSchema, Text, page_of


class TokenIn(StrictSchema):
    """Email and password."""

    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class TokenOut(ma.Schema):
    """A short-lived JWT."""

    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class ApiKeyIn(StrictSchema):
    """A new key's name and scopes."""

    name = Text(200, required=True)
    scopes = fields.List(fields.String(validate=validate.Length(max=64)), required=True)


class ApiKeyOut(ma.Schema):
    """A key as listed: masked, never the secret."""

    id = fields.Integer()
    name = fields.String()
    key = fields.String(attribute="masked")
    scopes = fields.List(fields.String())
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class ApiKeyCreated(ApiKeyOut):
    """A new key: the only time the full ``key`` is shown."""

    key = fields.String()


ApiKeyPage = page_of(ApiKeyOut, "ApiKeyPage")


class MeProject(ma.Schema):
    """A project the caller reaches, with its number of repos."""

    id = fields.String()
    name = fields.String()
    repo_count = fields.Integer()


class MeOut(ma.Schema):
    """The caller: user, key (masked) and scopes, and what it reaches."""

    email = fields.String()
    role = fields.String()
    api_key = fields.String(allow_none=True)
    scopes = fields.List(fields.String())
    projects = fields.List(fields.Nested(MeProject))
