"""Parallel clients on SQLite and on PostgreSQL: nothing lost, nothing duplicated.

200 creates from 16 client threads (each its own HTTP connection) per kind of object, then
the listing must hold exactly the 200, with distinct ids (and for servers distinct
``instance-%08x`` names, port MACs and IP addresses). Racing creates that must not both
succeed — the same flavor name, the same rule type and direction in one policy, the same
VLAN, the same project's access to a flavor — must leave exactly one winner, every loser
answered 409 in the service's shape.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from .conftest import Cloud, Postgres, RunningServer, start_server

THREADS = 16
COUNT = 200
MV = {"OpenStack-API-Version": "compute 2.96"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.root)],
                scope="module")
def cloud_db(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    url = None
    if request.param == "postgresql":
        postgres: Postgres = request.getfixturevalue("postgres")
        url = postgres.database()
    server: RunningServer = start_server(tmp_path_factory.mktemp(request.param),
                                         database_url=url)
    try:
        yield server.cloud
    finally:
        server.stop()


def _in_parallel(cloud: Cloud, count: int,
                 send: Callable[[httpx.Client, int], httpx.Response]) -> list[httpx.Response]:
    clients = [cloud.client(**MV) for _ in range(THREADS)]
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            return list(pool.map(lambda i: send(clients[i % THREADS], i), range(count)))
    finally:
        for client in clients:
            client.close()


def test_200_flavor_creates(cloud_db: Cloud) -> None:
    responses = _in_parallel(cloud_db, COUNT, lambda c, i: c.post("/compute/v2.1/flavors", json={
        "flavor": {"name": f"par-{i}", "ram": 1, "vcpus": 1, "disk": 1}}))
    assert Counter(r.status_code for r in responses) == {200: COUNT}
    with cloud_db.client(**MV) as admin:
        listed = [f for f in admin.get("/compute/v2.1/flavors/detail").json()["flavors"]
                  if f["name"].startswith("par-")]
    assert sorted(f["name"] for f in listed) == sorted(f"par-{i}" for i in range(COUNT))
    assert len({f["id"] for f in listed}) == COUNT
    assert {r.json()["flavor"]["id"] for r in responses} == {f["id"] for f in listed}


def test_200_server_creates(cloud_db: Cloud) -> None:
    with cloud_db.client(**MV) as admin:
        image = admin.post("/image/v2/images", json={"name": "img"}).json()["id"]
        admin.put(f"/image/v2/images/{image}/file", content=b"x",
                  headers={"Content-Type": "application/octet-stream"})
        network = admin.post("/network/v2.0/networks", json={"network": {"name": "n"}}
                             ).json()["network"]["id"]
        assert admin.post("/network/v2.0/subnets", json={"subnet": {
            "network_id": network, "cidr": "10.0.0.0/23", "ip_version": 4}}).status_code == 201
        flavor = admin.post("/compute/v2.1/flavors", json={"flavor": {
            "name": "srv", "ram": 1, "vcpus": 1, "disk": 1}}).json()["flavor"]["id"]
        # 200 servers are past Nova's default quota (10 instances, 20 cores): lift it, as an
        # operator would.
        project = admin.get("/identity/v3/auth/tokens", headers={
            "X-Subject-Token": cloud_db.token()}).json()["token"]["project"]["id"]
        assert admin.put(f"/compute/v2.1/os-quota-sets/{project}", json={"quota_set": {
            "instances": -1, "cores": -1, "ram": -1}}).status_code == 200

    def create(client: httpx.Client, i: int) -> httpx.Response:
        return client.post("/compute/v2.1/servers", json={"server": {
            "name": f"s{i}", "imageRef": image, "flavorRef": flavor,
            "networks": [{"uuid": network}]}})

    responses = _in_parallel(cloud_db, COUNT, create)
    assert Counter(r.status_code for r in responses) == {202: COUNT}
    with cloud_db.client(**MV) as admin:
        servers = admin.get("/compute/v2.1/servers/detail").json()["servers"]
        ports = admin.get("/network/v2.0/ports", params={"network_id": network}).json()["ports"]
    assert sorted(s["name"] for s in servers) == sorted(f"s{i}" for i in range(COUNT))
    assert {s["status"] for s in servers} == {"ACTIVE"}
    assert len({s["id"] for s in servers}) == COUNT
    assert len({s["OS-EXT-SRV-ATTR:instance_name"] for s in servers}) == COUNT
    assert len(ports) == COUNT and len({p["mac_address"] for p in ports}) == COUNT
    addresses = [ip["ip_address"] for p in ports for ip in p["fixed_ips"]]
    assert len(addresses) == len(set(addresses)) == COUNT
    assert {p["device_id"] for p in ports} == {s["id"] for s in servers}


def _one_winner(responses: list[httpx.Response], loser: int = 409) -> list[Any]:
    codes = Counter(r.status_code for r in responses)
    winners = [r for r in responses if r.status_code < 300]
    assert len(winners) == 1 and codes[loser] == len(responses) - 1, codes
    return [r.json() for r in responses if r.status_code == loser]


def test_racing_creates_have_one_winner(cloud_db: Cloud) -> None:
    errors = _one_winner(_in_parallel(cloud_db, 32, lambda c, i: c.post(
        "/compute/v2.1/flavors", json={"flavor": {"name": "same", "ram": 1, "vcpus": 1,
                                                  "disk": 1}})))
    assert all(e == {"conflictingRequest": {
        "code": 409, "message": "Flavor with name same already exists."}} for e in errors)

    with cloud_db.client() as admin:
        policy = admin.post("/network/v2.0/qos/policies", json={"policy": {"name": "race"}}
                            ).json()["policy"]["id"]
    errors = _one_winner(_in_parallel(cloud_db, 32, lambda c, i: c.post(
        f"/network/v2.0/qos/policies/{policy}/bandwidth_limit_rules",
        json={"bandwidth_limit_rule": {"max_kbps": 1000 + i}})))
    assert {e["NeutronError"]["type"] for e in errors} == {"QoSRulesConflict"}

    errors = _one_winner(_in_parallel(cloud_db, 32, lambda c, i: c.post(
        "/network/v2.0/networks", json={"network": {
            "name": f"v{i}", "provider:network_type": "vlan",
            "provider:physical_network": "phys", "provider:segmentation_id": 100}})))
    assert {e["NeutronError"]["type"] for e in errors} == {"VlanIdInUse"}

    with cloud_db.client(**MV) as admin:
        flavor = admin.post("/compute/v2.1/flavors", json={"flavor": {
            "name": "race-private", "ram": 1, "vcpus": 1, "disk": 1,
            "os-flavor-access:is_public": False}}).json()["flavor"]["id"]
        project = admin.get("/identity/v3/auth/tokens", headers={
            "X-Subject-Token": cloud_db.token()}).json()["token"]["project"]["id"]
    errors = _one_winner(_in_parallel(cloud_db, 32, lambda c, i: c.post(
        f"/compute/v2.1/flavors/{flavor}/action",
        json={"addTenantAccess": {"tenant": project}})))
    messages = {e["conflictingRequest"]["message"] for e in errors}
    assert len(messages) == 1
    assert re.fullmatch(rf"Flavor access already exists for flavor \d+ and project {project} "
                        r"combination\.", messages.pop())


def test_racing_rules_and_the_last_free_quota_unit(cloud_db: Cloud) -> None:
    """The same security group rule 32 times at once: one rule, 31 Neutron 409s naming it.
    32 networks at once with 5 left in the project's quota: exactly 5 are made."""
    with cloud_db.client() as admin:
        group = admin.post("/network/v2.0/security-groups", json={"security_group": {
            "name": "race"}}).json()["security_group"]["id"]
    responses = _in_parallel(cloud_db, 32, lambda c, i: c.post(
        "/network/v2.0/security-group-rules", json={"security_group_rule": {
            "security_group_id": group, "direction": "ingress", "protocol": "tcp",
            "port_range_min": 8080, "port_range_max": 8080}}))
    winner = next(r for r in responses if r.status_code == 201).json()["security_group_rule"]
    errors = _one_winner(responses)
    assert {e["NeutronError"]["message"] for e in errors} == {
        f"Security group rule already exists. Rule id is {winner['id']}."}

    with cloud_db.client() as admin:
        project = admin.get("/identity/v3/auth/tokens", headers={
            "X-Subject-Token": cloud_db.token()}).json()["token"]["project"]["id"]
        used = len([n for n in admin.get("/network/v2.0/networks").json()["networks"]
                    if n["project_id"] == project])
        assert admin.put(f"/network/v2.0/quotas/{project}", json={"quota": {
            "network": used + 5}}).status_code == 200
    responses = _in_parallel(cloud_db, 32, lambda c, i: c.post(
        "/network/v2.0/networks", json={"network": {"name": f"q{i}"}}))
    assert Counter(r.status_code for r in responses) == {201: 5, 409: 27}
    assert {r.json()["NeutronError"]["type"] for r in responses if r.status_code == 409} == {
        "OverQuota"}
    with cloud_db.client() as admin:
        admin.put(f"/network/v2.0/quotas/{project}", json={"quota": {"network": -1}})


def test_parallel_creates_cannot_both_take_the_last_bandwidth(cloud_db: Cloud) -> None:
    # One host, 3 Gbit/s on its bridge, 1 Gbit/s per port: of 12 creates racing, exactly
    # three land; the host rows' lock makes the usage each create reads the one it adds to.
    from .test_hosts_scheduling_api import _register, _world  # noqa: PLC0415 (shared setup)
    with cloud_db.client(**MV) as admin:
        project = admin.get("/identity/v3/auth/tokens", headers={
            "X-Subject-Token": cloud_db.token()}).json()["token"]["project"]["id"]
        assert admin.put(f"/compute/v2.1/os-quota-sets/{project}", json={"quota_set": {
            "instances": -1, "cores": -1, "ram": -1}}).status_code == 200
        _register(admin, "race-host")
        world = _world(admin, suffix="race")
        ports = [admin.post("/network/v2.0/ports", json={"port": {
            "network_id": world["network"], "qos_policy_id": world["policy"]}}).json()[
            "port"]["id"] for _ in range(12)]

    def boot(client: httpx.Client, i: int) -> httpx.Response:
        return client.post("/compute/v2.1/servers", json={"server": {
            "name": f"race-{i}", "flavorRef": world["flavor"], "imageRef": world["image"],
            "networks": [{"port": ports[i]}]}})

    responses = _in_parallel(cloud_db, 12, boot)
    assert Counter(r.status_code for r in responses) == {202: 12}
    with cloud_db.client(**MV) as admin:
        statuses = Counter(admin.get(f"/compute/v2.1/servers/{r.json()['server']['id']}")
                           .json()["server"]["status"] for r in responses)
        shown = admin.get("/compute/v2.1/vmqos-hosts/race-host").json()["host"]
    assert statuses == {"ACTIVE": 3, "ERROR": 9}
    bridge = {p["name"]: p for p in shown["resource_providers"]}[
        "race-host:Open vSwitch agent:br-phys"]
    assert bridge["inventory"]["NET_BW_EGR_KILOBIT_PER_SEC"] == {"total": 3_000_000,
                                                                 "used": 3_000_000}
