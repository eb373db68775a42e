"""What Placement admits but does not protect, across a scenario's ports."""

from __future__ import annotations

from vmqos.intent.neutron.model import BandwidthLimitRule, MinimumBandwidthRule, QosPolicy
from vmqos.intent.neutron.network import Network, Port
from vmqos.intent.nova.flavor import Flavor
from vmqos.intent.scenario import Scenario, Server
from vmqos.model import NeutronBackend
from vmqos.plan.explain.explain import explain_scenario
from vmqos.plan.explain.placement_lint import PLACEMENT_CODES, placement_findings
from vmqos.profile import get_profile
from vmqos.units import KbitPerSec

GOLD = QosPolicy(name="gold", id="gold", rules=(
    MinimumBandwidthRule(min_kbps=KbitPerSec(1_000_000), id="r1"),))
CAP = QosPolicy(name="cap", id="cap", rules=(BandwidthLimitRule(max_kbps=KbitPerSec(1000)),))


def scenario(*ports: tuple[str, str | None, str]) -> Scenario:
    """ports: (port id, policy id, network id); networks phys (vlan physnet1), tun (vxlan)."""
    networks = (Network("phys", id="phys", network_type="vlan", physical_network="physnet1"),
                Network("tun", id="tun", network_type="vxlan"))
    made = tuple(Port(id=p, network_id=n, qos_policy_id=pol) for p, pol, n in ports)
    return Scenario(flavors=(Flavor("f"),), policies=(GOLD, CAP), networks=networks,
                    ports=made, servers=(Server(name="vm", flavor="f",
                                                ports=tuple(p.id for p in made)),),
                    neutron_backend=NeutronBackend.OVS)


def codes(s: Scenario, profile: str = "modern") -> list[tuple[str, str]]:
    return [(f.code, f.value) for f in placement_findings(s, get_profile(profile))]


def test_guaranteed_and_unguaranteed_ports_on_one_physnet_is_a_warning() -> None:
    mixed = scenario(("p1", "gold", "phys"), ("p2", "cap", "phys"))
    assert codes(mixed) == [("placement-unguaranteed-neighbours", "physnet1")]
    assert codes(scenario(("p1", "gold", "phys"), ("p2", "gold", "phys"))) == []
    assert codes(scenario(("p1", "cap", "phys"), ("p2", None, "phys"))) == []


def test_a_tunnelled_guarantee_and_a_release_before_placement() -> None:
    assert codes(scenario(("p1", "gold", "tun"))) == [("placement-guarantee-tunnelled", "p1")]
    assert codes(scenario(("p1", "gold", "phys")), "pike-rhel7") == [
        ("placement-guarantee-not-admitted", "pike-rhel7")]


def test_explain_carries_them_once_for_the_whole_scenario() -> None:
    explanation = explain_scenario(scenario(("p1", "gold", "phys"), ("p2", None, "phys")),
                                   get_profile("modern"))
    assert [f.code for f in explanation.scenario_findings] == [
        "placement-unguaranteed-neighbours"]
    assert "placement-unguaranteed-neighbours" in {f.code for f in explanation.findings()}
    assert set(PLACEMENT_CODES) >= {f.code for f in explanation.scenario_findings}
