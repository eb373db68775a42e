"""Nothing lost when ``vmqos serve`` is killed, and a database restart is survived.

Kill: 50 client threads create flavors and set their extra specs, QoS policies and add a
rule, networks and add a port, and servers (each with a port) against a real ``vmqos serve``
process; once the load runs, the process gets SIGKILL. After a restart on the same database
every write that was answered 2xx is there, whole, and nothing is half there: every server is
ACTIVE with exactly its one port, every port's network exists, every listing answers 200 —
also for what was written but never acknowledged (a commit may land just before the kill).
On SQLite (WAL, ``synchronous=NORMAL``: a process crash loses nothing, only a power cut may
lose the last transactions) and on PostgreSQL.

Database restart (PostgreSQL): while the database is down, requests fail cleanly — 503 in the
service's own error shape, never a 500 — and once it is back they succeed without restarting
vmqos (the pool checks each connection before use).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from .conftest import Cloud, Postgres, Serve, bootstrap_admin, start_server

MV = {"OpenStack-API-Version": "compute 2.96"}
CLIENTS = 50
ACKED_BEFORE_KILL = 300     # acknowledged writes before the kill, so that it lands mid-load
LOAD_DEADLINE = 120.0       # seconds: a load that cannot reach that many is a failure


@dataclass
class Acked:
    """What the load was told it wrote (2xx), by kind."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    flavors: dict[str, str] = field(default_factory=dict)              # id -> name
    specs: dict[str, dict[str, str]] = field(default_factory=dict)     # flavor id -> specs
    policies: set[str] = field(default_factory=set)
    rules: dict[str, tuple[str, int]] = field(default_factory=dict)    # id -> (policy, kbps)
    networks: set[str] = field(default_factory=set)
    ports: dict[str, str] = field(default_factory=dict)                # id -> network
    servers: set[str] = field(default_factory=set)

    def count(self) -> int:
        return (len(self.flavors) + len(self.specs) + len(self.policies) + len(self.rules)
                + len(self.networks) + len(self.ports) + len(self.servers))


def _shared_setup(cloud: Cloud) -> tuple[str, str, str]:
    """An image with data, a flavor and a network with a /16 for the servers."""
    with cloud.client(**MV) as admin:
        image = admin.post("/image/v2/images", json={"name": "img", "disk_format": "raw",
                                                     "container_format": "bare"}).json()["id"]
        assert admin.put(f"/image/v2/images/{image}/file", content=b"x", headers={
            "Content-Type": "application/octet-stream"}).status_code == 204
        network = admin.post("/network/v2.0/networks", json={"network": {"name": "shared"}}
                             ).json()["network"]["id"]
        assert admin.post("/network/v2.0/subnets", json={"subnet": {
            "network_id": network, "cidr": "10.8.0.0/16", "ip_version": 4}}).status_code == 201
        flavor = admin.post("/compute/v2.1/flavors", json={"flavor": {
            "name": "srv", "ram": 1, "vcpus": 1, "disk": 1}}).json()["flavor"]["id"]
    return image, flavor, network


def _load(cloud: Cloud, acked: Acked, stop: threading.Event, worker: int,
          shared: tuple[str, str, str]) -> None:
    """One client: the four create chains, round and round, until told to stop or the server
    is gone. Every 2xx is recorded before the next request."""
    image, server_flavor, shared_network = shared
    client = cloud.client(**MV)
    i = 0
    try:
        while not stop.is_set():
            i += 1
            tag = f"w{worker}-{i}"
            flavor = client.post("/compute/v2.1/flavors", json={"flavor": {
                "name": f"f-{tag}", "ram": 512, "vcpus": 1, "disk": 1}})
            if flavor.status_code == 200:
                flavor_id = flavor.json()["flavor"]["id"]
                with acked.lock:
                    acked.flavors[flavor_id] = f"f-{tag}"
                specs = {"quota:cpu_shares": str(100 + i), "quota:vif_inbound_average": "1024"}
                if client.post(f"/compute/v2.1/flavors/{flavor_id}/os-extra_specs",
                               json={"extra_specs": specs}).status_code == 200:
                    with acked.lock:
                        acked.specs[flavor_id] = specs
            policy = client.post("/network/v2.0/qos/policies", json={"policy": {
                "name": f"p-{tag}"}})
            if policy.status_code == 201:
                policy_id = policy.json()["policy"]["id"]
                with acked.lock:
                    acked.policies.add(policy_id)
                rule = client.post(f"/network/v2.0/qos/policies/{policy_id}/"
                                   "bandwidth_limit_rules",
                                   json={"bandwidth_limit_rule": {"max_kbps": 1000 + i}})
                if rule.status_code == 201:
                    with acked.lock:
                        acked.rules[rule.json()["bandwidth_limit_rule"]["id"]] = (
                            policy_id, 1000 + i)
            network = client.post("/network/v2.0/networks", json={"network": {
                "name": f"n-{tag}"}})
            if network.status_code == 201:
                network_id = network.json()["network"]["id"]
                with acked.lock:
                    acked.networks.add(network_id)
                port = client.post("/network/v2.0/ports", json={"port": {
                    "network_id": network_id, "name": f"port-{tag}"}})
                if port.status_code == 201:
                    with acked.lock:
                        acked.ports[port.json()["port"]["id"]] = network_id
            server = client.post("/compute/v2.1/servers", json={"server": {
                "name": f"s-{tag}", "imageRef": image, "flavorRef": server_flavor,
                "networks": [{"uuid": shared_network}]}})
            if server.status_code == 202:
                with acked.lock:
                    acked.servers.add(server.json()["server"]["id"])
    except httpx.TransportError:
        return  # the server was killed under this client
    finally:
        client.close()


def _run_load_then(cloud: Cloud, acked: Acked, shared: tuple[str, str, str],
                   event: Callable[[], None]) -> None:
    stop = threading.Event()
    workers = [threading.Thread(target=_load, args=(cloud, acked, stop, n, shared), daemon=True)
               for n in range(CLIENTS)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + LOAD_DEADLINE
    while acked.count() < ACKED_BEFORE_KILL:
        assert time.monotonic() < deadline, f"only {acked.count()} writes acknowledged"
        time.sleep(0.05)
    event()
    stop.set()
    for worker in workers:
        worker.join(timeout=60)
        assert not worker.is_alive(), "a client hung"


def _get(client: httpx.Client, path: str, **params: str) -> dict[str, object]:
    response = client.get(path, params=params)
    assert response.status_code == 200, (path, response.status_code, response.text)
    body: dict[str, object] = response.json()
    return body


def test_sigkill_under_load_loses_no_acknowledged_write_and_leaves_none_half(
        serve: Serve) -> None:
    cloud = serve.cloud
    shared = _shared_setup(cloud)
    acked = Acked()
    _run_load_then(cloud, acked, shared, serve.kill)
    serve.start()

    with serve.cloud.client(**MV) as admin:
        flavors = {f["id"]: f for f in _get(admin, "/compute/v2.1/flavors/detail")["flavors"]}
        policies = {p["id"]: p for p in _get(admin, "/network/v2.0/qos/policies")["policies"]}
        networks = {n["id"] for n in _get(admin, "/network/v2.0/networks")["networks"]}
        ports = _get(admin, "/network/v2.0/ports")["ports"]
        servers = _get(admin, "/compute/v2.1/servers/detail", all_tenants="1")["servers"]

        # Every acknowledged write is there, whole.
        for flavor_id, name in acked.flavors.items():
            assert flavors[flavor_id]["name"] == name
        for flavor_id, specs in acked.specs.items():
            stored = _get(admin, f"/compute/v2.1/flavors/{flavor_id}/os-extra_specs")
            assert stored["extra_specs"] == specs
        assert acked.policies <= set(policies)
        for rule_id, (policy_id, kbps) in acked.rules.items():
            rules = {r["id"]: r for r in policies[policy_id]["rules"]}
            assert rules[rule_id]["max_kbps"] == kbps
        assert acked.networks <= networks
        port_network = {p["id"]: p["network_id"] for p in ports}
        for port_id, network_id in acked.ports.items():
            assert port_network[port_id] == network_id
        assert acked.servers <= {s["id"] for s in servers}

        # Nothing is half there, acknowledged or not.
        assert set(port_network.values()) <= networks
        by_device: dict[str, list[str]] = {}
        for port in ports:
            by_device.setdefault(port["device_id"], []).append(port["network_id"])
        for server in servers:
            assert server["status"] == "ACTIVE", server
            assert by_device.get(server["id"]) == [shared[2]], server["id"]
            _get(admin, f"/compute/v2.1/servers/{server['id']}/vmqos-plan")
        for path in ("/compute/v2.1/flavors", "/compute/v2.1/servers", "/image/v2/images",
                     "/network/v2.0/subnets", "/network/v2.0/security-groups"):
            _get(admin, path)
    assert acked.count() >= ACKED_BEFORE_KILL


@pytest.mark.root
def test_a_database_restart_answers_503_then_recovers(
        postgres: Postgres, tmp_path: Path) -> None:
    url = postgres.database()
    bootstrap_admin(url)
    server = start_server(tmp_path, database_url=url)
    try:
        cloud = server.cloud
        with cloud.client(**MV) as admin:
            assert admin.get("/compute/v2.1/flavors").status_code == 200
            postgres.stop()
            try:
                down = [admin.get("/compute/v2.1/flavors"),
                        admin.post("/network/v2.0/qos/policies",
                                   json={"policy": {"name": "while-down"}}),
                        admin.get("/network/v2.0/networks")]
            finally:
                postgres.start()
            assert [r.status_code for r in down] == [503, 503, 503]
            message = "The database is unavailable; retry the request."
            assert down[0].json() == {"serviceUnavailable": {"code": 503, "message": message}}
            assert down[1].json() == {"NeutronError": {
                "type": "HTTPServiceUnavailable", "message": message, "detail": ""}}
            # Back, without a restart of vmqos: the pool replaces its dead connections.
            assert admin.get("/compute/v2.1/flavors").status_code == 200
            created = admin.post("/network/v2.0/qos/policies",
                                 json={"policy": {"name": "after"}})
            assert created.status_code == 201, created.text
            names = {p["name"] for p in admin.get("/network/v2.0/qos/policies").json()[
                "policies"]}
            assert "while-down" not in names and "after" in names
    finally:
        server.stop()
