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


class MigrateIn(StrictSchema):
    """Which repos to move, as ``migrate_repos_to_push.py`` takes them."""

    repo_ids = fields.List(
        fields.String(validate=validate.Length(max=40)),
        load_default=list,
        validate=validate.Length(max=1000),
    )
    all = fields.Boolean(load_default=False)
    exclude_active = fields.Boolean(load_default=False)
    active_within_hours = fields.Float(validate=validate.Range(min=0, max=24 * 365))
    source = fields.String(data_key="from", validate=METHOD_NAME)
    target = fields.String(data_key="to", load_default="push_client", validate=METHOD_NAME)
    dry_run = fields.Boolean(load_default=False)

    @ma.validates_schema
    def _something(self, data: dict, **_: object) -> None:
        if not data["repo_ids"] and not data["all"]:
            raise ma.ValidationError("name repo_ids, or set all to true")


class RollbackIn(StrictSchema):
    """Repos to return to the method they had before their last migration."""

    repo_ids = fields.List(
        fields.String(validate=validate.Length(max=40)),
        required=True,
        validate=validate.Length(min=1, max=1000),
    )
    dry_run = fields.Boolean(load_default=False)


class RepoResultOut(ma.Schema):
    """One repo of a migration run."""

    repo_id = fields.String()
    outcome = fields.String()
    ok = fields.Boolean()
    name = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    target = fields.String(allow_none=True)
    changes = fields.List(fields.String())
    kept_sha = fields.String(allow_none=True)
    message = fields.String(allow_none=True)
    notes = fields.List(fields.String())
    audit_id = fields.Integer(allow_none=True)


class MigrationReportOut(ma.Schema):
    """A whole run; repos that failed are listed with their reason."""

    action = fields.String()
    dry_run = fields.Boolean()
    source = fields.String(allow_none=True)
    target = fields.String(allow_none=True)
    total = fields.Integer()
    succeeded = fields.Integer()
    failed = fields.Integer()
    skipped = fields.Integer()
    ok = fields.Boolean()
    results = fields.List(fields.Nested(RepoResultOut))
