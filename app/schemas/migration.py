"""Migration status: the guide's three dashboard figures."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from .common import StrictSchema

METHOD_NAME = validate.Regexp(r"^[a-z][a-z0-9_]{1,63}$", error="not a sync method name")


class StatusArgs(StrictSchema):
    """``?from=&to=``: the pair whose progress is shown."""

    class Meta:
        unknown = ma.EXCLUDE

    source = fields.String(data_key="from", load_default="pull_celery", validate=METHOD_NAME)
    target = fields.String(data_key="to", load_default="push_client", validate=METHOD_NAME)


class MethodCountOut(ma.Schema):
    """Repos on one method and their share."""

    sync_method = fields.String()
    label = fields.String()
    count = fields.Integer()
    percentage = fields.Float()


class ProgressOut(ma.Schema):
    """Figure 1: progress from ``source`` to ``target``."""

    source = fields.String()
    target = fields.String()
    methods = fields.List(fields.Nested(MethodCountOut))
    total = fields.Integer()
    migrated_percentage = fields.Float()


class SyncAgeOut(ma.Schema):
    """One repo's last sync."""

    repo_id = fields.String()
    name = fields.String()
    sync_method = fields.String()
    last_sync_at = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "Recent, Stale or Never"})


class LastSyncOut(ma.Schema):
    """Figure 2: stale vs recent by last_sync_at."""

    stale_after_seconds = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    repos = fields.List(fields.Nested(SyncAgeOut))


class SuccessRateOut(ma.Schema):
    """Figure 3: finished syncs of a repo and how many had no error."""

    repo_id = fields.String()
    total_syncs = fields.Integer()
    successful = fields.Integer()
    rate = fields.Float()


class MigrationStatusOut(ma.Schema):
    """The guide's three dashboard figures over the repos the caller reaches."""

    progress = fields.Nested(ProgressOut)
    last_sync = fields.Nested(LastSyncOut)
    success_rates = fields.List(fields.Nested(SuccessRateOut))
