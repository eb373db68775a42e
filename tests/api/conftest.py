"""Fixtures for the API tests: real servers on loopback, real clients, a throwaway PostgreSQL.

* ``start_server(...)`` runs the real ASGI application under uvicorn in a thread, on a socket
  bound to 127.0.0.1 port 0 (no port race), with its own database, and stops it after. It
  answers like ``vmqos serve``; the end-to-end test also runs ``vmqos serve`` itself.
* ``Cloud`` wraps one server: tokens for users (created through the Keystone API), an httpx
  client per user, and ``openstack(...)``, the unmodified python-openstackclient as a
  subprocess with an openrc-style environment.
* ``postgres`` starts PostgreSQL 15 (Debian's binaries) as the ``postgres`` OS user in a
  temporary directory on a random loopback port, and stops and removes it after the session.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from support.proc import VENV_BIN, vmqos_exe
from vmqos.api.app import create_app
from vmqos.api.settings import Settings
from vmqos.model import NeutronBackend, VifType
from vmqos.store.db import Database, sqlite_url
from vmqos.store.identity import ensure_admin

REPO = Path(__file__).resolve().parents[2]
OPENSTACK = VENV_BIN / "openstack"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
ADMIN_PASSWORD = "vmqos-test-admin"


@dataclass
class Cloud:
    """One running server and the users made on it."""

    url: str
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, user: str = "admin", password: str = ADMIN_PASSWORD,
              project: str = "admin") -> str:
        key = f"{user}@{project}"
        if key not in self.tokens:
            body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": {"name": "Default"}, "password": password}}},
                "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
            response = httpx.post(f"{self.url}/identity/v3/auth/tokens", json=body)
            assert response.status_code == 201, response.text
            self.tokens[key] = response.headers["X-Subject-Token"]
        return self.tokens[key]

    def client(self, user: str = "admin", password: str = ADMIN_PASSWORD,
               project: str = "admin", **headers: str) -> httpx.Client:
        token = self.token(user, password, project)
        return httpx.Client(base_url=self.url, headers={"X-Auth-Token": token, **headers},
                            timeout=30)

    def anonymous(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def make_user(self, name: str, project: str, role: str = "member",
                  password: str = "pw") -> None:
        """A project (created if new) and a user with ``role`` on it, through Keystone's API."""
        with self.client() as admin:
            found = admin.get("/identity/v3/projects", params={"name": project}).json()
            if found["projects"]:
                project_id = found["projects"][0]["id"]
            else:
                created = admin.post("/identity/v3/projects", json={"project": {
                    "name": project}})
                assert created.status_code == 201, created.text
                project_id = created.json()["project"]["id"]
            user = admin.post("/identity/v3/users", json={"user": {
                "name": name, "password": password, "default_project_id": project_id}})
            assert user.status_code == 201, user.text
            roles = {r["name"]: r["id"] for r in admin.get("/identity/v3/roles").json()["roles"]}
            granted = admin.put(f"/identity/v3/projects/{project_id}/users/"
                                f"{user.json()['user']['id']}/roles/{roles[role]}")
            assert granted.status_code == 204, granted.text

    def os_env(self, user: str = "admin", password: str = ADMIN_PASSWORD,
               project: str = "admin") -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update({"OS_AUTH_URL": f"{self.url}/identity/v3", "OS_USERNAME": user,
                    "OS_PASSWORD": password, "OS_PROJECT_NAME": project,
                    "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
                    "OS_REGION_NAME": "RegionOne", "OS_IDENTITY_API_VERSION": "3",
                    "COLUMNS": "400"})
        return env

    def openstack(self, *args: str, env: dict[str, str] | None = None,
                  check: bool = True) -> subprocess.CompletedProcess[str]:
        """The real ``openstack`` command, as a user runs it after sourcing an openrc."""
        done = subprocess.run([str(OPENSTACK), *args], capture_output=True, text=True,
                              env=env or self.os_env(), timeout=120, check=False)
        if check:
            assert done.returncode == 0, f"openstack {' '.join(args)}:\n{done.stderr}"
        return done


def nova_message(response: httpx.Response, status: int) -> str:
    """The message of a Nova fault of ``status`` (``nova/api/openstack/wsgi.py`` ``Fault``),
    asserting the status and the fault's key."""
    assert response.status_code == status, response.text
    kind = {400: "badRequest", 403: "forbidden", 404: "itemNotFound",
            409: "conflictingRequest"}[status]
    message: str = response.json()[kind]["message"]
    return message


def boot_sources(admin: httpx.Client, suffix: str) -> dict[str, str]:
    """What a test module's servers boot from: a public image with data and a shared network
    (named after ``suffix``), and ``project``, the admin's, whose instance quota is lifted: the
    modules make more servers than Nova's default 10, as an operator would allow
    (tests/api/test_quotas_api.py holds the limit)."""
    image = admin.post("/image/v2/images", json={"name": f"img-{suffix}", "disk_format": "raw",
                                                  "container_format": "bare",
                                                  "visibility": "public"}).json()["id"]
    assert admin.put(f"/image/v2/images/{image}/file", content=b"x" * 10,
                     headers={"Content-Type": "application/octet-stream"}).status_code == 204
    network = admin.post("/network/v2.0/networks", json={"network": {
        "name": f"net-{suffix}", "shared": True}}).json()["network"]["id"]
    project = admin.get("/identity/v3/auth/tokens", headers={
        "X-Subject-Token": admin.headers["X-Auth-Token"]}).json()["token"]["project"]["id"]
    assert admin.put(f"/compute/v2.1/os-quota-sets/{project}", json={"quota_set": {
        "instances": -1, "cores": -1, "ram": -1}}).status_code == 200
    return {"image": image, "network": network, "project": project}


def bootstrap_admin(database_url: str) -> None:
    db = Database(database_url)
    try:
        db.migrate()
        with db.write() as session:
            ensure_admin(session, user="admin", password=ADMIN_PASSWORD, project="admin")
    finally:
        db.dispose()


@dataclass
class RunningServer:
    cloud: Cloud
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_server(data_dir: Path, *, database_url: str | None = None, profile: str = "modern",
                 backend: str = "ovs", token_ttl: int = 3600) -> RunningServer:
    settings = Settings(database_url=database_url or sqlite_url(data_dir), data_dir=data_dir,
                        token_ttl=timedelta(seconds=token_ttl), profile=profile,
                        neutron_backend=NeutronBackend(backend), vif_type=VifType.OVS_BRIDGE)
    data_dir.mkdir(parents=True, exist_ok=True)
    bootstrap_admin(settings.database_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False,
                            lifespan="on", timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the API server did not start in 30 s"
        assert thread.is_alive(), "the API server thread died while starting"
        time.sleep(0.02)
    return RunningServer(Cloud(f"http://127.0.0.1:{port}", settings), server, thread)


@pytest.fixture
def new_server(tmp_path: Path) -> Iterator[Callable[..., Cloud]]:
    """Start servers (``new_server(profile=..., backend=...)``); all stopped after the test."""
    running: list[RunningServer] = []

    def start(**kwargs: Any) -> Cloud:
        server = start_server(tmp_path / f"data{len(running)}", **kwargs)
        running.append(server)
        return server.cloud

    try:
        yield start
    finally:
        for server in running:
            server.stop()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    """One SQLite-backed server for a whole test module."""
    server = start_server(tmp_path_factory.mktemp("api"))
    try:
        yield server.cloud
    finally:
        server.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Serve:
    """A ``vmqos serve`` process on a database; ``kill()`` and ``start()`` again."""

    data_dir: Path
    database_url: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def cloud(self) -> Cloud:
        return Cloud(f"http://127.0.0.1:{self.port}",
                     Settings(database_url=self.database_url, data_dir=self.data_dir))

    def start(self) -> None:
        log = (self.data_dir / "serve.log").open("ab")
        self.process = subprocess.Popen(
            [vmqos_exe(), "serve", "--port", str(self.port), "--data-dir", str(self.data_dir),
             "--db", self.database_url], stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, (self.data_dir / "serve.log").read_text()
            try:
                if httpx.get(f"{self.cloud.url}/identity/v3", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "vmqos serve did not answer in 60 s"
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass(frozen=True)
class Postgres:
    """A running throwaway cluster; ``database()`` creates a new empty database in it."""

    port: int
    socket_dir: Path

    @property
    def _ctl(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D",
                str(self.socket_dir / "data"), "-w"]

    def stop(self) -> None:
        """Stop the cluster as an operator restarting it would (``-m fast``: connections cut)."""
        subprocess.run([*self._ctl, "-m", "fast", "stop"], check=True, capture_output=True,
                       timeout=60)

    def start(self) -> None:
        subprocess.run([*self._ctl, "-l", str(self.socket_dir / "log"), "-o", _pg_options(
            self.port, self.socket_dir), "start"], check=True, capture_output=True, timeout=60)

    def database(self) -> str:
        name = f"vmqos_{uuid.uuid4().hex[:12]}"
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "createdb"), "-h",
                        "127.0.0.1", "-p", str(self.port), name], check=True,
                       capture_output=True, timeout=60)
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


def _pg_options(port: int, socket_dir: Path) -> str:
    return (f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=300")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL 15 cluster on 127.0.0.1 (random port), removed afterwards."""
    if not (PG_BIN / "initdb").exists():  # a missing install step must fail, not skip
        pytest.fail(f"PostgreSQL 15 is not installed ({PG_BIN}): apt-get install postgresql")
    owner = pwd.getpwnam("postgres")
    root = Path(tempfile.mkdtemp(prefix="vmqos-pg-"))
    os.chown(root, owner.pw_uid, owner.pw_gid)
    data = root / "data"
    port = free_port()

    def as_postgres(*argv: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True,
                       capture_output=True, timeout=120)

    started = False
    try:
        as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                    "--no-sync")
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w",
                    "-o", _pg_options(port, root), "start")
        started = True
        yield Postgres(port, root)
    finally:
        if started:
            subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D",
                            str(data), "-m", "fast", "-w", "stop"], capture_output=True,
                           timeout=60, check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.root)])
def serve(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Serve]:
    """A ``vmqos serve`` process on SQLite, and on PostgreSQL (root: it runs the cluster)."""
    if request.param == "postgresql":
        postgres: Postgres = request.getfixturevalue("postgres")
        url = postgres.database()
    else:
        url = sqlite_url(tmp_path)
    bootstrap_admin(url)
    process = Serve(tmp_path, url)
    process.start()
    try:
        yield process
    finally:
        process.stop()
