"""A resized server keeps its source host's allocation until the resize is confirmed.

Revision ID: 0007
Revises: 0006
``servers.old_placement`` is NULL for every server that exists (none waits for a resize with
an allocation before this revision).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("servers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("old_placement", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("servers", schema=None) as batch_op:
        batch_op.drop_column("old_placement")
