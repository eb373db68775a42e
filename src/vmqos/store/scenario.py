"""Stored rows, and values read from any cloud, as the core's scenario types.

The one place where Neutron's port binding becomes a :class:`vmqos.model.VifType`
(:func:`vif_type_of`), used for the API's own ports and for ports read from a real cloud:

================  =============================  ===========================================
binding:vif_type  binding:vif_details / vnic     VifType (how Nova/os-vif plugs it)
================  =============================  ===========================================
``ovs``           vnic ``direct``                ``hostdev`` (os-vif VIFHostDevice: OVS offload)
``ovs``           ``ovs_hybrid_plug: true``      ``bridge`` (tap in a qbr bridge, qvo in br-int)
``ovs``           otherwise                      ``ovs`` (tap in br-int, virtualport openvswitch)
``vhostuser``                                    ``vhostuser``
``hw_veb``        vnic ``macvtap``               ``direct`` (macvtap)
``hw_veb``        otherwise                      ``hw_veb`` (VF, Nova's legacy get_config_hw_veb)
``hostdev_physical``                             ``hostdev`` (a whole PF: no <bandwidth> either)
``bridge``                                       ``bridge`` (Linux bridge agent: tap in a bridge)
``tap``                                          ``ethernet``
unbound, other    vnic ``macvtap`` / ``direct``  ``direct`` / ``hw_veb``; else ``bridge``
================  =============================  ===========================================

Neutron binds a ``direct`` port to OVS only when its ``binding:profile`` lists the
``switchdev`` capability (mech_openvswitch.py ``OpenvswitchMechanismDriver.bind_port``);
otherwise the SR-IOV NIC agent's driver binds it ``hw_veb``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from vmqos.intent.neutron.model import QosPolicy as PolicyValue
from vmqos.intent.neutron.network import Network as NetworkValue
from vmqos.intent.neutron.network import Port as PortValue
from vmqos.intent.nova.flavor import Flavor as FlavorValue
from vmqos.intent.scenario import Scenario
from vmqos.intent.scenario import Server as ServerValue
from vmqos.model import NeutronBackend, VifType

if TYPE_CHECKING:  # rows are only read here; the CLI imports this without SQLAlchemy
    from vmqos.store.models import Network, Port, Server

__all__ = [
    "binding_of",
    "flavor_snapshot",
    "flavor_value",
    "instance_name",
    "network_value",
    "port_value",
    "scenario_of",
    "server_value",
    "vif_type_of",
]


def binding_of(vif: VifType, vnic_type: str, port_id: str,
               profile: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """What the ML2 mechanism driver binds for a port of ``vnic_type`` (and ``binding:profile``
    ``profile``) on a host that plugs ``normal`` ports as ``vif``: ``binding:vif_type`` and
    ``vif_details``. The inverse of :func:`vif_type_of`."""
    capabilities = (profile or {}).get("capabilities") or ()
    if vnic_type == "direct" and "switchdev" in capabilities and vif in _OVS_HOSTS:
        # OVS hardware offload: the VF's representor goes into br-int (os-vif VIFHostDevice).
        return "ovs", {**_OVS_DETAILS, "ovs_hybrid_plug": False}
    if vnic_type in ("direct", "macvtap"):
        return "hw_veb", {"port_filter": False, "vlan": "0"}
    if vnic_type == "direct-physical":
        return "hostdev_physical", {"port_filter": False}
    if vif is VifType.VHOSTUSER:
        return "vhostuser", {"vhostuser_mode": "server", "vhostuser_ovs_plug": True,
                             "vhostuser_socket": f"/var/run/openvswitch/vhu{port_id[:11]}"}
    if vif is VifType.ETHERNET:
        return "tap", {}
    if vif in (VifType.OVS_BRIDGE, VifType.OVS_HYBRID):
        return "ovs", {**_OVS_DETAILS, "ovs_hybrid_plug": vif is VifType.OVS_HYBRID}
    if vif is VifType.MACVTAP:
        # The macvtap mechanism driver (ML2/macvtap agent); the host's NIC is its config.
        return "macvtap", {"port_filter": False, "connectivity": "l2",
                           "physical_interface": "eth1", "macvtap_source": "eth1",
                           "macvtap_mode": "bridge"}
    return "hw_veb", {"port_filter": False}


# Hosts whose normal ports sit in br-int: they run the OVS agent that binds switchdev VFs.
_OVS_HOSTS = frozenset({VifType.OVS_BRIDGE, VifType.OVS_HYBRID, VifType.ETHERNET,
                        VifType.HOSTDEV})
_OVS_DETAILS: dict[str, Any] = {"port_filter": True, "bridge_name": "br-int",
                                "connectivity": "l2", "datapath_type": "system"}


def vif_type_of(vif_type: str | None, vnic_type: str | None,
                details: Mapping[str, Any] | None) -> VifType:
    vnic = vnic_type or "normal"
    if vif_type == "ovs":
        if vnic in ("direct", "remote-managed"):
            # os_vif_util._nova_to_osvif_vif_ovs: a VF with its representor in br-int.
            return VifType.HOSTDEV
        hybrid = bool((details or {}).get("ovs_hybrid_plug", False))
        return VifType.OVS_HYBRID if hybrid else VifType.OVS_BRIDGE
    if vif_type == "vhostuser":
        return VifType.VHOSTUSER
    if vif_type == "hw_veb":
        return VifType.MACVTAP if vnic == "macvtap" else VifType.HW_VEB
    if vif_type == "hostdev_physical":
        return VifType.HOSTDEV
    if vif_type == "bridge":
        return VifType.OVS_HYBRID
    if vif_type == "tap":
        return VifType.ETHERNET
    if vif_type == "macvtap":
        return VifType.MACVTAP
    if vnic == "macvtap":
        return VifType.MACVTAP
    if vnic == "direct":
        return VifType.HW_VEB
    if vnic == "direct-physical":
        return VifType.HOSTDEV
    return VifType.OVS_HYBRID


def instance_name(seq: int) -> str:
    """Nova's default ``instance_name_template``, ``instance-%08x`` of the database id."""
    return f"instance-{seq:08x}"


def libvirt_time(moment: datetime) -> str:
    """``<nova:creationTime>``'s format."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def port_value(row: Port) -> PortValue:
    return PortValue(id=row.id, network_id=row.network_id, mac=row.mac_address, name=row.name,
                     device_owner=row.device_owner, vnic_type=row.vnic_type,
                     vif_type=vif_type_of(row.vif_type, row.vnic_type, row.vif_details),
                     qos_policy_id=row.qos_policy_id,
                     fixed_ip=row.fixed_ips[0]["ip_address"] if row.fixed_ips else "")


def network_value(row: Network) -> NetworkValue:
    return NetworkValue(name=row.name, id=row.id, qos_policy_id=row.qos_policy_id,
                        network_type=row.network_type,
                        physical_network=row.physical_network or None, mtu=row.mtu,
                        segmentation_id=row.segmentation_id or None)


def flavor_snapshot(flavor_id: str, name: str, vcpus: int, ram: int, disk: int, swap: int,
                    ephemeral: int, extra_specs: Mapping[str, str]) -> dict[str, Any]:
    """What Nova copies into the instance at boot (``instance.flavor``)."""
    return {"id": flavor_id, "name": name, "vcpus": vcpus, "ram": ram, "disk": disk,
            "swap": swap, "ephemeral": ephemeral, "extra_specs": dict(extra_specs)}


def flavor_value(snapshot: Mapping[str, Any]) -> FlavorValue:
    return FlavorValue(name=snapshot["name"], vcpus=snapshot["vcpus"], ram=snapshot["ram"],
                       disk=snapshot["disk"], ephemeral=snapshot["ephemeral"],
                       swap=snapshot["swap"], id=snapshot["id"],
                       extra_specs=dict(snapshot["extra_specs"]))


def server_value(row: Server, *, port_ids: Sequence[str], user_name: str,
                 project_name: str) -> ServerValue:
    return ServerValue(name=row.name, flavor=row.flavor["id"], ports=tuple(port_ids), id=row.id,
                       image_id=row.image_id or None, instance_name=instance_name(row.seq),
                       domain_id=None, created=libvirt_time(row.created_at),
                       user_id=row.user_id, user_name=user_name, project_id=row.project_id,
                       project_name=project_name, availability_zone=row.availability_zone)


def scenario_of(server: ServerValue, flavor: FlavorValue, ports: Sequence[PortValue],
                networks: Sequence[NetworkValue], policies: Sequence[PolicyValue], *,
                backend: NeutronBackend, profile: str) -> Scenario:
    """A one-server scenario: what :func:`vmqos.plan.server_plan.compile_server_plan` needs."""
    unique_networks = {n.id: n for n in networks}
    return Scenario(flavors=(flavor,), policies=tuple(policies),
                    networks=tuple(unique_networks.values()), ports=tuple(ports),
                    servers=(server,), neutron_backend=backend, profile=profile)
