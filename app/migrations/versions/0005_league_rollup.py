"""league: rollup (counted shas, sums per day, all time and repo), mailmaps, aliases, settings

The tables are derived from ``commits``; the upgrade fills them from the
commits already stored (the same code as ``flask --app wsgi league rebuild``).

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01 01:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_KEY = 200


def _counters():
    return [
        sa.Column("commits", sa.Integer(), nullable=False),
        sa.Column("merges", sa.Integer(), nullable=False),
        sa.Column("additions", _BigInt, nullable=False),
        sa.Column("deletions", _BigInt, nullable=False),
        sa.Column("files_changed", _BigInt, nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _project(table):
    return sa.Column(
        "project_id",
        sa.Uuid(),
        sa.ForeignKey("projects.id", name=f"fk_{table}_project_id_projects", ondelete="CASCADE"),
        nullable=False,
    )


_KeyText = sa.String(_KEY).with_variant(sa.String(_KEY, collation="C"), "postgresql")


def _repo(table):
    return sa.Column(
        "repo_id",
        sa.String(40),
        sa.ForeignKey("repos.id", name=f"fk_{table}_repo_id_repos", ondelete="CASCADE"),
        nullable=False,
    )


def _author():
    return [
        sa.Column("author_email", _KeyText, nullable=False),
        sa.Column("author_name", _KeyText, nullable=False),
    ]


def upgrade():
    op.create_table(
        "league_commits",
        _project("league_commits"),
        sa.Column("sha", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "sha", name="pk_league_commits"),
    )
    op.create_table(
        "league_days",
        _project("league_days"),
        sa.Column("day", sa.Date(), nullable=False),
        *_author(),
        *_counters(),
        sa.PrimaryKeyConstraint(
            "project_id", "day", "author_email", "author_name", name="pk_league_days"
        ),
    )
    op.create_index(
        "ix_league_days_author", "league_days", ["project_id", "author_email", "author_name", "day"]
    )
    op.create_table(
        "league_totals",
        _project("league_totals"),
        *_author(),
        *_counters(),
        sa.Column("active_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "author_email", "author_name", name="pk_league_totals"),
    )
    op.create_table(
        "league_repo_days",
        _repo("league_repo_days"),
        *_author(),
        sa.Column("day", sa.Date(), nullable=False),
        *_counters(),
        sa.PrimaryKeyConstraint(
            "repo_id", "day", "author_email", "author_name", name="pk_league_repo_days"
        ),
    )
    op.create_table(
        "league_repo_totals",
        _repo("league_repo_totals"),
        *_author(),
        *_counters(),
        sa.Column("active_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "repo_id", "author_email", "author_name", name="pk_league_repo_totals"
        ),
    )
    op.create_table(
        "repo_mailmaps",
        _repo("repo_mailmaps"),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("blob_sha", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("repo_id", name="pk_repo_mailmaps"),
    )
    op.create_table(
        "league_aliases",
        _project("league_aliases"),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("person_email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(_KEY), nullable=True),
        sa.PrimaryKeyConstraint("project_id", "email", name="pk_league_aliases"),
    )
    op.create_table(
        "league_settings",
        _project("league_settings"),
        sa.Column("include_bots", sa.Boolean(), nullable=False),
        sa.Column("bot_emails", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("project_id", name="pk_league_settings"),
    )
    from app.services import rollup

    rollup.rebuild_all(op.get_bind())


def downgrade():
    op.drop_table("league_settings")
    op.drop_table("league_aliases")
    op.drop_table("repo_mailmaps")
    op.drop_table("league_repo_totals")
    op.drop_table("league_repo_days")
    op.drop_table("league_totals")
    op.drop_index("ix_league_days_author", table_name="league_days")
    op.drop_table("league_days")
    op.drop_table("league_commits")
