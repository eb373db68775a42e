"""The database: engine, schema migrations and transactions, for SQLite and PostgreSQL.

* ``Database(url)``: ``sqlite:///path`` (the default, a file in the data directory) or
  ``postgresql+psycopg://...``. ``migrate()`` runs the package's alembic migrations to head;
  the API calls it on start.
* ``read()`` / ``write()``: one transaction each, committed on success, rolled back on any
  exception. On SQLite a write transaction starts with ``BEGIN IMMEDIATE`` so that two writers
  queue on the database lock (``busy_timeout``) instead of one failing with "database is
  locked" when it upgrades a read lock (SQLite's deferred transactions cannot wait for that).
  WAL mode lets readers run while one writer writes. On PostgreSQL, rows that must be updated
  one writer at a time are locked with ``SELECT ... FOR UPDATE`` by the repositories.
* Errors: a database URL that cannot be used, or a schema that cannot be migrated, is a
  :class:`PermanentHostError`. A database that goes away while vmqos runs (PostgreSQL
  restarted, the network to it down, SQLite's lock held past ``busy_timeout``) makes the
  transaction in flight a :class:`TemporaryHostError` (HTTP 503): it was rolled back, or its
  commit never reached the database. The pool checks a connection before it hands it out
  (``pool_pre_ping``), so the first transaction after the database is back succeeds without a
  restart of vmqos. ``IntegrityError`` is left to the repositories, which know which conflict
  it means.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from vmqos.errors import PermanentHostError, TemporaryHostError

__all__ = ["Database", "filtered", "sqlite_url"]

_log = logging.getLogger(__name__)

# How long a SQLite writer waits for the lock before giving up (seconds).
_SQLITE_BUSY_TIMEOUT = 30


def sqlite_url(data_dir: Path) -> str:
    """The default database: ``vmqos.sqlite3`` in ``data_dir``."""
    return f"sqlite:///{data_dir / 'vmqos.sqlite3'}"


def _sqlite_engine(url: str) -> Engine:
    connect_args = {"check_same_thread": False, "timeout": _SQLITE_BUSY_TIMEOUT}
    if sa.make_url(url).database in (None, "", ":memory:"):
        # One in-memory database exists per connection: share a single one (tests, demos).
        engine = sa.create_engine(url, connect_args=connect_args, poolclass=sa.StaticPool)
    else:
        engine = sa.create_engine(url, connect_args=connect_args, pool_size=20,
                                  max_overflow=40)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would BEGIN lazily and DEFERRED; take it over
        # (the SQLAlchemy "serializable isolation / savepoints" recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        immediate = connection.get_execution_options().get("vmqos_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """One database, by URL; cheap to share between threads."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        try:
            self.engine = (_sqlite_engine(url) if self.is_sqlite
                           else sa.create_engine(url, pool_size=20, max_overflow=40,
                                                 pool_pre_ping=True))
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise PermanentHostError(f"cannot use database URL {self.safe_url}: {exc}") from exc
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(self.engine.execution_options(vmqos_write=True),
                                    expire_on_commit=False)

    @property
    def safe_url(self) -> str:
        """The URL without its password, for messages."""
        return sa.make_url(self.url).render_as_string(hide_password=True)

    def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        config = Config()
        config.set_main_option(
            "script_location", str(resources.files("vmqos.store") / "migrations"))
        try:
            with self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except sa.exc.OperationalError as exc:
            raise PermanentHostError(
                f"cannot migrate database {self.safe_url}: {exc.orig}") from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reachable(), self._reader() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._reachable(), self._writer() as session, session.begin():
            yield session

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        """Turn a lost database into a :class:`TemporaryHostError`. SQLAlchemy reports a refused
        or broken connection as ``OperationalError`` (``InterfaceError`` when the driver notices
        first); a bug in a statement is a ``ProgrammingError`` and stays a bug."""
        try:
            yield
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            # The driver's text names the database's address: it goes to the log, not to the
            # client.
            _log.warning("database %s unavailable: %s", self.safe_url, exc.orig)
            raise TemporaryHostError("The database is unavailable; retry the request.") from exc

    def dispose(self) -> None:
        self.engine.dispose()


def filtered(query: sa.Select[Any], model: type[Any], filters: Mapping[str, Any]) -> Any:
    """``query`` narrowed by the list filters a client gave (``?name=x``): equality on each
    column of ``model`` that exists; unset (None) and unknown names are ignored."""
    for key, value in filters.items():
        column = getattr(model, key, None)
        if column is not None and value is not None:
            query = query.where(column == value)
    return query
