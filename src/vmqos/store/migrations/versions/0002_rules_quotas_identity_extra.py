"""Security group rules get a table, quotas a table, projects and users their extra attributes.

Revision ID: 0002
Revises: 0001

* ``security_group_rules``: one row per rule, unique per (group, ``rule_key``), deleted with
  its group and with the group it names as remote; the rules each group kept in its ``rules``
  JSON list are moved into it, then the column goes.
* ``quota_limits``: the limits an admin set, per service, project and resource.
* ``projects.tags``, ``projects.extra``, ``users.extra``: empty for existing rows.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from vmqos.intent.neutron.security_group_rules import RuleSpec

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_STAMP = "%Y-%m-%dT%H:%M:%SZ"


def _when(text: object) -> datetime:
    try:
        return datetime.strptime(str(text), _STAMP)
    except ValueError:
        return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _listed_rules() -> list[dict[str, object]]:
    """Every rule of every group's JSON list, as a row of ``security_group_rules``."""
    groups = sa.table("security_groups", sa.column("id", sa.String()),
                      sa.column("project_id", sa.String()), sa.column("rules", sa.JSON()))
    seq = time.time_ns()
    rows = []
    for group_id, project_id, stored in op.get_bind().execute(
            sa.select(groups.c.id, groups.c.project_id, groups.c.rules)):
        for rule in stored or []:
            spec = RuleSpec(security_group_id=group_id, direction=rule["direction"],
                            ethertype=rule["ethertype"], protocol=rule.get("protocol"),
                            port_range_min=rule.get("port_range_min"),
                            port_range_max=rule.get("port_range_max"),
                            remote_ip_prefix=rule.get("remote_ip_prefix"),
                            remote_group_id=rule.get("remote_group_id"))
            seq += 1
            rows.append({"id": rule["id"], "seq": seq, "security_group_id": group_id,
                         "project_id": rule.get("project_id") or project_id,
                         "direction": spec.direction, "ethertype": spec.ethertype,
                         "protocol": spec.protocol, "port_range_min": spec.port_range_min,
                         "port_range_max": spec.port_range_max,
                         "remote_ip_prefix": spec.remote_ip_prefix,
                         "remote_group_id": spec.remote_group_id,
                         "description": rule.get("description") or "", "rule_key": spec.key(),
                         "revision_number": rule.get("revision_number", 0),
                         "created_at": _when(rule.get("created_at")),
                         "updated_at": _when(rule.get("updated_at"))})
    return rows


def upgrade() -> None:
    # Read the rules before the column goes, and drop it before the table that refers to the
    # groups exists: SQLite drops and re-creates a table to drop a column, and with foreign
    # keys on, dropping it would cascade to the rules.
    moved = _listed_rules()
    with op.batch_alter_table("security_groups", schema=None) as batch_op:
        batch_op.drop_column("rules")
    rules = op.create_table(
        "security_group_rules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("security_group_id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("ethertype", sa.String(length=40), nullable=False),
        sa.Column("protocol", sa.String(length=40), nullable=True),
        sa.Column("port_range_min", sa.Integer(), nullable=True),
        sa.Column("port_range_max", sa.Integer(), nullable=True),
        sa.Column("remote_ip_prefix", sa.String(length=255), nullable=True),
        sa.Column("remote_group_id", sa.String(length=36), nullable=True),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("rule_key", sa.String(length=512), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["remote_group_id"], ["security_groups.id"],
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["security_group_id"], ["security_groups.id"],
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("security_group_id", "rule_key",
                            name="uq_security_group_rules_key"),
    )
    with op.batch_alter_table("security_group_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_security_group_rules_project_id"),
                              ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_security_group_rules_remote_group_id"),
                              ["remote_group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_security_group_rules_security_group_id"),
                              ["security_group_id"], unique=False)
    if moved:
        op.bulk_insert(rules, moved)

    op.create_table(
        "quota_limits",
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("resource", sa.String(length=255), nullable=False),
        sa.Column("hard_limit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("service", "project_id", "resource"),
    )

    # Existing rows get the empty value from the server default, which stays: removing it
    # would make SQLite re-create the tables, and dropping ``projects`` or ``users`` would
    # cascade to every role assignment and token.
    for table, column, empty in (("projects", "tags", "'[]'"), ("projects", "extra", "'{}'"),
                                 ("users", "extra", "'{}'")):
        op.add_column(table, sa.Column(column, sa.JSON(), nullable=False,
                                       server_default=sa.text(empty)))


def downgrade() -> None:
    raise NotImplementedError("vmqos migrates forward only")
