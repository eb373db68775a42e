"""A throwaway PostgreSQL 15 cluster on loopback for the benchmarks that run the control plane
on the store an operator's fleet uses: ``initdb`` in a temporary directory, ``pg_ctl start``
on a free port (``fsync=off``: a benchmark's data is thrown away), removed on exit.

Used by ``fleet.py``; not a benchmark itself. Needs root (it runs the cluster as the
``postgres`` user) and Debian's ``postgresql`` package, which ``scripts/setup.sh`` installs.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import serve_process

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(*argv: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True,
                   capture_output=True, timeout=120)


@contextmanager
def cluster(max_connections: int = 300) -> Iterator[str]:
    """A running cluster with one empty database; yields its SQLAlchemy URL."""
    if not (PG_BIN / "initdb").exists():
        raise SystemExit(f"PostgreSQL 15 is not installed ({PG_BIN}): apt-get install postgresql")
    owner = pwd.getpwnam("postgres")
    root = Path(tempfile.mkdtemp(prefix="vmqos-bench-pg-"))
    os.chown(root, owner.pw_uid, owner.pw_gid)
    data = root / "data"
    port = serve_process.free_port()
    started = False
    try:
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                     "--no-sync")
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w",
                     "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                     f"-c max_connections={max_connections}", "start")
        started = True
        _as_postgres(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "vmqos")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/vmqos"
    finally:
        if started:
            subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D",
                            str(data), "-m", "fast", "-w", "stop"], capture_output=True,
                           timeout=60, check=False)
        shutil.rmtree(root, ignore_errors=True)
