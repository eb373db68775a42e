"""Every field of every create and update route, given what an attacker types: no answer is a
5xx, and afterwards every listing still answers 200 for the admin and for a member.

For each route a minimal valid body is known; each of its leaves (at any depth) is replaced in
turn by each adversarial value — text that is not text (lone surrogates), NUL and other control
characters, right-to-left overrides, astral characters, a 70 kB string, integers at and past
the 32- and 64-bit edges, and values of the wrong type — and sent as a member and as the admin.
A 4xx is Nova's, Neutron's, Glance's or Keystone's business (other tests check the words); a
5xx, or a listing that fails afterwards (a bad record saved), is the bug this test exists for.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .conftest import Cloud

# About 1,500 requests: ~50 s here.
pytestmark = pytest.mark.slow

NOVA = "/compute/v2.1"
NEUTRON = "/network/v2.0"

ADVERSARIAL: tuple[object, ...] = (
    "\ud800", "a\udfffb", "a\x00b", "\x01\x1f\x7f", "\u202egnp.exe", "😀" * 8, "x" * 70_000, "",
    " ", -1, 0, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 1.5, True, None, [],
    {}, "1",
)
LISTINGS = (f"{NOVA}/flavors/detail", f"{NOVA}/servers/detail", f"{NOVA}/os-keypairs",
            f"{NEUTRON}/networks", f"{NEUTRON}/ports", f"{NEUTRON}/subnets",
            f"{NEUTRON}/security-groups", f"{NEUTRON}/qos/policies", "/image/v2/images")


@pytest.fixture(scope="module")
def world(cloud: Cloud) -> dict[str, Any]:
    cloud.make_user("adv-member", "adv-project")
    with cloud.client() as admin:
        flavor = admin.post(f"{NOVA}/flavors", json={"flavor": {
            "name": "adv", "ram": 1, "vcpus": 1, "disk": 1}}).json()["flavor"]["id"]
        network = admin.post(f"{NEUTRON}/networks", json={"network": {
            "name": "adv", "shared": True}}).json()["network"]["id"]
        policy = admin.post(f"{NEUTRON}/qos/policies", json={"policy": {
            "name": "adv"}}).json()["policy"]["id"]
        image = admin.post("/image/v2/images", json={
            "name": "adv", "disk_format": "raw", "container_format": "bare",
            "visibility": "public"}).json()["id"]
        admin.put(f"/image/v2/images/{image}/file", content=b"x" * 64,
                  headers={"Content-Type": "application/octet-stream"})
    return {"flavor": flavor, "network": network, "policy": policy, "image": image}


def _routes(world: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("POST", f"{NOVA}/flavors", {"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 1,
                                                "swap": 0, "rxtx_factor": 1.0}}),
        ("POST", f"{NOVA}/flavors/{world['flavor']}/os-extra_specs",
         {"extra_specs": {"quota:cpu_shares": "512", "hw:cpu_policy": "dedicated"}}),
        ("POST", f"{NOVA}/servers", {"server": {
            "name": "s", "imageRef": world["image"], "flavorRef": world["flavor"],
            "networks": [{"uuid": world["network"]}], "metadata": {"k": "v"}}}),
        ("POST", f"{NOVA}/os-keypairs", {"keypair": {"name": "k", "type": "ssh"}}),
        ("POST", f"{NEUTRON}/networks", {"network": {"name": "n", "mtu": 1500,
                                                     "admin_state_up": True}}),
        ("PUT", f"{NEUTRON}/networks/{world['network']}", {"network": {
            "description": "d", "qos_policy_id": world["policy"]}}),
        ("POST", f"{NEUTRON}/ports", {"port": {"network_id": world["network"], "name": "p",
                                               "binding:profile": {"k": "v"}}}),
        ("POST", f"{NEUTRON}/subnets", {"subnet": {
            "network_id": world["network"], "cidr": "10.9.0.0/24", "ip_version": 4,
            "name": "s"}}),
        ("POST", f"{NEUTRON}/security-groups", {"security_group": {"name": "g",
                                                                   "description": "d"}}),
        ("POST", f"{NEUTRON}/qos/policies", {"policy": {"name": "p", "description": "d",
                                                        "shared": False}}),
        ("POST", f"{NEUTRON}/qos/policies/{world['policy']}/bandwidth_limit_rules",
         {"bandwidth_limit_rule": {"max_kbps": 1000, "max_burst_kbps": 100,
                                   "direction": "egress"}}),
        ("POST", f"{NEUTRON}/qos/policies/{world['policy']}/dscp_marking_rules",
         {"dscp_marking_rule": {"dscp_mark": 26}}),
        ("POST", "/image/v2/images", {"name": "i", "disk_format": "raw",
                                      "container_format": "bare", "min_disk": 0,
                                      "tags": ["t"], "custom": "c"}),
        ("POST", "/identity/v3/projects", {"project": {"name": "x", "description": "d"}}),
    ]


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path


def _replaced(body: Any, path: tuple[Any, ...], new: object) -> Any:
    if not path:
        return new
    head, *rest = path
    copy: Any = dict(body) if isinstance(body, dict) else list(body)
    copy[head] = _replaced(body[head], tuple(rest), new)
    return copy


def _send(client: httpx.Client, method: str, path: str, body: Any) -> httpx.Response:
    # ensure_ascii: a lone surrogate leaves as the JSON escape "\ud800", as an attacker sends it
    return client.request(method, path, content=json.dumps(body, ensure_ascii=True).encode(),
                          headers={"Content-Type": "application/json"})


def test_no_field_of_any_route_gives_a_5xx_or_breaks_a_listing(
        cloud: Cloud, world: dict[str, Any]) -> None:
    failures: list[str] = []
    with cloud.client() as admin, cloud.client("adv-member", "pw", "adv-project") as member:
        for method, path, body in _routes(world):
            for leaf in _leaves(body):
                for value in ADVERSARIAL:
                    for client in (member, admin):
                        response = _send(client, method, path, _replaced(body, leaf, value))
                        if response.status_code >= 500:
                            failures.append(f"{method} {path} {'.'.join(map(str, leaf))}="
                                            f"{str(value)[:20]!r}: {response.status_code} "
                                            f"{response.text[:200]}")
        for client in (admin, member):
            for listing in LISTINGS:
                response = client.get(listing)
                if response.status_code != 200:
                    failures.append(f"GET {listing} afterwards: {response.status_code} "
                                    f"{response.text[:200]}")
    assert failures == []
