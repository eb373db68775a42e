"""Host aggregates carry Nova's metadata (``openstack aggregate create/set --property``).

Revision ID: 0004
Revises: 0003
Existing aggregates get ``{}``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("aggregates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("metadata", sa.JSON(), nullable=False,
                                      server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("aggregates", schema=None) as batch_op:
        batch_op.drop_column("metadata")
