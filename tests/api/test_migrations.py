"""The alembic migrations create exactly the tables of ``vmqos.store.models``, on SQLite and on
PostgreSQL, and running them again changes nothing (the API migrates on every start)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from vmqos.store.db import Database, sqlite_url
from vmqos.store.models import Base

from .conftest import Postgres


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.root)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if request.param == "sqlite":
        return Database(sqlite_url(tmp_path))
    postgres: Postgres = request.getfixturevalue("postgres")
    return Database(postgres.database())


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location",
                           str(resources.files("vmqos.store") / "migrations"))
    return config


def _head() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def test_migrations_match_the_models(database: Database) -> None:
    try:
        database.migrate()
        database.migrate()
        with database.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert version.scalars().all() == [_head()]
    finally:
        database.dispose()
    assert diff == []


def test_0002_moves_each_groups_rules_into_rows(tmp_path: Path) -> None:
    """A database made by 0001 keeps its security groups' rules, now one row each, and its
    role assignments."""
    database = Database(sqlite_url(tmp_path))
    config = _config()
    rules = [{"id": f"r{i}", "security_group_id": "g", "project_id": "p", "direction": d,
              "ethertype": e, "protocol": None, "port_range_min": None,
              "port_range_max": None, "remote_ip_prefix": None, "remote_group_id": None,
              "description": "", "revision_number": 0, "created_at": "2024-01-02T03:04:05Z",
              "updated_at": "2024-01-02T03:04:05Z"}
             for i, (d, e) in enumerate((("egress", "IPv4"), ("egress", "IPv6")))]
    try:
        with database.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
            connection.execute(sa.text(
                "INSERT INTO security_groups (id, name, description, project_id, rules, "
                "revision_number, created_at, updated_at) VALUES ('g', 'web', '', 'p', :rules, "
                "1, '2024-01-02 03:04:05', '2024-01-02 03:04:05')"), {"rules": json.dumps(rules)})
            connection.execute(sa.text(
                "INSERT INTO projects (id, name, description, enabled) VALUES ('p', 'p', '', 1)"))
            connection.execute(sa.text(
                "INSERT INTO users (id, name, password_hash, enabled) VALUES ('u', 'u', 'x', 1)"))
            connection.execute(sa.text(
                "INSERT INTO role_assignments VALUES ('u', 'p', 'member')"))
        database.migrate()
        with database.engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT id, security_group_id, direction, ethertype, rule_key "
                "FROM security_group_rules ORDER BY seq")).all()
            columns = [c["name"] for c in sa.inspect(connection).get_columns("security_groups")]
            # Adding the identity columns re-creates no table: the assignments survive.
            roles = connection.execute(sa.text("SELECT * FROM role_assignments")).all()
            project = connection.execute(sa.text("SELECT tags, extra FROM projects")).one()
    finally:
        database.dispose()
    assert [(r.id, r.security_group_id, r.direction, r.ethertype) for r in rows] == [
        ("r0", "g", "egress", "IPv4"), ("r1", "g", "egress", "IPv6")]
    assert rows[0].rule_key == "egress_IPv4_+_+_+_+_+_+_g"
    assert "rules" not in columns
    assert roles == [("u", "p", "member")]
    assert tuple(project) == ("[]", "{}")
