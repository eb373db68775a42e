"""Rule bodies validated as the Neutron API does (neutron-lib api/definitions/qos.py and its
validators; api-ref v2 qos.inc for the response shapes)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vmqos.errors import ValidationError
from vmqos.intent.neutron.model import (
    BandwidthLimitRule,
    DscpMarkingRule,
    MinimumBandwidthRule,
    MinimumPacketRateRule,
    PacketRateLimitRule,
    Rule,
)
from vmqos.intent.neutron.rules import (
    RuleRoute,
    parse_rule,
    parse_rule_spec,
    parse_rule_update,
    rule_to_dict,
    update_rule,
)
from vmqos.model import Direction

MAX = 2147483647


# --- validation vectors, with Neutron's literal messages --------------------------------------

@pytest.mark.parametrize(("rule_type", "body", "message"), [
    ("bandwidth_limit", {},
     "Failed to parse request. Required attribute 'max_kbps' not specified"),
    ("bandwidth_limit", {"max_kbps": -1},
     "Invalid input for max_kbps. Reason: '-1' is too small - must be at least '0'."),
    ("bandwidth_limit", {"max_kbps": "-1"},
     "Invalid input for max_kbps. Reason: '-1' is too small - must be at least '0'."),
    ("bandwidth_limit", {"max_kbps": 2147483648},
     "Invalid input for max_kbps. Reason: '2147483648' is too large - must be no larger than "
     "'2147483647'."),
    ("bandwidth_limit", {"max_kbps": "abc"},
     "Invalid input for operation: 'abc' is not an integer."),
    ("bandwidth_limit", {"max_kbps": 1000, "direction": "any"},
     "Invalid input for direction. Reason: any is not in valid_values."),
    ("bandwidth_limit", {"max_kbps": 1000, "max_burst_kbps": -5},
     "Invalid input for max_burst_kbps. Reason: '-5' is too small - must be at least '0'."),
    ("bandwidth_limit", {"max_kbps": 1000, "direction": "EGRESS"},
     "Invalid input for direction. Reason: EGRESS is not in valid_values."),
    ("bandwidth_limit", {"max_kbps": None},
     "Invalid input for operation: 'None' is not an integer."),
    ("packet_rate_limit", {"max_kpps": 1000, "direction": "any"},
     "Invalid input for direction. Reason: any is not in valid_values."),
    ("packet_rate_limit", {},
     "Failed to parse request. Required attribute 'max_kpps' not specified"),
    ("dscp_marking", {"dscp_mark": 3},
     "Invalid input for dscp_mark. Reason: 3 is not in valid_values."),
    ("dscp_marking", {}, "Failed to parse request. Required attribute 'dscp_mark' not specified"),
    ("minimum_bandwidth", {"min_kbps": 1000, "direction": "any"},
     "Invalid input for direction. Reason: any is not in valid_values."),
    ("minimum_bandwidth", {},
     "Failed to parse request. Required attribute 'min_kbps' not specified"),
    ("minimum_packet_rate", {"min_kpps": 10, "direction": "both"},
     "Invalid input for direction. Reason: both is not in valid_values."),
    ("minimum_packet_rate", {"min_kpps": 2147483648},
     "Invalid input for min_kpps. Reason: '2147483648' is too large - must be no larger than "
     "'2147483647'."),
    ("bandwidth_limit", {"max_kbps": 1, "foo": 2}, "Unrecognized attribute(s) 'foo'"),
    ("bandwidth_limit", {"max_kbps": 1, "id": "r1"}, "Attribute 'id' not allowed in POST"),
    # verify_attributes runs before the required-attribute check.
    ("dscp_marking", {"mark": 26}, "Unrecognized attribute(s) 'mark'"),
])
def test_rejected_with_neutrons_message(rule_type: str, body: dict[str, object],
                                        message: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_rule(rule_type, body)
    assert str(info.value) == message


def test_error_carries_key_value_allowed() -> None:
    with pytest.raises(ValidationError) as info:
        parse_rule("bandwidth_limit", {"max_kbps": 2147483648})
    assert (info.value.key, info.value.value) == ("max_kbps", 2147483648)
    assert info.value.allowed == "an integer in [0, 2147483647]"
    with pytest.raises(ValidationError) as info:
        parse_rule("bandwidth_limit", {"max_kbps": 1, "direction": "any"})
    assert (info.value.key, info.value.allowed) == ("direction", "ingress, egress")


def test_unknown_rule_type_lists_the_five() -> None:
    with pytest.raises(ValidationError) as info:
        parse_rule("bandwidth", {"max_kbps": 1})
    assert str(info.value) == (
        "Invalid QoS rule type 'bandwidth'; valid rule types: bandwidth_limit, dscp_marking, "
        "minimum_bandwidth, packet_rate_limit, minimum_packet_rate")
    assert info.value.key == "type"


# --- accepted bodies and defaults (api-ref qos.inc) -------------------------------------------

@pytest.mark.parametrize(("rule_type", "body", "expected"), [
    ("bandwidth_limit", {"max_kbps": "10000"},
     BandwidthLimitRule(max_kbps=10000, max_burst_kbps=0, direction=Direction.OUTBOUND)),
    ("bandwidth_limit", {"max_kbps": 2147483647}, BandwidthLimitRule(max_kbps=MAX)),
    ("bandwidth_limit", {"max_kbps": 0, "max_burst_kbps": "300", "direction": "ingress"},
     BandwidthLimitRule(max_kbps=0, max_burst_kbps=300, direction=Direction.INBOUND)),
    ("dscp_marking", {"dscp_mark": "26"}, DscpMarkingRule(dscp_mark=26)),
    ("minimum_bandwidth", {"min_kbps": "10000"},
     MinimumBandwidthRule(min_kbps=10000, direction=Direction.OUTBOUND)),
    ("minimum_bandwidth", {"min_kbps": 10, "direction": "ingress"},
     MinimumBandwidthRule(min_kbps=10, direction=Direction.INBOUND)),
    ("packet_rate_limit", {"max_kpps": "10000", "max_burst_kpps": "10000"},
     PacketRateLimitRule(max_kpps=10000, max_burst_kpps=10000, direction=Direction.OUTBOUND)),
    ("minimum_packet_rate", {"min_kpps": 1000, "direction": "any"},
     MinimumPacketRateRule(min_kpps=1000, direction=None)),
    ("minimum_packet_rate", {"min_kpps": 1000},
     MinimumPacketRateRule(min_kpps=1000, direction=Direction.OUTBOUND)),
    # Python int(): whitespace is stripped, floats truncate — as the API accepts them.
    ("bandwidth_limit", {"max_kbps": " 42 "}, BandwidthLimitRule(max_kbps=42)),
    ("bandwidth_limit", {"max_kbps": 10.9}, BandwidthLimitRule(max_kbps=10)),
])
def test_accepted(rule_type: str, body: dict[str, object], expected: object) -> None:
    assert parse_rule(rule_type, body) == expected


def test_rule_id_is_kept() -> None:
    assert parse_rule("dscp_marking", {"dscp_mark": 8}, rule_id="r1").id == "r1"


VALID_DSCP = (0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 44, 46, 48, 56)


@pytest.mark.parametrize("mark", [0, 8, 26, 46, 56])
def test_dscp_valid(mark: int) -> None:
    assert parse_rule("dscp_marking", {"dscp_mark": mark}) == DscpMarkingRule(dscp_mark=mark)


@pytest.mark.parametrize("mark", [2, 4, 6, 42, 50, 52, 54, 57, 63, 64])
def test_dscp_invalid(mark: int) -> None:
    with pytest.raises(ValidationError) as info:
        parse_rule("dscp_marking", {"dscp_mark": mark})
    assert str(info.value) == f"Invalid input for dscp_mark. Reason: {mark} is not in valid_values."


def test_dscp_valid_set_is_exactly_neutrons() -> None:
    accepted = []
    for mark in range(-1, 70):
        try:
            parse_rule("dscp_marking", {"dscp_mark": mark})
        except ValidationError:
            continue
        accepted.append(mark)
    assert tuple(accepted) == VALID_DSCP


@given(st.integers(min_value=0, max_value=MAX))
def test_any_int_in_range_accepted(value: int) -> None:
    rule = parse_rule("bandwidth_limit", {"max_kbps": value})
    assert isinstance(rule, BandwidthLimitRule)
    assert rule.max_kbps == value
    assert parse_rule("bandwidth_limit", {"max_kbps": str(value)}) == rule


@given(st.one_of(st.integers(max_value=-1), st.integers(min_value=MAX + 1)))
def test_any_int_out_of_range_rejected(value: int) -> None:
    with pytest.raises(ValidationError) as info:
        parse_rule("bandwidth_limit", {"max_kbps": value})
    assert str(info.value).startswith(f"Invalid input for max_kbps. Reason: '{value}' is too ")


# --- PUT semantics ----------------------------------------------------------------------------

def put(rule: Rule, body: dict[str, object]) -> Rule:
    return update_rule(rule, parse_rule_update(rule.type, body))


def test_update_changes_only_given_fields() -> None:
    rule = BandwidthLimitRule(max_kbps=3000, max_burst_kbps=300, direction=Direction.INBOUND,
                              id="r1")
    assert put(rule, {"max_kbps": "2000"}) == BandwidthLimitRule(
        max_kbps=2000, max_burst_kbps=300, direction=Direction.INBOUND, id="r1")
    assert put(rule, {}) == rule
    mpps = MinimumPacketRateRule(min_kpps=5, direction=None, id="m")
    assert put(mpps, {"min_kpps": 6}) == MinimumPacketRateRule(6, None, "m")
    assert put(mpps, {"direction": "ingress"}).direction is Direction.INBOUND


@pytest.mark.parametrize(("body", "message"), [
    ({"max_kbps": -1},
     "Invalid input for max_kbps. Reason: '-1' is too small - must be at least '0'."),
    ({"direction": "any"}, "Invalid input for direction. Reason: any is not in valid_values."),
    ({"id": "x"}, "Cannot update read-only attribute id"),
    ({"min_kbps": 1}, "Unrecognized attribute(s) 'min_kbps'"),
])
def test_update_validates(body: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        put(BandwidthLimitRule(max_kbps=1, id="r1"), body)
    assert str(info.value) == message


# --- response shape (api-ref qos.inc samples) ------------------------------------------------

def test_rule_to_dict_shapes() -> None:
    rule = parse_rule("bandwidth_limit", {"max_kbps": "10000"}, rule_id="r1")
    assert rule_to_dict(rule) == {"id": "r1", "max_kbps": 10000, "max_burst_kbps": 0,
                                  "direction": "egress"}
    assert rule_to_dict(rule, with_type=True, qos_policy_id="P") == {
        "id": "r1", "qos_policy_id": "P", "type": "bandwidth_limit", "max_kbps": 10000,
        "max_burst_kbps": 0, "direction": "egress"}
    assert rule_to_dict(DscpMarkingRule(dscp_mark=26, id="d")) == {"id": "d", "dscp_mark": 26}
    assert rule_to_dict(MinimumPacketRateRule(min_kpps=1000, direction=None, id="m")) == {
        "id": "m", "min_kpps": 1000, "direction": "any"}
    assert rule_to_dict(PacketRateLimitRule(max_kpps=10000, max_burst_kpps=10000, id="p")) == {
        "id": "p", "max_kpps": 10000, "max_burst_kpps": 10000, "direction": "egress"}


rules = st.one_of(
    st.builds(BandwidthLimitRule, st.integers(0, MAX), st.integers(0, MAX),
              st.sampled_from(Direction), st.text(max_size=5)),
    st.builds(DscpMarkingRule, st.sampled_from(VALID_DSCP), st.text(max_size=5)),
    st.builds(MinimumBandwidthRule, st.integers(0, MAX), st.sampled_from(Direction),
              st.text(max_size=5)),
    st.builds(PacketRateLimitRule, st.integers(0, MAX), st.integers(0, MAX),
              st.sampled_from(Direction), st.text(max_size=5)),
    st.builds(MinimumPacketRateRule, st.integers(0, MAX),
              st.sampled_from((None, *Direction)), st.text(max_size=5)),
)


@given(rules)
def test_rule_to_dict_round_trips_through_parse_rule(rule: object) -> None:
    assert isinstance(rule, BandwidthLimitRule | DscpMarkingRule | MinimumBandwidthRule
                      | PacketRateLimitRule | MinimumPacketRateRule)
    body = rule_to_dict(rule)
    rule_id = body.pop("id")
    assert isinstance(rule_id, str)
    assert parse_rule(rule.type.value, body, rule_id=rule_id) == rule


# --- CLI spec form ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("bandwidth_limit:max_kbps=3000,max_burst_kbps=300,direction=egress",
     BandwidthLimitRule(max_kbps=3000, max_burst_kbps=300, direction=Direction.OUTBOUND)),
    ("bandwidth-limit:max-kbps=3000,max-burst-kbits=300",
     BandwidthLimitRule(max_kbps=3000, max_burst_kbps=300)),
    ("bandwidth_limit:max_kbps=3000,max_burst_kbits=300,ingress",
     BandwidthLimitRule(max_kbps=3000, max_burst_kbps=300, direction=Direction.INBOUND)),
    ("dscp-marking:dscp-mark=26", DscpMarkingRule(dscp_mark=26)),
    (" minimum_bandwidth : min_kbps = 1000 , direction = ingress ",
     MinimumBandwidthRule(min_kbps=1000, direction=Direction.INBOUND)),
    ("minimum-packet-rate:min-kpps=1000,any", MinimumPacketRateRule(min_kpps=1000, direction=None)),
    ("packet-rate-limit:max-kpps=1000,max-burst-kpps=100",
     PacketRateLimitRule(max_kpps=1000, max_burst_kpps=100)),
])
def test_parse_rule_spec(text: str, expected: object) -> None:
    assert parse_rule_spec(text) == expected


@pytest.mark.parametrize(("text", "why"), [
    ("max_kbps=3000", "missing 'TYPE:'"),
    (":max_kbps=3000", "missing 'TYPE:'"),
    ("bandwidth_limit:max_kbps", "'max_kbps' is not KEY=VALUE"),
    ("bandwidth_limit:max_kbps=1,,direction=egress", "'' is not KEY=VALUE"),
    ("bandwidth_limit:max_kbps=1,max-kbps=2", "'max_kbps' is given twice"),
    ("bandwidth_limit:=5", "'=5' is not KEY=VALUE"),
])
def test_parse_rule_spec_bad_syntax(text: str, why: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_rule_spec(text)
    assert str(info.value) == (
        f"Invalid QoS rule '{text}': {why}; expected TYPE:KEY=VALUE[,KEY=VALUE...] "
        "(e.g. bandwidth_limit:max_kbps=3000,direction=egress)")
    assert info.value.value == text


def test_parse_rule_spec_values_validated_as_the_api() -> None:
    with pytest.raises(ValidationError) as info:
        parse_rule_spec("bandwidth_limit:max_kbps=abc")
    assert str(info.value) == "Invalid input for operation: 'abc' is not an integer."
    with pytest.raises(ValidationError) as info:
        parse_rule_spec("bandwidth_limit:")
    assert str(info.value) == "Failed to parse request. Required attribute 'max_kbps' not specified"


def test_the_bandwidth_limit_alias_converts_in_its_own_order() -> None:
    """qos_rules_alias.py's map is max_kbps, direction, max_burst_kbps; the sub-resource's is
    max_kbps, max_burst_kbps, then direction (qos_bw_limit_direction.py)."""
    body = {"max_burst_kbps": -1, "direction": "up"}
    with pytest.raises(ValidationError) as info:
        parse_rule_update("bandwidth_limit", body)
    assert str(info.value) == ("Invalid input for max_burst_kbps. Reason: '-1' is too small - "
                               "must be at least '0'.")
    with pytest.raises(ValidationError) as info:
        parse_rule_update("bandwidth_limit", body, route=RuleRoute.ALIAS)
    assert str(info.value) == "Invalid input for direction. Reason: up is not in valid_values."
    update = parse_rule_update("bandwidth_limit", {"max_burst_kbps": "5", "direction": "ingress",
                                                   "max_kbps": 9}, route=RuleRoute.ALIAS)
    assert put(BandwidthLimitRule(max_kbps=1, id="r"), {"max_burst_kbps": "5",
                                                        "direction": "ingress",
                                                        "max_kbps": 9}) == \
        update_rule(BandwidthLimitRule(max_kbps=1, id="r"), update)
