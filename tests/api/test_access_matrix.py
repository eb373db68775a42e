"""Every route × every kind of caller: admin, a member of the owning project, a member of
another project, and no token — the status each must get (upstream default policies).

The table must cover every route the application serves: ``test_every_route_is_in_the_matrix``
fails when a route is added without its row. Objects a row changes or deletes are made fresh
for that request, so the rows are independent. Expected codes: 401 without a token (except
discovery, the token request itself and the OpenAPI document); 403 where the policy refuses a
visible object or an admin-only action; 404 for another project's private objects, which
Nova, Neutron and Glance never admit exist; never a 5xx.
"""

from __future__ import annotations

import itertools
import string
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from vmqos.api.app import ROUTERS

from .conftest import ADMIN_PASSWORD, Cloud

CALLERS = ("admin", "member", "other", "anonymous")
# A host no row's servers can fill: registering it must not send a later server to ERROR.
BIG_HOST = {"vcpus": 1_000_000, "memory_mb": 1_000_000_000, "disk_gb": 1_000_000}
_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHgbVTA/TUMS8s8gRLu4cmRBZfzUhg4N7WFjfhReru9U "
        "t@h")
_MV = {"OpenStack-API-Version": "compute 2.96"}


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class World:
    """The objects the rows refer to: project A (member ``alice``) owns most of them."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self._hosts = 0
        self._image: str | None = None
        self._last_policy = ""
        self._cidrs = 0
        cloud.make_user("alice", "project-a")
        cloud.make_user("bob", "project-b")
        self.admin = cloud.client(**_MV)
        self.alice = cloud.client("alice", "pw", "project-a", **_MV)
        self.bob = cloud.client("bob", "pw", "project-b", **_MV)
        self.clients = {"admin": self.admin, "member": self.alice, "other": self.bob,
                        "anonymous": cloud.anonymous()}
        self.project_a = self.alice.get("/identity/v3/auth/tokens", headers={
            "X-Subject-Token": cloud.token("alice", "pw", "project-a")}).json()[
            "token"]["project"]["id"]
        self.alice_id = self.alice.get("/identity/v3/auth/tokens", headers={
            "X-Subject-Token": cloud.token("alice", "pw", "project-a")}).json()[
            "token"]["user"]["id"]
        # Each server row makes a server of its own in project A: more than Nova's default 10
        # instances. Lift the quota, as an operator would (the quota tests hold the limit).
        assert self.admin.put(f"/compute/v2.1/os-quota-sets/{self.project_a}", json={
            "quota_set": {"instances": -1, "cores": -1, "ram": -1}}).status_code == 200
        self.flavor = self.new_flavor()
        self.private_flavor = self.new_flavor(**{"os-flavor-access:is_public": False})
        self.admin.post(f"/compute/v2.1/flavors/{self.flavor}/os-extra_specs",
                        json={"extra_specs": {"quota:cpu_shares": "512"}})
        self.public_image = self.new_image(self.admin, visibility="public")
        self.image_a = self.new_image(self.alice)
        self.network_a = self.new_network()
        self.network_b = self.bob.post("/network/v2.0/networks", json={"network": {
            "name": "nb"}}).json()["network"]["id"]
        self.subnet_a = self.new_subnet()
        self.port_a = self.new_port()
        self.sg_a = self.new_sg()
        self.sg_rule_a = self.new_sg_rule()
        self.policy_a = self.new_policy()
        self.rule_a = self.new_rule(self.policy_a)
        self.server_a = self.new_server()
        for name, client in (("admin", self.admin), ("member", self.alice),
                             ("other", self.bob)):
            assert client.post("/compute/v2.1/os-keypairs", json={"keypair": {
                "name": "k", "public_key": _KEY}}).status_code == 201, name

    def close(self) -> None:
        for client in self.clients.values():
            client.close()

    def new_host(self, agents: list[dict[str, Any]] | None = None) -> str:
        self._hosts += 1
        name = f"matrix-host-{self._hosts}"
        assert self.admin.put(f"/compute/v2.1/vmqos-hosts/{name}", json={"host": {
            **BIG_HOST, "agents": agents or []}}).status_code == 200
        return name

    def agent(self) -> str:
        name = self.new_host(agents=[{"agent_type": "Open vSwitch agent",
                                      "bridge_mappings": {"physnet1": "br-phys"}}])
        agents = self.admin.get("/network/v2.0/agents", params={"host": name}).json()
        return str(agents["agents"][0]["id"])

    def hypervisor(self) -> str:
        hypervisors = self.admin.get("/compute/v2.1/os-hypervisors").json()["hypervisors"]
        return str(hypervisors[0]["id"])

    def new_flavor(self, **extra: Any) -> str:
        response = self.admin.post("/compute/v2.1/flavors", json={"flavor": {
            "name": _unique("f"), "ram": 1, "vcpus": 1, "disk": 1, **extra}})
        assert response.status_code == 200, response.text
        flavor: str = response.json()["flavor"]["id"]
        return flavor

    def new_private_flavor(self) -> str:
        return self.new_flavor(**{"os-flavor-access:is_public": False})

    def new_image(self, client: httpx.Client, **extra: Any) -> str:
        created = client.post("/image/v2/images", json={"name": _unique("i"),
                                                         "disk_format": "raw",
                                                         "container_format": "bare", **extra})
        assert created.status_code == 201, created.text
        image_id: str = created.json()["id"]
        return image_id

    def new_active_image(self) -> str:
        image_id = self.new_image(self.admin, visibility="public")
        self.admin.put(f"/image/v2/images/{image_id}/file", content=b"x",
                       headers={"Content-Type": "application/octet-stream"})
        return image_id

    def new_network(self) -> str:
        network: str = self.alice.post("/network/v2.0/networks", json={"network": {
            "name": _unique("n")}}).json()["network"]["id"]
        return network

    def new_subnet(self) -> str:
        self._cidrs += 1
        network = self.new_network() if self._cidrs > 1 else self.network_a
        subnet: str = self.alice.post("/network/v2.0/subnets", json={"subnet": {
            "network_id": network, "cidr": f"10.{self._cidrs}.0.0/24", "ip_version": 4}}
        ).json()["subnet"]["id"]
        return subnet

    def new_port(self) -> str:
        port: str = self.alice.post("/network/v2.0/ports", json={"port": {
            "network_id": self.network_a}}).json()["port"]["id"]
        return port

    def new_sg(self) -> str:
        sg: str = self.alice.post("/network/v2.0/security-groups", json={"security_group": {
            "name": _unique("sg")}}).json()["security_group"]["id"]
        return sg

    def new_sg_rule(self) -> str:
        response = self.alice.post("/network/v2.0/security-group-rules", json={
            "security_group_rule": sg_rule_body(self.sg_a)})
        assert response.status_code == 201, response.text
        rule: str = response.json()["security_group_rule"]["id"]
        return rule

    def new_project(self) -> str:
        response = self.admin.post("/identity/v3/projects", json={"project": {
            "name": _unique("p")}})
        assert response.status_code == 201, response.text
        project: str = response.json()["project"]["id"]
        return project

    def new_user(self) -> str:
        response = self.admin.post("/identity/v3/users", json={"user": {
            "name": _unique("u"), "password": "x"}})
        assert response.status_code == 201, response.text
        user: str = response.json()["user"]["id"]
        return user

    def new_network_quota(self) -> str:
        """A project (Neutron does not ask Keystone) with a network limit set."""
        project = uuid.uuid4().hex
        assert self.admin.put(f"/network/v2.0/quotas/{project}", json={"quota": {
            "network": 5}}).status_code == 200
        return project

    def new_policy(self) -> str:
        policy: str = self.admin.post("/network/v2.0/qos/policies", json={"policy": {
            "name": _unique("p"), "project_id": self.project_a}}).json()["policy"]["id"]
        return policy

    def new_rule(self, policy: str) -> str:
        rule: str = self.admin.post(
            f"/network/v2.0/qos/policies/{policy}/bandwidth_limit_rules",
            json={"bandwidth_limit_rule": {"max_kbps": 1000}}).json()[
            "bandwidth_limit_rule"]["id"]
        return rule

    def public_image_active(self) -> str:
        if self._image is None:
            self._image = self.new_active_image()
        return self._image

    def new_server(self, **extra: Any) -> str:
        response = self.alice.post("/compute/v2.1/servers", json={"server": {
            "name": _unique("s"), "imageRef": self.public_image_active(), "flavorRef": self.flavor,
            "networks": [{"uuid": self.network_a}], **extra}})
        assert response.status_code == 202, response.text
        server: str = response.json()["server"]["id"]
        return server

    def new_aggregate(self) -> str:
        response = self.admin.post("/compute/v2.1/os-aggregates", json={"aggregate": {
            "name": _unique("a")}})
        assert response.status_code == 200, response.text
        return str(response.json()["aggregate"]["id"])

    def fresh_token(self, caller: str) -> str:
        users = {"admin": ("admin", ADMIN_PASSWORD, "admin"),
                 "member": ("alice", "pw", "project-a"), "other": ("bob", "pw", "project-b")}
        user, password, project = users.get(caller, users["admin"])
        response = httpx.post(f"{self.cloud.url}/identity/v3/auth/tokens", json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": {"name": "Default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}})
        token: str = response.headers["X-Subject-Token"]
        return token


Maker = Callable[[World, str], Any]


@dataclass(frozen=True)
class Row:
    method: str
    route: str                          # the route's path template, as the app declares it
    expect: tuple[int, int, int, int]   # admin, member, other project, anonymous
    url: Maker | None = None            # the concrete path (default: the route itself)
    body: Maker | None = None
    headers: Maker | None = None
    content: bytes | None = None


def _u(template: str) -> Maker:
    """A path filled from the world: ``{flavor}``, ``{network_a}`` ... ; ``{new_x}`` calls
    ``world.new_x()`` for a fresh object."""
    def make(world: World, _caller: str) -> str:
        values: dict[str, str] = {}
        for name in _names(template):
            values[name] = (getattr(world, name)() if name.startswith("new_")
                            else getattr(world, name))
        return template.format(**values)
    return make


def _names(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def _body(value: Any) -> Maker:
    def make(_world: World, _caller: str) -> Any:
        if callable(value):
            return value()
        return value
    return make


OK3 = (200, 200, 200, 401)
OPEN = (200, 200, 200, 200)
ADMIN_ONLY = (200, 403, 403, 401)
OWNED = (200, 200, 404, 401)
ID = "/identity/v3"
NOVA = "/compute/v2.1"
NET = "/network/v2.0"
QOS = "/network/v2.0/qos"
RULE_URL = "/network/v2.0/qos/policies/{policy_a}/bandwidth_limit_rules"


def _server_body(world: World, caller: str) -> Any:
    network = world.network_b if caller == "other" else world.network_a
    return {"server": {"name": _unique("s"), "imageRef": world.public_image_active(),
                       "flavorRef": world.flavor, "networks": [{"uuid": network}]}}


def _extra_spec_to_delete(world: World) -> str:
    # Nova validates every namespace it knows at 2.96; this one takes any key and value.
    key = f"aggregate_instance_extra_specs:del{uuid.uuid4().hex[:4]}"
    created = world.admin.post(f"{NOVA}/flavors/{world.flavor}/os-extra_specs",
                               json={"extra_specs": {key: "1"}})
    assert created.status_code == 200, created.text
    return f"{NOVA}/flavors/{world.flavor}/os-extra_specs/{key}"


def _keypair_to_delete(world: World, caller: str) -> str:
    name = _unique("k")
    client = world.clients[caller] if caller != "anonymous" else world.admin
    client.post(f"{NOVA}/os-keypairs", json={"keypair": {"name": name, "public_key": _KEY}})
    return f"{NOVA}/os-keypairs/{name}"


_PORTS = itertools.count(1000)


def sg_rule_body(sg_id: str) -> dict[str, Any]:
    """A rule no other in the group equals (each asks for a port of its own)."""
    port = next(_PORTS)
    return {"security_group_id": sg_id, "direction": "ingress", "protocol": "tcp",
            "port_range_min": port, "port_range_max": port}


def _rule_url_prefix(world: World) -> str:
    return f"{QOS}/policies/{world._last_policy}/bandwidth_limit_rules"


def _rule_url(world: World) -> str:
    policy = world.new_policy()
    world._last_policy = policy
    return f"{QOS}/policies/{policy}/bandwidth_limit_rules/{world.new_rule(policy)}"


ROWS: tuple[Row, ...] = (
    # discovery and documents: no token needed
    Row("GET", "/", (300, 300, 300, 300)),
    Row("GET", "/identity", (300, 300, 300, 300)),
    Row("GET", f"{ID}", OPEN),
    Row("GET", "/compute", OPEN), Row("GET", f"{NOVA}", OPEN), Row("GET", f"{NOVA}/", OPEN),
    Row("GET", "/network", OPEN), Row("GET", "/network/", OPEN),
    Row("GET", f"{NET}", OPEN), Row("GET", f"{NET}/", OPEN),
    Row("GET", "/image", OPEN), Row("GET", "/image/", OPEN),
    Row("GET", "/openapi.json", OPEN), Row("GET", "/docs", OPEN), Row("GET", "/redoc", OPEN),
    Row("GET", "/docs/oauth2-redirect", OPEN),
    # identity
    Row("POST", f"{ID}/auth/tokens", (201, 201, 201, 401), body=lambda w, c: {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": {"admin": "admin", "member": "alice", "other": "bob"}.get(c, "nobody"),
            "domain": {"id": "default"},
            "password": ADMIN_PASSWORD if c == "admin" else "pw"}}}}}),
    Row("GET", f"{ID}/auth/tokens", OK3,
        headers=lambda w, c: {"X-Subject-Token": w.fresh_token(c)}),
    Row("DELETE", f"{ID}/auth/tokens", (204, 204, 204, 401),
        headers=lambda w, c: {"X-Subject-Token": w.fresh_token(c)}),
    Row("GET", f"{ID}/auth/catalog", OK3),
    Row("GET", f"{ID}/projects", ADMIN_ONLY),
    Row("POST", f"{ID}/projects", (201, 403, 403, 401),
        body=_body(lambda: {"project": {"name": _unique("p")}})),
    Row("GET", f"{ID}/projects/{{project_id}}", (200, 200, 403, 401),
        url=_u(f"{ID}/projects/{{project_a}}")),
    Row("GET", f"{ID}/users", ADMIN_ONLY),
    Row("POST", f"{ID}/users", (201, 403, 403, 401),
        body=_body(lambda: {"user": {"name": _unique("u"), "password": "x"}})),
    Row("GET", f"{ID}/users/{{user_id}}", (200, 200, 403, 401),
        url=_u(f"{ID}/users/{{alice_id}}")),
    Row("PATCH", f"{ID}/projects/{{project_id}}", (200, 403, 403, 401),
        url=_u(f"{ID}/projects/{{new_project}}"),
        body=_body({"project": {"description": "d"}})),
    Row("DELETE", f"{ID}/projects/{{project_id}}", (204, 403, 403, 401),
        url=_u(f"{ID}/projects/{{new_project}}")),
    Row("PATCH", f"{ID}/users/{{user_id}}", (200, 403, 403, 401),
        url=_u(f"{ID}/users/{{new_user}}"), body=_body({"user": {"email": "u@example.org"}})),
    Row("DELETE", f"{ID}/users/{{user_id}}", (204, 403, 403, 401),
        url=_u(f"{ID}/users/{{new_user}}")),
    Row("GET", f"{ID}/roles", ADMIN_ONLY),
    Row("PUT", f"{ID}/projects/{{project_id}}/users/{{user_id}}/roles/{{role_id}}",
        (204, 403, 403, 401), url=lambda w, c: f"{ID}/projects/{w.project_a}/users/"
                                             f"{w.alice_id}/roles/reader"),
    # flavors and extra specs
    Row("GET", f"{NOVA}/flavors", OK3), Row("GET", f"{NOVA}/flavors/detail", OK3),
    Row("POST", f"{NOVA}/flavors", ADMIN_ONLY, body=_body(lambda: {"flavor": {
        "name": _unique("f"), "ram": 1, "vcpus": 1, "disk": 1}})),
    Row("GET", f"{NOVA}/flavors/{{flavor_id}}", OK3, url=_u(f"{NOVA}/flavors/{{flavor}}")),
    Row("PUT", f"{NOVA}/flavors/{{flavor_id}}", ADMIN_ONLY, url=_u(f"{NOVA}/flavors/{{flavor}}"),
        body=_body({"flavor": {"description": "d"}})),
    Row("DELETE", f"{NOVA}/flavors/{{flavor_id}}", (202, 403, 403, 401),
        url=_u(f"{NOVA}/flavors/{{new_flavor}}")),
    # Nova 34's os_compute_api:os-flavor-access is ADMIN (nova/policies/flavor_access.py)
    Row("GET", f"{NOVA}/flavors/{{flavor_id}}/os-flavor-access", ADMIN_ONLY,
        url=_u(f"{NOVA}/flavors/{{private_flavor}}/os-flavor-access")),
    Row("POST", f"{NOVA}/flavors/{{flavor_id}}/action", ADMIN_ONLY,
        url=_u(f"{NOVA}/flavors/{{new_private_flavor}}/action"),
        body=lambda w, _c: {"addTenantAccess": {"tenant": w.project_a}}),
    Row("GET", f"{NOVA}/flavors/{{flavor_id}}/os-extra_specs", OK3,
        url=_u(f"{NOVA}/flavors/{{flavor}}/os-extra_specs")),
    Row("POST", f"{NOVA}/flavors/{{flavor_id}}/os-extra_specs", ADMIN_ONLY,
        url=_u(f"{NOVA}/flavors/{{flavor}}/os-extra_specs"),
        body=_body({"extra_specs": {"quota:cpu_period": "1000"}})),
    Row("GET", f"{NOVA}/flavors/{{flavor_id}}/os-extra_specs/{{key}}", OK3,
        url=_u(f"{NOVA}/flavors/{{flavor}}/os-extra_specs/quota:cpu_shares")),
    Row("PUT", f"{NOVA}/flavors/{{flavor_id}}/os-extra_specs/{{key}}", ADMIN_ONLY,
        url=_u(f"{NOVA}/flavors/{{flavor}}/os-extra_specs/quota:cpu_shares"),
        body=_body({"quota:cpu_shares": "512"})),
    Row("DELETE", f"{NOVA}/flavors/{{flavor_id}}/os-extra_specs/{{key}}", ADMIN_ONLY,
        url=lambda w, c: _extra_spec_to_delete(w)),
    # servers
    Row("GET", f"{NOVA}/servers", OK3), Row("GET", f"{NOVA}/servers/detail", OK3),
    Row("POST", f"{NOVA}/servers", (202, 202, 202, 401), body=_server_body),
    Row("GET", f"{NOVA}/servers/{{server_id}}", OWNED, url=_u(f"{NOVA}/servers/{{server_a}}")),
    Row("DELETE", f"{NOVA}/servers/{{server_id}}", (204, 204, 404, 401),
        url=_u(f"{NOVA}/servers/{{new_server}}")),
    Row("GET", f"{NOVA}/servers/{{server_id}}/os-interface", OWNED,
        url=_u(f"{NOVA}/servers/{{server_a}}/os-interface")),
    Row("GET", f"{NOVA}/servers/{{server_id}}/vmqos-plan", OWNED,
        url=_u(f"{NOVA}/servers/{{server_a}}/vmqos-plan")),
    Row("PUT", f"{NOVA}/servers/{{server_id}}", OWNED, url=_u(f"{NOVA}/servers/{{server_a}}"),
        body=_body({"server": {"description": "d"}})),
    Row("POST", f"{NOVA}/servers/{{server_id}}/action", (202, 202, 404, 401),
        url=_u(f"{NOVA}/servers/{{new_server}}/action"), body=_body({"os-stop": None})),
    Row("GET", f"{NOVA}/servers/{{server_id}}/metadata", OWNED,
        url=_u(f"{NOVA}/servers/{{server_a}}/metadata")),
    Row("POST", f"{NOVA}/servers/{{server_id}}/metadata", OWNED,
        url=_u(f"{NOVA}/servers/{{server_a}}/metadata"), body=_body({"metadata": {"k": "v"}})),
    Row("PUT", f"{NOVA}/servers/{{server_id}}/metadata", OWNED,
        url=_u(f"{NOVA}/servers/{{server_a}}/metadata"), body=_body({"metadata": {"k": "v"}})),
    Row("GET", f"{NOVA}/servers/{{server_id}}/metadata/{{key}}", OWNED,
        url=lambda w, c: f"{NOVA}/servers/{w.new_server(metadata={'k': 'v'})}/metadata/k"),
    Row("PUT", f"{NOVA}/servers/{{server_id}}/metadata/{{key}}", OWNED,
        url=_u(f"{NOVA}/servers/{{server_a}}/metadata/k"), body=_body({"meta": {"k": "v"}})),
    Row("DELETE", f"{NOVA}/servers/{{server_id}}/metadata/{{key}}", (204, 204, 404, 401),
        url=lambda w, c: f"{NOVA}/servers/{w.new_server(metadata={'k': 'v'})}/metadata/k"),
    # key pairs, zones, aggregates
    Row("GET", f"{NOVA}/os-keypairs", OK3),
    Row("POST", f"{NOVA}/os-keypairs", (201, 201, 201, 401),
        body=_body(lambda: {"keypair": {"name": _unique("k"), "public_key": _KEY}})),
    Row("GET", f"{NOVA}/os-keypairs/{{name}}", OK3, url=_u(f"{NOVA}/os-keypairs/k")),
    Row("DELETE", f"{NOVA}/os-keypairs/{{name}}", (204, 204, 204, 401),
        url=_keypair_to_delete),
    Row("GET", f"{NOVA}/os-availability-zone", OK3),
    Row("GET", f"{NOVA}/os-availability-zone/detail", ADMIN_ONLY),
    Row("GET", f"{NOVA}/os-aggregates", ADMIN_ONLY),
    Row("POST", f"{NOVA}/os-aggregates", ADMIN_ONLY,
        body=_body(lambda: {"aggregate": {"name": _unique("a"), "availability_zone": "z"}})),
    # compute hosts: Nova's hypervisor and service lists, vmqos's registration
    Row("GET", f"{NOVA}/os-hypervisors", ADMIN_ONLY),
    Row("GET", f"{NOVA}/os-hypervisors/detail", ADMIN_ONLY),
    Row("GET", f"{NOVA}/os-hypervisors/{{hypervisor_id}}", ADMIN_ONLY,
        url=lambda w, c: f"{NOVA}/os-hypervisors/{w.hypervisor()}"),
    Row("GET", f"{NOVA}/os-services", ADMIN_ONLY),
    # Neutron's agents: admin-only; others see an empty list and no agent (policy hides it)
    Row("GET", f"{NET}/agents", OK3),
    Row("GET", f"{NET}/agents/{{agent_id}}", (200, 404, 404, 401),
        url=lambda w, c: f"{NET}/agents/{w.agent()}"),
    Row("PUT", f"{NOVA}/vmqos-hosts/{{host_name}}", ADMIN_ONLY,
        url=_u(f"{NOVA}/vmqos-hosts/matrix-host"), body=_body({"host": BIG_HOST})),
    Row("GET", f"{NOVA}/vmqos-hosts/{{host_name}}", ADMIN_ONLY,
        url=lambda w, c: f"{NOVA}/vmqos-hosts/{w.new_host()}"),
    Row("DELETE", f"{NOVA}/vmqos-hosts/{{host_name}}", (204, 403, 403, 401),
        url=lambda w, c: f"{NOVA}/vmqos-hosts/{w.new_host()}"),
    # quotas and limits (project A's; Nova asks Keystone whether the project exists)
    Row("GET", f"{NOVA}/os-quota-sets/{{tenant_id}}", (200, 200, 403, 401),
        url=_u(f"{NOVA}/os-quota-sets/{{project_a}}")),
    Row("GET", f"{NOVA}/os-quota-sets/{{tenant_id}}/defaults", OK3,
        url=_u(f"{NOVA}/os-quota-sets/{{project_a}}/defaults")),
    Row("GET", f"{NOVA}/os-quota-sets/{{tenant_id}}/detail", (200, 200, 403, 401),
        url=_u(f"{NOVA}/os-quota-sets/{{project_a}}/detail")),
    Row("PUT", f"{NOVA}/os-quota-sets/{{tenant_id}}", ADMIN_ONLY,
        url=_u(f"{NOVA}/os-quota-sets/{{project_a}}"),
        body=_body({"quota_set": {"metadata_items": 128}})),
    Row("DELETE", f"{NOVA}/os-quota-sets/{{tenant_id}}", (202, 403, 403, 401),
        url=_u(f"{NOVA}/os-quota-sets/{{new_project}}")),
    Row("GET", f"{NOVA}/limits", OK3),
    Row("GET", f"{NET}/quotas", ADMIN_ONLY),
    Row("GET", f"{NET}/quotas/{{project_id}}", (200, 200, 403, 401),
        url=_u(f"{NET}/quotas/{{project_a}}")),
    Row("GET", f"{NET}/quotas/{{project_id}}/default", (200, 200, 403, 401),
        url=_u(f"{NET}/quotas/{{project_a}}/default")),
    Row("GET", f"{NET}/quotas/{{project_id}}/details", (200, 200, 403, 401),
        url=_u(f"{NET}/quotas/{{project_a}}/details")),
    Row("PUT", f"{NET}/quotas/{{project_id}}", ADMIN_ONLY, url=_u(f"{NET}/quotas/{{project_a}}"),
        body=_body({"quota": {"network": 100}})),
    Row("DELETE", f"{NET}/quotas/{{project_id}}", (204, 403, 403, 401),
        url=_u(f"{NET}/quotas/{{new_network_quota}}")),
    Row("GET", f"{NOVA}/os-aggregates/{{aggregate_id}}", ADMIN_ONLY,
        url=_u(f"{NOVA}/os-aggregates/{{new_aggregate}}")),
    Row("PUT", f"{NOVA}/os-aggregates/{{aggregate_id}}", ADMIN_ONLY,
        url=_u(f"{NOVA}/os-aggregates/{{new_aggregate}}"),
        body=_body(lambda: {"aggregate": {"name": _unique("renamed")}})),
    Row("POST", f"{NOVA}/os-aggregates/{{aggregate_id}}/action", ADMIN_ONLY,
        url=_u(f"{NOVA}/os-aggregates/{{new_aggregate}}/action"),
        body=_body({"set_metadata": {"metadata": {"k": "v"}}})),
    # networks, ports, security groups, extensions
    Row("GET", f"{NET}/networks", OK3),
    Row("POST", f"{NET}/networks", (201, 201, 201, 401), body=_body({"network": {"name": "x"}})),
    Row("GET", f"{NET}/networks/{{network_id}}", OWNED, url=_u(f"{NET}/networks/{{network_a}}")),
    Row("PUT", f"{NET}/networks/{{network_id}}", OWNED, url=_u(f"{NET}/networks/{{network_a}}"),
        body=_body({"network": {"description": "d"}})),
    Row("DELETE", f"{NET}/networks/{{network_id}}", (204, 204, 404, 401),
        url=_u(f"{NET}/networks/{{new_network}}")),
    Row("GET", f"{NET}/subnets", OK3),
    Row("POST", f"{NET}/subnets", (201, 201, 404, 401), body=lambda w, c: {"subnet": {
        "network_id": w.new_network(), "cidr": "192.168.0.0/24", "ip_version": 4}}),
    Row("GET", f"{NET}/subnets/{{subnet_id}}", OWNED, url=_u(f"{NET}/subnets/{{subnet_a}}")),
    Row("DELETE", f"{NET}/subnets/{{subnet_id}}", (204, 204, 404, 401),
        url=_u(f"{NET}/subnets/{{new_subnet}}")),
    Row("GET", f"{NET}/ports", OK3),
    Row("POST", f"{NET}/ports", (201, 201, 404, 401),
        body=lambda w, c: {"port": {"network_id": w.network_a}}),
    Row("GET", f"{NET}/ports/{{port_id}}", OWNED, url=_u(f"{NET}/ports/{{port_a}}")),
    Row("PUT", f"{NET}/ports/{{port_id}}", OWNED, url=_u(f"{NET}/ports/{{port_a}}"),
        body=_body({"port": {"name": "p"}})),
    Row("DELETE", f"{NET}/ports/{{port_id}}", (204, 204, 404, 401),
        url=_u(f"{NET}/ports/{{new_port}}")),
    Row("GET", f"{NET}/security-groups", OK3),
    Row("POST", f"{NET}/security-groups", (201, 201, 201, 401),
        body=_body(lambda: {"security_group": {"name": _unique("sg")}})),
    Row("GET", f"{NET}/security-groups/{{sg_id}}", OWNED,
        url=_u(f"{NET}/security-groups/{{sg_a}}")),
    Row("DELETE", f"{NET}/security-groups/{{sg_id}}", (204, 204, 404, 401),
        url=_u(f"{NET}/security-groups/{{new_sg}}")),
    Row("GET", f"{NET}/security-group-rules", OK3),
    Row("POST", f"{NET}/security-group-rules", (201, 201, 403, 401),
        body=lambda w, c: {"security_group_rule": sg_rule_body(w.sg_a)}),
    Row("GET", f"{NET}/security-group-rules/{{rule_id}}", OWNED,
        url=_u(f"{NET}/security-group-rules/{{sg_rule_a}}")),
    Row("DELETE", f"{NET}/security-group-rules/{{rule_id}}", (204, 204, 404, 401),
        url=_u(f"{NET}/security-group-rules/{{new_sg_rule}}")),
    Row("GET", f"{NET}/extensions", OK3),
    Row("GET", f"{NET}/extensions/{{alias}}", OK3, url=_u(f"{NET}/extensions/qos")),
    # QoS (policy_a belongs to project A, made by an admin)
    Row("GET", f"{QOS}/policies", OK3),
    Row("POST", f"{QOS}/policies", (201, 403, 403, 401),
        body=_body({"policy": {"name": "x"}})),
    Row("GET", f"{QOS}/policies/{{policy_id}}", OWNED, url=_u(f"{QOS}/policies/{{policy_a}}")),
    Row("PUT", f"{QOS}/policies/{{policy_id}}", (200, 403, 404, 401),
        url=_u(f"{QOS}/policies/{{policy_a}}"), body=_body({"policy": {"description": "d"}})),
    Row("DELETE", f"{QOS}/policies/{{policy_id}}", (204, 403, 404, 401),
        url=_u(f"{QOS}/policies/{{new_policy}}")),
    Row("GET", f"{QOS}/policies/{{policy_id}}/{{collection}}", OWNED, url=_u(RULE_URL)),
    Row("POST", f"{QOS}/policies/{{policy_id}}/{{collection}}", (201, 403, 404, 401),
        url=_u(f"{QOS}/policies/{{new_policy}}/bandwidth_limit_rules"),
        body=_body({"bandwidth_limit_rule": {"max_kbps": 1}})),
    Row("GET", f"{QOS}/policies/{{policy_id}}/{{collection}}/{{rule_id}}", OWNED,
        url=_u(RULE_URL + "/{rule_a}")),
    Row("PUT", f"{QOS}/policies/{{policy_id}}/{{collection}}/{{rule_id}}", (200, 403, 404, 401),
        url=_u(RULE_URL + "/{rule_a}"), body=_body({"bandwidth_limit_rule": {"max_kbps": 5}})),
    Row("DELETE", f"{QOS}/policies/{{policy_id}}/{{collection}}/{{rule_id}}",
        (204, 403, 404, 401), url=lambda w, c: _rule_url(w)),
    Row("GET", f"{QOS}/{{alias}}/{{rule_id}}", OWNED,
        url=_u(f"{QOS}/alias_bandwidth_limit_rules/{{rule_a}}")),
    Row("PUT", f"{QOS}/{{alias}}/{{rule_id}}", (200, 403, 404, 401),
        url=_u(f"{QOS}/alias_bandwidth_limit_rules/{{rule_a}}"),
        body=_body({"alias_bandwidth_limit_rule": {"max_kbps": 6}})),
    Row("DELETE", f"{QOS}/{{alias}}/{{rule_id}}", (204, 403, 404, 401),
        url=lambda w, c: _rule_url(w).replace(
            _rule_url_prefix(w), f"{QOS}/alias_bandwidth_limit_rules")),
    Row("GET", f"{QOS}/rule-types", OK3), Row("GET", f"{QOS}/rule_types", OK3),
    Row("GET", f"{QOS}/rule-types/{{rule_type}}", ADMIN_ONLY,
        url=_u(f"{QOS}/rule-types/bandwidth_limit")),
    Row("GET", f"{QOS}/rule_types/{{rule_type}}", ADMIN_ONLY,
        url=_u(f"{QOS}/rule_types/dscp_marking")),
    # images (image_a: project A's, visibility shared = private to A)
    Row("GET", "/image/v2/images", OK3),
    Row("POST", "/image/v2/images", (201, 201, 201, 401), body=_body({"name": "x"})),
    Row("GET", "/image/v2/images/{image_id}", OWNED, url=_u("/image/v2/images/{image_a}")),
    Row("DELETE", "/image/v2/images/{image_id}", (204, 204, 404, 401),
        url=lambda w, c: f"/image/v2/images/{w.new_image(w.alice)}"),
    Row("PUT", "/image/v2/images/{image_id}/file", (204, 204, 404, 401),
        url=lambda w, c: f"/image/v2/images/{w.new_image(w.alice)}/file", content=b"data"),
    Row("GET", "/image/v2/images/{image_id}/file", (204, 204, 404, 401),
        url=lambda w, c: f"/image/v2/images/{w.new_image(w.alice)}/file"),
    Row("PATCH", "/image/v2/images/{image_id}", (200, 200, 404, 401),
        url=lambda w, c: f"/image/v2/images/{w.new_image(w.alice)}", content=b"[]",
        headers=lambda w, c: {
            "Content-Type": "application/openstack-images-v2.1-json-patch"}),
    Row("PUT", "/image/v2/images/{image_id}/tags/{tag}", (204, 204, 404, 401),
        url=lambda w, c: f"/image/v2/images/{w.new_image(w.alice)}/tags/t"),
    Row("DELETE", "/image/v2/images/{image_id}/tags/{tag}", (204, 204, 404, 401),
        url=lambda w, c: f"/image/v2/images/{w.new_image(w.alice, tags=['t'])}/tags/t"),
)


@pytest.fixture(scope="module")
def world(cloud: Cloud) -> Iterator[World]:
    built = World(cloud)
    try:
        yield built
    finally:
        built.close()


def _declared_routes() -> set[tuple[str, str]]:
    routes: set[tuple[str, str]] = {("GET", p) for p in ("/openapi.json", "/docs", "/redoc",
                                                          "/docs/oauth2-redirect")}
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            routes |= {(m, route.path) for m in route.methods}
    return routes


def test_every_route_is_in_the_matrix() -> None:
    rows = {(r.method, r.route) for r in ROWS}
    assert len(rows) == len(ROWS), "a route is listed twice"
    assert rows == _declared_routes()


@pytest.mark.parametrize(("row", "caller"), list(itertools.product(ROWS, CALLERS)),
                         ids=lambda v: v if isinstance(v, str) else f"{v.method} {v.route}")
def test_access(world: World, row: Row, caller: str) -> None:
    url = row.url(world, caller) if row.url else row.route
    kwargs: dict[str, Any] = {}
    if row.body is not None:
        kwargs["json"] = row.body(world, caller)
    if row.content is not None:
        kwargs["content"] = row.content
        kwargs["headers"] = {"Content-Type": "application/octet-stream"}
    if row.headers is not None:
        kwargs["headers"] = {**kwargs.get("headers", {}), **row.headers(world, caller)}
    response = world.clients[caller].request(row.method, url, **kwargs)
    expected = row.expect[CALLERS.index(caller)]
    assert response.status_code == expected, f"{caller}: {response.text[:300]}"
