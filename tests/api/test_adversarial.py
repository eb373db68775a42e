"""Every field of every create and update route, given what an attacker types: no answer is a
5xx, and afterwards every listing still answers 200 for the admin and for a member.

For each route a minimal valid body is known; each of its leaves (at any depth) is replaced in
turn by each adversarial value — text that is not text (lone surrogates), NUL and other control
characters, right-to-left overrides, astral characters, a 70 kB string, integers at and past
the 32- and 64-bit edges, and values of the wrong type — and sent as a member and as the admin.
A 4xx is Nova's, Neutron's, Glance's or Keystone's business (other tests check the words); a
5xx, or a listing that fails afterwards (a bad record saved), is the bug this test exists for.

The fixed values are the edges someone thought of; the property-based test beside them lets
hypothesis choose (any text, surrogates and controls mixed in, any integer, floats including
NaN and infinities — which JSON cannot even carry —, nested lists and objects) for a leaf it
also chooses, and checks after each example that the route's own listing still answers. Both
cover every route with a JSON body in the OpenAPI document
(:func:`test_every_route_with_a_body_is_covered` holds that).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import hypothesis
import pytest
from hypothesis import HealthCheck
from hypothesis import strategies as st

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
            f"{NOVA}/limits", f"{NEUTRON}/networks", f"{NEUTRON}/ports", f"{NEUTRON}/subnets",
            f"{NEUTRON}/security-groups", f"{NEUTRON}/security-group-rules",
            f"{NEUTRON}/qos/policies", "/image/v2/images")


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
        port = admin.post(f"{NEUTRON}/ports", json={"port": {
            "network_id": network, "name": "adv"}}).json()["port"]["id"]
        rule = admin.post(f"{NEUTRON}/qos/policies/{policy}/dscp_marking_rules", json={
            "dscp_marking_rule": {"dscp_mark": 8}}).json()["dscp_marking_rule"]["id"]
        group = admin.post(f"{NEUTRON}/security-groups", json={"security_group": {
            "name": "adv"}}).json()["security_group"]["id"]
        # What the identity and quota updates change: their own project and user, so that
        # the member's token and quotas stay as they are.
        target = admin.post("/identity/v3/projects", json={"project": {
            "name": "adv-target"}}).json()["project"]["id"]
        user = admin.post("/identity/v3/users", json={"user": {
            "name": "adv-target", "password": "pw"}}).json()["user"]["id"]
        member = admin.get("/identity/v3/projects", params={"name": "adv-project"}).json()[
            "projects"][0]["id"]
        other_flavor = admin.post(f"{NOVA}/flavors", json={"flavor": {
            "name": "adv-2", "ram": 1, "vcpus": 1, "disk": 1}}).json()["flavor"]["id"]
        private_flavor = admin.post(f"{NOVA}/flavors", json={"flavor": {
            "name": "adv-private", "ram": 1, "vcpus": 1, "disk": 1,
            "os-flavor-access:is_public": False}}).json()["flavor"]["id"]
        aggregate = admin.post(f"{NOVA}/os-aggregates", json={"aggregate": {
            "name": "adv-agg"}}).json()["aggregate"]["id"]
        server = admin.post(f"{NOVA}/servers", json={"server": {
            "name": "adv", "imageRef": image, "flavorRef": flavor,
            "networks": [{"uuid": network}]}}).json()["server"]["id"]
    return {"flavor": flavor, "network": network, "policy": policy, "image": image,
            "port": port, "rule": rule, "group": group, "target": target, "user": user,
            "member_project": member, "other_flavor": other_flavor, "server": server,
            "aggregate": aggregate, "private_flavor": private_flavor}


ROUTE_COUNT = 43  # len(_routes(...)), which needs the world's ids; the coverage test holds it


def _routes(world: dict[str, Any]) -> list[tuple[str, str, Any]]:
    return [
        ("POST", f"{NOVA}/flavors", {"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 1,
                                                "swap": 0, "rxtx_factor": 1.0}}),
        ("POST", f"{NOVA}/flavors/{world['flavor']}/os-extra_specs",
         {"extra_specs": {"quota:cpu_shares": "512", "hw:cpu_policy": "dedicated"}}),
        ("POST", f"{NOVA}/servers", {"server": {
            "name": "s", "imageRef": world["image"], "flavorRef": world["flavor"],
            "networks": [{"uuid": world["network"]}], "metadata": {"k": "v"}}}),
        # (no microversion header: 2.1, whose schema has no ``type``)
        ("POST", f"{NOVA}/os-keypairs", {"keypair": {"name": "k",
                                                     "public_key": "ssh-rsa AAAA k@h"}}),
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
        ("POST", "/identity/v3/users", {"user": {"name": "u", "password": "p",
                                                 "enabled": True}}),
        ("POST", "/identity/v3/auth/tokens", {"auth": {"identity": {
            "methods": ["password"], "password": {"user": {
                "name": "adv-member", "domain": {"name": "Default"}, "password": "pw"}}},
            "scope": {"project": {"name": "adv-project", "domain": {"name": "Default"}}}}}),
        ("PUT", f"{NOVA}/flavors/{world['flavor']}", {"flavor": {"description": "d"}}),
        ("PUT", f"{NOVA}/flavors/{world['flavor']}/os-extra_specs/quota:cpu_shares",
         {"quota:cpu_shares": "1024"}),
        ("POST", f"{NOVA}/os-aggregates", {"aggregate": {"name": "a",
                                                         "availability_zone": "z"}}),
        ("PUT", f"{NEUTRON}/ports/{world['port']}", {"port": {
            "name": "p2", "qos_policy_id": world["policy"], "admin_state_up": True}}),
        ("PUT", f"{NEUTRON}/qos/policies/{world['policy']}", {"policy": {
            "description": "d", "shared": False, "is_default": False}}),
        ("POST", f"{NEUTRON}/qos/policies/{world['policy']}/minimum_bandwidth_rules",
         {"minimum_bandwidth_rule": {"min_kbps": 1000, "direction": "egress"}}),
        ("POST", f"{NEUTRON}/qos/policies/{world['policy']}/packet_rate_limit_rules",
         {"packet_rate_limit_rule": {"max_kpps": 1000, "max_burst_kpps": 100}}),
        ("POST", f"{NEUTRON}/qos/policies/{world['policy']}/minimum_packet_rate_rules",
         {"minimum_packet_rate_rule": {"min_kpps": 1000, "direction": "any"}}),
        ("PUT", f"{NEUTRON}/qos/policies/{world['policy']}/dscp_marking_rules/"
                f"{world['rule']}", {"dscp_marking_rule": {"dscp_mark": 10}}),
        ("PUT", f"{NEUTRON}/qos/alias_dscp_marking_rules/{world['rule']}",
         {"dscp_marking_rule": {"dscp_mark": 12}}),
        ("POST", f"{NOVA}/servers/{world['server']}/action", {"reboot": {"type": "HARD"}}),
        ("POST", f"{NOVA}/servers/{world['server']}/action", {"resize": {
            "flavorRef": world["other_flavor"]}}),
        ("PUT", f"{NOVA}/servers/{world['server']}", {"server": {"name": "s2",
                                                                 "description": "d"}}),
        ("POST", f"{NOVA}/servers/{world['server']}/metadata", {"metadata": {"k": "v"}}),
        ("PUT", f"{NOVA}/servers/{world['server']}/metadata", {"metadata": {"k": "v"}}),
        ("PUT", f"{NOVA}/servers/{world['server']}/metadata/k", {"meta": {"k": "v"}}),
        ("PUT", f"{NOVA}/os-aggregates/{world['aggregate']}", {"aggregate": {
            "name": "a2", "availability_zone": "z2"}}),
        ("POST", f"{NOVA}/os-aggregates/{world['aggregate']}/action", {"set_metadata": {
            "metadata": {"k": "v", "availability_zone": "z2"}}}),
        ("POST", f"{NOVA}/flavors/{world['private_flavor']}/action", {"addTenantAccess": {
            "tenant": world["member_project"]}}),
        ("POST", f"{NOVA}/flavors/{world['private_flavor']}/action", {"removeTenantAccess": {
            "tenant": world["member_project"]}}),
        ("PATCH", f"/image/v2/images/{world['image']}", [
            {"op": "replace", "path": "/name", "value": "i"},
            {"op": "add", "path": "/custom", "value": "c"}]),
        ("POST", f"{NEUTRON}/security-group-rules", {"security_group_rule": {
            "security_group_id": world["group"], "direction": "ingress", "protocol": "tcp",
            "port_range_min": 22, "port_range_max": 22, "ethertype": "IPv4",
            "remote_ip_prefix": "10.0.0.0/8", "description": "d"}}),
        ("PATCH", f"/identity/v3/projects/{world['target']}", {"project": {
            "name": "adv-target", "description": "d", "enabled": True, "tags": ["t"],
            "k": "v"}}),
        ("PATCH", f"/identity/v3/users/{world['user']}", {"user": {
            "name": "adv-target", "password": "pw", "email": "e@example.org",
            "enabled": True}}),
        ("PUT", f"{NOVA}/os-quota-sets/{world['target']}", {"quota_set": {
            "instances": 10, "cores": "20", "force": True}}),
        ("PUT", f"{NEUTRON}/quotas/{world['target']}", {"quota": {
            "network": 100, "port": "500", "force": True}}),
        ("PUT", f"{NOVA}/vmqos-hosts/adv-host", {"host": {
            "vcpus": 1000000, "memory_mb": 1000000000, "disk_gb": 1000000,
            "host_ip": "192.0.2.7", "agents": [{
                "agent_type": "Open vSwitch agent", "bridge_mappings": {"physnet1": "br-phys"},
                "tunnelled_network_rp_name": "rp_tunnelled",
                "resource_provider_bandwidths": {"br-phys": {"egress": 1000, "ingress": 2000}},
                "resource_provider_packet_processing_without_direction": {
                    "": {"any": 1000}}}]}}),
    ]


# The OpenAPI operations with a request body this test does not send JSON to: image data is
# bytes (the guard and the image tests cover it).
_NOT_JSON = {("PUT", "/image/v2/images/{image_id}/file")}

# Which listing shows what each route writes, checked after every generated example: the
# admin's and the member's (Keystone lets a member list no projects: it reads its catalog).
_LISTING_OF = {"flavors": f"{NOVA}/flavors/detail", "os-aggregates": f"{NOVA}/os-aggregates",
               "vmqos-hosts": f"{NOVA}/os-hypervisors/detail",
               "os-keypairs": f"{NOVA}/os-keypairs", "servers": f"{NOVA}/servers/detail",
               "networks": f"{NEUTRON}/networks", "ports": f"{NEUTRON}/ports",
               "subnets": f"{NEUTRON}/subnets", "security-groups": f"{NEUTRON}/security-groups",
               "security-group-rules": f"{NEUTRON}/security-group-rules",
               "qos": f"{NEUTRON}/qos/policies", "images": "/image/v2/images"}
_IDENTITY = {"projects": "/identity/v3/projects", "users": "/identity/v3/users",
             "auth": "/identity/v3/projects"}


def _listings(path: str, world: dict[str, Any]) -> tuple[str, str]:
    """(the admin's, the member's) listing of what a request to ``path`` writes."""
    kind = path.strip("/").split("/")[2]
    if kind in _IDENTITY:
        return _IDENTITY[kind], "/identity/v3/auth/catalog"
    if kind == "vmqos-hosts":  # hosts are the admin's alone; a member lists its servers
        return _LISTING_OF[kind], f"{NOVA}/servers/detail"
    if kind == "os-aggregates":  # aggregates are the admin's alone; a member sees zones
        return _LISTING_OF[kind], f"{NOVA}/os-availability-zone"
    if kind == "os-quota-sets":  # a member reads its own project's limits
        return f"{NOVA}/os-quota-sets/{world['target']}", f"{NOVA}/limits"
    if kind == "quotas":
        return f"{NEUTRON}/quotas", f"{NEUTRON}/quotas/{world['member_project']}"
    return _LISTING_OF[kind], _LISTING_OF[kind]


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


def _media_type(method: str) -> str:
    """JSON, or Glance's JSON patch for the one PATCH route (an image update)."""
    return ("application/openstack-images-v2.1-json-patch" if method == "PATCH"
            else "application/json")


def _send(client: httpx.Client, method: str, path: str, body: Any) -> httpx.Response:
    # ensure_ascii: a lone surrogate leaves as the JSON escape "\ud800", as an attacker sends it
    return client.request(method, path, content=json.dumps(body, ensure_ascii=True).encode(),
                          headers={"Content-Type": _media_type(method)})


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


def test_every_route_with_a_body_is_covered(world: dict[str, Any]) -> None:
    """Each create and update operation of the OpenAPI document is in :func:`_routes`: a new
    route must bring its body here."""
    from .test_fuzz import DOCUMENT  # noqa: PLC0415 (one copy of the served document)

    documented = {(method.upper(), path) for path, ops in DOCUMENT["paths"].items()
                  for method, op in ops.items()
                  if method in ("post", "put", "patch") and "requestBody" in op} - _NOT_JSON
    templates = [path for _method, path in documented]
    sent = {(method, _template(path, templates)) for method, path, _body in _routes(world)}
    assert documented - sent == set()
    assert len(_routes(world)) == ROUTE_COUNT


def _template(path: str, templates: list[str]) -> str | None:
    """The OpenAPI path ``path`` was sent to: of those it fits (same segments, each equal or a
    ``{placeholder}``), the one with the most equal segments."""
    parts = path.strip("/").split("/")

    def literal(template: str) -> int | None:
        t_parts = template.strip("/").split("/")
        if len(t_parts) != len(parts):
            return None
        equal = 0
        for t, p in zip(t_parts, parts, strict=True):
            if t == p:
                equal += 1
            elif not (t.startswith("{") and t.endswith("}")):
                return None
        return equal

    fitting = [(score, t) for t in templates if (score := literal(t)) is not None]
    return max(fitting)[1] if fitting else None


_SPECIAL = st.sampled_from(["\ud800", "\udfff", "\x00", "\x1b[2J", "\u202e", "\ufeff", "😀",
                            "%s%n", "../../etc/passwd", "' OR 1=1 --", "${jndi:x}"])
_TEXT = st.lists(st.one_of(st.text(max_size=40), _SPECIAL), max_size=6).map("".join)
_SCALARS = st.one_of(
    _TEXT, st.integers(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none())
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_TEXT, inner, max_size=3)), max_leaves=6)


def _send_any(client: httpx.Client, method: str, path: str, body: Any) -> httpx.Response:
    # allow_nan: NaN and Infinity leave as the bare words, which no JSON parser should accept
    return client.request(method, path, content=json.dumps(
        body, ensure_ascii=True, allow_nan=True).encode(),
        headers={"Content-Type": _media_type(method)})


@pytest.mark.parametrize("index", range(ROUTE_COUNT))
@hypothesis.settings(max_examples=12, deadline=None, database=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow])
@hypothesis.given(data=st.data())
def test_generated_values_in_any_field_give_no_5xx_and_break_no_listing(
        cloud: Cloud, world: dict[str, Any], index: int, data: st.DataObject) -> None:
    method, path, body = _routes(world)[index]
    leaf = data.draw(st.sampled_from(list(_leaves(body))), label="leaf")
    value = data.draw(_VALUES, label="value")
    as_admin = data.draw(st.booleans(), label="as admin")
    with cloud.client() as admin, cloud.client("adv-member", "pw", "adv-project") as member:
        response = _send_any(admin if as_admin else member, method, path,
                             _replaced(body, leaf, value))
        assert response.status_code < 500, (method, path, leaf, response.text[:300])
        for client, listed in zip((admin, member), _listings(path, world), strict=True):
            listing = client.get(listed)
            assert listing.status_code == 200, (listing.request.url, listing.text[:300])
