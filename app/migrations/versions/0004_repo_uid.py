"""repos.uid and audit_logs.repo_uid: history bound to the repo row, not its id

A deleted repo's id can be taken again, by anyone. Audit entries and the
migration history a rollback reads were found by the id string, so the new
repo's owner read the old owner's entries. Each repo row now has a uid that
is never reused, and every audit entry of a repo records it.

Existing entries get the uid of the repo that holds their id now only when
they were written after that repo was created; older ones belonged to a
deleted repo of the same id and stay unbound (admins and their actor still
see them).

Tokens already stored in git URLs (accepted before user info was refused)
are scrubbed from repos (``git_url``, ``last_error``), sync runs and audit
entries: user info is dropped from every URL, except an ssh login name.
The scrub is one way; downgrading does not bring the tokens back.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 01:00:00

"""

import json
import re
import uuid

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# No batch mode: rebuilding ``repos`` on SQLite drops the old table, and with
# foreign keys on, that deletes every commit and sync run (ON DELETE CASCADE).
# Plain ADD/DROP COLUMN and indexes change the table in place on both
# databases (SQLite 3.35 or later for DROP COLUMN), so ``uid`` stays nullable
# in the schema; the model always sets it.


def upgrade():
    op.add_column("repos", sa.Column("uid", sa.Uuid(), nullable=True))
    repos = sa.table("repos", sa.column("id", sa.String()), sa.column("uid", sa.Uuid()))
    bind = op.get_bind()
    for (repo_id,) in bind.execute(sa.select(repos.c.id)).all():
        bind.execute(repos.update().where(repos.c.id == repo_id).values(uid=uuid.uuid4()))
    op.create_index("ix_repos_uid", "repos", ["uid"], unique=True)
    op.add_column("audit_logs", sa.Column("repo_uid", sa.Uuid(), nullable=True))
    op.create_index("ix_audit_logs_repo_uid", "audit_logs", ["repo_uid"])
    op.execute(
        "UPDATE audit_logs SET repo_uid = (SELECT repos.uid FROM repos "
        "WHERE repos.id = audit_logs.repo_id AND audit_logs.created_at >= repos.created_at) "
        "WHERE repo_id IS NOT NULL"
    )
    _scrub_tokens()


# scheme://[user[:secret]@]: the whole authority up to its last "@" before a "/".
_URL_USER_INFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://([^/\s\"'@]*(?:@[^/\s\"'@]*)*)@")
# scp-like "user:secret@host:path".
_SCP_SECRET = re.compile(r"(?<![\w/:.-])([\w.-]+):[^@\s/\"']+@(?=[\w.-]+:)")
_SSH = ("ssh", "git+ssh", "ssh+git")


def _scrub(text):
    """``text`` with user info dropped from its URLs (an ssh login name kept)."""

    def url(m):
        scheme, info = m.group(1), m.group(2)
        login = info.split(":", 1)[0] if scheme.lower() in _SSH and "@" not in info else ""
        return f"{scheme}://{login}@" if login else f"{scheme}://"

    return _SCP_SECRET.sub(r"\1@", _URL_USER_INFO.sub(url, text))


def _scrub_tokens():
    bind = op.get_bind()
    json_type = sa.JSON().with_variant(JSONB(), "postgresql")
    for name, key, columns in (
        ("repos", "id", ("git_url", "last_error")),
        ("sync_runs", "id", ("error",)),
        ("audit_logs", "id", ("details",)),
    ):
        table = sa.table(name, sa.column(key), *(sa.column(c, sa.Text()) for c in columns))
        for row in bind.execute(sa.select(table)).mappings().all():
            changed = {c: _scrub(row[c]) for c in columns if row[c] and "@" in row[c]}
            changed = {c: v for c, v in changed.items() if v != row[c]}
            if changed:
                bind.execute(table.update().where(table.c[key] == row[key]).values(**changed))
    audit = sa.table("audit_logs", sa.column("id"), sa.column("data", json_type))
    for row in bind.execute(sa.select(audit)).mappings().all():
        text = json.dumps(row["data"])
        if "@" in text and _scrub(text) != text:
            new = json.loads(_scrub(text))
            bind.execute(audit.update().where(audit.c.id == row["id"]).values(data=new))


def downgrade():
    op.drop_index("ix_audit_logs_repo_uid", table_name="audit_logs")
    op.drop_column("audit_logs", "repo_uid")
    op.drop_index("ix_repos_uid", table_name="repos")
    op.drop_column("repos", "uid")
