"""sync runs: rows corrected (a shallow boundary replaced by the full commit)

Revision ID: 0007_corrected
Revises: 0006
Create Date: 2026-12-01 02:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0007_corrected"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sync_runs") as batch:
        batch.add_column(sa.Column("corrected", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_column("corrected")
