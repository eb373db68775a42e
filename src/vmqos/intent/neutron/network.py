"""Neutron's networks and ports as values: what a port's QoS depends on besides its policy.

A port's effective policy falls back to its network's (:mod:`vmqos.intent.neutron.binding`),
its VIF type decides which host object a limit lands on, and its id names the tap Nova's
os-vif plugs (``tap`` + 11 characters).
"""

from __future__ import annotations

from dataclasses import dataclass

from vmqos.model import VifType

__all__ = ["Network", "Port", "tap_name"]


def tap_name(port_id: str) -> str:
    """Nova/os-vif device name for a port: ``tap`` + the first 11 characters of its id."""
    return "tap" + port_id[:11]


@dataclass(frozen=True, slots=True)
class Network:
    name: str
    id: str = ""
    qos_policy_id: str | None = None
    network_type: str = "vlan"           # provider:network_type: vlan, flat, vxlan, geneve
    physical_network: str | None = None  # provider:physical_network
    mtu: int = 1500
    segmentation_id: int | None = None   # provider:segmentation_id: the VLAN of a vlan network


@dataclass(frozen=True, slots=True)
class Port:
    id: str
    network_id: str
    mac: str = ""
    name: str = ""
    device_owner: str = "compute:nova"
    vnic_type: str = "normal"            # binding:vnic_type
    vif_type: VifType = VifType.OVS_HYBRID
    qos_policy_id: str | None = None
    fixed_ip: str = ""

    @property
    def tap(self) -> str:
        return tap_name(self.id)
