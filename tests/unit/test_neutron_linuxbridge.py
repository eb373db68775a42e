"""Linux bridge agent plans, as its QoS driver builds them (neutron agent/linux/tc_lib.py at the
parent of "Remove linuxbridge driver", neutron commit 25d0273588^)."""

from __future__ import annotations

import pytest

from vmqos.errors import UnsupportedError, ValidationError
from vmqos.intent.neutron.model import BandwidthLimitRule, DscpMarkingRule, MinimumBandwidthRule
from vmqos.model import Direction, Enforcer
from vmqos.plan.neutron.linuxbridge import (
    compile_linuxbridge,
    dscp_chain_name,
    linuxbridge_limits,
)
from vmqos.units import Kbit, KbitPerSec

EGRESS, INGRESS = Direction.OUTBOUND, Direction.INBOUND


def bw(rate: int, burst: int = 0, direction: Direction = EGRESS) -> BandwidthLimitRule:
    return BandwidthLimitRule(KbitPerSec(rate), Kbit(burst), direction)


@pytest.mark.parametrize(
    ("rate", "burst", "rate_bytes", "burst_kbit", "burst_bytes"),
    [
        (3000, 300, 375000, 300, 37500),
        (3000, 0, 375000, 2400.0, 300000),       # 80 % as a float
        (1001, 0, 125125, 1001 * 0.8, 100100),   # never truncated before *1000/8
    ],
)
def test_egress_police(rate: int, burst: int, rate_bytes: int, burst_kbit: float,
                       burst_bytes: int) -> None:
    plan = compile_linuxbridge("tapX", [bw(rate, burst)])
    assert plan.egress is not None
    assert (plan.egress.rate, plan.egress.burst_kbit, plan.egress.burst) == (
        rate_bytes, burst_kbit, burst_bytes)
    (limit,) = linuxbridge_limits(plan)
    assert (limit.enforcer, limit.direction, limit.device) == (
        Enforcer.LINUXBRIDGE, EGRESS, "tapX")
    assert (limit.rate, limit.burst) == (rate_bytes * 8, burst_bytes)
    assert "prio 49" in str(limit.mechanism)


def test_egress_commands_literal() -> None:
    assert compile_linuxbridge("tapX", [bw(3000)]).commands() == [
        "tc qdisc del dev tapX ingress",
        "tc qdisc add dev tapX ingress handle ffff:",
        "tc filter add dev tapX parent ffff: protocol all prio 49 basic police rate 3000kbit "
        "burst 2400.0kbit mtu 65535 drop",
    ]


def test_egress_rate_zero_drops_everything() -> None:
    plan = compile_linuxbridge("tapX", [bw(0)])
    (limit,) = linuxbridge_limits(plan)
    assert limit.rate == 0
    assert plan.commands()[-1].endswith("prio 49 u32 match u32 0 0 action drop")


@pytest.mark.parametrize(
    ("rate", "burst", "burst_kbit", "burst_bytes"),
    [(10000, 0, 40.0, 5000), (10000, 1500, 1500, 187500)],
)
def test_ingress_tbf(rate: int, burst: int, burst_kbit: float, burst_bytes: int) -> None:
    plan = compile_linuxbridge("tapX", [bw(rate, burst, INGRESS)])
    tbf = plan.ingress
    assert tbf is not None
    assert (tbf.rate, tbf.burst_kbit, tbf.burst, tbf.latency_us) == (
        1250000, burst_kbit, burst_bytes, 50000)
    (limit,) = linuxbridge_limits(plan)
    assert (limit.direction, limit.rate, limit.burst) == (INGRESS, 10_000_000, burst_bytes)


def test_ingress_command_literal() -> None:
    assert compile_linuxbridge("tapX", [bw(10000, 0, INGRESS)]).commands() == [
        "tc qdisc replace dev tapX root tbf rate 10000kbit latency 50ms burst 40.0kbit"]


def test_ingress_kernel_hz_changes_minimum_burst() -> None:
    plan = compile_linuxbridge("tapX", [bw(10000, 0, INGRESS)], kernel_hz=1000)
    assert plan.ingress is not None
    assert (plan.ingress.burst_kbit, plan.ingress.burst) == (10.0, 1250)


@pytest.mark.parametrize("burst", [0, 100])
def test_ingress_rate_zero_is_the_agent_error(burst: int) -> None:
    with pytest.raises(UnsupportedError) as err:
        compile_linuxbridge("tapX", [bw(0, burst, INGRESS)])
    assert str(err.value) == ("TC Qdisc type tbf needs following arguments: "
                              "['latency_ms', 'max_kbps', 'kernel_hz'].")


def test_kernel_hz_must_be_positive() -> None:
    with pytest.raises(ValidationError) as err:
        compile_linuxbridge("tapX", [], kernel_hz=0)
    assert err.value.key == "kernel_hz"


@pytest.mark.parametrize(("mark", "hex_mark"), [(26, "0x1a"), (8, "0x08"), (46, "0x2e")])
def test_dscp_mangle_rules(mark: int, hex_mark: str) -> None:
    plan = compile_linuxbridge("tapb614c1d3-75", [DscpMarkingRule(mark)])
    chain = "neutron-linuxbri-qos-ob614c1"
    assert plan.dscp_chain == chain
    assert plan.iptables_rules == (
        "-A neutron-linuxbri-POSTROUTING -m physdev --physdev-in tapb614c1d3-75 "
        f"--physdev-is-bridged -j {chain}",
        f"-A {chain} -j DSCP --set-dscp {hex_mark}",
    )
    commands = plan.commands()
    assert f"iptables -t mangle -A {chain} -j DSCP --set-dscp {hex_mark}" in commands
    assert f"ip6tables -t mangle -A {chain} -j DSCP --set-dscp {hex_mark}" in commands
    (limit,) = linuxbridge_limits(plan)
    assert (limit.direction, limit.dscp) == (EGRESS, mark)


def test_dscp_chain_name_is_cut_to_11() -> None:
    assert dscp_chain_name("tap1234") == "neutron-linuxbri-qos-o1234"
    assert dscp_chain_name("tapaaaaaaaa-bb") == "neutron-linuxbri-qos-oaaaaaa"


def test_min_bw_is_not_supported() -> None:
    plan = compile_linuxbridge("tapX", [MinimumBandwidthRule(KbitPerSec(1000))])
    assert plan.commands() == [] and linuxbridge_limits(plan) == []
    assert any("minimum_bandwidth: not supported" in note for note in plan.notes)
