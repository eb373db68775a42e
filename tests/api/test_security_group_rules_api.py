"""Security group rules through the ``openstack`` client and over HTTP, as Neutron answers.

The client's create/list/show/delete must work as against a real cloud; the errors are
Neutron's status, exception type and message verbatim (neutron/extensions/securitygroup.py,
neutron/db/securitygroups_db.py, neutron-lib's OverQuota).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .conftest import Cloud

NET = "/network/v2.0"


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Iterator[httpx.Client]:
    cloud.make_user("sg-member", "sg-project")
    cloud.make_user("sg-reader", "sg-project", role="reader")
    cloud.make_user("sg-other", "sg-other-project")
    with cloud.client() as client:
        yield client


@pytest.fixture(scope="module")
def member(cloud: Cloud, admin: httpx.Client) -> Iterator[httpx.Client]:
    with cloud.client("sg-member", "pw", "sg-project") as client:
        yield client


@pytest.fixture(scope="module")
def checks(member: httpx.Client) -> str:
    """One group for the refused rules (a project has ten groups at most)."""
    return str(_group(member, "checks")["id"])


def _group(client: httpx.Client, name: str) -> dict[str, Any]:
    response = client.post(f"{NET}/security-groups", json={"security_group": {"name": name}})
    assert response.status_code == 201, response.text
    group: dict[str, Any] = response.json()["security_group"]
    return group


def _rule(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post(f"{NET}/security-group-rules", json={"security_group_rule": body})


def _error(response: httpx.Response, status: int, kind: str, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"NeutronError": {"type": kind, "message": message,
                                                "detail": ""}}


def test_the_client_creates_lists_shows_and_deletes_rules(cloud: Cloud,
                                                          admin: httpx.Client) -> None:
    env = cloud.os_env("sg-member", "pw", "sg-project")
    group = json.loads(cloud.openstack("security", "group", "create", "web", "-f", "json",
                                       env=env).stdout)
    # A new group carries Neutron's two egress rules.
    assert sorted((r["direction"], r["ethertype"]) for r in group["rules"]) == [
        ("egress", "IPv4"), ("egress", "IPv6")]

    ssh = json.loads(cloud.openstack("security", "group", "rule", "create", "--protocol", "tcp",
                                     "--dst-port", "22", "--remote-ip", "10.0.0.0/8", "web",
                                     "-f", "json", env=env).stdout)
    assert {k: ssh[k] for k in ("direction", "ether_type", "protocol", "port_range_min",
                                "port_range_max", "remote_ip_prefix", "normalized_cidr")} == {
        "direction": "ingress", "ether_type": "IPv4", "protocol": "tcp",
        "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "10.0.0.0/8",
        "normalized_cidr": "10.0.0.0/8"}
    ping = json.loads(cloud.openstack("security", "group", "rule", "create", "--protocol",
                                      "icmp", "--icmp-type", "8", "--ingress", "web", "-f",
                                      "json", env=env).stdout)
    assert (ping["protocol"], ping["port_range_min"], ping["remote_ip_prefix"]) == (
        "icmp", 8, "0.0.0.0/0")

    listed = json.loads(cloud.openstack("security", "group", "rule", "list", "web", "-f",
                                        "json", env=env).stdout)
    assert {r["ID"] for r in listed} >= {ssh["id"], ping["id"]} and len(listed) == 4
    assert [r["Port Range"] for r in listed if r["ID"] == ssh["id"]] == ["22:22"]
    ingress = json.loads(cloud.openstack("security", "group", "rule", "list", "--ingress",
                                         "--protocol", "tcp", "-f", "json", env=env).stdout)
    assert [r["ID"] for r in ingress] == [ssh["id"]]

    shown = json.loads(cloud.openstack("security", "group", "rule", "show", ssh["id"], "-f",
                                       "json", env=env).stdout)
    assert shown["id"] == ssh["id"] and shown["security_group_id"] == group["id"]

    # The same rule again is Neutron's 409, naming the rule that exists.
    again = cloud.openstack("security", "group", "rule", "create", "--protocol", "tcp",
                            "--dst-port", "22", "--remote-ip", "10.0.0.0/8", "web", env=env,
                            check=False)
    assert again.returncode == 1
    assert (f"Security group rule already exists. Rule id is {ssh['id']}."
            in again.stderr), again.stderr

    cloud.openstack("security", "group", "rule", "delete", ssh["id"], ping["id"], env=env)
    after = json.loads(cloud.openstack("security", "group", "show", "web", "-f", "json",
                                       env=env).stdout)
    assert len(after["rules"]) == 2
    assert admin.get(f"{NET}/security-group-rules/{ssh['id']}").status_code == 404


def test_the_default_group_lets_in_its_members(member: httpx.Client) -> None:
    groups = member.get(f"{NET}/security-groups", params={"name": "default"}).json()
    default = groups["security_groups"][0]
    ingress = [r for r in default["security_group_rules"] if r["direction"] == "ingress"]
    assert sorted((r["ethertype"], r["remote_group_id"]) for r in ingress) == [
        ("IPv4", default["id"]), ("IPv6", default["id"])]


@pytest.mark.parametrize(("body", "status", "kind", "message"), [
    ({"protocol": "tcp", "port_range_min": 30, "port_range_max": 20}, 400,
     "SecurityGroupInvalidPortRange",
     "For TCP/UDP protocols, port_range_min must be <= port_range_max"),
    ({"protocol": "udp", "port_range_min": 0, "port_range_max": 10}, 400,
     "SecurityGroupInvalidPortValue", "Invalid value for port 0"),
    ({"port_range_min": 80, "port_range_max": 80}, 400,
     "SecurityGroupProtocolRequiredWithPorts",
     "Must also specify protocol if port range is given."),
    ({"protocol": "tcp", "port_range_min": 70000}, 400, "SecurityGroupInvalidPortValue",
     "Invalid value for port 70000"),
    ({"protocol": "icmp", "port_range_min": 256}, 400, "SecurityGroupInvalidIcmpValue",
     "Invalid value for ICMP type (port_range_min) 256. It must be 0 to 255."),
    ({"protocol": "gre", "port_range_min": 1, "port_range_max": 2}, 400,
     "SecurityGroupInvalidProtocolForPort",
     "Ports cannot be specified for protocol 47. Ports are only supported for DCCP, SCTP, "
     "TCP, UDP, UDPLITE."),
    ({"ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/8"}, 400,
     "SecurityGroupRuleParameterConflict", "Conflicting value ethertype IPv6 for CIDR "
                                           "10.0.0.0/8"),
    ({"remote_ip_prefix": "10.0.0.0/40"}, 400, "InvalidCIDR",
     "Invalid CIDR 10.0.0.0/40 given as IP prefix."),
    ({"ethertype": "ipx"}, 400, "SecurityGroupRuleInvalidEtherType",
     "Security group rule for ethertype 'ipx' not supported. Allowed values are "
     "['IPv4', 'IPv6']."),
    ({"direction": "sideways"}, 400, "HTTPBadRequest",
     "Invalid input for direction. Reason: sideways is not in valid_values."),
    ({"protocol": "tcp", "remote_group_id": "1d3e5d7c-0000-4000-8000-000000000000"}, 404,
     "SecurityGroupNotFound",
     "Security group 1d3e5d7c-0000-4000-8000-000000000000 does not exist"),
    ({"name": "x"}, 400, "HTTPBadRequest", "Unrecognized attribute(s) 'name'"),
])
def test_bad_rules_get_neutrons_answer(member: httpx.Client, checks: str, body: dict[str, Any],
                                       status: int, kind: str, message: str) -> None:
    _error(_rule(member, **{"security_group_id": checks, "direction": "ingress", **body}),
           status, kind, message)


def test_a_rule_equal_in_spelling_only_is_a_duplicate(member: httpx.Client) -> None:
    group = _group(member, "dups")
    first = _rule(member, security_group_id=group["id"], direction="ingress", protocol="tcp",
                  port_range_min=443, port_range_max=443)
    assert first.status_code == 201, first.text
    rule_id = first.json()["security_group_rule"]["id"]
    # 6 is tcp, and 0.0.0.0/0 is the same remote as none.
    _error(_rule(member, security_group_id=group["id"], direction="ingress", protocol="6",
                 port_range_min=443, port_range_max=443, remote_ip_prefix="0.0.0.0/0"),
           409, "SecurityGroupRuleExists",
           f"Security group rule already exists. Rule id is {rule_id}.")
    # The default egress rules count too.
    egress = next(r["id"] for r in group["security_group_rules"] if r["ethertype"] == "IPv4")
    _error(_rule(member, security_group_id=group["id"], direction="egress",
                 remote_ip_prefix="0.0.0.0/0"), 409, "SecurityGroupRuleExists",
           f"Security group rule already exists. Rule id is {egress}.")


def test_who_may_touch_a_rule(cloud: Cloud, member: httpx.Client) -> None:
    group = _group(member, "owned")
    created = _rule(member, security_group_id=group["id"], direction="ingress",
                    protocol="udp", port_range_min=53, port_range_max=53)
    rule_id = created.json()["security_group_rule"]["id"]
    with cloud.client("sg-other", "pw", "sg-other-project") as other, \
            cloud.client("sg-reader", "pw", "sg-project") as reader:
        _error(_rule(other, security_group_id=group["id"], direction="egress"), 403,
               "PolicyNotAuthorized",
               "(rule:create_security_group_rule) is disallowed by policy")
        _error(other.get(f"{NET}/security-group-rules/{rule_id}"), 404,
               "SecurityGroupRuleNotFound", f"Security group rule {rule_id} does not exist")
        assert rule_id not in {r["id"] for r in other.get(f"{NET}/security-group-rules").json()[
            "security_group_rules"]}
        _error(other.delete(f"{NET}/security-group-rules/{rule_id}"), 404,
               "SecurityGroupRuleNotFound", f"Security group rule {rule_id} does not exist")
        assert reader.get(f"{NET}/security-group-rules/{rule_id}").status_code == 200
        _error(reader.delete(f"{NET}/security-group-rules/{rule_id}"), 403,
               "PolicyNotAuthorized",
               "(rule:delete_security_group_rule) is disallowed by policy")
    missing = "0c2d4e6f-0000-4000-8000-000000000000"
    _error(_rule(member, security_group_id=missing, direction="ingress"), 404,
           "SecurityGroupNotFound", f"Security group {missing} does not exist")
    # A group's rules, and the rules naming it as remote, go with it.
    web = _group(member, "web-tier")
    from_owned = _rule(member, security_group_id=web["id"], direction="ingress",
                       remote_group_id=group["id"]).json()["security_group_rule"]["id"]
    assert member.delete(f"{NET}/security-groups/{group['id']}").status_code == 204
    assert member.get(f"{NET}/security-group-rules/{rule_id}").status_code == 404
    assert member.get(f"{NET}/security-group-rules/{from_owned}").status_code == 404


def test_a_rule_bumps_its_groups_revision(member: httpx.Client) -> None:
    group = _group(member, "revisions")
    _rule(member, security_group_id=group["id"], direction="ingress", protocol="tcp")
    shown = member.get(f"{NET}/security-groups/{group['id']}").json()["security_group"]
    assert shown["revision_number"] == group["revision_number"] + 1


def test_rules_and_groups_count_against_the_projects_quota(cloud: Cloud,
                                                           admin: httpx.Client) -> None:
    cloud.make_user("sg-quota", "sg-quota-project")
    with cloud.client("sg-quota", "pw", "sg-quota-project") as client:
        project = client.get("/identity/v3/auth/tokens", headers={
            "X-Subject-Token": cloud.token("sg-quota", "pw", "sg-quota-project")}).json()[
            "token"]["project"]["id"]
        group = _group(client, "q")   # the default group and this one: 6 rules, 2 groups
        assert admin.put(f"{NET}/quotas/{project}", json={"quota": {
            "security_group_rule": 7, "security_group": 3}}).status_code == 200
        assert _rule(client, security_group_id=group["id"], direction="ingress",
                     protocol="tcp").status_code == 201
        _error(_rule(client, security_group_id=group["id"], direction="ingress",
                     protocol="udp"), 409, "OverQuota",
               "Quota exceeded for resources: ['security_group_rule'].")
        # A third group fits the group quota, but not its two rules.
        _error(client.post(f"{NET}/security-groups", json={"security_group": {"name": "r"}}),
               409, "OverQuota", "Quota exceeded for resources: ['security_group_rule'].")
        assert admin.put(f"{NET}/quotas/{project}", json={"quota": {
            "security_group_rule": -1, "security_group": 2}}).status_code == 200
        _error(client.post(f"{NET}/security-groups", json={"security_group": {"name": "g"}}),
               409, "OverQuota", "Quota exceeded for resources: ['security_group'].")
