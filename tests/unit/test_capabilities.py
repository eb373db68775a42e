"""Backend capability tables: each driver's supported_rules (neutron services/qos/drivers/*),
the rule-type API (api-ref qos.inc) and what each agent enforces (config-qos.rst)."""

from __future__ import annotations

import pytest

from vmqos.errors import ConflictError, ValidationError
from vmqos.intent.neutron.capabilities import (
    BACKENDS,
    EnforcementMode,
    check_rule_supported,
    enforcement,
    is_rule_supported,
    rule_type_details,
    rule_types,
)
from vmqos.intent.neutron.model import (
    BandwidthLimitRule,
    DscpMarkingRule,
    MinimumBandwidthRule,
    MinimumPacketRateRule,
    PacketRateLimitRule,
    Rule,
)
from vmqos.model import Direction

IN, OUT = Direction.INBOUND, Direction.OUTBOUND
ALL_FIVE = ["bandwidth_limit", "dscp_marking", "minimum_bandwidth", "packet_rate_limit",
            "minimum_packet_rate"]


# --- GET /v2.0/qos/rule-types ------------------------------------------------------------------

def test_rule_types_intersection_ovs_sriov() -> None:
    # GET /v2.0/qos/rule-types with both drivers loaded:
    # {"rule_types":[{"type":"bandwidth_limit"},{"type":"minimum_bandwidth"}]}
    assert set(rule_types(["openvswitch", "sriovnicswitch"])) == {
        "bandwidth_limit", "minimum_bandwidth"}
    assert set(rule_types(["ovs", "sriovnicswitch"])) == {"bandwidth_limit", "minimum_bandwidth"}


def test_rule_types_filters() -> None:
    assert sorted(rule_types(["ovs", "sriovnicswitch"], all_rules=True)) == sorted(ALL_FIVE)
    assert sorted(rule_types(["ovs", "sriovnicswitch"], all_supported=True)) == sorted(ALL_FIVE)
    assert sorted(rule_types([], all_rules=True)) == sorted(ALL_FIVE)
    assert rule_types([]) == []
    assert rule_types([], all_supported=True) == []
    assert set(rule_types(["ovn"])) == {"bandwidth_limit", "dscp_marking", "minimum_bandwidth"}
    assert set(rule_types(["ovn", "linuxbridge"])) == {"bandwidth_limit", "dscp_marking"}
    assert set(rule_types(["sriovnicswitch", "linuxbridge"], all_supported=True)) == {
        "bandwidth_limit", "minimum_bandwidth", "dscp_marking"}


def test_unknown_backend() -> None:
    with pytest.raises(ValidationError) as info:
        rule_types(["midonet"])
    assert info.value.key == "backend"


# --- GET /v2.0/qos/rule-types/{type} ----------------------------------------------------------

def test_rule_type_details_bandwidth_limit_ovs() -> None:
    assert rule_type_details("bandwidth_limit", ["ovs"]) == {
        "type": "bandwidth_limit",
        "drivers": [{
            "name": "openvswitch",
            "supported_parameters": [
                {"parameter_name": "max_kbps", "parameter_type": "range",
                 "parameter_values": {"start": 0, "end": 2147483647}},
                {"parameter_name": "max_burst_kbps", "parameter_type": "range",
                 "parameter_values": {"start": 0, "end": 2147483647}},
                {"parameter_name": "direction", "parameter_type": "choices",
                 "parameter_values": ["ingress", "egress"]},
            ],
        }],
    }


def test_rule_type_details_other_drivers() -> None:
    details = rule_type_details("bandwidth_limit", ["ovs", "sriovnicswitch"])
    drivers = details["drivers"]
    assert isinstance(drivers, list)
    assert [d["name"] for d in drivers] == ["openvswitch", "sriovnicswitch"]
    assert drivers[1]["supported_parameters"][2] == {
        "parameter_name": "direction", "parameter_type": "choices",
        "parameter_values": ["egress"]}
    # api-ref sample rule_type-details-dscp_marking-response.json
    assert rule_type_details("dscp_marking", ["ovs", "linuxbridge"]) == {
        "type": "dscp_marking",
        "drivers": [
            {"name": name, "supported_parameters": [{
                "parameter_name": "dscp_mark", "parameter_type": "choices",
                "parameter_values": [0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34,
                                     36, 38, 40, 44, 46, 48, 56]}]}
            for name in ("openvswitch", "linuxbridge")]}
    min_pps = rule_type_details("minimum_packet_rate", ["ovs", "ovn"])
    assert min_pps["drivers"] == [{"name": "openvswitch", "supported_parameters": [
        {"parameter_name": "min_kpps", "parameter_type": "range",
         "parameter_values": {"start": 0, "end": 2147483647}},
        {"parameter_name": "direction", "parameter_type": "choices",
         "parameter_values": ["any", "ingress", "egress"]}]}]
    assert rule_type_details("packet_rate_limit", ["sriovnicswitch"])["drivers"] == []
    with pytest.raises(ValidationError):
        rule_type_details("bandwidth", ["ovs"])


# --- QosRuleNotSupported ----------------------------------------------------------------------

@pytest.mark.parametrize(("backend", "rule", "supported"), [
    ("sriovnicswitch", DscpMarkingRule(26), False),
    ("sriovnicswitch", BandwidthLimitRule(3000, direction=IN), False),
    ("sriovnicswitch", BandwidthLimitRule(3000, 300, direction=OUT), True),
    ("sriovnicswitch", MinimumBandwidthRule(1000, direction=IN), True),
    ("sriovnicswitch", PacketRateLimitRule(1000), False),
    ("sriovnicswitch", MinimumPacketRateRule(1000), False),
    ("ovs", PacketRateLimitRule(1000, direction=IN), True),
    ("ovs", MinimumPacketRateRule(1000, direction=None), True),
    ("ovs", DscpMarkingRule(26), True),
    ("ovs", DscpMarkingRule(3), False),   # a value outside the driver's choices
    ("ovn", PacketRateLimitRule(1000), False),
    ("ovn", MinimumPacketRateRule(1000), False),
    ("ovn", DscpMarkingRule(46), True),
    ("linuxbridge", MinimumBandwidthRule(1000), False),
    ("linuxbridge", BandwidthLimitRule(1000, direction=IN), True),
])
def test_is_rule_supported(backend: str, rule: Rule, supported: bool) -> None:
    assert is_rule_supported(backend, rule) is supported
    assert is_rule_supported(BACKENDS[backend].name, rule) is supported


def test_sriov_rejects_dscp_with_neutrons_message() -> None:
    with pytest.raises(ConflictError) as info:
        check_rule_supported("sriovnicswitch", DscpMarkingRule(26), port_id="port-1")
    assert info.value.kind == "QosRuleNotSupported"
    assert info.value.http_status == 409
    assert str(info.value) == "Rule dscp_marking is not supported by port port-1"
    assert info.value.allowed == "sriovnicswitch supports: bandwidth_limit, minimum_bandwidth"


def test_sriov_rejects_bw_ingress() -> None:
    with pytest.raises(ConflictError) as info:
        check_rule_supported("sriovnicswitch", BandwidthLimitRule(3000, direction=IN),
                             port_id="port-1")
    assert info.value.kind == "QosRuleNotSupported"
    assert str(info.value) == "Rule bandwidth_limit is not supported by port port-1"
    assert "direction: egress" in str(info.value.allowed)
    with pytest.raises(ConflictError) as info:
        check_rule_supported("sriovnicswitch", BandwidthLimitRule(3000, direction=IN),
                             network_id="net-1")
    assert info.value.kind == "QosRuleNotSupportedByNetwork"
    assert str(info.value) == "Rule bandwidth_limit is not supported by network net-1"
    check_rule_supported("sriovnicswitch", BandwidthLimitRule(3000), port_id="port-1")


# --- enforcement reality (each agent's qos_driver.py) ----------------------------------------

@pytest.mark.parametrize(("backend", "rule", "mode", "burst"), [
    ("ovs", BandwidthLimitRule(3000, 300, direction=OUT), EnforcementMode.DATAPLANE, True),
    ("ovs", BandwidthLimitRule(3000, 300, direction=IN), EnforcementMode.DATAPLANE, True),
    ("sriovnicswitch", BandwidthLimitRule(3000, 300), EnforcementMode.DATAPLANE, False),
    ("sriovnicswitch", BandwidthLimitRule(3000, direction=IN), EnforcementMode.REJECTED, False),
    ("sriovnicswitch", DscpMarkingRule(26), EnforcementMode.REJECTED, False),
    ("ovs", MinimumBandwidthRule(1000, direction=OUT), EnforcementMode.DATAPLANE, False),
    ("ovs", MinimumBandwidthRule(1000, direction=IN), EnforcementMode.PLACEMENT, False),
    ("ovn", MinimumBandwidthRule(1000, direction=IN), EnforcementMode.PLACEMENT, False),
    ("sriovnicswitch", MinimumBandwidthRule(1000), EnforcementMode.DATAPLANE, False),
    ("ovs", MinimumPacketRateRule(1000, direction=None), EnforcementMode.PLACEMENT, False),
    ("ovs", MinimumPacketRateRule(1000, direction=IN), EnforcementMode.PLACEMENT, False),
    ("ovs", PacketRateLimitRule(1000, 100), EnforcementMode.DATAPLANE, True),
    ("ovn", PacketRateLimitRule(1000), EnforcementMode.REJECTED, False),
    ("ovs", DscpMarkingRule(26), EnforcementMode.DATAPLANE, False),
    ("ovn", DscpMarkingRule(26), EnforcementMode.DATAPLANE, False),
    ("linuxbridge", DscpMarkingRule(26), EnforcementMode.DATAPLANE, False),
    ("ovn", BandwidthLimitRule(5000, direction=IN), EnforcementMode.DATAPLANE, True),
])
def test_enforcement(backend: str, rule: Rule, mode: EnforcementMode, burst: bool) -> None:
    result = enforcement(backend, rule)
    assert result.mode is mode
    assert result.burst_honoured is burst
    assert result.enforced is (mode is EnforcementMode.DATAPLANE)
    assert result.note


def test_enforcement_directions_and_notes() -> None:
    sriov = enforcement("sriovnicswitch", BandwidthLimitRule(3000, 300))
    assert sriov.dataplane_directions == frozenset({OUT})
    assert "burst ignored" in sriov.note
    ovs_min = enforcement("openvswitch", MinimumBandwidthRule(1000))
    assert ovs_min.backend == "ovs"
    assert ovs_min.placement_directions == frozenset({IN, OUT})
    # Minimum bandwidth does nothing on a tunnelled port's dataplane
    # (QosOVSAgentDriver.update_minimum_bandwidth; OVN qos.py).
    assert enforcement("ovs", MinimumBandwidthRule(1000), physnet=False).mode is \
        EnforcementMode.PLACEMENT
    assert enforcement("ovn", MinimumBandwidthRule(1000), physnet=True).mode is \
        EnforcementMode.DATAPLANE
    assert enforcement("sriovnicswitch", MinimumBandwidthRule(1000), physnet=False).mode is \
        EnforcementMode.DATAPLANE
    assert enforcement("ovs", BandwidthLimitRule(1), physnet=False).mode is \
        EnforcementMode.DATAPLANE
