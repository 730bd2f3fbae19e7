"""Projects and repositories."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from .common import GitUrl, PageArgs, StrictSchema, Text, page_of


class ProjectIn(StrictSchema):
    """A new project; admins may name another owner by email."""

    name = Text(200, required=True, validate=validate.Length(min=1, max=200))
    owner_email = fields.String(validate=validate.Length(max=254))


class ProjectPatch(StrictSchema):
    """Renaming a project."""

    name = Text(200, required=True, validate=validate.Length(min=1, max=200))


class ProjectOut(ma.Schema):
    """A project."""

    id = fields.String()
    name = fields.String()
    owner_email = fields.String(attribute="owner.email")
    repo_count = fields.Integer()
    created_at = fields.DateTime()


ProjectPage = page_of(ProjectOut, "ProjectPage")

BRANCH = validate.Regexp(
    r"^(?!-)(?!.*\.\.)[^\x00-\x20~^:?*\[\\]{1,255}$", error="not a valid branch name"
)


class RepoIn(StrictSchema):
    """A new repository."""

    id = fields.String(
        validate=validate.Length(max=40),
        metadata={"description": "admins only (403 for others); default: a random id"},
    )
    name = Text(200, required=True, validate=validate.Length(min=1, max=200))
    git_url = GitUrl(required=True)
    branch = fields.String(load_default="main", validate=BRANCH)
    sync_method = fields.String(validate=validate.Length(max=64))


class RepoPatch(StrictSchema):
    """Changeable repo fields (the sync method moves only by migration)."""

    name = Text(200, validate=validate.Length(min=1, max=200))
    git_url = GitUrl()
    branch = fields.String(validate=BRANCH)
    pull_interval_seconds = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=60, max=30 * 86400),
        metadata={"description": "pull_celery: seconds between scheduled pulls (null: default)"},
    )


class RepoOut(ma.Schema):
    """A repository with its sync state."""

    id = fields.String()
    project_id = fields.String()
    name = fields.String()
    git_url = fields.String()
    branch = fields.String()
    sync_method = fields.String()
    accepts_pushes = fields.Boolean(
        metadata={"description": "whether its sync method takes commits from the push API"}
    )
    sync_status = fields.String()
    last_ingested_sha = fields.String(allow_none=True)
    last_sync_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    has_credentials = fields.Boolean()
    pull_interval_seconds = fields.Integer(allow_none=True)
    commit_count = fields.Integer()
    created_at = fields.DateTime()


RepoPage = page_of(RepoOut, "RepoPage")


class RepoListArgs(PageArgs):
    """Repo list filters: any URL form matches the normalized URL."""

    git_url = GitUrl()
