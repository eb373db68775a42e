"""Compute hosts, and each server's host and Placement allocations.

Revision ID: 0005
Revises: 0004
Servers created before keep ``host`` NULL (the service's built-in host) and no allocations.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compute_hosts",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("service_uuid", sa.String(length=36), nullable=False),
        sa.Column("vcpus", sa.Integer(), nullable=False),
        sa.Column("memory_mb", sa.Integer(), nullable=False),
        sa.Column("disk_gb", sa.Integer(), nullable=False),
        sa.Column("agents", sa.JSON(), nullable=False),
        sa.Column("host_ip", sa.String(length=64), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("service_uuid"),
        sa.UniqueConstraint("uuid"),
    )
    with op.batch_alter_table("servers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("allocations", sa.JSON(), nullable=False,
                                      server_default="[]"))
        batch_op.create_index(batch_op.f("ix_servers_host"), ["host"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("servers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_servers_host"))
        batch_op.drop_column("allocations")
        batch_op.drop_column("host")
    op.drop_table("compute_hosts")
