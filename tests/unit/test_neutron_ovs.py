"""ML2/OVS agent QoS driver plans, as its driver builds them (neutron ml2/drivers/openvswitch/
agent/extension_drivers/qos_driver.py QosOVSAgentDriver, agent/common/ovs_lib.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vmqos.intent.neutron.model import (
    BandwidthLimitRule,
    DscpMarkingRule,
    MinimumBandwidthRule,
    MinimumPacketRateRule,
    PacketRateLimitRule,
)
from vmqos.model import Direction, Enforcer
from vmqos.plan.neutron.ovs import (
    SET_QUEUE_INIT_FLOW,
    OvsPhysicalBridge,
    OvsPortRef,
    compile_ovs_agent,
    ovs_agent_limits,
)
from vmqos.units import Kbit, KbitPerSec, Kpps

PORT_ID = "b614c1d3-75e5-483f-88fd-cec050652945"
MAC = "fa:16:3e:be:fd:48"
TAP = OvsPortRef(PORT_ID, "tapX", 5, MAC, physical_network="physnet1", local_vlan=3,
                 agent_id="3f0a5c1e-agent")
EGRESS, INGRESS = Direction.OUTBOUND, Direction.INBOUND


def bw(rate: int, burst: int = 0, direction: Direction = EGRESS) -> BandwidthLimitRule:
    return BandwidthLimitRule(KbitPerSec(rate), Kbit(burst), direction)


# --- egress: Interface ingress_policing ---------------------------------------------------

@pytest.mark.parametrize(
    ("rate", "burst", "written_burst", "kernel_burst_bytes"),
    [
        (3000, 300, 300, 38400),          # observed "burst 38400b"
        (3000, 0, 2400, 307200),          # 80 % default
        (1000, 0, 800, 102400),
        (1001, 0, 800, 102400),           # int(800.8)
        (10000, 0, 8000, 1024000),
        (1, 0, 0, 1024000),               # burst 0 -> OVS default 8000 kbit
    ],
)
def test_egress_policing(rate: int, burst: int, written_burst: int,
                         kernel_burst_bytes: int) -> None:
    plan = compile_ovs_agent(TAP, [bw(rate, burst)])
    assert plan.ingress_policing_rate == rate
    assert plan.ingress_policing_burst == written_burst
    assert plan.egress_burst_defaulted is (burst == 0)
    (limit,) = plan.limits
    assert (limit.enforcer, limit.direction, limit.device) == (Enforcer.OVS_AGENT, EGRESS, "tapX")
    assert limit.rate == rate * 1000
    assert limit.burst == kernel_burst_bytes
    assert plan.commands()[0] == (f"ovs-vsctl set Interface tapX ingress_policing_rate={rate} "
                                  f"ingress_policing_burst={written_burst}")


def test_egress_spec_command_literal() -> None:
    plan = compile_ovs_agent(TAP, [bw(3000)])
    assert plan.commands() == [
        "ovs-vsctl set Interface tapX ingress_policing_rate=3000 ingress_policing_burst=2400"
    ]
    assert any("80 %" in note for note in plan.limits[0].notes)


def test_egress_default_burst_of_8000_is_noted() -> None:
    (limit,) = compile_ovs_agent(TAP, [bw(1)]).limits
    assert "ingress_policing_burst 0: OVS default 8000 kbit" in limit.notes


@pytest.mark.parametrize("burst", [0, 300])
def test_egress_rate_zero_disables_policing(burst: int) -> None:
    plan = compile_ovs_agent(TAP, [bw(0, burst)])
    assert plan.ingress_policing_rate == 0
    assert plan.limits == ()
    assert any("disables policing" in note for note in plan.notes)


def test_no_egress_rule_writes_zero_like_delete() -> None:
    plan = compile_ovs_agent(TAP, [DscpMarkingRule(26)])
    assert (plan.ingress_policing_rate, plan.ingress_policing_burst) == (0, 0)
    assert plan.commands()[0] == (
        "ovs-vsctl set Interface tapX ingress_policing_rate=0 ingress_policing_burst=0")


def test_egress_on_dpdk_uses_si_kilobit() -> None:
    port = OvsPortRef(PORT_ID, "vhu1", 5, MAC, interface_type="dpdkvhostuser")
    (limit,) = compile_ovs_agent(port, [bw(3000, 300)]).limits
    assert limit.burst == 37500
    assert "DPDK" in str(limit.mechanism)


@given(st.integers(min_value=1, max_value=2**31 - 1))
def test_egress_default_burst_is_floor_of_80_percent(rate: int) -> None:
    plan = compile_ovs_agent(TAP, [bw(rate)])
    assert plan.ingress_policing_burst == rate * 4 // 5
    (limit,) = plan.limits
    written = rate * 4 // 5 or 8000
    assert limit.burst == written * 1024 // 8


# --- ingress: linux-htb queue / DPDK egress-policer --------------------------------------

def test_ingress_700_70_rows() -> None:
    plan = compile_ovs_agent(TAP, [bw(700, 70, INGRESS)])
    qos = plan.port_qos
    assert qos is not None
    assert qos.type == "linux-htb"
    assert qos.other_config == {"max-rate": "34359738367"}
    assert qos.external_ids == {"id": "tapX", "_type": "bandwidth_limit"}
    assert qos.ports == ("tapX",)
    (queue,) = qos.queues
    assert queue.queue_num == 0
    assert queue.other_config == {"max-rate": "700000", "burst": "70000"}
    assert queue.external_ids == {"port": "tapX", "type": "bandwidth_limit", "queue-num": "0"}
    assert SET_QUEUE_INIT_FLOW in plan.flows
    (limit,) = [lim for lim in plan.limits if lim.direction is INGRESS]
    assert (limit.rate, limit.burst) == (700000, 8750)


@pytest.mark.parametrize(
    ("rate", "burst", "queue_config"),
    [
        (750, 100, {"max-rate": "750000", "burst": "100000"}),
        (3000, 0, {"max-rate": "3000000", "burst": "0"}),   # no 80 % default
    ],
)
def test_ingress_queue_values(rate: int, burst: int, queue_config: dict[str, str]) -> None:
    qos = compile_ovs_agent(TAP, [bw(rate, burst, INGRESS)]).port_qos
    assert qos is not None
    assert qos.queues[0].other_config == queue_config


def test_ingress_zero_burst_is_mtu_plus_64() -> None:
    (limit,) = [lim for lim in compile_ovs_agent(TAP, [bw(3000, 0, INGRESS)]).limits
                if lim.direction is INGRESS]
    assert limit.burst == 1564
    assert limit.rate == 3_000_000
    assert any("MTU+64" in note for note in limit.notes)


def test_ingress_spec_command_literal() -> None:
    plan = compile_ovs_agent(TAP, [bw(3000, 300, INGRESS)])
    assert plan.commands()[1] == (
        "ovs-vsctl set Port tapX qos=@q -- --id=@q create QoS type=linux-htb "
        "other-config:max-rate=34359738367 queues:0=@q0 -- --id=@q0 create Queue "
        "other-config:max-rate=3000000 other-config:burst=300000")


def test_ingress_rate_zero_is_unlimited() -> None:
    plan = compile_ovs_agent(TAP, [bw(0, 0, INGRESS)])
    assert plan.port_qos is not None
    assert plan.port_qos.queues[0].other_config == {}
    assert [lim for lim in plan.limits if lim.direction is INGRESS] == []


def test_ingress_dpdk_egress_policer() -> None:
    port = OvsPortRef(PORT_ID, "vhu1", 5, MAC, interface_type="dpdkvhostuser")
    plan = compile_ovs_agent(port, [bw(700, 70, INGRESS)])
    qos = plan.port_qos
    assert qos is not None
    assert qos.type == "egress-policer"
    assert qos.other_config == {"cir": "87500", "cbs": "8750"}
    assert qos.external_ids == {"id": "vhu1"}
    assert qos.queues == ()
    assert SET_QUEUE_INIT_FLOW not in plan.flows
    (limit,) = [lim for lim in plan.limits if lim.direction is INGRESS]
    assert (limit.rate, limit.burst) == (700000, 8750)


def test_ingress_dpdk_zero_burst_is_not_enforced() -> None:
    port = OvsPortRef(PORT_ID, "vhu1", 5, MAC, interface_type="dpdk")
    plan = compile_ovs_agent(port, [bw(700, 0, INGRESS)])
    assert [lim for lim in plan.limits if lim.direction is INGRESS] == []
    assert any("rte_meter" in note for note in plan.notes)


def test_init_flow_literal() -> None:
    assert str(SET_QUEUE_INIT_FLOW) == (
        "table=0, priority=200,reg3=0 actions=set_queue:0,load:0x1->NXM_NX_REG3[0],resubmit(,0)")


# --- DSCP -----------------------------------------------------------------------------

@pytest.mark.parametrize(("mark", "tos"), [(26, 104), (46, 184), (56, 224), (8, 32), (0, 0)])
def test_dscp_flows(mark: int, tos: int) -> None:
    plan = compile_ovs_agent(TAP, [DscpMarkingRule(mark)])
    assert [str(flow) for flow in plan.flows] == [
        f"table=0, priority=65535,ip,reg2=0,in_port=5 actions=load:0x1->NXM_NX_REG2[],"
        f"mod_nw_tos:{tos},resubmit:5",
        f"table=0, priority=65535,ipv6,reg2=0,in_port=5 actions=load:0x1->NXM_NX_REG2[],"
        f"mod_nw_tos:{tos},resubmit:5",
    ]
    (limit,) = plan.limits
    assert (limit.direction, limit.dscp, limit.rate) == (EGRESS, mark, None)


# --- minimum bandwidth ------------------------------------------------------------------

def test_min_bw_egress_physnet() -> None:
    bridge = OvsPhysicalBridge("br-ex", 2, ("eth1",))
    plan = compile_ovs_agent(TAP, [MinimumBandwidthRule(KbitPerSec(1000))],
                             physical_bridges=[bridge])
    (qos,) = plan.qos
    assert qos.ports == ("eth1",)
    assert qos.other_config == {"max-rate": "34359738367"}
    assert qos.external_ids == {"id": "3f0a5c1e-agent", "_type": "minimum_bandwidth"}
    (queue,) = qos.queues
    assert queue.queue_num == 5
    assert queue.other_config == {"min-rate": "1000000", "max-rate": "34359738367"}
    assert queue.external_ids == {"port": PORT_ID, "type": "minimum_bandwidth",
                                  "queue-num": "5"}
    assert [str(flow) for flow in plan.flows] == [
        "table=0, priority=200,reg4=0,in_port=5 actions=load:0x5->NXM_NX_PKT_MARK[],"
        "load:0x1->NXM_NX_REG4[0],resubmit(,0)",
        "table=0, priority=200,pkt_mark=0x5,reg4=0,in_port=2 actions=set_queue:5,"
        "load:0x1->NXM_NX_REG4[0],resubmit(,0)",
    ]
    assert plan.flows[1].bridge == "br-ex"
    assert plan.port_qos is None
    (limit,) = plan.limits
    assert (limit.device, limit.min_rate, limit.rate) == ("eth1", 1_000_000, None)
    assert ("ovs-vsctl set Port eth1 qos=@qmin -- --id=@qmin create QoS type=linux-htb "
            "other-config:max-rate=34359738367 queues:5=@q5 -- --id=@q5 create Queue "
            "other-config:min-rate=1000000 other-config:max-rate=34359738367") in plan.commands()


def test_min_bw_below_mtu_rate_is_raised() -> None:
    plan = compile_ovs_agent(TAP, [MinimumBandwidthRule(KbitPerSec(5))])
    (limit,) = plan.limits
    assert limit.min_rate == 12000   # OVS HTB: at least MTU (1500) bytes/s
    assert "HTB min-rate raised to MTU bytes/s" in limit.notes


@pytest.mark.parametrize(
    ("port", "rule"),
    [
        (OvsPortRef(PORT_ID, "tapX", 5, MAC), MinimumBandwidthRule(KbitPerSec(1000))),
        (TAP, MinimumBandwidthRule(KbitPerSec(1000), INGRESS)),
    ],
    ids=["tunnelled", "ingress"],
)
def test_min_bw_without_dataplane_change(port: OvsPortRef, rule: MinimumBandwidthRule) -> None:
    plan = compile_ovs_agent(port, [rule])
    assert (plan.qos, plan.flows, plan.meters) == ((), (), ())
    assert plan.limits == ()
    assert any("no dataplane change" in note for note in plan.notes)


# --- packet rate limit and meter bandwidth ----------------------------------------------

def test_pps_egress_meter() -> None:
    plan = compile_ovs_agent(TAP, [PacketRateLimitRule(Kpps(1000), Kpps(100))],
                             meter_id_base=40)
    (meter,) = plan.meters
    assert meter.command() == ("ovs-ofctl -O OpenFlow13 add-meter br-int meter=40,pktps,burst,"
                               "band=type=drop,rate=1000000,burst_size=100000")
    assert [str(flow) for flow in plan.flows] == [
        f"table=58, priority=100,in_port=5,dl_src={MAC} actions=meter:40,goto_table:59"]
    assert plan.port_other_config == {f"pps_{PORT_ID}_egress": "40"}
    (limit,) = plan.limits
    assert (limit.packet_rate, limit.rate) == (1_000_000, None)


def test_pps_ingress_meter_without_burst() -> None:
    plan = compile_ovs_agent(TAP, [PacketRateLimitRule(Kpps(1000), Kpps(0), INGRESS)])
    (meter,) = plan.meters
    assert meter.meter_id == (5 - 1) * 4 + 1 + 1
    assert meter.command().endswith(f"meter={meter.meter_id},pktps,band=type=drop,rate=1000000")
    assert str(plan.flows[0]) == (
        f"table=58, priority=100,dl_vlan=3,dl_dst={MAC} actions=meter:{meter.meter_id},"
        "goto_table:59")
    assert "no BURST flag: datapath burst = rate" in plan.limits[0].notes


@pytest.mark.parametrize(
    ("burst", "flags", "burst_bytes"),
    [(300, "kbps,burst", 37500), (0, "kbps", 375000)],   # no burst: burst = rate, no 80 %
)
def test_meter_bandwidth_mode(burst: int, flags: str, burst_bytes: int) -> None:
    plan = compile_ovs_agent(TAP, [bw(3000, burst)], qos_meter_bandwidth=True,
                             meter_id_base=10)
    assert plan.ingress_policing_rate is None
    (meter,) = plan.meters
    band = "band=type=drop,rate=3000" + (f",burst_size={burst}" if burst else "")
    assert meter.command() == f"ovs-ofctl -O OpenFlow13 add-meter br-int meter=12,{flags},{band}"
    assert str(plan.flows[0]) == (
        f"table=59, priority=100,in_port=5,dl_src={MAC} actions=meter:12,goto_table:60")
    assert not any(cmd.startswith("ovs-vsctl set Interface") for cmd in plan.commands())
    (limit,) = plan.limits
    assert (limit.rate, limit.burst) == (3_000_000, burst_bytes)


def test_min_pps_is_placement_only() -> None:
    plan = compile_ovs_agent(TAP, [MinimumPacketRateRule(Kpps(1000), None)])
    assert plan.meters == () and plan.flows == ()
    assert any("placement only" in note for note in plan.notes)


ALL_RULES = [
    bw(3000, 300), bw(700, 0, INGRESS), DscpMarkingRule(26),
    MinimumBandwidthRule(KbitPerSec(1000)), MinimumBandwidthRule(KbitPerSec(10), INGRESS),
    PacketRateLimitRule(Kpps(1000), Kpps(100)), PacketRateLimitRule(Kpps(5), Kpps(0), INGRESS),
    MinimumPacketRateRule(Kpps(10), None),
]


@pytest.mark.parametrize("meter_mode", [False, True])
@pytest.mark.parametrize("port", [TAP, OvsPortRef(PORT_ID, "vhu1", 9, MAC,
                                                  interface_type="dpdkvhostuserclient")])
def test_limits_fast_path_equals_compiled_plan(meter_mode: bool, port: OvsPortRef) -> None:
    bridges = [OvsPhysicalBridge("br-ex", 2, ("eth1", "eth2"))]
    plan = compile_ovs_agent(port, ALL_RULES, qos_meter_bandwidth=meter_mode,
                             physical_bridges=bridges)
    fast = ovs_agent_limits(port, ALL_RULES, qos_meter_bandwidth=meter_mode,
                            physical_bridges=bridges)
    assert fast == list(plan.limits)
    assert len(fast) >= 4


def test_later_rule_of_same_kind_overwrites() -> None:
    plan = compile_ovs_agent(TAP, [bw(1000), bw(3000, 300)])
    assert (plan.ingress_policing_rate, plan.ingress_policing_burst) == (3000, 300)
    assert len(plan.limits) == 1
