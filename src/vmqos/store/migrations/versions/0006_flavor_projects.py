"""Private flavors carry the projects that may use them (``openstack flavor create --private
--project``, Nova's ``addTenantAccess``).

Revision ID: 0006
Revises: 0005
A new table, empty: before it, no project had access to any private flavor.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flavor_projects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("flavor_seq", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["flavor_seq"], ["flavors.seq"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("flavor_seq", "project_id",
                            name="uq_flavor_projects_flavor_project"),
    )


def downgrade() -> None:
    op.drop_table("flavor_projects")
