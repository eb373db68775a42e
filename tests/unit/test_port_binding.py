"""Port binding as the API writes it and as the plan reads it back must agree: a server's
plan is compiled from the stored binding (store.scenario.vif_type_of), so a binding that
does not round-trip plans the server for the wrong kind of port."""

from __future__ import annotations

import pytest

from vmqos.model import VifType
from vmqos.store.scenario import binding_of, vif_type_of

PORT = "bb8410ad-a026-4e9a-8f0b-0e8f611d5588"
SWITCHDEV = {"capabilities": ["switchdev"]}
# A VF is never a "normal" port: what the host plugs as a VF, it binds for vnic direct.
VF_TYPES = {VifType.HOSTDEV: ("direct", SWITCHDEV), VifType.HW_VEB: ("direct", None)}


@pytest.mark.parametrize("vif", list(VifType))
def test_a_port_is_planned_as_the_host_plugs_it(vif: VifType) -> None:
    vnic, profile = VF_TYPES.get(vif, ("normal", None))
    vif_type, details = binding_of(vif, vnic, PORT, profile)
    assert vif_type_of(vif_type, vnic, details) is vif


@pytest.mark.parametrize(("vnic", "planned"), [("direct", VifType.HW_VEB),
                                               ("macvtap", VifType.MACVTAP),
                                               ("direct-physical", VifType.HOSTDEV)])
def test_sriov_vnic_types_bind_to_the_sriov_agent(vnic: str, planned: VifType) -> None:
    vif_type, details = binding_of(VifType.OVS_BRIDGE, vnic, PORT)
    assert vif_type == ("hostdev_physical" if vnic == "direct-physical" else "hw_veb")
    assert vif_type_of(vif_type, vnic, details) is planned


@pytest.mark.parametrize("host", [VifType.OVS_BRIDGE, VifType.OVS_HYBRID])
def test_a_switchdev_vf_binds_to_ovs_as_a_host_device(host: VifType) -> None:
    # mech_openvswitch.py bind_port: vnic direct only with 'switchdev' in the profile's
    # capabilities, vif_type ovs; os_vif_util._nova_to_osvif_vif_ovs then makes it a
    # VIFHostDevice whatever ovs_hybrid_plug says.
    vif_type, details = binding_of(host, "direct", PORT, SWITCHDEV)
    assert (vif_type, details["ovs_hybrid_plug"]) == ("ovs", False)
    assert vif_type_of("ovs", "direct", {"ovs_hybrid_plug": True}) is VifType.HOSTDEV
    # Without the capability the OVS driver refuses and the SR-IOV agent's driver binds it.
    assert binding_of(host, "direct", PORT, {"capabilities": []})[0] == "hw_veb"


def test_an_unbound_direct_port_is_planned_for_the_sriov_agent() -> None:
    assert vif_type_of(None, "direct", None) is VifType.HW_VEB
    assert vif_type_of(None, "direct-physical", None) is VifType.HOSTDEV


def test_macvtap_binds_as_the_macvtap_driver_does() -> None:
    # Before: a host plugging ports as macvtap bound them hw_veb, read back as a VF (hostdev).
    assert binding_of(VifType.MACVTAP, "normal", PORT)[0] == "macvtap"
