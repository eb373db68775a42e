"""plan/enforcement: each behaviour that decides what limits a port, asked in one place."""

from __future__ import annotations

import pytest

from vmqos.intent.neutron.network import Network, Port
from vmqos.intent.nova.flavor import Flavor
from vmqos.libvirt_types import Bandwidth, BandwidthSide
from vmqos.model import Direction, Enforcer, NeutronBackend, VifType
from vmqos.plan.enforcement import enforce_port, libvirt_port, neutron_device
from vmqos.profile import Profile, get_profile
from vmqos.units import KBytesPerSec

BW = Bandwidth(inbound=BandwidthSide(KBytesPerSec(1000)), outbound=BandwidthSide(KBytesPerSec(500)))
PIKE, MODERN = get_profile("pike-rhel7"), get_profile("modern")


@pytest.mark.parametrize(("vif", "profile", "backend", "ovsdb", "removed", "noqueue"), [
    (VifType.OVS_BRIDGE, MODERN, NeutronBackend.OVS, True, True, False),
    (VifType.OVS_BRIDGE, PIKE, NeutronBackend.OVS, False, True, False),     # the seed's tap
    (VifType.OVS_BRIDGE, MODERN, None, True, True, False),                  # vmqos render
    (VifType.ETHERNET, MODERN, NeutronBackend.OVN, False, True, True),
    (VifType.ETHERNET, MODERN, None, False, False, True),
    (VifType.ETHERNET, MODERN, NeutronBackend.LINUXBRIDGE, False, False, True),
    (VifType.OVS_BRIDGE, MODERN, NeutronBackend.LINUXBRIDGE, True, False, False),
    (VifType.OVS_HYBRID, MODERN, NeutronBackend.OVS, False, False, True),
    (VifType.MACVTAP, PIKE, NeutronBackend.SRIOV, False, False, False),
])
def test_libvirt_port_decisions(vif: VifType, profile: Profile, backend: NeutronBackend | None,
                                ovsdb: bool, removed: bool, noqueue: bool) -> None:
    port = libvirt_port(vif, BW, profile, backend)
    assert (port.uses_ovsdb, port.ingress_removed_by_ovs, port.noqueue) == (
        ovsdb, removed, noqueue)
    assert port.tc_bandwidth == (None if ovsdb else BW)


def test_ovs_agent_shapes_the_qvo_of_a_hybrid_port_only() -> None:
    hybrid = Port(id="0123456789abcdef", network_id="n", vif_type=VifType.OVS_HYBRID)
    assert neutron_device(hybrid, NeutronBackend.OVS) == "qvo0123456789a"
    assert neutron_device(hybrid, NeutronBackend.LINUXBRIDGE) == "tap0123456789a"


def test_a_br_int_tap_loses_libvirts_outbound_policer() -> None:
    flavor = Flavor(name="f", vcpus=1, ram=1, disk=1, extra_specs={
        "quota:vif_inbound_average": "1000", "quota:vif_outbound_average": "500"})
    port = Port(id="0123456789abcdef", network_id="n", vif_type=VifType.OVS_BRIDGE)
    got = enforce_port(port, Network(name="n"), flavor="f", quota=flavor.quota, policy=None,
                       backend=NeutronBackend.OVS, profile=PIKE)
    assert got.inbound.effective is not None
    assert got.inbound.effective.enforcer is Enforcer.TC_TAP
    assert got.direction(Direction.OUTBOUND).effective is None
    assert [limit.enforcer for limit in got.outbound.overridden] == [Enforcer.TC_TAP]
    assert [f.code for f in got.findings] == ["ovs-removes-libvirt-ingress-qdisc"]
