"""Placement-style admission: a port's request (Neutron's qos_plugin), a host's providers
(Neutron's placement_report), and the choice of host (Placement + Nova's weighers)."""

from __future__ import annotations

import uuid

import pytest

from vmqos.errors import ValidationError
from vmqos.intent.compute_host import ComputeHost, parse_compute_host
from vmqos.intent.neutron.model import (
    BandwidthLimitRule,
    MinimumBandwidthRule,
    MinimumPacketRateRule,
)
from vmqos.intent.neutron.resource_request import (
    group_id,
    normalize_trait,
    physnet_trait,
    port_resource_request,
)
from vmqos.intent.scheduling import FlavorRequest, allocation_change, root_capacity, select_host
from vmqos.model import Direction
from vmqos.units import KbitPerSec, Kpps

PORT = "bb8410ad-a026-4e9a-8f0b-0e8f611d5588"
EGRESS_1G = MinimumBandwidthRule(min_kbps=KbitPerSec(1_000_000), id="r-egr")
INGRESS_2G = MinimumBandwidthRule(min_kbps=KbitPerSec(2_000_000), direction=Direction.INBOUND,
                                  id="r-igr")


def ovs_host(name: str, egress: int | None = 10_000_000, ingress: int | None = 10_000_000,
             **sizes: int) -> ComputeHost:
    body = {"agents": [{"agent_type": "Open vSwitch agent",
                        "bridge_mappings": {"physnet1": "br-phys"},
                        "resource_provider_bandwidths": {
                            "br-phys": {"egress": egress, "ingress": ingress}}}], **sizes}
    return parse_compute_host(name, body)


# --- the port's request (neutron/services/qos/qos_plugin.py) ------------------------------


def test_min_bandwidth_rules_make_one_group_with_physnet_and_vnic_traits() -> None:
    request = port_resource_request(PORT, "normal", "physnet1", [EGRESS_1G, INGRESS_2G])
    assert request is not None
    [group] = request.groups
    assert group.required == ("CUSTOM_PHYSNET_PHYSNET1", "CUSTOM_VNIC_TYPE_NORMAL")
    assert group.resources == (("NET_BW_EGR_KILOBIT_PER_SEC", 1_000_000),
                               ("NET_BW_IGR_KILOBIT_PER_SEC", 2_000_000))
    # resource_request_group_uuid: uuid5(port id, "r-egr:r-igr")
    assert group.id == str(uuid.uuid5(uuid.UUID(PORT), "r-egr:r-igr"))
    assert request.as_json()["same_subtree"] == [group.id]


def test_tunnelled_network_asks_for_the_tunnel_provider() -> None:
    request = port_resource_request(PORT, "normal", None, [EGRESS_1G])
    assert request is not None
    assert request.groups[0].required == ("CUSTOM_NETWORK_TUNNEL_PROVIDER",
                                          "CUSTOM_VNIC_TYPE_NORMAL")


def test_packet_rate_group_needs_only_the_vnic_trait() -> None:
    rule = MinimumPacketRateRule(min_kpps=Kpps(1000), direction=None, id="pps")
    request = port_resource_request(PORT, "direct", "physnet1", [rule])
    assert request is not None
    assert request.groups[0].required == ("CUSTOM_VNIC_TYPE_DIRECT",)
    assert request.groups[0].resources == (("NET_PACKET_RATE_KILOPACKET_PER_SEC", 1000),)


def test_a_policy_without_guarantees_asks_for_nothing() -> None:
    assert port_resource_request(PORT, "normal", "physnet1",
                                 [BandwidthLimitRule(max_kbps=KbitPerSec(1000))]) is None


@pytest.mark.parametrize(("name", "trait"), [
    ("physnet1", "CUSTOM_PHYSNET_PHYSNET1"),
    ("provider-net.2", "CUSTOM_PHYSNET_PROVIDER_NET_2"),
    ("a--b", "CUSTOM_PHYSNET_A_B"),
])
def test_os_traits_normalize_name(name: str, trait: str) -> None:
    assert physnet_trait(name) == trait
    assert normalize_trait("CUSTOM_X") == "CUSTOM_X"


# --- the host's providers (neutron/agent/common/placement_report.py) ------------------------


def test_ovs_agent_providers() -> None:
    host = parse_compute_host("cmp1", {"agents": [{
        "agent_type": "Open vSwitch agent",
        "bridge_mappings": {"physnet1": "br-phys"},
        "resource_provider_bandwidths": {"br-phys": {"egress": 1000, "ingress": 0},
                                         "rp_tunnelled": {"egress": 500, "ingress": 500}}}]})
    agent, phys, tunnel = host.providers
    assert agent.name == "cmp1:Open vSwitch agent"
    assert phys.name == "cmp1:Open vSwitch agent:br-phys"
    assert "CUSTOM_PHYSNET_PHYSNET1" in phys.traits and "CUSTOM_VNIC_TYPE_NORMAL" in phys.traits
    # An ingress of 0 is no inventory (_deferred_update_rp_bw_inventory: `if bw_values.get`).
    assert phys.inventory == (("NET_BW_EGR_KILOBIT_PER_SEC", 1000),)
    assert "CUSTOM_NETWORK_TUNNEL_PROVIDER" in tunnel.traits
    assert host.physnets == ("CUSTOM_PHYSNET_PHYSNET1",)


@pytest.mark.parametrize(("body", "key"), [
    ({"agents": [{"agent_type": "Tap agent"}]}, "agents[0].agent_type"),
    ({"agents": [{"agent_type": "Open vSwitch agent",
                  "resource_provider_bandwidths": {"br": {"egress": -1}}}]},
     "agents[0].resource_provider_bandwidths.br.egress"),
    ({"vcpus": 0}, "vcpus"),
    ({"memory_mb": 2147483648}, "memory_mb"),
])
def test_bad_registrations_name_the_key(body: dict[str, object], key: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_compute_host("cmp1", body)
    assert caught.value.key == key


# --- choosing the host ----------------------------------------------------------------------


def test_root_capacity_uses_novas_ratios_and_reservation() -> None:
    host = parse_compute_host("cmp1", {"vcpus": 8, "memory_mb": 16384, "disk_gb": 100})
    assert root_capacity(host) == {"VCPU": 32, "MEMORY_MB": 15872, "DISK_GB": 100}


def test_flavor_resources_as_nova_counts_them() -> None:
    assert FlavorRequest(2, 1024, root_gb=20, ephemeral_gb=5, swap_mb=1).resources() == {
        "VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 26}
    assert FlavorRequest(2, 1024, root_gb=20, boot_from_volume=True).resources() == {
        "VCPU": 2, "MEMORY_MB": 1024}


def test_the_host_with_most_free_resources_wins_then_the_first_by_name() -> None:
    a, b = ovs_host("a"), ovs_host("b", memory_mb=32768)
    flavor = FlavorRequest(1, 512)
    chosen = select_host([a, b], {}, flavor)
    assert chosen is not None and chosen.host == "b"
    chosen = select_host([ovs_host("b"), ovs_host("a")], {}, flavor)
    assert chosen is not None and chosen.host == "a"


def test_guarantees_are_admitted_until_the_bridge_is_full() -> None:
    host = ovs_host("a", egress=2_500_000)
    usage: dict[tuple[str, str], int] = {}
    placed = []
    for n in range(3):
        port = str(uuid.UUID(int=n + 1))
        request = port_resource_request(port, "normal", "physnet1", [EGRESS_1G])
        assert request is not None
        allocation = select_host([host], usage, FlavorRequest(1, 512),
                                 [request])
        placed.append(allocation)
        if allocation is not None:
            for key, amount in allocation.usage().items():
                usage[key] = usage.get(key, 0) + amount
    assert [p is not None for p in placed] == [True, True, False]
    first = placed[0]
    assert first is not None
    assert ("a:Open vSwitch agent:br-phys", "NET_BW_EGR_KILOBIT_PER_SEC", 1_000_000) in \
        first.resources


def test_a_physnet_no_host_has_is_no_valid_host() -> None:
    request = port_resource_request(PORT, "normal", "physnet9", [EGRESS_1G])
    assert request is not None
    assert select_host([ovs_host("a")], {}, FlavorRequest(1, 512),
                       [request]) is None


def test_two_ports_may_need_the_search_to_use_both_bridges() -> None:
    host = parse_compute_host("a", {"agents": [{
        "agent_type": "Open vSwitch agent",
        "bridge_mappings": {"physnet1": ["br-1", "br-2"]},
        "resource_provider_bandwidths": {"br-1": {"egress": 1_500_000},
                                         "br-2": {"egress": 1_000_000}}}]})
    requests = [port_resource_request(str(uuid.UUID(int=n + 1)), "normal", "physnet1",
                                      [EGRESS_1G]) for n in range(2)]
    chosen = select_host([host], {}, FlavorRequest(1, 512),
                         [r for r in requests if r is not None])
    assert chosen is not None
    bridges = sorted(p for p, rc, _ in chosen.resources if rc.startswith("NET_BW"))
    assert bridges == ["a:Open vSwitch agent:br-1", "a:Open vSwitch agent:br-2"]


def test_ram_is_admitted_like_placement() -> None:
    host = ovs_host("a", memory_mb=2048)     # 2048 - 512 reserved
    assert select_host([host], {}, FlavorRequest(1, 1536)) is not None
    assert select_host([host], {}, FlavorRequest(1, 1537)) is None


# --- a bound port's policy change (qos_plugin _change_placement_allocation) ----------------

RP = "5e6a3a44-0000-4000-8000-00000000000a"


def test_a_policy_change_moves_the_difference_on_the_same_provider() -> None:
    old = [MinimumBandwidthRule(min_kbps=KbitPerSec(1000), id="a"),
           MinimumBandwidthRule(min_kbps=KbitPerSec(500), direction=Direction.INBOUND, id="b")]
    new = [MinimumBandwidthRule(min_kbps=KbitPerSec(4000), id="c")]
    change = allocation_change(PORT, {group_id(PORT, old): RP}, old, new)
    assert change is not None
    # _prepare_allocation_needs: -1000 + 4000 egress, -500 ingress.
    assert change.diff == {RP: {"NET_BW_EGR_KILOBIT_PER_SEC": 3000,
                                "NET_BW_IGR_KILOBIT_PER_SEC": -500}}
    assert change.allocation == {group_id(PORT, new): RP}


def test_new_rule_types_are_dataplane_only_and_no_allocation_means_no_change() -> None:
    old = [EGRESS_1G]
    new = [EGRESS_1G, MinimumPacketRateRule(min_kpps=Kpps(10), direction=None, id="p")]
    change = allocation_change(PORT, {group_id(PORT, old): RP}, old, new)
    assert change is not None and change.diff == {}
    assert change.dataplane_only == ("minimum_packet_rate",)
    # A port with no guarantee before has no allocation to move (Neutron only warns).
    assert allocation_change(PORT, {}, [], [EGRESS_1G]) is None
