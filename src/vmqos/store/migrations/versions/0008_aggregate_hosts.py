"""Host aggregates hold compute hosts (``openstack aggregate add host``).

Revision ID: 0008
Revises: 0007
Existing aggregates get no hosts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("aggregates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hosts", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("aggregates", schema=None) as batch_op:
        batch_op.drop_column("hosts")
