"""The alembic migrations create exactly the tables of ``vmqos.store.models``, on SQLite and on
PostgreSQL, and running them again changes nothing (the API migrates on every start)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from vmqos.store.db import Database, sqlite_url
from vmqos.store.models import Base

from .conftest import Postgres


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.root)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if request.param == "sqlite":
        return Database(sqlite_url(tmp_path))
    postgres: Postgres = request.getfixturevalue("postgres")
    return Database(postgres.database())


def test_migrations_match_the_models(database: Database) -> None:
    try:
        database.migrate()
        database.migrate()
        with database.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert version.scalars().all() == ["0004"]
    finally:
        database.dispose()
    assert diff == []
