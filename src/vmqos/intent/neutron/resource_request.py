"""A port's Placement request: what Neutron asks Nova to find a host for.

Neutron's QoS plugin turns a port's minimum guarantees into the port's ``resource_request``
(neutron/services/qos/qos_plugin.py ``_extend_port_resource_request``): one request group for
the ``minimum_bandwidth`` rules, one for the ``minimum_packet_rate`` rules, each with a stable
id (neutron_lib/placement/utils.py ``resource_request_group_uuid``), the traits a resource
provider must have and the amounts it must still have free; both groups must come from one
subtree (one agent). Nova then schedules the server where every group of every port fits.

* A ``minimum_bandwidth`` group asks for ``NET_BW_EGR_KILOBIT_PER_SEC`` (egress = from the
  VM, :attr:`Direction.OUTBOUND`) and/or ``NET_BW_IGR_KILOBIT_PER_SEC``, and requires the trait
  of the network's physnet — ``CUSTOM_NETWORK_TUNNEL_PROVIDER`` on a tunnelled network —
  and the port's vnic type (``_get_min_bw_traits``).
* A ``minimum_packet_rate`` group asks for ``NET_PACKET_RATE_{EGR,IGR}_KILOPACKET_PER_SEC`` or,
  for direction ``any``, ``NET_PACKET_RATE_KILOPACKET_PER_SEC``, and requires only the vnic
  type trait (``_get_min_pps_request_group``).
* Trait names are os_traits ``normalize_name``: runs of characters other than ASCII letters and
  digits become ``_``, upper case, ``CUSTOM_`` in front.
* A rule repeated for one direction leaves the last one's amount, as the plugin's dict does.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vmqos.intent.neutron.model import MinimumBandwidthRule, MinimumPacketRateRule, Rule
from vmqos.model import Direction

__all__ = [
    "NET_BW_EGR_KILOBIT_PER_SEC",
    "NET_BW_IGR_KILOBIT_PER_SEC",
    "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_KILOPACKET_PER_SEC",
    "TRAIT_NETWORK_TUNNEL",
    "RequestGroup",
    "ResourceRequest",
    "group_id",
    "normalize_trait",
    "physnet_trait",
    "port_resource_request",
    "rule_resources",
    "vnic_type_trait",
]

# os_resource_classes, as Placement names them.
NET_BW_EGR_KILOBIT_PER_SEC = "NET_BW_EGR_KILOBIT_PER_SEC"
NET_BW_IGR_KILOBIT_PER_SEC = "NET_BW_IGR_KILOBIT_PER_SEC"
NET_PACKET_RATE_KILOPACKET_PER_SEC = "NET_PACKET_RATE_KILOPACKET_PER_SEC"
NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC = "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC"
NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC = "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC"

# neutron_lib/placement/constants.py
TRAIT_NETWORK_TUNNEL = "CUSTOM_NETWORK_TUNNEL_PROVIDER"
_PHYSNET_PREFIX = "PHYSNET_"
_VNIC_TYPE_PREFIX = "VNIC_TYPE_"
_CUSTOM = "CUSTOM_"

_BW_CLASS = {Direction.OUTBOUND: NET_BW_EGR_KILOBIT_PER_SEC,
             Direction.INBOUND: NET_BW_IGR_KILOBIT_PER_SEC}
_PPS_CLASS: Mapping[Direction | None, str] = {
    Direction.OUTBOUND: NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC,
    Direction.INBOUND: NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC,
    None: NET_PACKET_RATE_KILOPACKET_PER_SEC,
}


def normalize_trait(name: str) -> str:
    """os_traits ``normalize_name``."""
    norm = re.sub("[^0-9A-Za-z]+", "_", name).upper()
    return norm if norm.startswith(_CUSTOM) else _CUSTOM + norm


def physnet_trait(physnet: str) -> str:
    return normalize_trait(_PHYSNET_PREFIX + physnet)


def vnic_type_trait(vnic_type: str) -> str:
    return normalize_trait(_VNIC_TYPE_PREFIX + vnic_type)


@dataclass(frozen=True, slots=True)
class RequestGroup:
    """One group of a port's request: every resource from one provider with every trait."""

    id: str
    required: tuple[str, ...]
    resources: tuple[tuple[str, int], ...]      # (resource class, amount), Neutron's order

    def amount(self, resource_class: str) -> int:
        return dict(self.resources).get(resource_class, 0)

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "required": list(self.required),
                "resources": dict(self.resources)}


@dataclass(frozen=True, slots=True)
class ResourceRequest:
    port_id: str
    groups: tuple[RequestGroup, ...]

    def as_json(self) -> dict[str, object]:
        """The port's ``resource_request`` attribute (extension port-resource-request-groups)."""
        return {"request_groups": [g.as_json() for g in self.groups],
                "same_subtree": [g.id for g in self.groups]}


def group_id(port_id: str, rules: Sequence[Rule]) -> str:
    """``resource_request_group_uuid``: uuid5 in the port's namespace of the rule ids joined
    by ':'."""
    return str(uuid.uuid5(uuid.UUID(port_id), ":".join(rule.id for rule in rules)))


def rule_resources(rule: Rule) -> dict[str, int]:
    """``_translate_rule_for_placement``: the resource class and amount one rule asks for."""
    if isinstance(rule, MinimumBandwidthRule):
        return {_BW_CLASS[rule.direction]: int(rule.min_kbps)}
    if isinstance(rule, MinimumPacketRateRule):
        return {_PPS_CLASS[rule.direction]: int(rule.min_kpps)}
    return {}


def port_resource_request(port_id: str, vnic_type: str, physical_network: str | None,
                          rules: Sequence[Rule]) -> ResourceRequest | None:
    """The ``resource_request`` Neutron gives a port whose effective policy has ``rules``, on a
    network whose first segment is on ``physical_network`` (``None``: tunnelled); ``None`` when
    the policy guarantees nothing."""
    groups: list[RequestGroup] = []
    vnic = vnic_type_trait(vnic_type)
    bandwidth = [r for r in rules if isinstance(r, MinimumBandwidthRule)]
    if bandwidth:
        net = TRAIT_NETWORK_TUNNEL if physical_network is None else physnet_trait(
            physical_network)
        amounts = {rc: n for r in bandwidth for rc, n in rule_resources(r).items()}
        groups.append(RequestGroup(group_id(port_id, bandwidth), (net, vnic),
                                   tuple(amounts.items())))
    packets = [r for r in rules if isinstance(r, MinimumPacketRateRule)]
    if packets:
        pps = {rc: n for r in packets for rc, n in rule_resources(r).items()}
        groups.append(RequestGroup(group_id(port_id, packets), (vnic,), tuple(pps.items())))
    return ResourceRequest(port_id, tuple(groups)) if groups else None
