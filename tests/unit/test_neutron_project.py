"""The project twins ``tenant_id``/``project_id`` of QoS policy and rule bodies, as Neutron
answers them (neutron_lib/api/attributes.py ``populate_project_info``, ``_validate_privileges``,
``AttributeInfo.populate_project_id``; neutron/api/v2/base.py ``prepare_request_body``, which runs
them before ``verify_attributes``, ``fill_post_defaults`` and ``convert_values``; the attribute
maps of neutron_lib/api/definitions/qos.py, qos_rules_alias.py, qos_pps_minimum_rule_alias.py).

Messages are neutron-lib's, verbatim. Where Neutron joins a set of unknown names (in an order
that changes with the process's hash seed) vmqos sorts them: the literal here is the sorted one.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from vmqos.errors import ValidationError
from vmqos.intent.neutron.model import BandwidthLimitRule, RuleType
from vmqos.intent.neutron.policy import (
    PolicyUpdate,
    parse_policy,
    parse_policy_update,
    update_policy,
)
from vmqos.intent.neutron.project import Requester, populate_project_id, populate_project_info
from vmqos.intent.neutron.rules import RuleRoute, parse_rule, parse_rule_spec, parse_rule_update

MISMATCH = "'project_id' and 'tenant_id' do not match"
PRIVILEGES = ("Specifying 'project_id' other than the authenticated project in request is not "
              "allowed for the current user.")
BOTH_UNKNOWN = "Unrecognized attribute(s) 'project_id, tenant_id'"
READ_ONLY = "Cannot update read-only attribute tenant_id"

MEMBER = Requester(project_id="mine", can_set_project_id=False)
ADMIN = Requester(project_id="admins", can_set_project_id=True)

# One valid body per rule type.
VALID = {
    "bandwidth_limit": {"max_kbps": 1000},
    "dscp_marking": {"dscp_mark": 26},
    "minimum_bandwidth": {"min_kbps": 1000},
    "packet_rate_limit": {"max_kpps": 1000},
    "minimum_packet_rate": {"min_kpps": 1000},
}


def _message(call: Callable[[], object]) -> str:
    with pytest.raises(ValidationError) as info:
        call()
    return str(info.value)


# --- populate_project_info / _validate_privileges ---------------------------------------------

@pytest.mark.parametrize(("body", "populated"), [
    ({}, {}),
    ({"tenant_id": "p"}, {"tenant_id": "p", "project_id": "p"}),
    ({"project_id": "p"}, {"project_id": "p", "tenant_id": "p"}),
    ({"tenant_id": "p", "project_id": "p"}, {"tenant_id": "p", "project_id": "p"}),
    # Any JSON value is copied, and Python's == decides: 1 == True == 1.0.
    ({"tenant_id": 5}, {"tenant_id": 5, "project_id": 5}),
    ({"project_id": None}, {"project_id": None, "tenant_id": None}),
    ({"tenant_id": 1, "project_id": True}, {"tenant_id": 1, "project_id": True}),
    ({"tenant_id": 1.0, "project_id": 1}, {"tenant_id": 1.0, "project_id": 1}),
    ({"foo": 1, "tenant_id": "p"}, {"foo": 1, "tenant_id": "p", "project_id": "p"}),
])
def test_the_missing_twin_is_added(body: dict[str, object],
                                   populated: dict[str, object]) -> None:
    before = dict(body)
    out = populate_project_info(body)
    assert out == populated
    assert list(out) == list(populated)   # the twin goes after the body's own keys
    assert body == before                 # the caller's body is left as it was


@pytest.mark.parametrize("body", [
    {"tenant_id": "a", "project_id": "b"},
    {"tenant_id": "1", "project_id": 1},
    {"tenant_id": None, "project_id": ""},
    {"tenant_id": ["p"], "project_id": "p"},
])
def test_twins_that_differ(body: dict[str, object]) -> None:
    assert _message(lambda: populate_project_info(body)) == MISMATCH


@pytest.mark.parametrize(("body", "requester", "refused"), [
    ({"tenant_id": "other"}, MEMBER, True),
    ({"project_id": "other"}, MEMBER, True),
    ({"project_id": 5}, MEMBER, True),       # never equal to the token's project
    ({"project_id": None}, MEMBER, True),
    ({"tenant_id": "mine"}, MEMBER, False),
    ({"tenant_id": "other"}, ADMIN, False),
    ({"tenant_id": "other"}, Requester("mine", can_set_project_id=True), False),
    ({"tenant_id": "other"}, None, False),   # no token: nothing to compare with
    ({}, MEMBER, False),
])
def test_privileges(body: dict[str, object], requester: Requester | None,
                    refused: bool) -> None:
    if refused:
        assert _message(lambda: populate_project_id(body, requester)) == PRIVILEGES
    else:
        assert populate_project_id(body, requester) == populate_project_info(body)


def test_a_mismatch_is_answered_before_the_privileges() -> None:
    body = {"tenant_id": "other", "project_id": "else"}
    assert _message(lambda: populate_project_id(body, MEMBER)) == MISMATCH


# --- rule bodies: POST on .../policies/P/<type>_rules ----------------------------------------

TWINS_ON_RULES: list[tuple[dict[str, object], str]] = [
    ({"tenant_id": "p"}, BOTH_UNKNOWN),
    ({"project_id": "p"}, BOTH_UNKNOWN),
    ({"tenant_id": "p", "project_id": "p"}, BOTH_UNKNOWN),
    ({"tenant_id": "p", "project_id": "q"}, MISMATCH),
    ({"tenant_id": 1, "project_id": True}, BOTH_UNKNOWN),
    ({"tenant_id": "1", "project_id": 1}, MISMATCH),
    ({"foo": 1, "tenant_id": "p"}, "Unrecognized attribute(s) 'foo, project_id, tenant_id'"),
    ({"foo": 1, "tenant_id": "p", "project_id": "q"}, MISMATCH),
    ({"id": "x", "tenant_id": "p", "project_id": "q"}, MISMATCH),
]


@pytest.mark.parametrize("rule_type", VALID)
@pytest.mark.parametrize(("extra", "message"), TWINS_ON_RULES)
def test_rule_post_twins(rule_type: str, extra: dict[str, object], message: str) -> None:
    body = {**VALID[rule_type], **extra}
    assert _message(lambda: parse_rule(rule_type, body)) == message


@pytest.mark.parametrize("rule_type", VALID)
def test_rule_twins_before_the_values(rule_type: str) -> None:
    """verify_attributes runs before convert_values: a bad value is not what is reported."""
    (name,) = (k for k in VALID[rule_type] if k != "direction")
    assert _message(lambda: parse_rule(rule_type, {name: "abc", "tenant_id": "p"})) \
        == BOTH_UNKNOWN
    assert _message(lambda: parse_rule(rule_type, {"tenant_id": "p"})) == BOTH_UNKNOWN
    assert _message(lambda: parse_rule(rule_type, {name: "abc", "tenant_id": "p",
                                                   "project_id": "q"})) == MISMATCH


@pytest.mark.parametrize(("requester", "message"), [
    (MEMBER, PRIVILEGES),
    (ADMIN, "Unrecognized attribute(s) 'foo, project_id, tenant_id'"),
    (Requester("other", False), "Unrecognized attribute(s) 'foo, project_id, tenant_id'"),
])
def test_rule_post_who_names_another_project(requester: Requester, message: str) -> None:
    """The privilege refusal comes before the unknown attribute it travels with."""
    body = {"max_kbps": 1, "project_id": "other", "foo": 1}
    assert _message(lambda: parse_rule("bandwidth_limit", body, requester=requester)) == message


def test_rule_post_without_twins_is_unchanged_by_a_requester() -> None:
    assert parse_rule("bandwidth_limit", {"max_kbps": 1}, requester=MEMBER) == \
        BandwidthLimitRule(max_kbps=1)


# --- rule bodies: PUT, through the policy's route and the alias routes -----------------------

@pytest.mark.parametrize("rule_type", VALID)
@pytest.mark.parametrize(("extra", "message"), TWINS_ON_RULES)
def test_rule_put_twins_on_the_policy_route(rule_type: str, extra: dict[str, object],
                                           message: str) -> None:
    body = {**VALID[rule_type], **extra}
    assert _message(lambda: parse_rule_update(rule_type, body)) == message


ALIAS_WITH_TENANT = ("bandwidth_limit", "dscp_marking", "minimum_bandwidth")


@pytest.mark.parametrize("rule_type", ALIAS_WITH_TENANT)
@pytest.mark.parametrize(("extra", "message"), [
    ({"tenant_id": "p"}, READ_ONLY),
    ({"project_id": "p"}, READ_ONLY),   # its twin is what the map meets first
    ({"tenant_id": "p", "project_id": "p"}, READ_ONLY),
    ({"tenant_id": 5}, READ_ONLY),
    ({"tenant_id": "p", "project_id": "q"}, MISMATCH),
    ({"foo": 1, "project_id": "p"}, "Unrecognized attribute(s) 'foo'"),
    ({"foo": 1, "tenant_id": "p", "project_id": "q"}, MISMATCH),
    ({"id": "x", "project_id": "p"}, "Cannot update read-only attribute id"),
])
def test_rule_put_twins_on_the_rules_alias(rule_type: str, extra: dict[str, object],
                                           message: str) -> None:
    """qos_rules_alias.py: these three maps hold ``tenant_id`` (allow_put False)."""
    body = {**VALID[rule_type], **extra}
    assert _message(lambda: parse_rule_update(rule_type, body, route=RuleRoute.ALIAS)) == message


@pytest.mark.parametrize(("extra", "message"), [
    ({"tenant_id": "p"}, BOTH_UNKNOWN),
    ({"tenant_id": "p", "project_id": "q"}, MISMATCH),
    ({"foo": 1, "project_id": "p"}, "Unrecognized attribute(s) 'foo, project_id, tenant_id'"),
])
def test_rule_put_twins_on_the_minimum_packet_rate_alias(extra: dict[str, object],
                                                         message: str) -> None:
    """qos_pps_minimum_rule_alias.py builds its map from qos._QOS_RULE_COMMON_FIELDS: id only."""
    body = {"min_kpps": 1, **extra}
    assert _message(lambda: parse_rule_update("minimum_packet_rate", body,
                                              route=RuleRoute.ALIAS)) == message


@pytest.mark.parametrize(("requester", "message"), [
    (MEMBER, PRIVILEGES), (ADMIN, READ_ONLY), (Requester("other", False), READ_ONLY)])
def test_alias_put_who_names_another_project(requester: Requester, message: str) -> None:
    assert _message(lambda: parse_rule_update(
        RuleType.DSCP_MARKING, {"dscp_mark": 8, "project_id": "other"}, route=RuleRoute.ALIAS,
        requester=requester)) == message


def test_a_rule_put_without_twins_applies() -> None:
    update = parse_rule_update("dscp_marking", {"dscp_mark": "8"}, route=RuleRoute.ALIAS,
                               requester=MEMBER)
    assert (update.type, dict(update.values), update.given) == (
        RuleType.DSCP_MARKING, {"dscp_mark": 8}, frozenset({"dscp_mark"}))
    assert parse_rule_update("bandwidth_limit", {"direction": "ingress"}).values == {
        "direction": "ingress"}


# --- the CLI spelling: vmqos validate --rule TYPE:KEY=VALUE,... ------------------------------

@pytest.mark.parametrize(("text", "message"), [
    ("bandwidth_limit:max_kbps=1,tenant_id=p", BOTH_UNKNOWN),
    ("bandwidth-limit:max-kbps=1,project-id=p", BOTH_UNKNOWN),
    ("dscp_marking:dscp_mark=26,tenant_id=p,project_id=p", BOTH_UNKNOWN),
    ("minimum_bandwidth:min_kbps=1,tenant_id=p,project_id=q", MISMATCH),
    ("packet_rate_limit:max_kpps=1,tenant_id=1,project_id=1.0", MISMATCH),   # strings differ
    ("minimum_packet_rate:min_kpps=1,foo=1,tenant_id=p",
     "Unrecognized attribute(s) 'foo, project_id, tenant_id'"),
    ("bandwidth_limit:max_kbps=abc,foo=1,tenant_id=p,project_id=q", MISMATCH),
])
def test_rule_spec_twins(text: str, message: str) -> None:
    assert _message(lambda: parse_rule_spec(text)) == message


# --- policy bodies: POST /qos/policies ------------------------------------------------------

@pytest.mark.parametrize(("body", "project"), [
    ({"tenant_id": "p"}, "p"),
    ({"project_id": "p"}, "p"),
    ({"tenant_id": "p", "project_id": "p"}, "p"),
    ({}, ""),   # no requester: the caller fills it
])
def test_policy_post_project(body: dict[str, object], project: str) -> None:
    assert parse_policy(body).project_id == project


@pytest.mark.parametrize(("body", "message"), [
    ({"tenant_id": "p", "project_id": "q"}, MISMATCH),
    ({"foo": 1, "tenant_id": "p", "project_id": "q"}, MISMATCH),
    ({"foo": 1, "tenant_id": "p"}, "Unrecognized attribute(s) 'foo'"),
    ({"foo": 1, "project_id": "p"}, "Unrecognized attribute(s) 'foo'"),
    ({"id": "P", "tenant_id": "p", "project_id": "q"}, MISMATCH),
    ({"id": "P", "project_id": 5}, "Attribute 'id' not allowed in POST"),
    # fill_post_defaults (allow_post) before convert_values.
    ({"rules": [], "project_id": 5}, "Attribute 'rules' not allowed in POST"),
    # convert_values walks the map: name, shared, tenant_id, ..., the appended project_id.
    ({"tenant_id": 5}, "Invalid input for tenant_id. Reason: '5' is not a valid string."),
    ({"project_id": 5}, "Invalid input for tenant_id. Reason: '5' is not a valid string."),
    ({"project_id": None}, "Invalid input for tenant_id. Reason: 'None' is not a valid string."),
    ({"project_id": ["p"]},
     "Invalid input for tenant_id. Reason: '['p']' is not a valid string."),
    ({"tenant_id": 1, "project_id": True},
     "Invalid input for tenant_id. Reason: '1' is not a valid string."),
    ({"name": 5, "project_id": 5}, "Invalid input for name. Reason: '5' is not a valid string."),
    ({"project_id": 5, "description": 5},
     "Invalid input for tenant_id. Reason: '5' is not a valid string."),
    # QoSPlugin.create_policy refuses an empty project, naming the wrong attribute.
    ({"project_id": ""}, 'Bad QoS policy request: Must have "policy_id".'),
])
def test_policy_post_refused(body: dict[str, object], message: str) -> None:
    assert _message(lambda: parse_policy(body)) == message


@pytest.mark.parametrize(("body", "requester", "project"), [
    ({}, MEMBER, "mine"),
    ({"name": "x"}, ADMIN, "admins"),
    ({"project_id": "mine"}, MEMBER, "mine"),
    ({"tenant_id": "other"}, ADMIN, "other"),
])
def test_policy_post_requester(body: dict[str, object], requester: Requester,
                               project: str) -> None:
    assert parse_policy(body, requester=requester).project_id == project


@pytest.mark.parametrize("body", [{"tenant_id": "other"}, {"project_id": "other"},
                                  {"project_id": 5, "foo": 1}, {"project_id": ""}])
def test_policy_post_member_naming_another_project(body: dict[str, object]) -> None:
    assert _message(lambda: parse_policy(body, requester=MEMBER)) == PRIVILEGES


# --- policy bodies: PUT /qos/policies/P ------------------------------------------------------

@pytest.mark.parametrize(("body", "message"), [
    ({"tenant_id": "p"}, READ_ONLY),
    ({"project_id": "p"}, READ_ONLY),
    ({"tenant_id": "p", "project_id": "p"}, READ_ONLY),
    ({"project_id": 5}, READ_ONLY),
    ({"rules": [], "project_id": "p"}, READ_ONLY),          # tenant_id precedes rules
    ({"id": "P", "project_id": "p"}, "Cannot update read-only attribute id"),
    ({"tenant_id": "p", "project_id": "q"}, MISMATCH),
    ({"foo": 1, "project_id": "p"}, "Unrecognized attribute(s) 'foo'"),
    ({"foo": 1, "tenant_id": "p", "project_id": "q"}, MISMATCH),
    ({"rules": []}, "Cannot update read-only attribute rules"),
])
def test_policy_put_refused(body: dict[str, object], message: str) -> None:
    assert _message(lambda: parse_policy_update(body)) == message


@pytest.mark.parametrize(("requester", "message"), [
    (MEMBER, PRIVILEGES), (ADMIN, READ_ONLY), (Requester("other", False), READ_ONLY)])
def test_policy_put_who_names_another_project(requester: Requester, message: str) -> None:
    assert _message(lambda: parse_policy_update({"project_id": "other"},
                                                requester=requester)) == message


def test_policy_put_changes_only_what_it_gives() -> None:
    p = parse_policy({"name": "a", "tenant_id": "proj", "shared": True}, policy_id="P")
    update = parse_policy_update({"description": "d"}, requester=MEMBER)
    assert update == PolicyUpdate(description="d")
    assert update_policy(p, update) == parse_policy(
        {"name": "a", "tenant_id": "proj", "shared": True, "description": "d"}, policy_id="P")
    assert update_policy(p, PolicyUpdate(shared=False)).shared is False
