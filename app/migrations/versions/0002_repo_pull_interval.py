"""per-repo pull interval

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 14:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("repos") as batch:
        batch.add_column(sa.Column("pull_interval_seconds", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("repos") as batch:
        batch.drop_column("pull_interval_seconds")
