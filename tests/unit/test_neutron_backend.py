"""The Neutron backend dispatcher: one port context, four backends, comparable limits."""

from __future__ import annotations

import pytest

from vmqos.errors import ValidationError
from vmqos.intent.neutron.model import BandwidthLimitRule, DscpMarkingRule, Rule
from vmqos.model import Direction, Enforcer, NeutronBackend
from vmqos.plan.neutron.linuxbridge import LinuxBridgePlan
from vmqos.plan.neutron.ovn import OvnPlan
from vmqos.plan.neutron.ovs import OvsAgentPlan
from vmqos.plan.neutron.registry import (
    PortContext,
    compile_neutron,
    neutron_commands,
    neutron_limits,
)
from vmqos.plan.neutron.sriov import SriovPlan
from vmqos.units import Kbit, KbitPerSec

PORT = PortContext(
    port_id="b614c1d3-75e5-483f-88fd-cec050652945",
    network_id="N",
    network_type="geneve",
    mac="fa:16:3e:be:fd:48",
    ofport=5,
    pf="ens5",
    vf_index=3,
)
RULES = [BandwidthLimitRule(KbitPerSec(3000), Kbit(300))]


@pytest.mark.parametrize(
    ("backend", "enforcer", "rate", "burst"),
    [
        ("ovs", Enforcer.OVS_AGENT, 3_000_000, 38400),      # OVS kernel kilobit = 1024 bits
        ("linuxbridge", Enforcer.LINUXBRIDGE, 3_000_000, 37500),
        ("ovn", Enforcer.OVN, 3_000_000, 37500),            # burst 300 kbit
        ("sriovnicswitch", Enforcer.SRIOV, 3_000_000, None),  # 3 Mbit/s, burst ignored
    ],
)
def test_limits_for_egress_3000_300(backend: str, enforcer: Enforcer, rate: int,
                                    burst: int | None) -> None:
    (limit,) = neutron_limits(backend, port=PORT, rules=RULES)
    assert (limit.enforcer, limit.direction) == (enforcer, Direction.OUTBOUND)
    assert (limit.rate, limit.burst) == (rate, burst)


def test_compile_chooses_the_backend() -> None:
    # Each backend's own settings for egress 3000/300 on PORT, as its agent writes them.
    ovs = compile_neutron("ovs", port=PORT, rules=RULES)
    assert isinstance(ovs, OvsAgentPlan)
    assert (ovs.port.port_name, ovs.port.ofport) == ("tapb614c1d3-75", 5)
    assert (ovs.ingress_policing_rate, ovs.ingress_policing_burst) == (3000, 300)
    assert (ovs.qos, ovs.flows, ovs.meters) == ((), (), ())

    ovn = compile_neutron("ovn", port=PORT, rules=RULES)
    assert isinstance(ovn, OvnPlan)
    (row,) = ovn.qos_rows
    assert (row.switch, row.direction, row.priority, row.match, row.bandwidth) == (
        "neutron-N", "from-lport", 2002,
        'inport == "b614c1d3-75e5-483f-88fd-cec050652945"', {"rate": 3000, "burst": 300})
    assert ovn.lsp_options == {}

    sriov = compile_neutron("sriovnicswitch", port=PORT, rules=RULES)
    assert isinstance(sriov, SriovPlan)
    assert (sriov.pf, sriov.vf_index, sriov.max_tx_rate, sriov.min_tx_rate) == ("ens5", 3, 3, 0)
    assert sriov.notes == ("max_burst_kbps is ignored: a VF has no burst setting",)

    linuxbridge = compile_neutron("linuxbridge", port=PORT, rules=RULES)
    assert isinstance(linuxbridge, LinuxBridgePlan)
    assert linuxbridge.tap == "tapb614c1d3-75"
    assert linuxbridge.egress is not None and linuxbridge.ingress is None
    assert (linuxbridge.egress.max_kbps, linuxbridge.egress.burst_kbit,
            linuxbridge.egress.rate, linuxbridge.egress.burst) == (3000, 300, 375000, 37500)


def test_commands_per_backend() -> None:
    assert neutron_commands("ovs", port=PORT, rules=RULES) == [
        "ovs-vsctl set Interface tapb614c1d3-75 ingress_policing_rate=3000 "
        "ingress_policing_burst=300"]
    assert neutron_commands("ovn", port=PORT, rules=RULES) == [
        "ovn-nbctl qos-add neutron-N from-lport 2002 "
        "'inport == \"b614c1d3-75e5-483f-88fd-cec050652945\"' rate=3000 burst=300"]
    assert neutron_commands("sriovnicswitch", port=PORT, rules=RULES) == [
        "ip link set dev ens5 vf 3 max_tx_rate 3 min_tx_rate 0"]
    assert neutron_commands("linuxbridge", port=PORT, rules=RULES)[-1] == (
        "tc filter add dev tapb614c1d3-75 parent ffff: protocol all prio 49 basic police "
        "rate 3000kbit burst 300kbit mtu 65535 drop")


@pytest.mark.parametrize("backend", list(NeutronBackend))
def test_positional_call_and_source_prefix(backend: str) -> None:
    rules: list[Rule] = [*RULES, DscpMarkingRule(26)]
    limits = neutron_limits(backend, PORT, rules, source="policy bw-limiter")
    assert limits == neutron_limits(backend, port=PORT, rules=rules, source="policy bw-limiter")
    for limit in limits:
        assert limit.source.startswith("policy bw-limiter: ")
    assert any(limit.source.startswith("policy bw-limiter: bandwidth_limit egress "
                                       "max_kbps=3000 max_burst_kbps=300") for limit in limits)


def test_port_name_overrides_tap_name() -> None:
    port = PortContext(port_id=PORT.port_id, port_name="qvob614c1d3-75", ofport=7)
    (limit,) = neutron_limits("ovs", port=port, rules=RULES)
    assert limit.device == "qvob614c1d3-75"


def test_options_are_passed_through() -> None:
    (limit,) = neutron_limits("ovs", port=PORT, rules=RULES, qos_meter_bandwidth=True)
    assert "meter" in str(limit.mechanism)
    # A meter's burst is SI kilobits (300 kbit = 37500 B), policing's 1024-bit ones (38400 B).
    assert (limit.rate, limit.burst) == (3_000_000, 37500)
    port = PortContext(port_id="X", network_id="N", network_type="vlan")
    plan = compile_neutron("ovn", port=port, rules=RULES, neutron_release=26)
    assert isinstance(plan, OvnPlan) and plan.lsp_options["qos_max_rate"] == "3000000"
    tbf_rules = [BandwidthLimitRule(KbitPerSec(10000), direction=Direction.INBOUND)]
    (limit,) = neutron_limits("linuxbridge", port=PORT, rules=tbf_rules, kernel_hz=1000)
    assert limit.burst == 1250


def test_ovn_device_owner_and_mtu_reach_the_backend() -> None:
    router = PortContext(port_id="X", network_id="N", device_owner="network:router_interface")
    assert neutron_limits("ovn", port=router, rules=RULES) == []
    jumbo = PortContext(port_id="X", network_id="N", network_type="geneve", mtu=9000)
    rules: list[Rule] = [BandwidthLimitRule(KbitPerSec(3000), Kbit(50)), DscpMarkingRule(26)]
    (limit,) = neutron_limits("ovn", port=jumbo, rules=rules)
    assert any("bug 2153122" in note for note in limit.notes)


@pytest.mark.parametrize("backend", ["openvswitch", "OVS", "", "macvtap"])
def test_unknown_backend(backend: str) -> None:
    with pytest.raises(ValidationError) as err:
        neutron_limits(backend, port=PORT, rules=RULES)
    assert err.value.key == "backend"
    assert err.value.value == backend
    assert err.value.allowed == "ovs, ovn, sriovnicswitch, linuxbridge"
    for name in NeutronBackend:
        assert name in str(err.value)
