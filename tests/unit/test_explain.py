"""explain: how layers combine per port and direction (docs/architecture.md "Layers combine")."""

from __future__ import annotations

import gc
from dataclasses import replace

import pytest

from support.seed import seed_scenario
from vmqos.intent.neutron.model import BandwidthLimitRule, DscpMarkingRule, QosPolicy
from vmqos.intent.neutron.network import Network, Port
from vmqos.intent.nova.flavor import Flavor
from vmqos.intent.scenario import Scenario, Server
from vmqos.model import Direction, Enforcer, NeutronBackend, VifType
from vmqos.plan.explain.explain import PortExplanation, explain_scenario
from vmqos.profile import SharesPolicy, get_profile
from vmqos.units import Kbit, KbitPerSec

PORT_ID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture(scope="module")
def seed() -> Scenario:
    return seed_scenario()


def one_port(
    *,
    specs: dict[str, str] | None = None,
    vif: VifType = VifType.OVS_HYBRID,
    rules: tuple[object, ...] = (),
    backend: str = "ovs",
    on_network: bool = False,
    device_owner: str = "compute:nova",
    vcpus: int = 1,
) -> Scenario:
    policy = QosPolicy(name="p", id="pol-1", rules=rules)  # type: ignore[arg-type]
    network = Network(name="n", id="net-1", qos_policy_id="pol-1" if on_network else None)
    port = Port(id=PORT_ID, network_id="net-1", mac="fa:16:3e:00:00:01", vif_type=vif,
                device_owner=device_owner,
                qos_policy_id="pol-1" if rules and not on_network else None)
    return Scenario(
        flavors=(Flavor(name="f", vcpus=vcpus, extra_specs=specs or {}),),
        policies=(policy,) if rules else (),
        networks=(network,),
        ports=(port,),
        servers=(Server(name="vm", flavor="f", ports=(PORT_ID,), image_id="img"),),
        neutron_backend=NeutronBackend(backend),
    )


def the_port(scenario: Scenario, profile: str = "modern") -> PortExplanation:
    return explain_scenario(scenario, get_profile(profile)).servers[0].ports[0]


def test_seed_resquota_first_port(seed: Scenario) -> None:
    explanation = explain_scenario(seed, get_profile("pike-rhel7"))
    normal, resquota = explanation.servers
    port = resquota.ports[0]
    assert port.device == "tapbb8410ad-a0"
    assert (port.policy, port.policy_source) == ("bw-limiter", "port")

    inbound = port.inbound
    assert inbound.effective is not None
    assert inbound.effective.enforcer is Enforcer.TC_TAP
    assert (inbound.effective.rate, inbound.effective.burst, inbound.effective.peak) == (
        262_144_000, 134_217_728, 524_288_000)

    outbound = port.outbound
    assert outbound.effective is not None
    assert outbound.effective.enforcer is Enforcer.OVS_AGENT
    assert (outbound.effective.rate, outbound.effective.burst) == (3_000_000, 38_400)
    assert [o.enforcer for o in outbound.overridden] == [Enforcer.TC_TAP]
    codes = {f.code for f in port.findings}
    assert "ovs-removes-libvirt-ingress-qdisc" in codes

    for p in normal.ports:
        assert p.inbound.effective is None and p.outbound.effective is None
        assert p.inbound.layers == () and p.outbound.layers == ()


def test_seed_cpu_and_disk(seed: Scenario) -> None:
    normal, resquota = explain_scenario(seed, get_profile("pike-rhel7")).servers
    assert (normal.cpu.shares, normal.cpu.cgroup_value) == (1024, "cpu.shares=1024")
    assert "Nova default" in normal.cpu.shares_source
    assert (resquota.cpu.shares, resquota.cpu.cgroup_value) == (512, "cpu.shares=512")
    assert resquota.disks[0].limits == (("read_bytes_sec", 1000000),
                                        ("write_bytes_sec", 1024000))


def test_hybrid_plug_layers_act_in_series_and_the_stricter_wins() -> None:
    # Flavor outbound 1000 kB/s (8000 kbit, libvirt's police on the tap) + Neutron egress 3000
    # kbps (OVS policing on the qvo end) on OVS hybrid plug: in series, effective ~3000 kbit/s.
    scenario = one_port(specs={"quota:vif_outbound_average": "1000"},
                        rules=(BandwidthLimitRule(max_kbps=KbitPerSec(3000)),))
    port = the_port(scenario)
    out = port.outbound
    assert {port.device_of(layer) for layer in out.layers} == {"tap" + PORT_ID[:11],
                                                               "qvo" + PORT_ID[:11]}
    assert out.overridden == ()
    assert out.effective is not None
    assert out.effective.enforcer is Enforcer.OVS_AGENT
    assert out.effective.rate == 3_000_000
    assert out.rule.startswith("stricter of 2 layers in series")


def test_in_series_the_flavor_wins_when_it_is_stricter() -> None:
    scenario = one_port(specs={"quota:vif_outbound_average": "100"},
                        rules=(BandwidthLimitRule(max_kbps=KbitPerSec(3000)),))
    out = the_port(scenario).outbound
    assert out.effective is not None
    assert (out.effective.enforcer, out.effective.rate) == (Enforcer.TC_TAP, 800_000)


def test_linuxbridge_replaces_libvirts_root_qdisc_on_the_same_tap() -> None:
    scenario = one_port(specs={"quota:vif_inbound_average": "100"}, backend="linuxbridge",
                        rules=(BandwidthLimitRule(max_kbps=KbitPerSec(10000),
                                                  direction=Direction.INBOUND),))
    port = the_port(scenario)
    inbound = port.inbound
    assert inbound.effective is not None
    assert inbound.effective.enforcer is Enforcer.LINUXBRIDGE
    assert inbound.effective.rate == 10_000_000   # not the stricter 800 kbit/s: replaced
    assert [o.enforcer for o in inbound.overridden] == [Enforcer.TC_TAP]
    assert "same-object-last-writer-wins" in {f.code for f in port.findings}


def test_sriov_vf_gets_no_flavor_limit_only_the_vf_rate() -> None:
    # Nova writes the flavor's <bandwidth> for the agent's VF (get_config_hw_veb); libvirt
    # refuses it, so no tc layer is claimed and the port's finding says the spawn fails.
    scenario = one_port(specs={"quota:vif_outbound_average": "100"}, vif=VifType.HW_VEB,
                        backend="sriovnicswitch",
                        rules=(BandwidthLimitRule(max_kbps=KbitPerSec(2500),
                                                  max_burst_kbps=Kbit(100)),))
    port = the_port(scenario)
    assert all(layer.enforcer is Enforcer.SRIOV for layer in port.outbound.layers)
    assert port.outbound.effective is not None
    assert port.outbound.effective.rate == 3_000_000          # 2500 kbps -> 3 Mbit/s half-up
    assert port.inbound.effective is None
    assert "vif-bandwidth-refused" in {f.code for f in port.findings}


def test_an_ovs_offloaded_vf_is_limited_on_its_representor() -> None:
    # os-vif VIFHostDevice: no <bandwidth> at all; the OVS agent polices the representor
    # (named like the tap) and the flavor's keys are a finding, not a layer.
    scenario = one_port(specs={"quota:vif_outbound_average": "100"}, vif=VifType.HOSTDEV,
                        rules=(BandwidthLimitRule(max_kbps=KbitPerSec(2500)),))
    port = the_port(scenario)
    assert [layer.enforcer for layer in port.outbound.layers] == [Enforcer.OVS_AGENT]
    assert "vif-bandwidth-not-applied" in {f.code for f in port.findings}


def test_modern_ovs_port_is_shaped_by_libvirt_through_ovsdb() -> None:
    specs = {"quota:vif_inbound_average": "1000", "quota:vif_inbound_peak": "2000"}
    port = the_port(one_port(specs=specs, vif=VifType.OVS_BRIDGE), "modern")
    assert port.inbound.effective is not None
    assert port.inbound.effective.enforcer is Enforcer.OVS_LIBVIRT
    assert port.inbound.effective.rate == 16_000_000       # max-rate = peak
    assert port.inbound.effective.min_rate == 8_000_000    # min-rate = average
    # Under the Pike profile the same port is shaped by tc on the tap instead.
    pike = the_port(one_port(specs=specs, vif=VifType.OVS_BRIDGE), "pike-rhel7")
    assert pike.inbound.effective is not None
    assert pike.inbound.effective.enforcer is Enforcer.TC_TAP


def test_network_policy_applies_but_not_to_dhcp_ports() -> None:
    rules = (BandwidthLimitRule(max_kbps=KbitPerSec(5000)),)
    vm = the_port(one_port(rules=rules, on_network=True))
    assert (vm.policy, vm.policy_source) == ("p", "network")
    assert vm.outbound.effective is not None
    dhcp = the_port(one_port(rules=rules, on_network=True, device_owner="network:dhcp"))
    assert dhcp.policy is None and dhcp.outbound.effective is None


def test_dscp_only_policy_marks_but_does_not_cap() -> None:
    port = the_port(one_port(rules=(DscpMarkingRule(dscp_mark=26),)))
    assert port.outbound.effective is None
    assert any(layer.dscp == 26 for layer in port.outbound.layers)


def test_tiny_policer_burst_is_flagged() -> None:
    rules = (BandwidthLimitRule(max_kbps=KbitPerSec(100_000), max_burst_kbps=Kbit(10)),)
    port = the_port(one_port(rules=rules))
    assert "burst-too-small-for-tcp" in {f.code for f in port.findings}
    roomy = (BandwidthLimitRule(max_kbps=KbitPerSec(100_000)),)  # 80 % default burst
    assert "burst-too-small-for-tcp" not in {f.code for f in the_port(one_port(
        rules=roomy)).findings}


@pytest.mark.parametrize(("burst_kbit", "flagged"), [
    (300, True),     # the seed's bw-limiter: 100 ms at 3 Mbit/s, TCP measured 0.46 of the rate
    (560, True),     # 187 ms: measured 0.85
    (1200, False),   # 400 ms: measured 0.97
])
def test_policer_burst_floor_is_what_tcp_was_measured_to_need(burst_kbit: int,
                                                              flagged: bool) -> None:
    rules = (BandwidthLimitRule(max_kbps=KbitPerSec(3000), max_burst_kbps=Kbit(burst_kbit)),)
    codes = {f.code for f in the_port(one_port(rules=rules)).findings}
    assert ("burst-too-small-for-tcp" in codes) is flagged


@pytest.mark.parametrize(("policy", "weight"), [
    (SharesPolicy.LIBVIRT, "cpu.weight=2048"),
    (SharesPolicy.SYSTEMD, "cpu.weight=200"),
])
def test_cgroup_v2_weight_follows_the_shares_policy(policy: SharesPolicy, weight: str) -> None:
    scenario = one_port(specs={"quota:cpu_shares": "2048"})
    profile = replace(get_profile("modern"), shares_policy=policy)
    server = explain_scenario(scenario, profile).servers[0]
    assert server.cpu.cgroup_value == weight


def test_cpu_shares_over_the_v2_ceiling_is_a_server_finding() -> None:
    server = explain_scenario(one_port(specs={"quota:cpu_shares": "20000"}),
                              get_profile("modern")).servers[0]
    assert any(f.key == "quota:cpu_shares" and f.severity.value == "error"
               for f in server.findings)


def test_shared_work_never_leaks_between_ports() -> None:
    # explain reuses per-combination work across ports (flavor, VIF type, policy, network);
    # each port's explanation must equal the one it gets when explained alone.
    flavors = (Flavor(name="a", extra_specs={"quota:vif_inbound_average": "100",
                                             "quota:vif_outbound_average": "50"}),
               Flavor(name="b", vcpus=2, extra_specs={"quota:cpu_shares": "2048"}))
    policies = (QosPolicy(name="p1", id="pol-1",
                          rules=(BandwidthLimitRule(max_kbps=KbitPerSec(3000)),)),
                QosPolicy(name="p2", id="pol-2", rules=(DscpMarkingRule(dscp_mark=26),)))
    networks = (Network(name="n1", id="net-1", qos_policy_id="pol-2"),
                Network(name="n2", id="net-2", network_type="geneve", mtu=1450))
    vifs = (VifType.OVS_HYBRID, VifType.OVS_BRIDGE, VifType.ETHERNET, VifType.MACVTAP)
    ports, servers = [], []
    for i in range(24):
        port_id = f"{i:08x}-aaaa-bbbb-cccc-dddddddddddd"
        ports.append(Port(id=port_id, network_id=networks[i % 2].id, vif_type=vifs[i % 4],
                          qos_policy_id="pol-1" if i % 3 == 0 else None))
        servers.append(Server(name=f"vm{i}", flavor=flavors[i % 2].name, ports=(port_id,),
                              image_id="img"))
    for backend in ("ovs", "ovn", "linuxbridge"):
        whole = Scenario(flavors=flavors, policies=policies, networks=networks,
                         ports=tuple(ports), servers=tuple(servers),
                         neutron_backend=NeutronBackend(backend))
        together = explain_scenario(whole, get_profile("modern")).servers
        for server, explained in zip(servers, together, strict=True):
            alone = replace(whole, servers=(server,), ports=tuple(
                p for p in ports if p.id in server.ports))
            assert explain_scenario(alone, get_profile("modern")).servers[0] == explained
        first = together[0].ports[0]
        assert first.device_of(first.inbound.layers[0]) == "tap" + ports[0].id[:11]


def test_explain_restores_the_garbage_collector() -> None:
    assert gc.isenabled()
    explain_scenario(one_port(), get_profile("modern"))
    assert gc.isenabled()
    gc.disable()
    try:
        explain_scenario(one_port(), get_profile("modern"))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_two_flavors_of_one_name_keep_their_own_quotas() -> None:
    """A cloud may hold two flavors called ``m1`` (one private): each server is explained with
    the flavor its id names, not with whichever ``m1`` came last."""
    base = one_port(specs={"quota:cpu_shares": "512"})
    other = Flavor(name="f", id="flavor-2", vcpus=1, extra_specs={"quota:cpu_shares": "2048"})
    first = replace(base.flavors[0], id="flavor-1")
    servers = (replace(base.servers[0], name="a", flavor="flavor-1"),
               replace(base.servers[0], name="b", flavor="flavor-2"))
    scenario = replace(base, flavors=(first, other), servers=servers)
    explained = explain_scenario(scenario, get_profile("modern")).servers
    assert [s.cpu.shares for s in explained] == [512, 2048]
