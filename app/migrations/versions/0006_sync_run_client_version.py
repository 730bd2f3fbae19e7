"""sync runs: the client version that opened them

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-01 01:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sync_runs") as batch:
        batch.add_column(sa.Column("client_version", sa.String(64), nullable=True))


def downgrade():
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_column("client_version")
