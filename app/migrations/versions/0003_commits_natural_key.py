"""commits: (repo_id, sha) as the primary key; no surrogate id, no author index

Ingest inserts up to 1,000 commits per batch, and every index is one more
b-tree insert per row. The unique (repo_id, sha) index was needed anyway for
deduplication, so it becomes the primary key and the surrogate ``id`` (never
exposed by the API) goes, as does the (repo_id, author_email) index, which no
query needed: author filters scan one repo's rows through the key's prefix.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 17:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("commits") as batch:
        batch.drop_index("ix_commits_repo_id_author_email")
        batch.drop_constraint("uq_commits_repo_id_sha", type_="unique")
        batch.drop_constraint("pk_commits", type_="primary")
        batch.drop_column("id")
        batch.create_primary_key("pk_commits", ["repo_id", "sha"])


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("pk_commits", "commits", type_="primary")
        # BIGSERIAL numbers the existing rows as the column is added.
        op.execute("ALTER TABLE commits ADD COLUMN id BIGSERIAL")
        op.create_primary_key("pk_commits", "commits", ["id"])
    else:
        # The batch copy leaves "id" out of its INSERT ... SELECT, so SQLite
        # numbers the rows itself (INTEGER PRIMARY KEY is the rowid).
        with op.batch_alter_table(
            "commits",
            recreate="always",
            table_args=(sa.PrimaryKeyConstraint("id", name="pk_commits"),),
        ) as batch:
            batch.drop_constraint("pk_commits", type_="primary")
            batch.add_column(sa.Column("id", sa.Integer(), nullable=False))
    with op.batch_alter_table("commits") as batch:
        batch.create_unique_constraint("uq_commits_repo_id_sha", ["repo_id", "sha"])
        batch.create_index("ix_commits_repo_id_author_email", ["repo_id", "author_email"])
