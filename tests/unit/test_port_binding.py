"""Port binding as the API writes it and as the plan reads it back must agree: a server's
plan is compiled from the stored binding (store.scenario.vif_type_of), so a binding that
does not round-trip plans the server for the wrong kind of port."""

from __future__ import annotations

import pytest

from vmqos.model import VifType
from vmqos.store.scenario import binding_of, vif_type_of

PORT = "bb8410ad-a026-4e9a-8f0b-0e8f611d5588"


@pytest.mark.parametrize("vif", list(VifType))
def test_a_normal_port_is_planned_as_the_host_plugs_it(vif: VifType) -> None:
    vif_type, details = binding_of(vif, "normal", PORT)
    assert vif_type_of(vif_type, "normal", details) is vif


@pytest.mark.parametrize(("vnic", "planned"), [("direct", VifType.HOSTDEV),
                                               ("macvtap", VifType.MACVTAP),
                                               ("direct-physical", VifType.HOSTDEV)])
def test_sriov_vnic_types_bind_hw_veb_or_hostdev(vnic: str, planned: VifType) -> None:
    vif_type, details = binding_of(VifType.OVS_BRIDGE, vnic, PORT)
    assert vif_type_of(vif_type, vnic, details) is planned


def test_macvtap_binds_as_the_macvtap_driver_does() -> None:
    # Before: a host plugging ports as macvtap bound them hw_veb, read back as a VF (hostdev).
    assert binding_of(VifType.MACVTAP, "normal", PORT)[0] == "macvtap"
