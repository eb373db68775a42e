"""Neutron QoS over HTTP: status and body, as Neutron answers them.

Each case is sent to a real server on loopback with httpx; the expected status, Neutron
exception type and message are Neutron's verbatim (neutron-lib api/definitions/qos.py
validators, neutron services/qos/qos_plugin.py, objects/qos/qos_policy_validator.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .conftest import Cloud

QOS = "/network/v2.0/qos"


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Iterator[httpx.Client]:
    cloud.make_user("qos-member", "qos-project")
    with cloud.client() as client:
        yield client


@pytest.fixture(scope="module")
def member(cloud: Cloud, admin: httpx.Client) -> Iterator[httpx.Client]:
    with cloud.client("qos-member", "pw", "qos-project") as client:
        yield client


def _policy(admin: httpx.Client, **extra: Any) -> str:
    response = admin.post(f"{QOS}/policies", json={"policy": {"name": "p", **extra}})
    assert response.status_code == 201, response.text
    policy_id: str = response.json()["policy"]["id"]
    return policy_id


def _rule(admin: httpx.Client, policy: str, kind: str, body: dict[str, Any]) -> httpx.Response:
    return admin.post(f"{QOS}/policies/{policy}/{kind}_rules", json={f"{kind}_rule": body})


def _error(response: httpx.Response, status: int, kind: str | None = None,
           message: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()["NeutronError"]
    assert set(body) == {"type", "message", "detail"}
    if kind is not None:
        assert body["type"] == kind
    if message is not None:
        assert body["message"] == message


def test_create_policy_defaults(admin: httpx.Client) -> None:
    response = admin.post(f"{QOS}/policies", json={"policy": {"name": "p1"}})
    assert response.status_code == 201
    policy = response.json()["policy"]
    assert (policy["shared"], policy["is_default"], policy["rules"], policy["description"]) == (
        False, False, [], "")


def test_member_cannot_create_a_policy(member: httpx.Client) -> None:
    _error(member.post(f"{QOS}/policies", json={"policy": {"name": "p"}}), 403,
           "PolicyNotAuthorized", "(rule:create_policy) is disallowed by policy")


def test_bandwidth_limit_rule_defaults(admin: httpx.Client) -> None:
    response = _rule(admin, _policy(admin), "bandwidth_limit", {"max_kbps": "10000"})
    assert response.status_code == 201
    rule = response.json()["bandwidth_limit_rule"]
    assert (rule["max_kbps"], rule["max_burst_kbps"], rule["direction"]) == (10000, 0, "egress")


@pytest.mark.parametrize(("kind", "body", "message"), [
    ("bandwidth_limit", {}, "Failed to parse request. Required attribute 'max_kbps' not "
                            "specified"),
    ("bandwidth_limit", {"max_kbps": -1}, "Invalid input for max_kbps. Reason: '-1' is too "
                                          "small - must be at least '0'."),
    ("bandwidth_limit", {"max_kbps": 2147483648}, "Invalid input for max_kbps. Reason: "
     "'2147483648' is too large - must be no larger than '2147483647'."),
    ("bandwidth_limit", {"max_kbps": "abc"}, "Invalid input for operation: 'abc' is not an "
                                             "integer."),
    ("bandwidth_limit", {"max_kbps": 1, "direction": "any"},
     "Invalid input for direction. Reason: any is not in valid_values."),
    ("packet_rate_limit", {"max_kpps": 1, "direction": "any"}, None),
    ("dscp_marking", {"dscp_mark": 3}, "Invalid input for dscp_mark. Reason: 3 is not in "
                                       "valid_values."),
    *(("dscp_marking", {"dscp_mark": m}, None) for m in (2, 4, 6, 42, 50, 52, 54, 57, 63, 64)),
])
def test_invalid_rules_are_400(admin: httpx.Client, kind: str, body: dict[str, Any],
                               message: str | None) -> None:
    _error(_rule(admin, _policy(admin), kind, body), 400, message=message)


@pytest.mark.parametrize(("kind", "body"), [
    ("bandwidth_limit", {"max_kbps": 2147483647}),
    ("minimum_packet_rate", {"min_kpps": 1000, "direction": "any"}),
    *(("dscp_marking", {"dscp_mark": m}) for m in (0, 8, 26, 46, 56)),
])
def test_valid_rules_are_201(admin: httpx.Client, kind: str, body: dict[str, Any]) -> None:
    assert _rule(admin, _policy(admin), kind, body).status_code == 201


def test_rule_conflicts(admin: httpx.Client) -> None:
    policy = _policy(admin)
    assert _rule(admin, policy, "bandwidth_limit", {"max_kbps": 1000}).status_code == 201
    _error(_rule(admin, policy, "bandwidth_limit", {"max_kbps": 5}), 409, "QoSRulesConflict")
    assert _rule(admin, policy, "bandwidth_limit", {"max_kbps": 5, "direction": "ingress"}
                 ).status_code == 201
    assert _rule(admin, policy, "dscp_marking", {"dscp_mark": 8}).status_code == 201
    _error(_rule(admin, policy, "dscp_marking", {"dscp_mark": 10}), 409, "QoSRulesConflict")
    _error(_rule(admin, policy, "minimum_bandwidth", {"min_kbps": 2000}), 409,
           "QoSRuleParameterConflict",
           f"Unable to add the rule with value 2000 to the policy {policy} as the existing "
           "rule of type bandwidth_limit has value 1000.")
    assert _rule(admin, policy, "minimum_bandwidth", {"min_kbps": 1000}).status_code == 201
    other = _policy(admin)
    assert _rule(admin, other, "bandwidth_limit", {"max_kbps": 1000}).status_code == 201
    assert _rule(admin, other, "minimum_bandwidth", {"min_kbps": 2000, "direction": "ingress"}
                 ).status_code == 201
    third = _policy(admin)
    assert _rule(admin, third, "minimum_bandwidth", {"min_kbps": 2000}).status_code == 201
    _error(_rule(admin, third, "bandwidth_limit", {"max_kbps": 1000}), 409,
           "QoSRuleParameterConflict")
    pps = _policy(admin)
    assert _rule(admin, pps, "minimum_packet_rate", {"min_kpps": 1}).status_code == 201
    _error(_rule(admin, pps, "minimum_packet_rate", {"min_kpps": 1, "direction": "any"}), 409,
           "QoSRuleParameterConflict")
    assert _rule(admin, pps, "minimum_packet_rate", {"min_kpps": 1, "direction": "ingress"}
                 ).status_code == 201


def test_not_found(admin: httpx.Client) -> None:
    missing = "9d6a4ee4-1d22-4d5a-9b2c-2b1f2b3c4d5e"
    _error(_rule(admin, missing, "bandwidth_limit", {"max_kbps": 1}), 404, "QosPolicyNotFound",
           f"QoS policy {missing} could not be found.")
    policy = _policy(admin)
    _error(admin.get(f"{QOS}/policies/{policy}/bandwidth_limit_rules/{missing}"), 404,
           "QosRuleNotFound", f"QoS rule {missing} for policy {policy} could not be found.")


def test_policy_in_use_and_deletion(admin: httpx.Client) -> None:
    policy = _policy(admin)
    network = admin.post("/network/v2.0/networks", json={"network": {
        "name": "n", "qos_policy_id": policy}}).json()["network"]["id"]
    _error(admin.delete(f"{QOS}/policies/{policy}"), 409, "QosPolicyInUse",
           f"QoS Policy {policy} is used by network {network}.")
    assert admin.delete(f"{QOS}/policies/{_policy(admin)}").status_code == 204


def test_default_policy(cloud: Cloud) -> None:
    cloud.make_user("default-admin", "default-project", role="admin")
    with cloud.client("default-admin", "pw", "default-project") as admin:
        first = _policy(admin, is_default=True)
        _error(admin.post(f"{QOS}/policies", json={"policy": {"name": "p2",
                                                              "is_default": True}}),
               409, "QoSPolicyDefaultAlreadyExists")
        for body in ({"name": "n1"}, {"name": "n2", "qos_policy_id": None}):
            created = admin.post("/network/v2.0/networks", json={"network": body}).json()
            assert created["network"]["qos_policy_id"] == first
        existing = created["network"]["id"]
        assert admin.put(f"{QOS}/policies/{first}", json={"policy": {"is_default": False}}
                         ).status_code == 200
        shown = admin.get(f"/network/v2.0/networks/{existing}").json()["network"]
        assert shown["qos_policy_id"] == first


def test_rule_types(admin: httpx.Client, member: httpx.Client, new_server: Any) -> None:
    listed = admin.get(f"{QOS}/rule-types").json()["rule_types"]
    assert {r["type"] for r in listed} == {"bandwidth_limit", "dscp_marking",
                                           "minimum_bandwidth", "packet_rate_limit",
                                           "minimum_packet_rate"}
    _error(member.get(f"{QOS}/rule-types/bandwidth_limit"), 403)
    details = admin.get(f"{QOS}/rule-types/bandwidth_limit").json()["rule_type"]
    (driver,) = details["drivers"]
    assert driver["name"] == "openvswitch"
    assert driver["supported_parameters"] == [
        {"parameter_name": "max_kbps", "parameter_type": "range",
         "parameter_values": {"start": 0, "end": 2147483647}},
        {"parameter_name": "max_burst_kbps", "parameter_type": "range",
         "parameter_values": {"start": 0, "end": 2147483647}},
        {"parameter_name": "direction", "parameter_type": "choices",
         "parameter_values": ["ingress", "egress"]}]
    sriov = new_server(backend="sriovnicswitch")
    with sriov.client() as client:
        types = client.get(f"{QOS}/rule-types").json()["rule_types"]
        assert {r["type"] for r in types} == {"bandwidth_limit", "minimum_bandwidth"}
        everything = client.get(f"{QOS}/rule-types", params={"all_rules": "true"}).json()
        assert len(everything["rule_types"]) == 5


def test_rules_a_backend_cannot_enforce_on_a_port(new_server: Any) -> None:
    sriov = new_server(backend="sriovnicswitch")
    with sriov.client() as admin:
        policy = _policy(admin)
        network = admin.post("/network/v2.0/networks", json={"network": {"name": "n"}}
                             ).json()["network"]["id"]
        port = admin.post("/network/v2.0/ports", json={"port": {
            "network_id": network, "binding:vnic_type": "direct", "qos_policy_id": policy}}
        ).json()["port"]["id"]
        _error(_rule(admin, policy, "dscp_marking", {"dscp_mark": 8}), 409,
               "QosRuleNotSupported", f"Rule dscp_marking is not supported by port {port}")
        _error(_rule(admin, policy, "bandwidth_limit", {"max_kbps": 8, "direction": "ingress"}),
               409, "QosRuleNotSupported")


def test_minimum_rules_on_compute_ports_are_501(admin: httpx.Client) -> None:
    policy = _policy(admin)
    network = admin.post("/network/v2.0/networks", json={"network": {"name": "n"}}
                         ).json()["network"]["id"]
    assert admin.post("/network/v2.0/ports", json={"port": {
        "network_id": network, "device_owner": "compute:nova", "qos_policy_id": policy}}
    ).status_code == 201
    response = _rule(admin, policy, "minimum_bandwidth", {"min_kbps": 1000})
    assert response.status_code == 501
    assert response.json()["NotImplementedError"]["message"] == (
        "Cannot update QoS policies/rules backed by resources tracked in Placement")


def test_tenants_and_other_projects_policies(cloud: Cloud, admin: httpx.Client,
                                             member: httpx.Client) -> None:
    member_project = member.get("/identity/v3/auth/catalog")  # the member's token works
    assert member_project.status_code == 200
    network = member.post("/network/v2.0/networks", json={"network": {"name": "mine"}}
                          ).json()["network"]["id"]
    private = _policy(admin)
    _error(member.put(f"/network/v2.0/networks/{network}", json={"network": {
        "qos_policy_id": private}}), 404, "QosPolicyNotFound")
    assert admin.put(f"/network/v2.0/networks/{network}", json={"network": {
        "qos_policy_id": private}}).status_code == 200
    _error(member.put(f"/network/v2.0/networks/{network}", json={"network": {
        "qos_policy_id": None}}), 403, "PolicyRemoveAuthorizationError")
    shared = _policy(admin, shared=True)
    assert member.get(f"{QOS}/policies/{shared}").status_code == 200
    assert shared in {p["id"] for p in member.get(f"{QOS}/policies").json()["policies"]}
    port = member.post("/network/v2.0/ports", json={"port": {
        "network_id": network, "qos_policy_id": shared}})
    assert port.status_code == 201, port.text
    assert port.json()["port"]["qos_network_policy_id"] == private


def test_alias_rule_update(admin: httpx.Client) -> None:
    policy = _policy(admin)
    rule = _rule(admin, policy, "bandwidth_limit", {"max_kbps": 1000}).json()[
        "bandwidth_limit_rule"]["id"]
    for collection in ("alias_bandwidth_limit_rules", "alias-bandwidth-limit-rules"):
        response = admin.put(f"{QOS}/{collection}/{rule}", json={
            "alias_bandwidth_limit_rule": {"max_kbps": 2000}})
        assert response.status_code == 200, response.text
        assert response.json()["alias_bandwidth_limit_rule"]["max_kbps"] == 2000
    shown = admin.get(f"{QOS}/policies/{policy}").json()["policy"]["rules"]
    assert [(r["type"], r["max_kbps"], r["qos_policy_id"]) for r in shown] == [
        ("bandwidth_limit", 2000, policy)]
    assert admin.delete(f"{QOS}/alias_bandwidth_limit_rules/{rule}").status_code == 204
    assert admin.get(f"{QOS}/policies/{policy}").json()["policy"]["rules"] == []
