"""SR-IOV agent plans (neutron mech_sriov agent extension_drivers/qos_driver.py); the
kbps -> Mbps conversions (EmbSwitch.set_device_rate) are tested in test_units_neutron.py."""

from __future__ import annotations

import pytest

from vmqos.intent.neutron.model import (
    BandwidthLimitRule,
    DscpMarkingRule,
    MinimumBandwidthRule,
    PacketRateLimitRule,
    Rule,
)
from vmqos.model import Direction, Enforcer
from vmqos.plan.neutron.sriov import compile_sriov, sriov_limits
from vmqos.units import Kbit, KbitPerSec, Kpps


def test_compile_max_and_min() -> None:
    plan = compile_sriov("ens5", 3, [BandwidthLimitRule(KbitPerSec(3000), Kbit(300)),
                                     MinimumBandwidthRule(KbitPerSec(1500))])
    assert (plan.max_tx_rate, plan.min_tx_rate) == (3, 2)
    assert plan.commands() == ["ip link set dev ens5 vf 3 max_tx_rate 3 min_tx_rate 2"]
    assert any("max_burst_kbps is ignored" in note for note in plan.notes)
    (limit,) = sriov_limits(plan)
    assert (limit.enforcer, limit.direction, limit.device) == (
        Enforcer.SRIOV, Direction.OUTBOUND, "ens5 vf 3")
    assert (limit.rate, limit.burst, limit.min_rate) == (3_000_000, None, 2_000_000)
    assert "min_kbps 1500 rounded to 2 Mbit/s" in limit.notes
    assert "burst ignored" in limit.notes


def test_no_rate_rules_clear_both_rates() -> None:
    plan = compile_sriov("ens5", 0, [])
    assert plan.commands() == ["ip link set dev ens5 vf 0 max_tx_rate 0 min_tx_rate 0"]
    assert sriov_limits(plan) == []


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        (BandwidthLimitRule(KbitPerSec(5000), direction=Direction.INBOUND),
         "rejected at the API"),
        (MinimumBandwidthRule(KbitPerSec(5000), Direction.INBOUND), "placement only"),
        (DscpMarkingRule(26), "dscp_marking: not supported"),
        (PacketRateLimitRule(Kpps(10)), "packet_rate_limit: not supported"),
    ],
)
def test_not_enforced_rules(rule: Rule, fragment: str) -> None:
    plan = compile_sriov("ens5", 1, [rule])
    assert (plan.max_tx_rate, plan.min_tx_rate) == (0, 0)
    assert any(fragment in note for note in plan.notes)
    assert sriov_limits(plan) == []


def test_min_only_limit_has_no_rate_cap() -> None:
    (limit,) = sriov_limits(compile_sriov("ens5", 1, [MinimumBandwidthRule(KbitPerSec(1000))]))
    assert (limit.rate, limit.min_rate) == (None, 1_000_000)
