"""Policy-level rules and attributes, as Neutron checks them (neutron services/qos/qos_plugin.py,
objects/qos/qos_policy_validator.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from vmqos.errors import ConflictError, ValidationError
from vmqos.intent.neutron.model import (
    BandwidthLimitRule,
    DscpMarkingRule,
    MinimumBandwidthRule,
    MinimumPacketRateRule,
    PacketRateLimitRule,
    QosPolicy,
    Rule,
)
from vmqos.intent.neutron.policy import (
    QosRuleNotFound,
    add_rule,
    check_default_unique,
    check_new_rule,
    parse_policy,
    parse_policy_update,
    remove_rule,
    replace_rule,
    update_policy,
    update_policy_rule,
)
from vmqos.intent.neutron.rules import parse_rule, parse_rule_update
from vmqos.model import Direction

IN, OUT = Direction.INBOUND, Direction.OUTBOUND


def policy(*rules: Rule) -> QosPolicy:
    return QosPolicy(name="p1", id="P", rules=rules)


def put_rule(p: QosPolicy, rule_id: str, body: dict[str, object]) -> tuple[QosPolicy, Rule]:
    """A bandwidth limit rule PUT: the body validated, then applied."""
    return update_policy_rule(p, rule_id, parse_rule_update("bandwidth_limit", body))


def conflict(p: QosPolicy, rule: Rule) -> ConflictError:
    with pytest.raises(ConflictError) as info:
        add_rule(p, rule)
    return info.value


# --- conflicts (qos_policy_validator.py check_rules_conflict, check_bandwidth_rule_conflict) --

def test_second_bw_egress_rule_conflicts() -> None:
    p = policy(BandwidthLimitRule(max_kbps=1000, id="r1"))
    err = conflict(p, BandwidthLimitRule(max_kbps=5, max_burst_kbps=9, id="r2"))
    assert err.kind == "QoSRulesConflict"
    assert err.http_status == 409
    assert str(err) == ("Rule bandwidth_limit conflicts with rule r1 which already exists in "
                        "QoS Policy P.")


def test_bw_egress_and_ingress_coexist() -> None:
    p = add_rule(policy(BandwidthLimitRule(max_kbps=1000, id="r1")),
                 BandwidthLimitRule(max_kbps=2000, direction=IN, id="r2"))
    assert [r.id for r in p.rules] == ["r1", "r2"]


def test_second_dscp_rule_conflicts() -> None:
    err = conflict(policy(DscpMarkingRule(dscp_mark=26, id="d1")),
                   DscpMarkingRule(dscp_mark=46, id="d2"))
    assert err.kind == "QoSRulesConflict"
    assert str(err) == ("Rule dscp_marking conflicts with rule d1 which already exists in "
                        "QoS Policy P.")


@pytest.mark.parametrize("rule", [
    MinimumBandwidthRule(min_kbps=1, id="x"),
    PacketRateLimitRule(max_kpps=1, id="x"),
    MinimumPacketRateRule(min_kpps=1, id="x"),
])
def test_one_rule_per_type_and_direction(rule: Rule) -> None:
    p = add_rule(policy(), rule)
    assert conflict(p, replace(rule, id="y")).kind == "QoSRulesConflict"


def test_min_bw_above_existing_max_conflicts() -> None:
    err = conflict(policy(BandwidthLimitRule(max_kbps=1000, id="r1")),
                   MinimumBandwidthRule(min_kbps=2000, id="m1"))
    assert err.kind == "QoSRuleParameterConflict"
    assert str(err) == ("Unable to add the rule with value 2000 to the policy P as the existing "
                        "rule of type bandwidth_limit has value 1000.")
    assert (err.key, err.value) == ("min_kbps", 2000)


def test_min_bw_equal_to_max_is_allowed() -> None:
    limit, minimum = BandwidthLimitRule(max_kbps=1000, id="r1"), MinimumBandwidthRule(
        min_kbps=1000, id="m1")
    assert add_rule(policy(limit), minimum) == policy(limit, minimum)


def test_min_bw_ingress_vs_bw_egress_is_not_compared() -> None:
    # Direction-aware since the fix for bug 2100853 (26.0.0).
    limit = BandwidthLimitRule(max_kbps=1000, id="r1")
    minimum = MinimumBandwidthRule(min_kbps=2000, direction=IN, id="m1")
    assert add_rule(policy(limit), minimum) == policy(limit, minimum)


def test_bw_below_existing_min_conflicts() -> None:
    err = conflict(policy(MinimumBandwidthRule(min_kbps=2000, id="m1")),
                   BandwidthLimitRule(max_kbps=1000, id="r1"))
    assert err.kind == "QoSRuleParameterConflict"
    assert str(err) == ("Unable to add the rule with value 1000 to the policy P as the existing "
                        "rule of type minimum_bandwidth has value 2000.")


@pytest.mark.parametrize(("existing", "new", "value", "existing_value"), [
    (OUT, None, "any", "egress"),
    (None, OUT, "egress", "any"),
    (None, IN, "ingress", "any"),
])
def test_min_pps_any_and_directional_do_not_mix(existing: Direction | None,
                                               new: Direction | None, value: str,
                                               existing_value: str) -> None:
    err = conflict(policy(MinimumPacketRateRule(min_kpps=10, direction=existing, id="a")),
                   MinimumPacketRateRule(min_kpps=10, direction=new, id="b"))
    assert err.kind == "QoSRuleParameterConflict"
    assert str(err) == (f"Unable to add the rule with value {value} to the policy P as the "
                        f"existing rule of type minimum_packet_rate has value {existing_value}.")


def test_min_pps_egress_and_ingress_coexist() -> None:
    egress = MinimumPacketRateRule(min_kpps=10, id="a")
    ingress = MinimumPacketRateRule(min_kpps=10, direction=IN, id="b")
    assert add_rule(policy(egress), ingress) == policy(egress, ingress)


def test_parameter_conflict_is_checked_before_duplicates() -> None:
    # create_policy_rule: check_bandwidth_rule_conflict runs first.
    p = policy(BandwidthLimitRule(max_kbps=5000, id="r1"),
               MinimumBandwidthRule(min_kbps=2000, id="m1"))
    assert conflict(p, BandwidthLimitRule(max_kbps=1000, id="r2")).kind == \
        "QoSRuleParameterConflict"


def test_rules_without_ids_are_not_the_same_rule() -> None:
    err = conflict(policy(BandwidthLimitRule(max_kbps=1)), BandwidthLimitRule(max_kbps=2))
    assert str(err) == ("Rule bandwidth_limit conflicts with rule bandwidth_limit (egress) which "
                        "already exists in QoS Policy P.")


# --- updates ----------------------------------------------------------------------------------

def test_a_rule_compared_with_itself_is_not_a_conflict() -> None:
    p = policy(BandwidthLimitRule(max_kbps=1000, id="r1"), DscpMarkingRule(8, id="d1"))
    updated = replace_rule(p, BandwidthLimitRule(max_kbps=2000, id="r1"))
    assert updated.rules == (BandwidthLimitRule(max_kbps=2000, id="r1"), DscpMarkingRule(8, "d1"))
    assert replace_rule(p, DscpMarkingRule(46, id="d1")).rules[1] == DscpMarkingRule(46, "d1")
    check_new_rule(p, BandwidthLimitRule(max_kbps=1, id="r1"))


def test_update_into_an_existing_direction_conflicts() -> None:
    p = policy(BandwidthLimitRule(max_kbps=1000, id="r1"),
               BandwidthLimitRule(max_kbps=1000, direction=IN, id="r2"))
    with pytest.raises(ConflictError) as info:
        put_rule(p, "r2", {"direction": "egress"})
    assert str(info.value) == ("Rule bandwidth_limit conflicts with rule r1 which already exists "
                               "in QoS Policy P.")


def test_update_without_direction_checks_all_directions() -> None:
    p = policy(BandwidthLimitRule(max_kbps=5000, id="r1"),
               MinimumBandwidthRule(min_kbps=2000, direction=IN, id="m1"))
    # The body has no direction: Neutron compares against the ingress minimum too.
    with pytest.raises(ConflictError) as info:
        put_rule(p, "r1", {"max_kbps": 1500})
    assert str(info.value) == ("Unable to add the rule with value 1500 to the policy P as the "
                               "existing rule of type minimum_bandwidth has value 2000.")
    # With the direction given, only egress rules are compared.
    new_p, rule = put_rule(p, "r1", {"max_kbps": 1500, "direction": "egress"})
    assert rule == BandwidthLimitRule(max_kbps=1500, id="r1")
    assert new_p.rules[0] == rule


def test_update_without_max_kbps_skips_the_min_max_check() -> None:
    p = policy(BandwidthLimitRule(max_kbps=1000, id="r1"),
               MinimumBandwidthRule(min_kbps=1000, id="m1"))
    new_p, rule = put_rule(p, "r1", {"max_burst_kbps": 80})
    assert rule == BandwidthLimitRule(max_kbps=1000, max_burst_kbps=80, id="r1")
    assert len(new_p.rules) == 2


def test_update_validates_body_like_the_api() -> None:
    with pytest.raises(ValidationError) as info:
        put_rule(policy(BandwidthLimitRule(max_kbps=1, id="r1")), "r1",
                           {"max_kbps": "abc"})
    assert str(info.value) == "Invalid input for operation: 'abc' is not an integer."


def test_rule_not_found() -> None:
    p = policy(BandwidthLimitRule(max_kbps=1, id="r1"))
    with pytest.raises(QosRuleNotFound) as info:
        replace_rule(p, BandwidthLimitRule(max_kbps=1, id="zz"))
    assert str(info.value) == "QoS rule zz for policy P could not be found."
    assert info.value.http_status == 404
    with pytest.raises(QosRuleNotFound):
        replace_rule(p, DscpMarkingRule(8, id="r1"))  # same id, other type
    assert remove_rule(p, "r1").rules == ()
    with pytest.raises(QosRuleNotFound):
        remove_rule(p, "r9")


def test_add_rule_returns_a_new_value() -> None:
    p = policy()
    q = add_rule(p, parse_rule("bandwidth_limit", {"max_kbps": "10000"}, rule_id="r1"))
    assert p.rules == ()
    assert q.rules == (BandwidthLimitRule(max_kbps=10000, id="r1"),)


# --- policy attributes ------------------------------------------------------------------------

def test_policy_defaults() -> None:
    p = parse_policy({"name": "p1"}, policy_id="P")
    assert p == QosPolicy(name="p1", id="P", description="", shared=False, is_default=False,
                          rules=())


@pytest.mark.parametrize(("value", "expected"), [
    (True, True), (False, False), ("True", True), ("false", False), ("1", True), ("0", False),
    (1, True), (0, False), (" yes ", True), ("off", False), ("t", True), ("N", False),
])
def test_boolean_conversion(value: object, expected: bool) -> None:
    assert parse_policy({"shared": value}).shared is expected
    assert parse_policy({"is_default": value}).is_default is expected


@pytest.mark.parametrize("value", ["maybe", 2, "", None, 1.0])
def test_boolean_rejected(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        parse_policy({"shared": value})
    assert str(info.value) == f"Invalid input for operation: '{value}' cannot be converted to " \
        "boolean."
    assert info.value.key == "shared"


@pytest.mark.parametrize(("body", "message"), [
    ({"name": "x" * 256},
     f"Invalid input for name. Reason: '{'x' * 256}' exceeds maximum length of 255."),
    ({"description": "d" * 256},
     f"Invalid input for description. Reason: '{'d' * 256}' exceeds maximum length of 255."),
    ({"name": 5}, "Invalid input for name. Reason: '5' is not a valid string."),
    ({"name": " lead"}, "Invalid input for name. Reason: ' lead' is not a valid string."),
    ({"name": "tail "}, "Invalid input for name. Reason: 'tail ' is not a valid string."),
    ({"name": "a\tb"}, "Invalid input for name. Reason: 'a\tb' is not a valid string."),
    # populate_project_info gave it a twin, and tenant_id comes first in the map.
    ({"project_id": "p" * 256},
     f"Invalid input for tenant_id. Reason: '{'p' * 256}' exceeds maximum length of 255."),
    ({"foo": 1}, "Unrecognized attribute(s) 'foo'"),
    ({"id": "P"}, "Attribute 'id' not allowed in POST"),
    ({"rules": []}, "Attribute 'rules' not allowed in POST"),
    ({"project_id": "a", "tenant_id": "b"}, "'project_id' and 'tenant_id' do not match"),
])
def test_policy_rejected(body: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_policy(body)
    assert str(info.value) == message


@pytest.mark.parametrize("name", ["", "x" * 255, "10Mbit policy", "ünïcode", "abc\n"])
def test_policy_names_accepted(name: str) -> None:
    assert parse_policy({"name": name}).name == name


def test_policy_project_and_update() -> None:
    p = parse_policy({"name": "a", "tenant_id": "proj", "description": "d", "shared": "true"})
    assert (p.project_id, p.description, p.shared) == ("proj", "d", True)
    q = update_policy(p, parse_policy_update({"name": "b", "is_default": "1"}))
    assert (q.name, q.is_default, q.project_id, q.shared) == ("b", True, "proj", True)
    with pytest.raises(ValidationError) as info:
        parse_policy_update({"project_id": "other"})
    assert str(info.value) == "Cannot update read-only attribute tenant_id"
    with pytest.raises(ValidationError) as info:
        parse_policy_update({"id": "x"})
    assert str(info.value) == "Cannot update read-only attribute id"


def test_default_policy_unique_per_project() -> None:
    p1 = QosPolicy(name="p1", id="P1", is_default=True, project_id="proj")
    p2 = QosPolicy(name="p2", id="P2", is_default=True, project_id="proj")
    with pytest.raises(ConflictError) as info:
        check_default_unique([p1], p2)
    assert info.value.kind == "QoSPolicyDefaultAlreadyExists"
    assert str(info.value) == "A default QoS policy exists for project proj."
    # Another project, a non-default candidate, or the default itself: fine.
    check_default_unique([p1], QosPolicy(name="x", id="X", is_default=True, project_id="o"))
    check_default_unique([p1], QosPolicy(name="x", id="X", project_id="proj"))
    check_default_unique([p1], p1)
