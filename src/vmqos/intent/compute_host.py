"""A compute host as Placement sees it: the resource providers its services report.

nova-compute reports the host's root provider (``VCPU``, ``MEMORY_MB``, ``DISK_GB``); each
Neutron agent on the host reports, as neutron/agent/common/placement_report.py
``PlacementState`` does:

* an agent provider ``<host>:<agent type>`` with the agent's vnic-type traits and its packet
  processing inventory (``resource_provider_packet_processing_*``);
* per device of ``resource_provider_bandwidths`` a child ``<host>:<agent type>:<device>``, with
  the physnet traits of the physnets mapped to that device (``bridge_mappings`` of the OVS
  agent, ``device_mappings`` of the SR-IOV agent), ``CUSTOM_NETWORK_TUNNEL_PROVIDER`` for the
  ``tunnelled_network_rp_name`` device, the agent's vnic-type traits, and an inventory for each
  direction whose bandwidth is set and non-zero (``_deferred_update_rp_bw_inventory``).

The registration body carries the agent's ``configurations`` in the form
``openstack network agent show`` prints them (``resource_provider_bandwidths`` as
``{device: {"egress": kbps, "ingress": kbps}}``, the parsed form of neutron-lib
``parse_rp_bandwidths``). Inventories default as the agents' ``resource_provider_inventory_
defaults`` do: reserved 0, allocation ratio 1.0, so a provider's capacity is its total.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vmqos.errors import ValidationError
from vmqos.intent.neutron.resource_request import (
    NET_BW_EGR_KILOBIT_PER_SEC,
    NET_BW_IGR_KILOBIT_PER_SEC,
    NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC,
    NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC,
    NET_PACKET_RATE_KILOPACKET_PER_SEC,
    TRAIT_NETWORK_TUNNEL,
    physnet_trait,
    vnic_type_trait,
)

__all__ = ["AGENT_TYPES", "ComputeHost", "Provider", "parse_compute_host"]

# Agent type -> the vnic types its mechanism driver binds (supported_vnic_types of
# mech_openvswitch.py, mech_driver.py of mech_sriov, mech_ovn.py).
AGENT_TYPES: Mapping[str, tuple[str, ...]] = {
    "Open vSwitch agent": ("normal", "direct", "smart-nic", "vhost-vdpa"),
    "NIC Switch agent": ("direct", "macvtap", "direct-physical", "accelerator-direct",
                         "accelerator-direct-physical"),
    "OVN Controller agent": ("normal", "direct", "direct-physical", "macvtap",
                             "remote-managed", "vhost-vdpa"),
}
# Each mechanism driver's resource_provider_uuid5_namespace (mech_openvswitch.py,
# mech_sriov/mech_driver.py, neutron/common/ovn/constants.py OVN_RP_UUID): provider uuids are
# uuid5(namespace, host) for the agent and uuid5(namespace, "host:device") for a device
# (neutron_lib/placement/utils.py agent_/device_resource_provider_uuid).
_UUID_NAMESPACES = {
    "Open vSwitch agent": uuid.UUID("87ee7d5c-73bb-11e8-9008-c4d987b2a692"),
    "NIC Switch agent": uuid.UUID("87f1895c-73bb-11e8-9008-c4d987b2a692"),
    "OVN Controller agent": uuid.UUID("5533233b-800c-11eb-b1f4-000056b2f5b8"),
}
_MAPPINGS = {"Open vSwitch agent": "bridge_mappings", "NIC Switch agent": "device_mappings",
             "OVN Controller agent": "bridge_mappings"}
_DEFAULT_TUNNEL_RP = "rp_tunnelled"        # [ovs]/[ovn] tunnelled_network_rp_name default
# Nova's compute node: the largest sizes its columns and Placement's inventory take.
_MAX_INT = 2147483647


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    traits: frozenset[str]
    inventory: tuple[tuple[str, int], ...]       # (resource class, capacity)
    uuid: str = ""

    def capacity(self, resource_class: str) -> int:
        return dict(self.inventory).get(resource_class, 0)


@dataclass(frozen=True, slots=True)
class ComputeHost:
    name: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    providers: tuple[Provider, ...]              # the Neutron agents' providers

    @property
    def physnets(self) -> tuple[str, ...]:
        return tuple(sorted({t for p in self.providers for t in p.traits
                             if t.startswith("CUSTOM_PHYSNET_")}))


def _bad(key: str, value: object, allowed: str) -> ValidationError:
    return ValidationError(f"Invalid input for {key}: {value!r}; expected {allowed}",
                           key=key, value=value, allowed=allowed)


def _count(key: str, value: object, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (
            minimum <= value <= _MAX_INT):
        raise _bad(key, value, f"an integer from {minimum} to {_MAX_INT}")
    return value


def _rate(key: str, value: object) -> int | None:
    # neutron-lib _parse_rp_rate: a non-negative integer, or unset.
    if value is None:
        return None
    return _count(key, value)


def _mapping(key: str, value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(key, value, "an object")
    return value


def _only(key: str, value: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for name in value:
        if name not in allowed:
            raise ValidationError(
                f"Invalid input for {key}: unknown key {str(name)[:64]!r}; allowed: "
                f"{', '.join(allowed)}", key=f"{key}.{str(name)[:64]}", value=name,
                allowed=", ".join(allowed))


_AGENT_KEYS = ("agent_type", "bridge_mappings", "device_mappings", "tunnelled_network_rp_name",
               "resource_provider_bandwidths",
               "resource_provider_packet_processing_without_direction",
               "resource_provider_packet_processing_with_direction")
_HOST_KEYS = ("vcpus", "memory_mb", "disk_gb", "host_ip", "agents")


def _name(key: str, value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 255 or not value.isprintable():
        raise _bad(key, value, "a printable string of 1 to 255 characters")
    return value


# Direction (as the agent's configuration names it) -> resource class, per inventory option.
_BANDWIDTH_CLASSES = (("egress", NET_BW_EGR_KILOBIT_PER_SEC),
                      ("ingress", NET_BW_IGR_KILOBIT_PER_SEC))
_PACKET_OPTIONS = (
    ("resource_provider_packet_processing_without_direction",
     (("any", NET_PACKET_RATE_KILOPACKET_PER_SEC),)),
    ("resource_provider_packet_processing_with_direction",
     (("egress", NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC),
      ("ingress", NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC))),
)


def _inventory(key: str, values: object, classes: tuple[tuple[str, str], ...], *,
               per_direction: bool) -> list[tuple[str, int]]:
    """One option's ``{direction: amount}``: only its directions, each a non-negative integer
    or unset; a zero or unset amount is no inventory (``_deferred_update_rp_*_inventory``)."""
    rates = _mapping(key, values)
    _only(key, rates, tuple(direction for direction, _ in classes))
    out = []
    for direction, resource_class in classes:
        total = _rate(f"{key}.{direction}" if per_direction else key, rates.get(direction))
        if total:
            out.append((resource_class, total))
    return out


def _agent_providers(host: str, index: int, agent: object) -> list[Provider]:
    where = f"agents[{index}]"
    config = _mapping(where, agent)
    _only(where, config, _AGENT_KEYS)
    agent_type = config.get("agent_type")
    if not isinstance(agent_type, str) or agent_type not in AGENT_TYPES:
        raise _bad(f"{where}.agent_type", agent_type, "one of " + ", ".join(AGENT_TYPES))
    vnic = frozenset(vnic_type_trait(v) for v in AGENT_TYPES[agent_type])
    mapping_key = _MAPPINGS[agent_type]
    device_physnets: dict[str, set[str]] = {}
    for physnet, devices in _mapping(f"{where}.{mapping_key}", config.get(mapping_key)).items():
        _name(f"{where}.{mapping_key}", physnet)
        for device in devices if isinstance(devices, list) else [devices]:
            device_physnets.setdefault(
                _name(f"{where}.{mapping_key}.{physnet}", device), set()).add(physnet)
    tunnel = _name(f"{where}.tunnelled_network_rp_name",
                   config.get("tunnelled_network_rp_name", _DEFAULT_TUNNEL_RP))
    agent_rp = f"{host}:{agent_type}"
    pps: list[tuple[str, int]] = []
    for option, classes in _PACKET_OPTIONS:
        key = f"{where}.{option}"
        for hypervisor, values in _mapping(key, config.get(option)).items():
            if hypervisor:
                _name(key, hypervisor)
            pps += _inventory(key, values, classes, per_direction=False)
    namespace = _UUID_NAMESPACES[agent_type]
    out = [Provider(agent_rp, vnic, tuple(pps), str(uuid.uuid5(namespace, host)))]
    bandwidths = _mapping(f"{where}.resource_provider_bandwidths",
                          config.get("resource_provider_bandwidths"))
    for device, values in bandwidths.items():
        key = f"{where}.resource_provider_bandwidths.{device}"
        _name(key, device)
        inventory = _inventory(key, values, _BANDWIDTH_CLASSES, per_direction=True)
        traits = {physnet_trait(p) for p in device_physnets.get(device, ())}
        if device == tunnel:
            traits.add(TRAIT_NETWORK_TUNNEL)
        out.append(Provider(f"{agent_rp}:{device}", frozenset(traits) | vnic,
                            tuple(inventory), str(uuid.uuid5(namespace, f"{host}:{device}"))))
    return out


def parse_compute_host(name: str, body: Mapping[str, Any]) -> ComputeHost:
    """A host from its registration: sizes and the Neutron agents' ``configurations``."""
    host = _name("host", name)
    _only("host", body, _HOST_KEYS)
    host_ip = body.get("host_ip", "")
    if host_ip != "":
        try:
            if not isinstance(host_ip, str):
                raise ValueError(host_ip)
            ipaddress.ip_address(host_ip)
        except ValueError:
            raise _bad("host_ip", host_ip, "an IPv4 or IPv6 address") from None
    agents = body.get("agents", [])
    if not isinstance(agents, list):
        raise _bad("agents", agents, "a list")
    providers = [p for i, agent in enumerate(agents) for p in _agent_providers(host, i, agent)]
    names = [p.name for p in providers]
    if len(names) != len(set(names)):
        raise _bad("agents", [a.get("agent_type") for a in agents if isinstance(a, dict)],
                   "one agent of each type")
    return ComputeHost(name=host, vcpus=_count("vcpus", body.get("vcpus", 8), minimum=1),
                       memory_mb=_count("memory_mb", body.get("memory_mb", 16384), minimum=1),
                       disk_gb=_count("disk_gb", body.get("disk_gb", 100)),
                       providers=tuple(providers))
