"""ML2/OVN QoS plans, as Neutron's OVN driver builds them (neutron ovn/mech_driver/ovsdb/
extensions/qos.py OVNClientQosExtension; ovsdbapp QoSAddCommand validation)."""

from __future__ import annotations

import pytest

from vmqos.errors import UnsupportedError, ValidationError
from vmqos.intent.neutron.model import (
    BandwidthLimitRule,
    DscpMarkingRule,
    MinimumBandwidthRule,
    PacketRateLimitRule,
)
from vmqos.model import Direction, Enforcer
from vmqos.plan.neutron.ovn import compile_ovn, ovn_limits
from vmqos.units import Kbit, KbitPerSec, Kpps

EGRESS, INGRESS = Direction.OUTBOUND, Direction.INBOUND
LSP_KEYS = ("qos_max_rate", "qos_burst", "qos_min_rate")


def bw(rate: int, burst: int = 0, direction: Direction = EGRESS) -> BandwidthLimitRule:
    return BandwidthLimitRule(KbitPerSec(rate), Kbit(burst), direction)


def min_bw(rate: int, direction: Direction = EGRESS) -> MinimumBandwidthRule:
    return MinimumBandwidthRule(KbitPerSec(rate), direction)


def test_geneve_egress_bw_and_dscp_row() -> None:
    plan = compile_ovn("X", "N", "geneve", [bw(3000, 300), DscpMarkingRule(26)])
    (row,) = plan.qos_rows
    assert row.switch == "neutron-N"
    assert row.direction == "from-lport"
    assert row.priority == 2002
    assert row.match == 'inport == "X"'
    assert row.bandwidth == {"rate": 3000, "burst": 300}
    assert row.action == {"dscp": 26}
    assert row.external_ids == {"neutron:port_id": "X"}
    assert plan.lsp_options == {} and plan.lsp_options_cleared == ()
    assert plan.commands() == [
        "ovn-nbctl qos-add neutron-N from-lport 2002 'inport == \"X\"' rate=3000 burst=300 "
        "dscp=26"
    ]


def test_geneve_ingress_without_burst_key() -> None:
    plan = compile_ovn("X", "N", "geneve", [bw(3000, 300), DscpMarkingRule(26),
                                            bw(5000, 0, INGRESS)])
    ingress = [row for row in plan.qos_rows if row.vm_direction is INGRESS]
    (row,) = ingress
    assert row.direction == "to-lport"
    assert row.match == 'outport == "X"'
    assert row.bandwidth == {"rate": 5000}
    assert row.action == {}


def test_dscp_only_row() -> None:
    (row,) = compile_ovn("X", "N", "geneve", [DscpMarkingRule(26)]).qos_rows
    assert (row.direction, row.action, row.bandwidth) == ("from-lport", {"dscp": 26}, {})


def test_min_bw_only_geneve_creates_nothing() -> None:
    plan = compile_ovn("X", "N", "geneve", [min_bw(1000)])
    assert plan.qos_rows == ()
    assert plan.lsp_options == {} and plan.lsp_options_cleared == ()
    assert plan.commands() == []


def test_vlan_egress_bw_and_min_bw_go_to_lsp_options() -> None:
    plan = compile_ovn("X", "N", "vlan", [bw(3000, 300), min_bw(1000)])
    assert plan.lsp_options == {"qos_max_rate": "3000000", "qos_burst": "300000",
                                "qos_min_rate": "1000000"}
    assert plan.qos_rows == ()
    assert plan.commands() == [
        "ovn-nbctl set Logical_Switch_Port X options:qos_max_rate=3000000 "
        "options:qos_burst=300000 options:qos_min_rate=1000000"
    ]
    (limit,) = ovn_limits(plan)
    assert (limit.rate, limit.min_rate, limit.burst) == (3_000_000, 1_000_000, 37500)


def test_vlan_dscp_stays_in_row_when_rates_go_to_lsp() -> None:
    plan = compile_ovn("X", "N", "vlan", [bw(3000, 300), min_bw(1000), DscpMarkingRule(46)])
    (row,) = plan.qos_rows
    assert (row.bandwidth, row.action) == ({}, {"dscp": 46})


def test_vlan_max_bw_only_uses_policer_since_27() -> None:
    plan = compile_ovn("X", "N", "vlan", [bw(3000, 300)], neutron_release=27)
    (row,) = plan.qos_rows
    assert row.bandwidth == {"rate": 3000, "burst": 300}
    assert plan.lsp_options == {}
    assert plan.lsp_options_cleared == LSP_KEYS
    assert plan.commands()[-1] == (
        "ovn-nbctl remove Logical_Switch_Port X options qos_max_rate qos_burst qos_min_rate")


def test_vlan_max_bw_only_went_to_lsp_options_in_26() -> None:
    plan = compile_ovn("X", "N", "flat", [bw(3000, 300)], neutron_release=26)
    assert plan.qos_rows == ()
    assert plan.lsp_options == {"qos_max_rate": "3000000", "qos_burst": "300000"}
    assert plan.lsp_options_cleared == ("qos_min_rate",)


def test_vlan_ingress_is_a_qos_row() -> None:
    (row,) = compile_ovn("X", "N", "vlan", [bw(5000, 0, INGRESS)]).qos_rows
    assert row.direction == "to-lport"


@pytest.mark.parametrize(
    "owner", ["network:router_interface", "network:dhcp", "neutron:LOADBALANCERV2"])
def test_network_device_ports_get_nothing(owner: str) -> None:
    plan = compile_ovn("X", "N", "geneve", [bw(3000, 300)], device_owner=owner)
    assert plan.qos_rows == () and plan.lsp_options == {}
    assert plan.commands() == []
    assert ovn_limits(plan) == []


@pytest.mark.parametrize("burst", [0, 300])
def test_rate_zero_fails_ovsdbapp_validation(burst: int) -> None:
    with pytest.raises(UnsupportedError) as err:
        compile_ovn("X", "N", "geneve", [bw(0, burst)])
    assert str(err.value) == "rate(0) must be between 1 and 4294967295, inclusive"


def test_rate_zero_on_physnet_with_min_bw_goes_to_options() -> None:
    plan = compile_ovn("X", "N", "vlan", [bw(0), min_bw(1000)])
    assert plan.lsp_options == {"qos_max_rate": "0", "qos_min_rate": "1000000"}
    (limit,) = ovn_limits(plan)
    assert (limit.rate, limit.min_rate) == (None, 1_000_000)


def test_unsupported_and_ignored_rules_are_noted() -> None:
    plan = compile_ovn("X", "N", "geneve", [PacketRateLimitRule(Kpps(10)), min_bw(10, INGRESS)])
    assert plan.qos_rows == ()
    assert any("packet_rate_limit" in note for note in plan.notes)
    assert any("minimum_bandwidth ingress" in note for note in plan.notes)


def test_release_before_26_is_rejected() -> None:
    with pytest.raises(ValidationError) as err:
        compile_ovn("X", "N", "geneve", [bw(3000)], neutron_release=25)
    assert err.value.key == "neutron_release"
    assert err.value.value == 25


# --- limits -------------------------------------------------------------------------------

def test_limits_egress_with_dscp() -> None:
    plan = compile_ovn("X", "N", "geneve", [bw(3000, 300), DscpMarkingRule(26)])
    (limit,) = ovn_limits(plan)
    assert (limit.enforcer, limit.direction, limit.device) == (Enforcer.OVN, EGRESS, "X")
    assert (limit.rate, limit.burst, limit.dscp) == (3_000_000, 37500, 26)
    assert "bandwidth_limit egress" in limit.source and "dscp_marking" in limit.source


def test_limits_no_burst_means_burst_equals_rate() -> None:
    (limit,) = ovn_limits(compile_ovn("X", "N", "geneve", [bw(5000, 0, INGRESS)]))
    assert (limit.direction, limit.rate, limit.burst) == (INGRESS, 5_000_000, 625000)
    assert "no burst: meter burst = rate" in limit.notes


@pytest.mark.parametrize(
    ("rate", "burst", "mtu", "flagged"),
    [
        (3000, 11, 1500, True),
        (3000, 12, 1500, False),
        (10, 0, 1500, True),       # no burst: the bucket is the rate, 10 kbit < 12 kbit
        (12, 0, 1500, False),
        (3000, 71, 9000, True),
        (3000, 72, 9000, False),
    ],
)
def test_limits_flag_bucket_below_mtu(rate: int, burst: int, mtu: int, flagged: bool) -> None:
    (limit,) = ovn_limits(compile_ovn("X", "N", "geneve", [bw(rate, burst)]), mtu=mtu)
    assert any("bug 2153122" in note for note in limit.notes) is flagged
