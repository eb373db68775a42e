"""The project twins ``tenant_id``/``project_id`` over HTTP, for QoS policies, the five rule
types (policy routes and alias routes), networks and ports, as Neutron answers them.

Neutron validates a body (pecan ``BodyValidationHook``: neutron/api/v2/base.py
``prepare_request_body``, which starts with neutron_lib/api/attributes.py
``AttributeInfo.populate_project_id``) before it looks the object up or asks its policy engine
(``PolicyHook``). So a member naming another project gets neutron-lib's 400, not the policy's 403;
one naming its own project gets whatever the rest of the body earns, and the 403 only for a body
Neutron accepts. Every 400 here is a webob ``HTTPBadRequest``. Messages are verbatim; where
Neutron joins a set of unknown names vmqos sorts them, and the literal is the sorted one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .conftest import Cloud

QOS = "/network/v2.0/qos"
NET = "/network/v2.0"
MISMATCH = "'project_id' and 'tenant_id' do not match"
PRIVILEGES = ("Specifying 'project_id' other than the authenticated project in request is not "
              "allowed for the current user.")
BOTH_UNKNOWN = "Unrecognized attribute(s) 'project_id, tenant_id'"
READ_ONLY = "Cannot update read-only attribute tenant_id"

VALID = {
    "bandwidth_limit": {"max_kbps": 1000},
    "dscp_marking": {"dscp_mark": 26},
    "minimum_bandwidth": {"min_kbps": 1000},
    "packet_rate_limit": {"max_kpps": 1000},
    "minimum_packet_rate": {"min_kpps": 1000},
}


class Callers:
    """An admin (project ``admin``) and a member of project ``twins``, and their project ids."""

    def __init__(self, cloud: Cloud) -> None:
        cloud.make_user("twins-member", "twins")
        self.admin = cloud.client()
        self.member = cloud.client("twins-member", "pw", "twins")
        self.admin_project = self._project(self.admin)
        self.member_project = self._project(self.member)

    @staticmethod
    def _project(client: httpx.Client) -> str:
        token = client.headers["X-Auth-Token"]
        shown = client.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": token})
        project: str = shown.json()["token"]["project"]["id"]
        return project

    def close(self) -> None:
        self.admin.close()
        self.member.close()


@pytest.fixture(scope="module")
def who(cloud: Cloud) -> Iterator[Callers]:
    callers = Callers(cloud)
    yield callers
    callers.close()


def _error(response: httpx.Response, status: int, message: str,
           kind: str | None = "HTTPBadRequest") -> None:
    assert response.status_code == status, response.text
    body = response.json()["NeutronError"]
    assert set(body) == {"type", "message", "detail"}
    assert body["message"] == message
    if kind is not None:
        assert body["type"] == kind


def _policy(who: Callers, **extra: Any) -> dict[str, Any]:
    response = who.admin.post(f"{QOS}/policies", json={"policy": {"name": "t", **extra}})
    assert response.status_code == 201, response.text
    policy: dict[str, Any] = response.json()["policy"]
    return policy


def _rule(who: Callers, policy: str, kind: str) -> str:
    response = who.admin.post(f"{QOS}/policies/{policy}/{kind}_rules",
                              json={f"{kind}_rule": VALID[kind]})
    assert response.status_code == 201, response.text
    rule_id: str = response.json()[f"{kind}_rule"]["id"]
    return rule_id


# --- policies ---------------------------------------------------------------------------------

@pytest.mark.parametrize("twins", [("tenant_id",), ("project_id",), ("tenant_id", "project_id")])
@pytest.mark.parametrize("whose", ["admin", "other"])
def test_an_admin_creates_a_policy_in_the_project_it_names(who: Callers, twins: tuple[str, ...],
                                                            whose: str) -> None:
    """``_validate_privileges`` lets an admin name any project; ``create_policy``
    (``rule:admin_only``) lets it create there."""
    project = who.admin_project if whose == "admin" else who.member_project
    created = _policy(who, **dict.fromkeys(twins, project))
    assert (created["project_id"], created["tenant_id"]) == (project, project)
    shown = who.admin.get(f"{QOS}/policies/{created['id']}").json()["policy"]
    assert shown["project_id"] == project


def test_a_policy_without_a_project_is_the_callers(who: Callers) -> None:
    assert _policy(who)["project_id"] == who.admin_project


@pytest.mark.parametrize(("caller", "body", "status", "message"), [
    ("admin", {"tenant_id": "a", "project_id": "b"}, 400, MISMATCH),
    ("member", {"tenant_id": "a", "project_id": "b"}, 400, MISMATCH),
    ("admin", {"foo": 1, "tenant_id": "a", "project_id": "b"}, 400, MISMATCH),
    ("admin", {"foo": 1, "project_id": "a"}, 400, "Unrecognized attribute(s) 'foo'"),
    ("member", {"foo": 1}, 400, "Unrecognized attribute(s) 'foo'"),
    ("member", {"project_id": "elsewhere"}, 400, PRIVILEGES),
    ("member", {"tenant_id": "elsewhere", "foo": 1}, 400, PRIVILEGES),
    ("member", {"project_id": 5}, 400, PRIVILEGES),
    ("member", {"id": "x", "tenant_id": "a", "project_id": "b"}, 400, MISMATCH),
    ("admin", {"project_id": 5}, 400,
     "Invalid input for tenant_id. Reason: '5' is not a valid string."),
    ("admin", {"tenant_id": None}, 400,
     "Invalid input for tenant_id. Reason: 'None' is not a valid string."),
    ("admin", {"tenant_id": 1, "project_id": True}, 400,
     "Invalid input for tenant_id. Reason: '1' is not a valid string."),
    ("admin", {"rules": [], "project_id": 5}, 400, "Attribute 'rules' not allowed in POST"),
])
def test_policy_create_refused(who: Callers, caller: str, body: dict[str, Any], status: int,
                               message: str) -> None:
    client = who.admin if caller == "admin" else who.member
    _error(client.post(f"{QOS}/policies", json={"policy": {"name": "t", **body}}), status,
           message)


def test_a_member_naming_its_own_project_meets_the_policy(who: Callers) -> None:
    for body in ({"project_id": who.member_project}, {"tenant_id": who.member_project}, {}):
        _error(who.member.post(f"{QOS}/policies", json={"policy": {"name": "t", **body}}),
               403, "(rule:create_policy) is disallowed by policy", "PolicyNotAuthorized")


def test_an_empty_project_is_refused_by_the_plugin(who: Callers) -> None:
    # QoSPlugin.create_policy's BadRequest; Neutron's type is "BadRequest".
    _error(who.admin.post(f"{QOS}/policies", json={"policy": {"name": "t", "project_id": ""}}),
           400, 'Bad QoS policy request: Must have "policy_id".', kind=None)


@pytest.mark.parametrize(("caller", "body", "message"), [
    ("admin", {"tenant_id": "x"}, READ_ONLY),
    ("admin", {"project_id": "x"}, READ_ONLY),
    ("admin", {"rules": [], "project_id": "x"}, READ_ONLY),
    ("admin", {"id": "x", "project_id": "x"}, "Cannot update read-only attribute id"),
    ("admin", {"tenant_id": "x", "project_id": "y"}, MISMATCH),
    ("admin", {"foo": 1, "tenant_id": "x"}, "Unrecognized attribute(s) 'foo'"),
    ("admin", {"foo": 1, "tenant_id": "x", "project_id": "y"}, MISMATCH),
    ("member", {"project_id": "elsewhere"}, PRIVILEGES),
    ("member", {"tenant_id": "x", "project_id": "y"}, MISMATCH),
    ("own", {}, READ_ONLY),
])
def test_policy_update_refused(who: Callers, caller: str, body: dict[str, Any],
                               message: str) -> None:
    policy = _policy(who, shared=True)["id"]
    client = who.admin if caller == "admin" else who.member
    if caller == "own":
        body = {"project_id": who.member_project}
    _error(client.put(f"{QOS}/policies/{policy}", json={"policy": body}), 400, message)
    assert who.admin.get(f"{QOS}/policies/{policy}").json()["policy"]["project_id"] == \
        who.admin_project


def test_a_policy_body_is_checked_before_the_policy_is_looked_up(who: Callers) -> None:
    missing = "9d6a4ee4-1d22-4d5a-9b2c-2b1f2b3c4d5e"
    body = {"policy": {"tenant_id": "x", "project_id": "y"}}
    _error(who.admin.put(f"{QOS}/policies/{missing}", json=body), 400, MISMATCH)
    _error(who.admin.put(f"{QOS}/policies/{missing}", json={"policy": {"description": "d"}}),
           404, f"QoS policy {missing} could not be found.", "QosPolicyNotFound")
    shared = _policy(who, shared=True)["id"]
    _error(who.member.put(f"{QOS}/policies/{shared}", json={"policy": {"description": "d"}}),
           403, "(rule:update_policy) is disallowed by policy", "PolicyNotAuthorized")


@pytest.mark.parametrize(("inner", "message"), [
    (None, "Unable to find 'policy' in request body"),
    (5, "Object 'policy' contains invalid data"),
    ([], "Object 'policy' contains invalid data"),
])
def test_the_policy_member_must_be_an_object(who: Callers, inner: object, message: str) -> None:
    _error(who.admin.post(f"{QOS}/policies", json={"policy": inner}), 400, message)


# --- rules, through .../policies/P/<type>_rules ------------------------------------------------

RULE_TWINS: list[tuple[str, dict[str, Any], str]] = [
    ("admin", {"tenant_id": "x"}, BOTH_UNKNOWN),
    ("admin", {"project_id": "x"}, BOTH_UNKNOWN),
    ("admin", {"tenant_id": "x", "project_id": "x"}, BOTH_UNKNOWN),
    ("admin", {"tenant_id": "x", "project_id": "y"}, MISMATCH),
    ("admin", {"tenant_id": 1, "project_id": True}, BOTH_UNKNOWN),
    ("admin", {"tenant_id": "1", "project_id": 1}, MISMATCH),
    ("admin", {"foo": 1, "tenant_id": "x"}, "Unrecognized attribute(s) 'foo, project_id, "
                                           "tenant_id'"),
    ("admin", {"foo": 1, "tenant_id": "x", "project_id": "y"}, MISMATCH),
    ("member", {"tenant_id": "x", "project_id": "y"}, MISMATCH),
    ("member", {"project_id": "elsewhere", "foo": 1}, PRIVILEGES),
    ("own", {}, BOTH_UNKNOWN),
]


@pytest.mark.parametrize("kind", VALID)
@pytest.mark.parametrize(("caller", "extra", "message"), RULE_TWINS)
def test_rule_create_and_update_with_twins(who: Callers, kind: str, caller: str,
                                           extra: dict[str, Any], message: str) -> None:
    """The rule sub-resources' maps hold neither twin (qos.py ``parameters``)."""
    policy = _policy(who)["id"]
    rule = _rule(who, policy, kind)
    client = who.admin if caller == "admin" else who.member
    if caller == "own":
        extra = {"project_id": who.member_project}
    body = {f"{kind}_rule": {**VALID[kind], **extra}}
    url = f"{QOS}/policies/{policy}/{kind}_rules"
    _error(client.post(url, json=body), 400, message)
    _error(client.put(f"{url}/{rule}", json=body), 400, message)
    rules = who.admin.get(f"{QOS}/policies/{policy}").json()["policy"]["rules"]
    assert [r["id"] for r in rules] == [rule]


def test_a_member_with_a_clean_rule_body_meets_the_policy(who: Callers) -> None:
    policy = _policy(who, shared=True)["id"]
    _error(who.member.post(f"{QOS}/policies/{policy}/dscp_marking_rules",
                           json={"dscp_marking_rule": {"dscp_mark": 8}}), 403,
           "(rule:create_policy_dscp_marking_rule) is disallowed by policy",
           "PolicyNotAuthorized")


# --- rules, through the alias routes ---------------------------------------------------------

ALIAS_TWINS: list[tuple[str, dict[str, Any], str]] = [
    ("admin", {"tenant_id": "x"}, READ_ONLY),
    ("admin", {"project_id": "x"}, READ_ONLY),
    ("admin", {"tenant_id": 5}, READ_ONLY),
    ("admin", {"tenant_id": "x", "project_id": "y"}, MISMATCH),
    ("admin", {"foo": 1, "project_id": "x"}, "Unrecognized attribute(s) 'foo'"),
    ("admin", {"id": "x", "project_id": "x"}, "Cannot update read-only attribute id"),
    ("member", {"project_id": "elsewhere"}, PRIVILEGES),
    ("own", {}, READ_ONLY),
]


@pytest.mark.parametrize("route", ["alias_{kind}_rules", "alias-{dashed}-rules"])
@pytest.mark.parametrize("kind", ["bandwidth_limit", "dscp_marking", "minimum_bandwidth"])
@pytest.mark.parametrize(("caller", "extra", "message"), ALIAS_TWINS)
def test_alias_update_with_twins(who: Callers, route: str, kind: str, caller: str,
                                 extra: dict[str, Any], message: str) -> None:
    """qos_rules_alias.py: these maps hold a read-only ``tenant_id``."""
    policy = _policy(who)["id"]
    rule = _rule(who, policy, kind)
    client = who.admin if caller == "admin" else who.member
    if caller == "own":
        extra = {"project_id": who.member_project}
    url = f"{QOS}/{route.format(kind=kind, dashed=kind.replace('_', '-'))}/{rule}"
    _error(client.put(url, json={f"alias_{kind}_rule": {**VALID[kind], **extra}}), 400,
           message)


@pytest.mark.parametrize("route", ["alias_minimum_packet_rate_rules",
                                   "alias-minimum-packet-rate-rules"])
@pytest.mark.parametrize(("extra", "message"), [
    ({"tenant_id": "x"}, BOTH_UNKNOWN),
    ({"tenant_id": "x", "project_id": "y"}, MISMATCH),
    ({"foo": 1, "project_id": "x"}, "Unrecognized attribute(s) 'foo, project_id, tenant_id'"),
])
def test_minimum_packet_rate_alias_update_with_twins(who: Callers, route: str,
                                                     extra: dict[str, Any],
                                                     message: str) -> None:
    """qos_pps_minimum_rule_alias.py: its map is ``id`` and the parameters."""
    policy = _policy(who)["id"]
    rule = _rule(who, policy, "minimum_packet_rate")
    _error(who.admin.put(f"{QOS}/{route}/{rule}", json={
        "alias_minimum_packet_rate_rule": {"min_kpps": 5, **extra}}), 400, message)
    assert who.admin.put(f"{QOS}/{route}/{rule}", json={
        "alias_minimum_packet_rate_rule": {"min_kpps": 5}}).status_code == 200


# --- networks and ports: the same first step -------------------------------------------------

def test_networks_and_ports_settle_the_twins_first(who: Callers) -> None:
    nets = f"{NET}/networks"
    _error(who.member.post(nets, json={"network": {"name": "n", "tenant_id": "elsewhere"}}),
           400, PRIVILEGES)
    _error(who.member.post(nets, json={"network": {"foo": 1, "tenant_id": "a",
                                                   "project_id": "b"}}), 400, MISMATCH)
    _error(who.admin.post(nets, json={"network": {"project_id": 5}}), 400,
           "Invalid input for tenant_id. Reason: '5' is not a valid string.")
    _error(who.admin.post(nets, json={"network": {"foo": 1, "project_id": "x"}}), 400,
           "Unrecognized attribute(s) 'foo'")
    mine = who.member.post(nets, json={"network": {"name": "n",
                                                   "project_id": who.member_project}})
    assert mine.status_code == 201, mine.text
    network = mine.json()["network"]
    assert (network["project_id"], network["tenant_id"]) == (who.member_project,) * 2
    theirs = who.admin.post(nets, json={"network": {"name": "n",
                                                    "tenant_id": who.member_project}})
    assert theirs.json()["network"]["project_id"] == who.member_project
    _error(who.member.put(f"{nets}/{network['id']}", json={"network": {
        "project_id": who.member_project}}), 400, READ_ONLY)
    _error(who.member.post(f"{NET}/ports", json={"port": {
        "network_id": network["id"], "project_id": "elsewhere"}}), 400, PRIVILEGES)
    _error(who.member.post(f"{NET}/ports", json={"port": {
        "network_id": network["id"], "tenant_id": "a", "project_id": "b", "foo": 1}}), 400,
        MISMATCH)
