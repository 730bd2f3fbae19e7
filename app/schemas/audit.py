"""Audit log entries."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from .common import Moment, PageArgs, page_of


class AuditLogOut(ma.Schema):
    """One entry."""

    id = fields.Integer()
    created_at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    repo_id = fields.String(allow_none=True)
    target_type = fields.String(allow_none=True)
    target_id = fields.String(allow_none=True)
    details = fields.String()
    data = fields.Dict()
    request_id = fields.String(allow_none=True)


AuditLogPage = page_of(AuditLogOut, "AuditLogPage")


class AuditLogArgs(PageArgs):
    """Filters, newest first."""

    action = fields.String(validate=validate.Length(max=64))
    repo_id = fields.String(validate=validate.Length(max=40))
    since = Moment()
    until = Moment()
