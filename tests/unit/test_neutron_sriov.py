"""SR-IOV agent plans and kbps -> Mbps conversions (neutron mech_sriov agent
extension_drivers/qos_driver.py, EmbSwitch.set_device_rate)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vmqos.intent.neutron.model import (
    BandwidthLimitRule,
    DscpMarkingRule,
    MinimumBandwidthRule,
    PacketRateLimitRule,
    Rule,
)
from vmqos.model import Direction, Enforcer
from vmqos.plan.neutron.sriov import compile_sriov, kbps_to_mbps, kbps_to_mbps_hwol, sriov_limits
from vmqos.units import Kbit, KbitPerSec, Kpps

KBPS = st.integers(min_value=0, max_value=2**31 - 1)


@pytest.mark.parametrize(
    ("kbps", "mbps"),
    [(0, 0), (99, 1), (999, 1), (1000, 1), (1499, 1), (1500, 2), (2000, 2), (2001, 2),
     (2499, 2), (2500, 3), (3000, 3), (10000, 10)],
)
def test_kbps_to_mbps_spec_table(kbps: int, mbps: int) -> None:
    assert kbps_to_mbps(KbitPerSec(kbps)) == mbps


@pytest.mark.parametrize(("kbps", "mbps"), [(2500, 2), (1500, 1), (999, 1), (0, 0)])
def test_kbps_to_mbps_hwol_truncates(kbps: int, mbps: int) -> None:
    assert kbps_to_mbps_hwol(KbitPerSec(kbps)) == mbps


@given(KBPS)
def test_kbps_to_mbps_equals_neutron_lib_round_val(kbps: int) -> None:
    # eswitch_manager.set_device_rate + neutron_lib helpers.round_val, written out.
    expected = 1 if 0 < kbps < 1000 else int(
        Decimal(kbps / 1000.0).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    assert kbps_to_mbps(KbitPerSec(kbps)) == expected


@given(KBPS)
def test_kbps_to_mbps_hwol_equals_qos_hwol(kbps: int) -> None:
    expected = 0 if kbps == 0 else 1 if kbps < 1000 else int(kbps / 1000.0)
    assert kbps_to_mbps_hwol(KbitPerSec(kbps)) == expected


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
