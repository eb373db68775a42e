"""A real ``vmqos serve`` for the benchmarks that drive the API: bootstrapped on SQLite in a
data directory, on a free loopback port, through the same entry point an operator runs.

Used by ``api.py`` and ``soak.py``; not a benchmark itself.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
PASSWORD = "bench-admin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def vmqos(*args: str) -> list[str]:
    return [sys.executable, "-m", "vmqos.cli.main", *args]


def start(data_dir: Path, database_url: str | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """``vmqos bootstrap`` then ``vmqos serve`` (on ``database_url``, else SQLite in
    ``data_dir``); returns the process and its URL once the compute version document answers.
    The bootstrap's clouds.yaml entry (cloud ``vmqos``) is left in ``data_dir/clouds.yaml``
    for openstacksdk readers (``OS_CLIENT_CONFIG_FILE``)."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    db = ["--db", database_url] if database_url else []
    clouds = subprocess.run(vmqos("bootstrap", "--data-dir", str(data_dir), *db, "--url", url,
                                  "--password", PASSWORD, "--output", "clouds.yaml"), env=env,
                            check=True, capture_output=True, timeout=60)
    (data_dir / "clouds.yaml").write_bytes(clouds.stdout)
    process = subprocess.Popen(vmqos("serve", "--data-dir", str(data_dir), *db, "--port",
                                     str(port)), env=env)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/compute/v2.1").status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit("vmqos serve did not start")
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, as an operator stops it; SIGKILL after 15 s."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def token(url: str) -> str:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": PASSWORD}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
    return httpx.post(f"{url}/identity/v3/auth/tokens", json=body).headers["X-Subject-Token"]
