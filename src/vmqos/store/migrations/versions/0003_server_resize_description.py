"""Servers keep the flavor they had before a resize, and Nova's description.

Revision ID: 0003
Revises: 0002
``servers.old_flavor`` holds the pre-resize flavor while the server is in VERIFY_RESIZE, for
revertResize; ``servers.description`` is what ``PUT /servers/{id}`` sets (microversion 2.19).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("servers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("old_flavor", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("description", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("servers", schema=None) as batch_op:
        batch_op.drop_column("description")
        batch_op.drop_column("old_flavor")
